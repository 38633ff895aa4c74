package optim

import (
	"math"
	"runtime"
	"testing"
)

// TestAdamReference follows three Adam steps by hand with the textbook
// formulas (Kingma & Ba, Algorithm 1) in float64.
func TestAdamReference(t *testing.T) {
	p := []float64{0.5, -1, 2}
	grads := [][]float64{{0.1, -0.2, 0.3}, {-0.05, 0.4, 0}, {1, 1, -1}}
	a := NewAdam[float64]()
	ref := append([]float64(nil), p...)
	m := make([]float64, 3)
	v := make([]float64, 3)
	lr := 0.01
	for step, g := range grads {
		a.Step(p, g, lr)
		k := float64(step + 1)
		for i := range ref {
			m[i] = 0.9*m[i] + 0.1*g[i]
			v[i] = 0.999*v[i] + 0.001*g[i]*g[i]
			mh := m[i] / (1 - math.Pow(0.9, k))
			vh := v[i] / (1 - math.Pow(0.999, k))
			ref[i] -= lr * mh / (math.Sqrt(vh) + 1e-8)
		}
		for i := range p {
			if math.Abs(p[i]-ref[i]) > 1e-15 {
				t.Fatalf("step %d param %d: %g, reference %g", step+1, i, p[i], ref[i])
			}
		}
	}
	a.Reset()
	if a.Steps() != 0 {
		t.Fatal("Reset kept the step counter")
	}
}

func TestGD(t *testing.T) {
	p := []float32{1, 2}
	GD[float32]{}.Step(p, []float32{0.5, -1}, 0.1)
	if p[0] != 0.95 || p[1] != 2.1 {
		t.Fatalf("got %v", p)
	}
}

func TestScheduleExpDecay(t *testing.T) {
	s := ExpDecay(1e-2, 1e-4)
	const E = 100
	if got := s.LR(0, E); got != 1e-2 {
		t.Errorf("epoch 0: %g", got)
	}
	if got := s.LR(E, E); math.Abs(got-1e-4) > 1e-18 {
		t.Errorf("epoch E: %g, want 1e-4", got)
	}
	if got, want := s.LR(50, E), 1e-3; math.Abs(got-want) > 1e-15 {
		t.Errorf("epoch E/2: %g, want %g", got, want)
	}
	if Constant(3e-4).LR(77, E) != 3e-4 {
		t.Error("constant schedule changed")
	}
}

func TestScheduleValidate(t *testing.T) {
	for _, s := range []Schedule{{}, {Max: -1, Min: 1}, {Max: 1e-3, Min: 1e-2}, {Max: math.Inf(1), Min: 1}, {Max: math.NaN(), Min: 1}} {
		if s.Validate() == nil {
			t.Errorf("%+v accepted", s)
		}
	}
	if ExpDecay(1e-3, 1e-4).Validate() != nil {
		t.Error("valid schedule rejected")
	}
}

// TestAdamSharedStepBitExact checks that a step shared with the helpers
// (more than 2·adamChunk parameters) gives the same bits as the serial one.
func TestAdamSharedStepBitExact(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("one processor: every step is serial, so there is no shared step to compare")
	}
	testAdamShared[float64](t)
	testAdamShared[float32](t)
}

// TestAdamThreads: SetThreads bounds the threads of a step, and 1 makes
// every step serial.
func TestAdamThreads(t *testing.T) {
	defer SetThreads(0)
	SetThreads(1)
	if Threads() != 1 {
		t.Errorf("SetThreads(1): Threads() = %d", Threads())
	}
	SetThreads(1 << 20)
	if Threads() != runtime.GOMAXPROCS(0) {
		t.Errorf("Threads() = %d above GOMAXPROCS %d", Threads(), runtime.GOMAXPROCS(0))
	}
	SetThreads(0)
	if Threads() != runtime.GOMAXPROCS(0) {
		t.Errorf("SetThreads(0): Threads() = %d", Threads())
	}
}

func testAdamShared[T float32 | float64](t *testing.T) {
	n := 5*adamChunk + 123
	p1, g := make([]T, n), make([]T, n)
	for i := range p1 {
		p1[i] = T(math.Sin(float64(i)))
		g[i] = T(math.Cos(float64(3 * i)))
	}
	p2 := append([]T(nil), p1...)
	shared, serial := NewAdam[T](), NewAdam[T]()
	for step := range 3 {
		shared.Step(p1, g, 1e-3)
		SetThreads(1)
		serial.Step(p2, g, 1e-3)
		SetThreads(0)
		for i := range p1 {
			if p1[i] != p2[i] || shared.m[i] != serial.m[i] || shared.v[i] != serial.v[i] {
				t.Fatalf("step %d, parameter %d: shared %v, serial %v", step, i, p1[i], p2[i])
			}
		}
		for i := range g {
			g[i] = -g[i] / 2
		}
	}
	if a := testing.AllocsPerRun(5, func() { shared.Step(p1, g, 1e-3) }); a != 0 {
		t.Errorf("a shared step allocates %v times", a)
	}
}
