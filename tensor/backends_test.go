package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/mgdl/mgdl/openblas"
)

// testBackends returns the backends to check: go and gonum always, openblas
// when it loads (the test logs why not otherwise).
func testBackends(t testing.TB) []Backend {
	bs := []Backend{goBackend, gonumBackend}
	if ob, err := LookupBackend("openblas"); err == nil {
		bs = append(bs, ob)
	} else {
		t.Logf("skipping openblas: %v", err)
	}
	return bs
}

func randDense[T Float](rng *rand.Rand, r, c int) *Dense[T] {
	m := New[T](r, c)
	for i := range m.Data {
		m.Data[i] = T(rng.Float64()*2 - 1)
	}
	return m
}

// mulCheck runs Mul with backend be and compares with MulRef. Tolerance:
// |got - ref| <= (k+2)·eps·(|alpha|·max|a|·max|b|·k + |beta|·max|c|), with
// entries in [-1, 1].
func mulCheck[T Float](t *testing.T, be Backend, rng *rand.Rand, tA, tB bool, m, n, k int, alpha, beta T) {
	t.Helper()
	ar, ac := m, k
	if tA {
		ar, ac = k, m
	}
	br, bc := k, n
	if tB {
		br, bc = n, k
	}
	a, b := randDense[T](rng, ar, ac), randDense[T](rng, br, bc)
	c := randDense[T](rng, m, n)
	if beta == 0 {
		for i := range c.Data {
			c.Data[i] = T(math.NaN())
		}
	}
	want := c.Clone()
	MulRef(tA, tB, alpha, a, b, beta, want)
	old := SetBackend(be)
	Mul(tA, tB, alpha, a, b, beta, c)
	SetBackend(old)
	eps := 0x1p-52
	if _, ok := any(c.Data).([]float32); ok {
		eps = 0x1p-23
	}
	tol := float64(k+2) * eps * (math.Abs(float64(alpha))*float64(k) + math.Abs(float64(beta)))
	for i, g := range c.Data {
		if d := math.Abs(float64(g) - float64(want.Data[i])); !(d <= tol) {
			t.Fatalf("%s tA=%v tB=%v %d×%d×%d alpha=%v beta=%v: C[%d] = %v, want %v (tol %g)", be.Name(), tA, tB, m, k, n, alpha, beta, i, g, want.Data[i], tol)
		}
	}
}

func TestBackendsMul(t *testing.T) {
	sizes := []int{1, 2, 3, 7, 12, 13, 16, 17, 31, 33, 64, 70}
	for _, be := range testBackends(t) {
		t.Run(be.Name(), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(5, 6))
			for _, tA := range []bool{false, true} {
				for _, tB := range []bool{false, true} {
					for i, m := range sizes {
						for j, n := range sizes {
							k := sizes[(i+2*j)%len(sizes)]
							alpha, beta := []float64{1, -0.5, 2}[(i+j)%3], []float64{0, 1, 0.25}[(i*j)%3]
							mulCheck(t, be, rng, tA, tB, m, n, k, alpha, beta)
							mulCheck(t, be, rng, tA, tB, m, n, k, float32(alpha), float32(beta))
						}
					}
					if !testing.Short() {
						mulCheck(t, be, rng, tA, tB, 300, 260, 520, 1.0, 0.0)
						mulCheck(t, be, rng, tA, tB, 300, 260, 520, float32(1), float32(0.5))
					}
				}
			}
		})
	}
}

// TestBackendsAgree compares the backends with each other on an MLP shape.
func TestBackendsAgree(t *testing.T) {
	bs := testBackends(t)
	rng := rand.New(rand.NewPCG(7, 8))
	m, k, n := 256, 130, 65
	x, w := randDense[float64](rng, m, k), randDense[float64](rng, k, n)
	var ref *Dense[float64]
	for _, be := range bs {
		c := New[float64](m, n)
		old := SetBackend(be)
		Mul(false, false, 1, x, w, 0, c)
		SetBackend(old)
		if ref == nil {
			ref = c
			continue
		}
		for i := range c.Data {
			if d := math.Abs(c.Data[i] - ref.Data[i]); d > 1e-12 {
				t.Fatalf("%s and %s differ at %d by %g", be.Name(), bs[0].Name(), i, d)
			}
		}
	}
}

func TestLookupBackend(t *testing.T) {
	for _, name := range []string{"go", "GO", "gonum", "auto", ""} {
		b, err := LookupBackend(name)
		if err != nil || b == nil {
			t.Fatalf("LookupBackend(%q) = %v, %v", name, b, err)
		}
		if b.Info() == "" {
			t.Errorf("%s: empty Info", b.Name())
		}
	}
	if _, err := LookupBackend("cuda"); err == nil {
		t.Error("LookupBackend(cuda): no error")
	}
	_, err := openblas.Load()
	b, err2 := LookupBackend("openblas")
	if (err == nil) != (err2 == nil) {
		t.Errorf("openblas.Load error %v, LookupBackend error %v", err, err2)
	}
	if err2 == nil && b.Name() != "openblas" {
		t.Errorf("openblas backend named %q", b.Name())
	}
	if a, _ := LookupBackend("auto"); err == nil && a.Name() != "openblas" || err != nil && a.Name() != "go" {
		t.Errorf("auto chose %s (openblas error: %v)", a.Name(), err)
	}
}

