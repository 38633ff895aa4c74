package interval

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// prec is the precision of the reference evaluations: far beyond float64,
// so that the rounding of the reference is negligible next to one ulp.
const prec = 256

func bf(v float64) *big.Float { return new(big.Float).SetPrec(prec).SetFloat64(v) }

func nf() *big.Float { return new(big.Float).SetPrec(prec) }

var eps = new(big.Float).SetPrec(prec).SetMantExp(big.NewFloat(1), -prec+8)

// bigExp is e^x by halving, a Taylor series and repeated squaring.
func bigExp(x *big.Float) *big.Float {
	r := nf().Set(x)
	k := 0
	for r.Sign() != 0 && r.MantExp(nil) > -8 { // |r| < 2^-8
		r.Quo(r, bf(2))
		k++
	}
	sum, term := bf(1), bf(1)
	for n := 1; n < 200; n++ {
		term.Mul(term, r)
		term.Quo(term, bf(float64(n)))
		sum.Add(sum, term)
		if nf().Abs(term).Cmp(eps) < 0 {
			break
		}
	}
	for range k {
		sum.Mul(sum, sum)
	}
	return sum
}

// bigLog is ln x (x > 0) by Newton's method on bigExp.
func bigLog(x *big.Float) *big.Float {
	f, _ := x.Float64()
	y := bf(math.Log(f))
	for range 8 {
		e := bigExp(y)
		// y += 2(x - e)/(x + e)
		num := nf().Sub(x, e)
		num.Mul(num, bf(2))
		den := nf().Add(x, e)
		y.Add(y, num.Quo(num, den))
	}
	return y
}

// bigAtanSmall is the Taylor series of arctan for |x| < 1/2.
func bigAtanSmall(x *big.Float) *big.Float {
	sum, pow := nf().Set(x), nf().Set(x)
	x2 := nf().Mul(x, x)
	for n := 1; n < 2000; n++ {
		pow.Mul(pow, x2)
		pow.Neg(pow)
		t := nf().Quo(pow, bf(float64(2*n+1)))
		sum.Add(sum, t)
		if nf().Abs(t).Cmp(eps) < 0 {
			break
		}
	}
	return sum
}

// bigPi is Machin's formula 16 atan(1/5) - 4 atan(1/239).
var bigPi = func() *big.Float {
	a := bigAtanSmall(nf().Quo(bf(1), bf(5)))
	b := bigAtanSmall(nf().Quo(bf(1), bf(239)))
	a.Mul(a, bf(16))
	b.Mul(b, bf(4))
	return a.Sub(a, b)
}()

func bigAtan(x *big.Float) *big.Float {
	// atan x = 2 atan(x / (1 + sqrt(1 + x²))), applied until |x| < 1/2.
	k := 0
	r := nf().Set(x)
	for nf().Abs(r).Cmp(bf(0.5)) >= 0 {
		s := nf().Mul(r, r)
		s.Add(s, bf(1))
		s.Sqrt(s)
		s.Add(s, bf(1))
		r.Quo(r, s)
		k++
	}
	a := bigAtanSmall(r)
	for range k {
		a.Mul(a, bf(2))
	}
	return a
}

// bigSinCos returns sin x and cos x after reduction modulo 2π.
func bigSinCos(x *big.Float) (*big.Float, *big.Float) {
	twoPi := nf().Mul(bigPi, bf(2))
	q := nf().Quo(x, twoPi)
	qi, _ := q.Int(nil)
	if q.Sign() < 0 {
		qi.Sub(qi, big.NewInt(1))
	}
	r := nf().Sub(x, nf().Mul(twoPi, nf().SetInt(qi)))
	sin, cos := nf(), bf(1)
	term := bf(1)
	for n := 1; n < 400; n++ {
		term.Mul(term, r)
		term.Quo(term, bf(float64(n)))
		switch n % 4 {
		case 1:
			sin.Add(sin, term)
		case 2:
			cos.Sub(cos, term)
		case 3:
			sin.Sub(sin, term)
		case 0:
			cos.Add(cos, term)
		}
		if n > 40 && nf().Abs(term).Cmp(eps) < 0 {
			break
		}
	}
	return sin, cos
}

