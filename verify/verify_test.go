package verify

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
)

// scaleModel returns a model on x ≥ 0 whose grade l outputs c[l]·x: every
// grade is [w, w, 1] (w = 1 for grade 1) passing x through its ReLU layer.
func scaleModel(c ...float64) *mgdl.Model[float64] {
	m := &mgdl.Model[float64]{}
	for range c {
		g := nn.NewMLP[float64]([]int{1, 1, 1}, nn.ReLU)
		g.Layers[0].W.Data[0] = 1
		m.Grades = append(m.Grades, g)
	}
	for l, v := range c {
		m.Grades[l].Layers[1].W.Data[0] = v
	}
	return m
}

func TestCheckHandModels(t *testing.T) {
	const n = 1000
	x := tensor.New[float64](n, 1)
	y := tensor.New[float64](n, 1)
	for i := range n {
		x.Data[i] = float64(i) / (n - 1)
		y.Data[i] = x.Data[i] // e_0 = x ≥ 0
	}
	for _, c := range []struct {
		name             string
		coef             []float64
		viol, flips, ntr int
		notStrict        int
		maxInc           float64
	}{
		// e: x → 0.5x → 0.5x → 0.25x: balanced, grade 2 trivial.
		{"balanced", []float64{0.5, 0, 0.25}, 0, 0, 2, 0, 0},
		// e: x → -0.5x: |e| falls but the sign flips everywhere but x = 0.
		{"overshoot", []float64{1.5}, 0, n - 1, 1, 0, 0},
		// e: x → -1.5x: |e| grows by 0.5x.
		{"blow-up", []float64{2.5}, n - 1, n - 1, 1, 1, 0.5},
		// e: x → 1.2x: wrong sign of correction.
		{"wrong sign", []float64{-0.2}, n - 1, 0, 1, 1, 0.2},
	} {
		m := scaleModel(c.coef...)
		r, err := Check(m, x, y, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Violations != c.viol || r.SignFlips != c.flips || r.Nontrivial != c.ntr || r.NotStrictL1 != c.notStrict || r.NotStrictL2 != c.notStrict {
			t.Errorf("%s: violations %d flips %d nontrivial %d not strict %d/%d; want %d %d %d %d",
				c.name, r.Violations, r.SignFlips, r.Nontrivial, r.NotStrictL1, r.NotStrictL2, c.viol, c.flips, c.ntr, c.notStrict)
		}
		if math.Abs(max(r.MaxIncrease, 0)-c.maxInc) > 1e-12 {
			t.Errorf("%s: max increase %v, want %v", c.name, r.MaxIncrease, c.maxInc)
		}
		// Norms of e_L = (1 - Σc) x on the grid: L∞ = |1 - Σc|.
		s := 1.0
		for _, v := range c.coef {
			s -= v
		}
		if math.Abs(r.Final.Linf-math.Abs(s)) > 1e-12 || math.Abs(r.Final.L1-math.Abs(s)*0.5) > 1e-12 {
			t.Errorf("%s: final norms %+v for e = %v x", c.name, r.Final, s)
		}
		var buf bytes.Buffer
		if err := r.WriteTable(&buf, c.name, 0); err != nil || !strings.Contains(buf.String(), "pointwise") {
			t.Errorf("%s: table %q, %v", c.name, buf.String(), err)
		}
	}
	// Levels: two levels of two grades each.
	m := scaleModel(0.25, 0.25, 0.25, 0.125)
	r, err := Check(m, x, y, Options{LevelEnds: []int{2, 4}})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Levels) != 2 || math.Abs(r.Levels[0].Ratio-0.5) > 1e-12 || math.Abs(r.Levels[1].Ratio-0.25) > 1e-12 || math.Abs(r.MaxLevelRatio-0.5) > 1e-12 {
		t.Errorf("levels %+v", r.Levels)
	}
	// Errors.
	if _, err := Check(m, x, tensor.New[float64](n-1, 1), Options{}); err == nil {
		t.Error("wrong target rows accepted")
	}
	if _, err := Check(m, tensor.New[float64](n, 2), y, Options{}); err == nil {
		t.Error("wrong input width accepted")
	}
	if _, err := Check(m, x, y, Options{LevelEnds: []int{3, 2}}); err == nil {
		t.Error("unordered level ends accepted")
	}
}

// randomModel returns a dense model with the given activation and some
// zero and unit weights, to exercise the Program's shortcuts.
func randomModel(act nn.Activation, widths [][]int, rng *rand.Rand) *mgdl.Model[float64] {
	m := &mgdl.Model[float64]{}
	for _, w := range widths {
		g := nn.NewMLP[float64](w, act)
		g.Init(nn.Xavier, rng)
		for i := range g.Params() {
			switch rng.IntN(4) {
			case 0:
				g.Params()[i] = 0
			case 1:
				g.Params()[i] = 1
			}
		}
		m.Grades = append(m.Grades, g)
	}
	return m
}

