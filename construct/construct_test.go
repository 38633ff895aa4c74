package construct

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/mgdl/mgdl/internal/testenv"
	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
	"github.com/mgdl/mgdl/verify"
)

// refLevel is one row of the reference figures: grades after the level, sup
// and RMS of the residual on the grid.
type refLevel struct {
	grades   int
	sup, rms float64
}

// The reference figures come from shared/reference/construction_check.py's
// run() (dyadic h_k = 2^-(k+1), grid i/(n-1)), printed with repr() instead of
// three digits; docs/CONSTRUCTIVE.md's table shows them rounded.
var refCases = []struct {
	target string
	m      int
	levels []refLevel // level 0 first
}{
	{"sin10", 401, []refLevel{
		{0, 1.2360291222764492, 0.7436065134234688},
		{0, 1.2360291222764492, 0.7436065134234688},
		{2, 1.121724391474517, 0.7092966694766192},
		{12, 0.565741126986688, 0.37105044181074975},
		{38, 0.28837649602380633, 0.14576557712263075},
		{91, 0.15348328772453906, 0.058357398172418244},
		{205, 0.07664318157947005, 0.02165222398207045},
	}},
	{"sin2d", 41, []refLevel{
		{0, 1.1255282581475767, 0.5383511122553521},
		{2, 1.1251883405951377, 0.5294441864018458},
		{38, 0.8208394201673425, 0.39459101794141255},
		{236, 0.34624057754591875, 0.17584916922229524},
		{1198, 0.1545084971874737, 0.05255819553858696},
	}},
}