// refs are the functions of one argument with their big references.
var refs = []struct {
	name   string
	iv     func(I) I
	big    func(*big.Float) *big.Float
	domain [2]float64 // where the random boxes lie
}{
	{"sin", Sin, func(x *big.Float) *big.Float { s, _ := bigSinCos(x); return s }, [2]float64{-40, 40}},
	{"cos", Cos, func(x *big.Float) *big.Float { _, c := bigSinCos(x); return c }, [2]float64{-40, 40}},
	{"exp", Exp, bigExp, [2]float64{-30, 30}},
	{"log", Log, bigLog, [2]float64{1e-6, 50}},
	{"sqrt", Sqrt, func(x *big.Float) *big.Float { return nf().Sqrt(x) }, [2]float64{0, 50}},
	{"atan", Atan, bigAtan, [2]float64{-20, 20}},
	{"tanh", Tanh, func(x *big.Float) *big.Float {
		e := bigExp(nf().Mul(x, bf(2)))
		return nf().Quo(nf().Sub(e, bf(1)), nf().Add(e, bf(1)))
	}, [2]float64{-10, 10}},
	{"sqr", Sqr, func(x *big.Float) *big.Float { return nf().Mul(x, x) }, [2]float64{-30, 30}},
	{"cube", func(x I) I { return PowInt(x, 3) }, func(x *big.Float) *big.Float { return nf().Mul(x, nf().Mul(x, x)) }, [2]float64{-30, 30}},
	{"pow7", func(x I) I { return PowInt(x, 7) }, func(x *big.Float) *big.Float {
		r := bf(1)
		for range 7 {
			r.Mul(r, x)
		}
		return r
	}, [2]float64{-8, 8}},
	{"pow^0.37", func(x I) I { return Pow(x, Point(0.37)) }, func(x *big.Float) *big.Float {
		if x.Sign() == 0 {
			return nf()
		}
		return bigExp(nf().Mul(bigLog(x), bf(0.37)))
	}, [2]float64{0, 30}},
	{"abs", Abs, func(x *big.Float) *big.Float { return nf().Abs(x) }, [2]float64{-3, 3}},
}

// randomBox draws a box in [a, b] whose width spans many scales.
func randomBox(rng *rand.Rand, a, b float64) I {
	lo := a + (b-a)*rng.Float64()
	w := (b - a) * math.Pow(10, -8*rng.Float64())
	if rng.IntN(8) == 0 {
		w = 0 // a point
	}
	return I{lo, min(lo+w, b)}
}

// samples returns points of x: its ends, its midpoint, random points, and
// the critical points of sin and cos inside it.
func samples(rng *rand.Rand, x I) []float64 {
	pts := []float64{x.Lo, x.Hi, x.Mid()}
	for range 12 {
		pts = append(pts, x.Lo+(x.Hi-x.Lo)*rng.Float64())
	}
	for k := math.Ceil(x.Lo/(math.Pi/2)) - 1; k*math.Pi/2 <= x.Hi+1; k++ {
		for _, v := range []float64{k * math.Pi / 2, math.Nextafter(k*math.Pi/2, 0), math.Nextafter(k*math.Pi/2, math.Inf(1))} {
			if x.Contains(v) {
				pts = append(pts, v)
			}
		}
	}
	return pts
}

func inside(t *testing.T, what string, r I, v *big.Float) bool {
	t.Helper()
	if bf(r.Lo).Cmp(v) > 0 || bf(r.Hi).Cmp(v) < 0 {
		t.Errorf("%s: enclosure [%v, %v] misses the true value %s", what, r.Lo, r.Hi, v.Text('g', 25))
		return false
	}
	return true
}

// TestEnclosuresContainTrueValues checks, on random boxes, that every
// function's enclosure contains the 256-bit value of the function at the
// box's ends, midpoint, random points and (for sin and cos) the extrema
// inside it.
func TestEnclosuresContainTrueValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	boxes := 400
	if testing.Short() {
		boxes = 100
	}
	for _, f := range refs {
		bad := 0
		for range boxes {
			x := randomBox(rng, f.domain[0], f.domain[1])
			r := f.iv(x)
			if !r.Valid() || r.Lo > r.Hi {
				t.Fatalf("%s(%v) = %v", f.name, x, r)
			}
			for _, p := range samples(rng, x) {
				if !inside(t, fmt.Sprintf("%s over %v at %v", f.name, x, p), r, f.big(bf(p))) {
					bad++
				}
			}
			if bad > 3 {
				t.FailNow()
			}
		}
	}
}

