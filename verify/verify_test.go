package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
)

// scaleModel returns a model on x ≥ 0 whose grade l outputs c[l]·x: every
// grade is [w, w, 1] (w = 1 for grade 1) passing x through its ReLU layer.
func scaleModel(c ...float64) *model.Model[float64] {
	m := &model.Model[float64]{}
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
	if len(r.Levels) != 2 || math.Abs(float64(r.Levels[0].Ratio)-0.5) > 1e-12 || math.Abs(float64(r.Levels[1].Ratio)-0.25) > 1e-12 || math.Abs(r.MaxLevelRatio-0.5) > 1e-12 {
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

// TestRatioJSON: an undefined level ratio (NaN) is written as null and
// read back as NaN; a finite one round-trips.
func TestRatioJSON(t *testing.T) {
	b, err := json.Marshal([]LevelStats{{Level: 1, Ratio: Ratio(math.NaN())}, {Level: 2, Ratio: 0.5}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"ratio":null`) || !strings.Contains(string(b), `"ratio":0.5`) {
		t.Fatalf("%s", b)
	}
	var back []LevelStats
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(float64(back[0].Ratio)) || back[1].Ratio != 0.5 {
		t.Fatalf("%+v", back)
	}
}