func build(t testing.TB, x *tensor.Dense[float64], y []float64, opt Options) *Result {
	t.Helper()
	r, err := Build(context.Background(), x, y, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReferenceTable(t *testing.T) {
	const tol = 1e-12 // relative; Go's and Python's sin may differ in the last bit
	for _, c := range refCases {
		tg, err := LookupTarget(c.target)
		if err != nil {
			t.Fatal(err)
		}
		x := Grid(tg.Box, c.m)
		y := Eval(tg.F, x)
		r := build(t, x, y, Options{Schedule: Dyadic, Levels: len(c.levels) - 1})
		near := func(got, want float64) bool { return math.Abs(got-want) <= tol*want }
		if !near(r.Sup0, c.levels[0].sup) || !near(r.RMS0, c.levels[0].rms) {
			t.Errorf("%s level 0: sup %v rms %v, want %v %v", c.target, r.Sup0, r.RMS0, c.levels[0].sup, c.levels[0].rms)
		}
		if len(r.Levels) != len(c.levels)-1 {
			t.Fatalf("%s: %d levels, want %d", c.target, len(r.Levels), len(c.levels)-1)
		}
		for k, lv := range r.Levels {
			w := c.levels[k+1]
			if lv.GradeEnd != w.grades || !near(lv.Sup, w.sup) || !near(lv.RMS, w.rms) {
				t.Errorf("%s level %d: grades %d sup %.17g rms %.17g, want %d %.17g %.17g", c.target, k+1, lv.GradeEnd, lv.Sup, lv.RMS, w.grades, w.sup, w.rms)
			}
			if lv.H != math.Ldexp(1, -(k+2)) {
				t.Errorf("%s level %d: h = %v", c.target, k+1, lv.H)
			}
		}
		// The network itself reproduces the residual of the hats
		// (construction_check.py reports ~1e-15), and verify's Program
		// agrees with Model.Predict.
		p := r.Model.Predict(x)
		q := model.Compile(r.Model).Predict(x)
		var worst, worstQ float64
		for i := range y {
			worst = max(worst, math.Abs(y[i]-p.Data[i]-r.Residual[i]))
			worstQ = max(worstQ, math.Abs(q.Data[i]-p.Data[i]))
		}
		t.Logf("%s: network vs hats %.1e, Program vs Predict %.1e", c.target, worst, worstQ)
		if worst > 1e-13 || worstQ > 1e-13 {
			t.Errorf("%s: network vs hats %.1e, Program vs Predict %.1e", c.target, worst, worstQ)
		}
		// And the staircase has the table's properties on the grid.
		rep := check(t, r, x, y)
		if !rep.Pointwise() || !rep.StrictDecay() {
			t.Errorf("%s: %d violations, %d flips, %d/%d not strict", c.target, rep.Violations, rep.SignFlips, rep.NotStrictL1, rep.NotStrictL2)
		}
	}
}

func check(t testing.TB, r *Result, x *tensor.Dense[float64], y []float64) *verify.Report {
	t.Helper()
	rep, err := verify.Check(r.Model, x, tensor.FromSlice(len(y), 1, y), verify.Options{LevelEnds: r.LevelEnds()})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestShapes asserts the architecture of every variant from the model
// itself.
func TestShapes(t *testing.T) {
	for d := 1; d <= MaxDim; d++ {
		box := UnitBox(d)
		x := Grid(box, []int{0, 65, 17, 7, 5}[d])
		y := Eval(func(p []float64) float64 {
			s := 0.0
			for i, v := range p {
				s += math.Sin(3*v + float64(i))
			}
			return s
		}, x)
		for _, v := range []Variant{VariantA, VariantB, VariantC} {
			r := build(t, x, y, Options{Variant: v, Levels: 2, Schedule: Dyadic})
			hats := 0
			for _, lv := range r.Levels {
				hats += lv.Hats
			}
			if err := r.Model.CheckChain(); err != nil {
				t.Fatal(err)
			}
			want := map[Variant]int{VariantA: hats, VariantB: hats * (d + 1), VariantC: 0}[v]
			if hats == 0 {
				t.Fatalf("d=%d %v: no hats", d, v)
			}
			var levelHats []int // hats of each level that added a grade (variant C)
			for _, lv := range r.Levels {
				if lv.Hats > 0 {
					levelHats = append(levelHats, lv.Hats)
				}
			}
			if v == VariantC {
				want = len(levelHats)
			}
			if len(r.Model.Grades) != want {
				t.Fatalf("d=%d %v: %d grades, want %d", d, v, len(r.Model.Grades), want)
			}
			width := d + 4
			if v == VariantC {
				width = d + 6
			}
			for l, g := range r.Model.Grades {
				hidden := g.Widths[1 : len(g.Widths)-1]
				nh := d + 1
				switch v {
				case VariantB:
					nh = 1
				case VariantC:
					nh = (d + 1) * levelHats[l]
				}
				if len(hidden) != nh {
					t.Errorf("d=%d %v grade %d: %d hidden layers, want %d", d, v, l+1, len(hidden), nh)
				}
				for _, w := range hidden {
					if w != width {
						t.Errorf("d=%d %v grade %d: hidden widths %v, want %d", d, v, l+1, hidden, width)
						break
					}
				}
				in := width
				if l == 0 {
					in = d
				}
				if g.Widths[0] != in || g.OutDim() != 1 {
					t.Errorf("d=%d %v grade %d: widths %v", d, v, l+1, g.Widths)
				}
			}
		}
	}
}

// TestProperties checks the guarantees on the coefficient points with
// package verify, for every variant and d = 1..3: no pointwise increase, no
// sign flip, strict L1 and L2 decay at every nontrivial grade and (adaptive
// rule) the sup norm at most halved per level. The long form (MGDL_LONG=1,
// about a minute) uses ≥ 10^5 points for d = 1 and ≥ 4·10^4 for d = 2, 3.
func TestProperties(t *testing.T) {
	// Sizes keep the whole package under a minute on one core: the d = 3
	// adaptive rule refines fast (gauss3d needs h = 1/32 at level 2, 35937
	// hats), so d = 3 runs one adaptive level, and two dyadic ones.
	cases := []struct {
		target         string
		schedule       Schedule
		m, levels      int
		mShort, lShort int
	}{
		{"sin10", Adaptive, 100001, 5, 2001, 5},
		{"sqrt-cusp", Adaptive, 100001, 4, 2001, 4},
		{"sin2d", Adaptive, 201, 3, 41, 3},
		{"cone2d", Adaptive, 201, 2, 41, 3},
		{"kink3d", Adaptive, 35, 1, 11, 2},
		{"gauss3d", Adaptive, 35, 1, 11, 1},
		{"gauss3d", Dyadic, 35, 2, 11, 2},
	}
	for _, c := range cases {
		tg, err := LookupTarget(c.target)
		if err != nil {
			t.Fatal(err)
		}
		m, levels := c.m, c.levels
		if !testenv.IsLong() {
			m, levels = c.mShort, c.lShort
		}
		x := Grid(tg.Box, m)
		y := Eval(tg.F, x)
		for _, v := range []Variant{VariantA, VariantB, VariantC} {
			scheds := []Schedule{c.schedule}
			if c.schedule == Adaptive && v == VariantA && !testenv.IsLong() {
				scheds = append(scheds, Dyadic)
			}
			for _, s := range scheds {
				r := build(t, x, y, Options{Variant: v, Schedule: s, Levels: levels})
				rep := check(t, r, x, y)
				name := fmt.Sprintf("%s d=%d n=%d %v %v (%d grades)", c.target, tg.Dim(), x.Rows, v, s, rep.NumGrades)
				if !rep.Pointwise() {
					t.Errorf("%s: %d violations (max increase %.2e), %d sign flips", name, rep.Violations, rep.MaxIncrease, rep.SignFlips)
				}
				if !rep.StrictDecay() || rep.Nontrivial == 0 {
					t.Errorf("%s: %d nontrivial grades, %d not strict in L1, %d in L2", name, rep.Nontrivial, rep.NotStrictL1, rep.NotStrictL2)
				}
				if s == Adaptive && rep.MaxLevelRatio > 0.5+1e-12 {
					t.Errorf("%s: sup norm ratio %.6f > 1/2 at some level", name, rep.MaxLevelRatio)
				}
				last := r.Levels[len(r.Levels)-1].Sup
				if math.Abs(rep.Final.Linf-last) > 1e-12 {
					t.Errorf("%s: network sup %v, hats %v", name, rep.Final.Linf, last)
				}
				t.Logf("%s: sup %.3e → %.3e, max increase %.1e, max level ratio %.3f", name, rep.Initial.Linf, rep.Final.Linf, rep.MaxIncrease, rep.MaxLevelRatio)
			}
		}
	}
}

// TestDiscontinuous shows what the theorem does not promise: on the points
// the step is handled like any data, but between them the sup norm stays
// near 1/2 at the jump.
func TestDiscontinuous(t *testing.T) {
	tg, _ := LookupTarget("step")
	x := Grid(tg.Box, 1001)
	y := Eval(tg.F, x)
	r := build(t, x, y, Options{Levels: 6})
	rep := check(t, r, x, y)
	if !rep.Pointwise() || rep.MaxLevelRatio > 0.5 {
		t.Errorf("step on its points: %d violations, %d flips, ratio %v", rep.Violations, rep.SignFlips, rep.MaxLevelRatio)
	}
	xf := RandomPoints(tg.Box, 20000, 7)
	yf := Eval(tg.F, xf)
	fresh := check(t, r, xf, yf)
	if fresh.Final.Linf < 0.25 {
		t.Errorf("step between the points: sup %.3f; a jump cannot be approximated uniformly", fresh.Final.Linf)
	}
}

func TestBoxAndTol(t *testing.T) {
	tg, _ := LookupTarget("runge") // on [-1,1]
	x := Grid(tg.Box, 2001)
	y := Eval(tg.F, x)
	r := build(t, x, y, Options{Tol: 1e-3})
	if r.Stopped != "tol" || r.Levels[len(r.Levels)-1].Sup > 1e-3 {
		t.Errorf("stopped %q at sup %v", r.Stopped, r.Levels[len(r.Levels)-1].Sup)
	}
	rep := check(t, r, x, y)
	if !rep.Pointwise() || math.Abs(rep.Final.Linf-r.Levels[len(r.Levels)-1].Sup) > 1e-12 {
		t.Errorf("general box: %d violations, network sup %v", rep.Violations, rep.Final.Linf)
	}
	// Fresh points between the grid points: close, not exact.
	xf := RandomPoints(tg.Box, 5000, 1)
	fresh := check(t, r, xf, tensor.FromSlice(xf.Rows, 1, Eval(tg.F, xf)).Raw())
	if fresh.Final.Linf > 2e-3 {
		t.Errorf("fresh points: sup %v", fresh.Final.Linf)
	}
	r = build(t, x, y, Options{Levels: 20, MaxGrades: 50})
	if r.Stopped != "max-grades" || len(r.Model.Grades) > 50 {
		t.Errorf("max grades: stopped %q with %d grades", r.Stopped, len(r.Model.Grades))
	}
	z := build(t, x, make([]float64, len(y)), Options{Levels: 3})
	if z.Stopped != "zero" || len(z.Model.Grades) != 1 || z.Model.Predict(x).Data[5] != 0 {
		t.Errorf("zero target: stopped %q, %d grades", z.Stopped, len(z.Model.Grades))
	}
}

// TestMinCoef drops the round-off-sized hats a piecewise-linear target
// leaves, keeping the guarantees.
func TestMinCoef(t *testing.T) {
	tg, _ := LookupTarget("kinks")
	x := Grid(tg.Box, 401)
	y := Eval(tg.F, x)
	all := build(t, x, y, Options{Levels: 5})
	some := build(t, x, y, Options{Levels: 5, MinCoef: 1e-12})
	if len(some.Model.Grades) >= len(all.Model.Grades) {
		t.Errorf("min coef: %d grades, without %d", len(some.Model.Grades), len(all.Model.Grades))
	}
	rep := check(t, some, x, y)
	if !rep.Pointwise() || !rep.StrictDecay() || rep.Nontrivial != rep.NumGrades || rep.MaxLevelRatio > 0.5 {
		t.Errorf("min coef: %d violations, %d flips, %d of %d nontrivial, ratio %v", rep.Violations, rep.SignFlips, rep.Nontrivial, rep.NumGrades, rep.MaxLevelRatio)
	}
	t.Logf("kinks: %d grades, %d with min coef 1e-12", len(all.Model.Grades), len(some.Model.Grades))
}

func TestErrors(t *testing.T) {
	x := Grid(UnitBox(1), 5)
	y := Eval(func(p []float64) float64 { return p[0] }, x)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		x    *tensor.Dense[float64]
		y    []float64
		opt  Options
		want string
	}{
		{"no levels", x, y, Options{}, "levels or a tolerance"},
		{"nan", x, []float64{0, 1, math.NaN(), 2, 3}, Options{Levels: 1}, "value 3 is NaN"},
		{"outside", x, y, Options{Levels: 1, Box: Box{Lo: []float64{0}, Hi: []float64{0.5}}}, "outside"},
		{"bad box", x, y, Options{Levels: 1, Box: Box{Lo: []float64{1}, Hi: []float64{0}}}, "lo < hi"},
		{"dim 5", tensor.New[float64](5, 5), y, Options{Levels: 1}, "1 to 4"},
		{"variant", x, y, Options{Levels: 1, Variant: 7}, "variant"},
	} {
		_, err := Build(ctx, c.x, c.y, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
	// Two equal points with different values cannot be halved.
	xd := tensor.FromSlice(2, 1, []float64{0.5, 0.5})
	if _, err := Build(ctx, xd, []float64{1, -1}, Options{Levels: 1, MaxRefine: 8}); !errors.Is(err, ErrNoHalving) {
		t.Errorf("duplicate points: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Build(cctx, x, y, Options{Levels: 2}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
	for _, v := range []string{"a", "B", "c"} {
		if _, err := ParseVariant(v); err != nil {
			t.Error(err)
		}
	}
	if _, err := ParseSchedule("fixed"); err == nil {
		t.Error("ParseSchedule accepted fixed")
	}
}

func TestReadCSV(t *testing.T) {
	x, y, err := ReadCSV(strings.NewReader("x,y,f\n0,0,1\n0.5, 1, 2\n# comment\n1,1,3\n"))
	if err != nil || x.Rows != 3 || x.Cols != 2 || y[2] != 3 || x.At(1, 1) != 1 {
		t.Fatalf("got %v %v %v", x, y, err)
	}
	for in, want := range map[string]string{
		"":                "empty file",
		"f\n1\n":          "header has 1 column",
		"x,f\n":           "no data rows",
		"x,f\n1,2\n1,a\n": "line 3 column 2 (f)",
		"x,f\n1,2\n1\n":   "wrong number of fields",
		"x,f\n1,NaN\n":    "not a finite number",
	} {
		if _, _, err := ReadCSV(strings.NewReader(in)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", in, err, want)
		}
	}
}

func TestTargets(t *testing.T) {
	seen := map[string]bool{}
	for _, tg := range Targets() {
		if seen[tg.Name] || tg.Box.Validate() != nil || tg.Dim() < 1 || tg.Dim() > MaxDim || tg.Description == "" {
			t.Errorf("bad target %+v", tg)
		}
		seen[tg.Name] = true
		x := RandomPoints(tg.Box, 100, 1)
		for _, v := range Eval(tg.F, x) {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Errorf("%s gives %v", tg.Name, v)
			}
		}
		if _, err := LookupTarget(strings.ToUpper(tg.Name)); err != nil {
			t.Error(err)
		}
	}
	if _, err := LookupTarget("nope"); err == nil {
		t.Error("LookupTarget accepted nope")
	}
}

// Example builds the scheme for sin(10x) + 0.3x on a 401-point grid with
// the dyadic schedule and checks it with package verify.
func Example() {
	tg, _ := LookupTarget("sin10")
	x := Grid(tg.Box, 401)
	y := Eval(tg.F, x)
	r, err := Build(context.Background(), x, y, Options{Variant: VariantA, Schedule: Dyadic, Levels: 4})
	if err != nil {
		fmt.Println(err)
		return
	}
	for k, lv := range r.Levels {
		fmt.Printf("level %d: h = 1/%v, %d grades, sup %.3f, RMS %.3f\n", k+1, 1/lv.H, lv.GradeEnd, lv.Sup, lv.RMS)
	}
	fmt.Println("grade widths:", r.Model.Grades[0].Widths, r.Model.Grades[1].Widths)
	rep, _ := verify.Check(r.Model, x, tensor.FromSlice(len(y), 1, y), verify.Options{LevelEnds: r.LevelEnds()})
	fmt.Println("pointwise:", rep.Pointwise(), "strict decay:", rep.StrictDecay())
	// Output:
	// level 1: h = 1/4, 0 grades, sup 1.236, RMS 0.744
	// level 2: h = 1/8, 2 grades, sup 1.122, RMS 0.709
	// level 3: h = 1/16, 12 grades, sup 0.566, RMS 0.371
	// level 4: h = 1/32, 38 grades, sup 0.288, RMS 0.146
	// grade widths: [1 5 5 1] [5 5 5 1]
	// pointwise: true strict decay: true
}

// gemmPredict is the sum of the grades through their own Forward (one GEMM
// per layer per grade), one grade at a time, releasing each workspace: what
// model.Model.Walk does for wide models.
func gemmPredict(m *model.Model[float64], x *tensor.Dense[float64]) *tensor.Dense[float64] {
	out := tensor.New[float64](x.Rows, m.OutDim())
	feat := x
	for _, g := range m.Grades {
		o := g.Forward(feat)
		for k, v := range o.Raw() {
			out.Data[k] += v
		}
		feat = g.Hidden().Clone()
		g.ReleaseWorkspace()
	}
	return out
}

// BenchmarkPredictConstructed compares the grades' GEMM forward pass with
// the compiled model.Program (which Model.Predict uses for such narrow
// models) on a variant A model of about 2000 grades (d = 1, width 5), on
// 4096 points.
func BenchmarkPredictConstructed(b *testing.B) {
	tg, _ := LookupTarget("sin10")
	x := Grid(tg.Box, 20001)
	r := build(b, x, Eval(tg.F, x), Options{Levels: 5})
	xe := RandomPoints(tg.Box, 4096, 3)
	sorted := Grid(tg.Box, 4096)
	b.Logf("%d grades", len(r.Model.Grades))
	b.Run("GEMM", func(b *testing.B) {
		for b.Loop() {
			gemmPredict(r.Model, xe)
		}
	})
	b.Run("Model.Predict", func(b *testing.B) {
		for b.Loop() {
			r.Model.Predict(xe)
		}
	})
	p := model.Compile(r.Model)
	b.Run("Program.Predict/random", func(b *testing.B) {
		for b.Loop() {
			p.Predict(xe)
		}
	})
	b.Run("Program.Predict/sorted", func(b *testing.B) {
		for b.Loop() {
			p.Predict(sorted)
		}
	})
}

// TestOverLimits: a level whose grade would be deeper than a model file
// may hold is named, so that Build stops before it with a model that can
// be saved.
func TestOverLimits(t *testing.T) {
	w := make([]int, limits.MaxLayers+2)
	for i := range w {
		w[i] = 2
	}
	b := &builder{d: 1, grades: []*nn.MLP[float64]{nn.NewMLP[float64]([]int{1, 2, 2}, nn.ReLU), nn.NewMLP[float64](w, nn.ReLU)}}
	if got := b.overLimits(1); !strings.Contains(got, "its grade would have 65537 layers, more than the 65536") {
		t.Fatalf("%q", got)
	}
	if got := b.overLimits(2); got != "" {
		t.Fatalf("grades before from counted: %q", got)
	}
}
