package formula

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mgdl/mgdl/interval"
)

func TestEval(t *testing.T) {
	cases := []struct {
		src  string
		dim  int
		x    []float64
		want float64
	}{
		{"sin(10*x) + 0.3*x", 1, []float64{0.7}, math.Sin(10*0.7) + 0.3*0.7},
		{"sin(2*pi*x)*cos(2*pi*y) + 0.5*(x-y)", 2, []float64{0.1, 0.8}, math.Sin(2*math.Pi*0.1)*math.Cos(2*math.Pi*0.8) + 0.5*(0.1-0.8)},
		{"-x^2", 1, []float64{3}, -9},
		{"2^3^2", 1, []float64{0}, 512},
		{"x**0.5", 1, []float64{4}, 2},
		{"pow(x, 3) - abs(y)", 2, []float64{2, -1}, 7},
		{"min(x, y, z) + max(x, 1)", 3, []float64{3, 2, 5}, 5},
		{"x >= 0.5 ? 1 : 0", 1, []float64{0.5}, 1},
		{"x < 0.5 ? x : 1 - x", 1, []float64{0.7}, 1 - 0.7},
		{"step(x - 1/pi)", 1, []float64{0.3}, 0},
		{"sign(x) * sqrt(abs(x))", 1, []float64{-4}, -2},
		{"hypot(x - 0.4, y - 0.55)", 2, []float64{0, 0}, math.Hypot(-0.4, -0.55)},
		{"x1 + x2 + x3 + x4", 4, []float64{1, 2, 3, 4}, 10},
		{"w", 4, []float64{0, 0, 0, 9}, 9},
		{"exp(-4*((x-0.3)^2)) + log(e) + tanh(0) + atan(1)", 1, []float64{0.3}, 1 + 1 + math.Pi/4},
		{"3", 1, []float64{0}, 3},
	}
	for _, c := range cases {
		f, err := Parse(c.src)
		if err != nil {
			t.Fatalf("%s: %v", c.src, err)
		}
		if f.Dim() != c.dim {
			t.Errorf("%s: dim %d, want %d", c.src, f.Dim(), c.dim)
		}
		if got := f.Eval(c.x); math.Abs(got-c.want) > 1e-15*max(1, math.Abs(c.want)) {
			t.Errorf("%s at %v = %v, want %v", c.src, c.x, got, c.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct{ src, want string }{
		{"", "empty expression"},
		{"sin(10*x", "unexpected"},
		{"foo(x)", `unknown function "foo"`},
		{"q + 1", `unknown name "q"`},
		{"x + x1", "both name coordinate 1"},
		{"sin(x, y)", "sin takes 1 arguments, got 2"},
		{"min(x)", "min takes at least 2 arguments"},
		{"x > 1", "only as the condition"},
		{"x ? 1 : 0", "must be one comparison"},
		{`"a"`, "not part of a formula"},
		{"x % 2", `operator "%" is not allowed`},
		{"x.y", "not part of a formula"},
		{"v", `unknown name "v"`},
		{strings.Repeat("x+", 3000) + "x", "more than the 4096"},
	}
	for _, c := range cases {
		_, err := Parse(c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Parse(%.40q) = %v, want an error containing %q", c.src, err, c.want)
		}
	}
}

// TestRangeEncloses checks, for formulas of every kind, that the enclosure
// over random boxes contains Eval at many points of the box, and that it
// shrinks towards the value as the box shrinks.
func TestRangeEncloses(t *testing.T) {
	srcs := []string{
		"sin(10*x) + 0.3*x", "1/(1+25*x^2)", "sin(20*pi*x^2)", "abs(x-0.3) - 2*abs(x-0.62) + x",
		"sqrt(abs(x - 1/3))", "step(x - 1/pi)", "sin(2*pi*x)*cos(2*pi*y) + 0.5*(x-y)",
		"sqrt(hypot(x-0.4, y-0.55))", "exp(-4*((x-0.3)^2+(y-0.5)^2+(z-0.7)^2)) - 0.5",
		"x < y ? x*y : exp(x-y)", "cos(pi*(x+y+z+w)/2)", "min(x, 1-y) ^ 0.37", "tanh(5*x) - atan(3*y)",
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for _, src := range srcs {
		f := MustParse(src)
		for range 300 {
			b := make([]interval.I, f.Dim())
			for i := range b {
				lo := rng.Float64()
				w := math.Pow(10, -6*rng.Float64())
				b[i] = interval.I{Lo: lo, Hi: min(lo+w, 1)}
			}
			r := f.Range(b)
			x := make([]float64, f.Dim())
			for range 30 {
				for i := range x {
					x[i] = b[i].Lo + (b[i].Hi-b[i].Lo)*rng.Float64()
				}
				if v := f.Eval(x); !r.Contains(v) {
					t.Fatalf("%s: Eval(%v) = %v outside the enclosure %v over %v", src, x, v, r, b)
				}
			}
		}
		// Shrinking boxes: the enclosure converges (continuous formulas).
		if strings.Contains(src, "step") || strings.Contains(src, "?") {
			continue
		}
		x := make([]float64, f.Dim())
		for i := range x {
			x[i] = 0.123 + 0.1*float64(i)
		}
		prev := math.Inf(1)
		for _, w := range []float64{1e-2, 1e-4, 1e-6} {
			b := make([]interval.I, len(x))
			for i := range b {
				b[i] = interval.I{Lo: x[i] - w, Hi: x[i] + w}
			}
			width := f.Range(b).Width()
			if width > prev {
				t.Errorf("%s: enclosure width %v at box radius %v grew from %v", src, width, w, prev)
			}
			prev = width
		}
		if prev > 1e-3 {
			t.Errorf("%s: enclosure width %v on a box of radius 1e-6", src, prev)
		}
	}
}

func TestConstantsEnclosed(t *testing.T) {
	// pi and 0.1 are not floats: their enclosures must not be points.
	for _, src := range []string{"pi", "0.1", "1/3", "e"} {
		r := MustParse(src).Range([]interval.I{{}})
		if r.Lo == r.Hi {
			t.Errorf("%s: enclosure %v is a point", src, r)
		}
	}
	if r := MustParse("2*3 - 1/4").Range([]interval.I{{}}); r.Lo != 5.75 || r.Hi != 5.75 {
		t.Errorf("2*3-1/4 = %v, want the exact point 5.75", r)
	}
}

func ExampleParse() {
	f, err := Parse("sin(2*pi*x)*cos(2*pi*y) + 0.5*(x-y)")
	if err != nil {
		fmt.Println(err)
		return
	}
	r := f.Range([]interval.I{{Lo: 0.2, Hi: 0.3}, {Lo: 0, Hi: 0.1}})
	fmt.Printf("d=%d  f(0.25, 0) = %.4f  f over the box ⊂ [%.3f, %.3f]\n", f.Dim(), f.Eval([]float64{0.25, 0}), r.Lo, r.Hi)
	// Output: d=2  f(0.25, 0) = 1.1250  f over the box ⊂ [0.819, 1.150]
}

// TestRangeGradMeanValue checks the mean-value form built from RangeGrad:
// for random boxes and points x, y in them, f(x) - f(y) lies in
// Σ grad_i·(x_i - y_i) (up to the rounding of the two float evaluations),
// and for smooth formulas the form f(c) + grad·(b - c) is much tighter than
// Range on small boxes.
func TestRangeGradMeanValue(t *testing.T) {
	srcs := []string{
		"sin(10*x) + 0.3*x", "1/(1+25*x^2)", "abs(x-0.3) - 2*abs(x-0.62) + x", "sqrt(abs(x - 1/3))",
		"x >= 1/pi ? 1 : 0", "sin(2*pi*x)*cos(2*pi*y) + 0.5*(x-y)", "sqrt(hypot(x-0.4, y-0.55))",
		"exp(-4*((x-0.3)^2+(y-0.5)^2+(z-0.7)^2)) - 0.5", "min(x, 1-y) ^ 0.37", "tanh(5*x) - atan(3*y) + log(1+z) + cos(w)",
		"x < y ? x*y : exp(x-y)", "abs(x + y - z - 0.3) - 0.5*abs(y - 0.6)",
	}
	rng := rand.New(rand.NewPCG(7, 8))
	for _, src := range srcs {
		f := MustParse(src)
		d := f.Dim()
		for range 300 {
			b := make([]interval.I, d)
			for i := range b {
				lo := rng.Float64()
				w := math.Pow(10, -5*rng.Float64())
				b[i] = interval.I{Lo: lo, Hi: min(lo+w, 1)}
			}
			v, g := f.RangeGrad(b)
			if r := f.Range(b); v != r {
				t.Fatalf("%s: RangeGrad value %v, Range %v", src, v, r)
			}
			x, y := make([]float64, d), make([]float64, d)
			for range 10 {
				for i := range x {
					x[i] = b[i].Lo + (b[i].Hi-b[i].Lo)*rng.Float64()
					y[i] = b[i].Lo + (b[i].Hi-b[i].Lo)*rng.Float64()
				}
				s := interval.Point(0)
				for i := range g {
					s = interval.Add(s, interval.Mul(g[i], interval.Sub(interval.Point(x[i]), interval.Point(y[i]))))
				}
				fx, fy := f.Eval(x), f.Eval(y)
				slack := 1e-13 * (1 + math.Abs(fx) + math.Abs(fy))
				if diff := fx - fy; !s.Widen(slack).Contains(diff) {
					t.Fatalf("%s on %v: f(x)-f(y) = %v outside the mean-value enclosure %v (x %v, y %v)", src, b, diff, s, x, y)
				}
			}
		}
	}
	// Tighter than the natural enclosure on a small box of a smooth formula.
	f := MustParse("sin(10*x) + 0.3*x - (sin(10*x) + 0.3*x)*0.999")
	b := []interval.I{{Lo: 0.5, Hi: 0.5001}}
	_, g := f.RangeGrad(b)
	mv := interval.Mul(g[0], interval.I{Lo: -0.00005, Hi: 0.00005}).Width()
	if nat := f.Range(b).Width(); !(mv < nat/100) {
		t.Errorf("mean-value width %v, natural width %v: want at least 100 times tighter", mv, nat)
	}
}