func TestBackendFromEnv(t *testing.T) {
	old := CurrentBackend()
	defer SetBackend(old)
	t.Setenv(BackendEnv, "gonum")
	if b, err := BackendFromEnv(); err != nil || b.Name() != "gonum" || CurrentBackend().Name() != "gonum" {
		t.Fatalf("BackendFromEnv with gonum: %v, %v", b, err)
	}
	t.Setenv(BackendEnv, "")
	if b, err := BackendFromEnv(); err != nil || b.Name() != "go" {
		t.Fatalf("BackendFromEnv unset: %v, %v", b, err)
	}
	SetBackend(gonumBackend)
	t.Setenv(BackendEnv, "nonesuch")
	if _, err := BackendFromEnv(); err == nil || CurrentBackend().Name() != "gonum" {
		t.Fatalf("BackendFromEnv with nonesuch: err %v, current %s", err, CurrentBackend().Name())
	}
}

func TestDefaultBackend(t *testing.T) {
	if CurrentBackend().Name() != "go" && os.Getenv(BackendEnv) == "" {
		t.Errorf("default backend %s, want go", CurrentBackend().Name())
	}
	if !SetBackendThreads(goBackend, 0) || SetBackendThreads(gonumBackend, 1) {
		t.Error("SetBackendThreads reports the wrong backends")
	}
}

// BenchmarkGemm compares the backends on the MLP shapes (batch × width ·
// width, in the three layouts a dense layer uses) and on 2048². Names are
// backend/dtype/layout/MxKxN; GFLOP/s counts 2·M·N·K per product. Run with
//
//	go test ./tensor -run '^$' -bench Gemm -benchtime 200ms
func BenchmarkGemm(b *testing.B) {
	type shape struct {
		layout  string
		m, k, n int
	}
	var shapes []shape
	for _, batch := range []int{256, 1024, 4096} {
		for _, width := range []int{64, 256, 512} {
			// Forward X·W, weight gradient Xᵀ·dY, input gradient dY·Wᵀ.
			shapes = append(shapes,
				shape{"NN", batch, width, width},
				shape{"TN", width, batch, width},
				shape{"NT", batch, width, width})
		}
	}
	// Input and output layers of a 1→…→1 network: k = 1 or n = 1.
	shapes = append(shapes,
		shape{"NN", 4096, 1, 256},
		shape{"NN", 4096, 256, 1},
		shape{"TN", 256, 4096, 1},
		shape{"NT", 4096, 1, 256},
		shape{"NN", 2048, 2048, 2048})
	// Backends are interleaved shape by shape, so that a slow spell of the
	// shared machine hits all of them alike.
	bes := testBackends(b)
	for _, dt := range []string{"f64", "f32"} {
		for _, s := range shapes {
			for _, be := range bes {
				if be.Name() == "gonum" && s.m == 2048 && s.k == 2048 {
					continue // too slow to be useful
				}
				name := fmt.Sprintf("%s/%s/%s/%dx%dx%d", be.Name(), dt, s.layout, s.m, s.k, s.n)
				b.Run(name, func(b *testing.B) {
					tA, tB := s.layout == "TN", s.layout == "NT"
					ar, ac := s.m, s.k
					if tA {
						ar, ac = s.k, s.m
					}
					br, bc := s.k, s.n
					if tB {
						br, bc = s.n, s.k
					}
					rng := rand.New(rand.NewPCG(1, 1))
					old := SetBackend(be)
					defer SetBackend(old)
					if dt == "f64" {
						x, w, c := randDense[float64](rng, ar, ac), randDense[float64](rng, br, bc), New[float64](s.m, s.n)
						for b.Loop() {
							Mul(tA, tB, 1, x, w, 0, c)
						}
					} else {
						x, w, c := randDense[float32](rng, ar, ac), randDense[float32](rng, br, bc), New[float32](s.m, s.n)
						for b.Loop() {
							Mul(tA, tB, 1, x, w, 0, c)
						}
					}
					b.ReportMetric(2*float64(s.m)*float64(s.n)*float64(s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}

// BenchmarkGemmThreads measures the go and openblas backends with 1 and 2
// threads on a few MLP shapes (float64 and float32), for the thread policy:
//
//	go test ./tensor -run '^$' -bench GemmThreads -benchtime 100ms
func BenchmarkGemmThreads(b *testing.B) {
	shapes := [][4]int{{0, 256, 64, 64}, {0, 256, 256, 256}, {0, 4096, 256, 256}, {1, 256, 4096, 256}}
	bes := testBackends(b)
	for _, dt := range []string{"f64", "f32"} {
		for _, s := range shapes {
			for _, threads := range []int{1, 2} {
				for _, be := range bes {
					if be.Name() == "gonum" {
						continue
					}
					tA := s[0] == 1
					m, k, n := s[1], s[2], s[3]
					layout := "NN"
					if tA {
						layout = "TN"
					}
					b.Run(fmt.Sprintf("%s/threads=%d/%s/%s/%dx%dx%d", be.Name(), threads, dt, layout, m, k, n), func(b *testing.B) {
						SetBackendThreads(be, threads)
						defer SetBackendThreads(be, 0)
						if ob, ok := be.(*openblas.Backend); ok {
							defer ob.SetThreads(2)
						}
						ar, ac := m, k
						if tA {
							ar, ac = k, m
						}
						rng := rand.New(rand.NewPCG(1, 1))
						old := SetBackend(be)
						defer SetBackend(old)
						if dt == "f64" {
							x, w, c := randDense[float64](rng, ar, ac), randDense[float64](rng, k, n), New[float64](m, n)
							for b.Loop() {
								Mul(tA, false, 1, x, w, 0, c)
							}
						} else {
							x, w, c := randDense[float32](rng, ar, ac), randDense[float32](rng, k, n), New[float32](m, n)
							for b.Loop() {
								Mul(tA, false, 1, x, w, 0, c)
							}
						}
						b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		}
	}
}