func TestProgramMatchesPredict(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	widths := [][]int{{2, 6, 5, 2}, {5, 7, 2}, {7, 2}, {7, 3, 3, 4, 2}}
	for _, act := range []nn.Activation{nn.ReLU, nn.Tanh, nn.Sin, nn.Identity} {
		m := randomModel(act, widths, rng)
		m.Grades[0].Softmax = act == nn.Tanh // a classifier's first grade
		for _, n := range []int{1, 255, 256, 700} {
			x := tensor.New[float64](n, 2)
			for i := range x.Data {
				x.Data[i] = 2*rng.Float64() - 0.5
			}
			want := m.GradeOutputs(x)
			p := Compile(m)
			p.Walk(x, func(l, i0 int, g *tensor.Dense[float64]) {
				w := want[l].RowsView(i0, i0+g.Rows)
				for k, v := range g.Raw() {
					if math.Abs(v-w.Data[k]) > 1e-12*(1+math.Abs(v)) {
						t.Fatalf("%v n=%d grade %d row %d: %v, want %v", act, n, l+1, i0+k/2, v, w.Data[k])
					}
				}
			})
			got, pred := p.Predict(x), m.Predict(x)
			for k := range got.Data {
				if math.Abs(got.Data[k]-pred.Data[k]) > 1e-12*(1+math.Abs(got.Data[k])) {
					t.Fatalf("%v n=%d: Predict differs at %d", act, n, k)
				}
			}
		}
	}
	// float32 models run in float32.
	m32 := &mgdl.Model[float32]{}
	for _, g := range randomModel(nn.ReLU, widths, rng).Grades {
		c := nn.NewMLP[float32](g.Widths, g.Act)
		for i, v := range g.Params() {
			c.Params()[i] = float32(v)
		}
		m32.Grades = append(m32.Grades, c)
	}
	x := tensor.New[float32](300, 2)
	for i := range x.Data {
		x.Data[i] = float32(rng.Float64())
	}
	got, want := Compile(m32).Predict(x), m32.Predict(x)
	for k := range got.Data {
		if math.Abs(float64(got.Data[k]-want.Data[k])) > 1e-5*(1+math.Abs(float64(want.Data[k]))) {
			t.Fatalf("float32: %v vs %v", got.Data[k], want.Data[k])
		}
	}
}

// TestWalkWideModel checks the GEMM fallback for models wider than
// SmallWidth against Model.GradeOutputs.
func TestWalkWideModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := randomModel(nn.ReLU, [][]int{{1, 80, 1}, {80, 70, 1}}, rng)
	x := tensor.New[float64](1500, 1)
	for i := range x.Data {
		x.Data[i] = rng.Float64()
	}
	want := m.GradeOutputs(x)
	Walk(m, x, func(l, i0 int, g *tensor.Dense[float64]) {
		w := want[l].RowsView(i0, i0+g.Rows)
		for k, v := range g.Raw() {
			if v != w.Data[k] {
				t.Fatalf("grade %d row %d: %v, want %v", l+1, i0+k, v, w.Data[k])
			}
		}
	})
}

// ExampleCheck checks a two-grade model on y = x: grade 1 removes half of
// the residual (balanced), grade 2 overshoots it.
func ExampleCheck() {
	m := scaleModel(0.5, 1) // g_1 = 0.5x, g_2 = x
	x := tensor.New[float64](101, 1)
	for i := range x.Data {
		x.Data[i] = float64(i) / 100
	}
	r, _ := Check(m, x, x, Options{})
	for _, g := range r.Grades {
		fmt.Printf("grade %d: violations %d, sign flips %d, L2 %.4f, strictly lower %v\n", g.Grade, g.Violations, g.SignFlips, g.L2, g.StrictL2)
	}
	fmt.Println("pointwise:", r.Pointwise())
	// Output:
	// grade 1: violations 0, sign flips 0, L2 0.2894, strictly lower true
	// grade 2: violations 0, sign flips 100, L2 0.2894, strictly lower false
	// pointwise: false
}

func TestStagedPredictMatchesModel(t *testing.T) {
	for _, widths := range [][][]int{{{2, 6, 6, 1}, {6, 5, 1}, {5, 5, 1}}, {{2, 80, 1}, {80, 70, 1}}} {
		rng := rand.New(rand.NewPCG(3, 4))
		m := &mgdl.Model[float64]{}
		for _, w := range widths {
			g := nn.NewMLP[float64](w, nn.ReLU)
			g.Init(nn.Xavier, rng)
			m.Grades = append(m.Grades, g)
		}
		x := tensor.New[float64](300, 2)
		for i := range x.Data {
			x.Data[i] = rng.Float64()
		}
		want := m.StagedPredict(x)
		got := StagedPredict(m, x)
		for l := range want {
			for i, v := range want[l].Data {
				if d := math.Abs(got[l].Data[i] - v); d > 1e-12*(1+math.Abs(v)) {
					t.Fatalf("widths %v grade %d row %d: %g vs %g", widths, l+1, i, got[l].Data[i], v)
				}
			}
		}
	}
}
