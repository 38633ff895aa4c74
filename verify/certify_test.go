package verify_test

import (
	"context"
	"math"
	"reflect"
	"runtime"
	"testing"

	"github.com/mgdl/mgdl/construct"
	"github.com/mgdl/mgdl/formula"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
	"github.com/mgdl/mgdl/verify"
)

// TestCertifyConstructed: a certified construction is proved at every
// point; the sample-mode construction of the same target is refuted, with
// counterexamples that the model's own evaluation confirms.
func TestCertifyConstructed(t *testing.T) {
	tg, _ := construct.LookupTarget("sin10")
	opt := verify.CertifyOptions{Lo: tg.Box.Lo, Hi: tg.Box.Hi}

	cert, err := construct.BuildCertified(context.Background(), tg, construct.Options{Levels: 2}, construct.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opt.LevelEnds = cert.LevelEnds()
	r, err := verify.Certify(context.Background(), cert.Model, tg.Formula, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !r.ProvedAll() || r.NotStrictL1 != 0 || r.MaxRatioUpper > 0.5 {
		t.Errorf("certified model: %d proved of %d, %d not strict, max ratio %v", r.Proved, len(r.Grades), r.NotStrictL1, r.MaxRatioUpper)
	}
	for _, l := range r.Levels {
		if l.SupLower > l.SupUpper {
			t.Errorf("level %d: lower %v above upper %v", l.Level, l.SupLower, l.SupUpper)
		}
	}

	x := construct.Grid(tg.Box, 101)
	samp, err := construct.Build(context.Background(), x, construct.Eval(tg.F, x), construct.Options{Levels: 4, Schedule: construct.Dyadic, Box: tg.Box})
	if err != nil {
		t.Fatal(err)
	}
	opt.LevelEnds = samp.LevelEnds()
	r, err = verify.Certify(context.Background(), samp.Model, tg.Formula, opt)
	if err != nil {
		t.Fatal(err)
	}
	if r.Refuted == 0 {
		t.Fatalf("sample-mode model: no grade refuted (%d proved, %d undecided)", r.Proved, r.Undecided)
	}
	for _, g := range r.Grades {
		if g.Status != verify.Refuted {
			continue
		}
		p := tensor.FromSlice(1, 1, []float64{g.Counterexample[0]})
		outs := samp.Model.StagedPredict(p)
		f := tg.F(g.Counterexample)
		before := f
		if g.Grade > 1 {
			before -= outs[g.Grade-2].Data[0]
		}
		after := f - outs[g.Grade-1].Data[0]
		if before != g.EBefore || after != g.EAfter {
			t.Errorf("grade %d: reported residuals %v, %v; the model gives %v, %v", g.Grade, g.EBefore, g.EAfter, before, after)
		}
		if !(math.Abs(after)-math.Abs(before) > r.Tol || before*after < 0 && math.Abs(after) > r.Tol) {
			t.Errorf("grade %d: %v -> %v is not a counterexample", g.Grade, before, after)
		}
	}
}

// oneGrade returns the one-grade model g(x) = c·relu(x) on [0, 1].
func oneGrade(c float64) *model.Model[float64] {
	g := nn.NewMLP[float64]([]int{1, 1, 1}, nn.ReLU)
	g.Layers[0].W.Data[0] = 1
	g.Layers[1].W.Data[0] = c
	return &model.Model[float64]{Grades: []*nn.MLP[float64]{g}}
}

func TestCertifyHandModels(t *testing.T) {
	f := formula.MustParse("x")
	opt := verify.CertifyOptions{Lo: []float64{0}, Hi: []float64{1}}
	cases := []struct {
		c    float64
		want string
	}{
		{0.5, verify.Certified}, // e = x/2: balanced
		{2.5, verify.Refuted},   // e = -1.5x: |e| grows and flips
		{-0.5, verify.Refuted},  // e = 1.5x: |e| grows
	}
	for _, c := range cases {
		r, err := verify.Certify(context.Background(), oneGrade(c.c), f, opt)
		if err != nil {
			t.Fatal(err)
		}
		if g := r.Grades[0]; g.Status != c.want {
			t.Errorf("g = %v·x: %s, want %s (%+v)", c.c, g.Status, c.want, g)
		}
	}
	// e ≡ 0 on the whole box is balanced; the first-order forms of f and
	// of the grade see the cancellation (interval propagation alone leaves
	// f - g in [-1, 1] on every box).
	if r, err := verify.Certify(context.Background(), oneGrade(1), f, verify.CertifyOptions{Lo: []float64{0}, Hi: []float64{1}, MaxBoxes: 2000}); err != nil || r.Grades[0].Status != verify.Certified {
		t.Errorf("g = x against x: %+v, %v", r, err)
	}
	// Sin grades go through the same enclosures.
	g := nn.NewMLP[float64]([]int{1, 2, 1}, nn.Sin)
	g.Layers[0].W.Data[0], g.Layers[0].W.Data[1] = 3, -2
	g.Layers[1].W.Data[0], g.Layers[1].W.Data[1] = 0.1, 0.1
	sinModel := &model.Model[float64]{Grades: []*nn.MLP[float64]{g}}
	// Against S = sin 3x + sin(-2x), g = S/10 leaves 0.9·S: balanced.
	r, err := verify.Certify(context.Background(), sinModel, formula.MustParse("10*(sin(3*x) + sin(-2*x))"), opt)
	if err != nil || r.Grades[0].Status != verify.Certified {
		t.Errorf("sin grade S/10 against 10·S: %+v, %v", r, err)
	}
	// Against S + 1, g raises |e| where S < 0.
	r, err = verify.Certify(context.Background(), sinModel, formula.MustParse("sin(3*x) + sin(-2*x) + 1"), opt)
	if err != nil || r.Grades[0].Status != verify.Refuted {
		t.Errorf("sin grade S/10 against S+1: %+v, %v", r, err)
	}
	if _, err := verify.Certify(context.Background(), oneGrade(1), f, verify.CertifyOptions{Lo: []float64{0, 0}, Hi: []float64{1, 1}}); err == nil {
		t.Error("a 2-D box for a 1-D model was accepted")
	}
}

// TestCertifyKeepsProvedGrades: a grade proved on a large box still counts
// in the residual of the later grades on its sub-boxes. Against f = x,
// g1 = x/2 is balanced (proved on the whole box at once) and g2 =
// 10·relu(x - 0.9) flips the sign of e2 = x/2 - g2 for x > 0.9474 only,
// which boxes four bisections deep see.
func TestCertifyKeepsProvedGrades(t *testing.T) {
	g1 := nn.NewMLP[float64]([]int{1, 2, 1}, nn.ReLU)
	g1.Layers[0].W.Data[0], g1.Layers[0].W.Data[1] = 1, 1 // relu(x), relu(x - 0.6)
	g1.Layers[0].B[1] = -0.9
	g1.Layers[1].W.Data[0] = 0.5
	g2 := nn.NewMLP[float64]([]int{2, 1, 1}, nn.ReLU)
	g2.Layers[0].W.Data[1] = 1 // reads relu(x - 0.9)
	g2.Layers[1].W.Data[0] = 10
	m := &model.Model[float64]{Grades: []*nn.MLP[float64]{g1, g2}}
	r, err := verify.Certify(context.Background(), m, formula.MustParse("x"), verify.CertifyOptions{Lo: []float64{0}, Hi: []float64{1}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Grades[0].Status != verify.Certified || r.Grades[1].Status != verify.Refuted || r.Grades[1].Counterexample[0] <= 0.947 {
		t.Errorf("grades: %+v", r.Grades)
	}
}

// TestCertifyKeepsRefutedGrades: a refuted grade still counts in the
// residuals of the grades after it. Against f = 1, g1 = 2 flips the sign
// (e1 = -1) and is refuted at the first box; g2 = relu(4x - 2)/2 leaves
// e2 = -1 - g2, which grows for x > 1/2. Were g1 left out of the sums on
// the sub-boxes, e2 would look like 1 - g2 ∈ [0, 1] there, and grade 2
// would be certified.
func TestCertifyKeepsRefutedGrades(t *testing.T) {
	g1 := nn.NewMLP[float64]([]int{1, 2, 1}, nn.ReLU)
	g1.Layers[0].W.Data[0] = 1 // relu(x), relu(1)
	g1.Layers[0].B[1] = 1
	g1.Layers[1].W.Data[1] = 2
	g2 := nn.NewMLP[float64]([]int{2, 1, 1}, nn.ReLU)
	g2.Layers[0].W.Data[0], g2.Layers[0].W.Data[1] = 4, -2 // relu(4x - 2)
	g2.Layers[1].W.Data[0] = 0.5
	m := &model.Model[float64]{Grades: []*nn.MLP[float64]{g1, g2}}
	r, err := verify.Certify(context.Background(), m, formula.MustParse("1"), verify.CertifyOptions{Lo: []float64{0}, Hi: []float64{1}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Grades[0].Status != verify.Refuted || r.Grades[1].Status != verify.Refuted || r.Grades[1].Counterexample[0] <= 0.5 {
		t.Errorf("grades: %+v", r.Grades)
	}
}

// TestCertifyWorkers: the report does not depend on the number of
// workers (boxes go in batches whose results are applied in box order).
func TestCertifyWorkers(t *testing.T) {
	tg, _ := construct.LookupTarget("sin2d")
	x := construct.Grid(tg.Box, 17)
	samp, err := construct.Build(context.Background(), x, construct.Eval(tg.F, x), construct.Options{Levels: 2, Box: tg.Box})
	if err != nil {
		t.Fatal(err)
	}
	cert, err := construct.BuildCertified(context.Background(), tg, construct.Options{Levels: 1}, construct.CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, res := range []*construct.Result{samp, cert} {
		var first *verify.CertReport
		for _, w := range []int{1, 2, 3} {
			r, err := verify.Certify(context.Background(), res.Model, tg.Formula, verify.CertifyOptions{Lo: tg.Box.Lo, Hi: tg.Box.Hi, LevelEnds: res.LevelEnds(), Workers: w, MaxBoxes: 4000})
			if err != nil {
				t.Fatal(err)
			}
			r.Seconds = 0
			if first == nil {
				first = r
				if res == samp && r.Refuted == 0 || res == cert && !r.ProvedAll() {
					t.Fatalf("%d grades: %d proved, %d refuted, %d undecided", len(r.Grades), r.Proved, r.Refuted, r.Undecided)
				}
				continue
			}
			if !reflect.DeepEqual(first, r) {
				t.Errorf("%d workers: the report differs from one worker's", w)
			}
		}
	}
}

// TestCheckThreads: the report of a narrow (constructed) model does not
// depend on the number of cores that walk its rows.
func TestCheckThreads(t *testing.T) {
	tg, _ := construct.LookupTarget("cone2d")
	x := construct.Grid(tg.Box, 41)
	res, err := construct.Build(context.Background(), x, construct.Eval(tg.F, x), construct.Options{Levels: 2, Box: tg.Box})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Model.Narrow() {
		t.Fatal("a constructed model is not narrow")
	}
	p := construct.RandomPoints(tg.Box, 8192, 3)
	y := tensor.FromSlice(p.Rows, 1, construct.Eval(tg.F, p))
	var first *verify.Report
	for _, procs := range []int{1, 3, 2} {
		old := runtime.GOMAXPROCS(procs)
		r, err := verify.Check(res.Model, p, y, verify.Options{LevelEnds: res.LevelEnds()})
		runtime.GOMAXPROCS(old)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = r
		} else if !reflect.DeepEqual(first, r) {
			t.Errorf("GOMAXPROCS %d: the report differs", procs)
		}
	}
}