// TestArithmetic checks +, -, ×, ÷, hypot, min, max against exact big
// arithmetic at the corners and random points of random boxes.
func TestArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	ops := []struct {
		name string
		iv   func(I, I) I
		big  func(a, b *big.Float) *big.Float
	}{
		{"add", Add, func(a, b *big.Float) *big.Float { return nf().Add(a, b) }},
		{"sub", Sub, func(a, b *big.Float) *big.Float { return nf().Sub(a, b) }},
		{"mul", Mul, func(a, b *big.Float) *big.Float { return nf().Mul(a, b) }},
		{"scale", func(x, y I) I { return Scale(x.Lo, y) }, func(a, b *big.Float) *big.Float { return nf().Mul(a, b) }},
		{"div", Div, func(a, b *big.Float) *big.Float { return nf().Quo(a, b) }},
		{"hypot", Hypot, func(a, b *big.Float) *big.Float {
			s := nf().Add(nf().Mul(a, a), nf().Mul(b, b))
			return s.Sqrt(s)
		}},
		{"min", Min, func(a, b *big.Float) *big.Float {
			if a.Cmp(b) < 0 {
				return a
			}
			return b
		}},
		{"max", Max, func(a, b *big.Float) *big.Float {
			if a.Cmp(b) > 0 {
				return a
			}
			return b
		}},
	}
	for _, op := range ops {
		for range 400 {
			x, y := randomBox(rng, -1e3, 1e3), randomBox(rng, -1e3, 1e3)
			if rng.IntN(4) == 0 {
				x = randomBox(rng, -1e-5, 1e-5)
			}
			if op.name == "div" && y.Contains(0) {
				continue
			}
			if op.name == "scale" {
				x.Hi = x.Lo // a float factor
				if r, m := Scale(x.Lo, y), Mul(x, y); r != m {
					t.Errorf("Scale(%v, %v) = %v, Mul gives %v", x.Lo, y, r, m)
				}
			}
			r := op.iv(x, y)
			for _, a := range samples(rng, x)[:5] {
				for _, b := range samples(rng, y)[:5] {
					inside(t, fmt.Sprintf("%s(%v, %v) at (%v, %v)", op.name, x, y, a, b), r, op.big(bf(a), bf(b)))
				}
			}
		}
	}
}

func TestExactWhereExact(t *testing.T) {
	cases := []struct {
		name string
		got  I
		want I
	}{
		{"0+0", Add(Point(0), Point(0)), Point(0)},
		{"1+2", Add(Point(1), Point(2)), Point(3)},
		{"0.5*[2,4]", Mul(Point(0.5), I{2, 4}), I{1, 2}},
		{"[1,4]/2", Div(I{1, 4}, Point(2)), I{0.5, 2}},
		{"sqrt[4,9]", Sqrt(I{4, 9}), I{2, 3}},
		{"relu[-2,-1]", ReLU(I{-2, -1}), Point(0)},
		{"step[0,1]", Step(I{0, 1}), Point(1)},
		{"step[-1,1]", Step(I{-1, 1}), I{0, 1}},
		{"abs[-3,2]", Abs(I{-3, 2}), I{0, 3}},
		{"sqr[-3,2]", Sqr(I{-3, 2}), I{0, 9}},
		{"sin wide", Sin(I{0, 7}), I{-1, 1}},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// An inexact sum is one ulp wide, and contains the exact value.
	s := Add(Point(0.1), Point(0.2))
	if s.Hi != math.Nextafter(s.Lo, 2) {
		t.Errorf("0.1+0.2 = %v: want one ulp wide", s)
	}
	// 1/3 is bracketed by adjacent floats.
	q := Div(Point(1), Point(3))
	if q.Hi != math.Nextafter(q.Lo, 2) || !(q.Lo < 1.0/3 || q.Hi > 1.0/3) {
		t.Errorf("1/3 = %v", q)
	}
	if Log(I{-2, -1}).Valid() || Sqrt(I{-2, -1}).Valid() {
		t.Error("log and sqrt of a negative interval should be invalid")
	}
	if !math.IsInf(Div(Point(1), I{-1, 1}).Hi, 1) {
		t.Error("1/[-1,1] should be unbounded")
	}
}

// TestSinExtrema checks that an interval holding π/2 reaches 1.
func TestSinExtrema(t *testing.T) {
	if r := Sin(I{1.5, 1.6}); r.Hi != 1 {
		t.Errorf("sin[1.5,1.6] = %v, want hi 1", r)
	}
	if r := Cos(I{3, 3.2}); r.Lo != -1 {
		t.Errorf("cos[3,3.2] = %v, want lo -1", r)
	}
	if r := Sin(I{0.1, 0.2}); r.Hi == 1 || r.Lo < 0.09 {
		t.Errorf("sin[0.1,0.2] = %v: too wide", r)
	}
}

func ExampleSin() {
	r := Sin(New(1, 2)) // contains sin 1, sin 2 and the maximum 1 at π/2
	fmt.Printf("[%.6f, %.6f]\n", r.Lo, r.Hi)
	// Output: [0.841471, 1.000000]
}
