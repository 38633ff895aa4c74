// Package interval is interval arithmetic on float64 with outward rounding:
// every operation returns an interval that contains the exact real result of
// the operation for every choice of reals in its operands, and also the
// float64 result the same operation gives in round-to-nearest arithmetic.
//
// Go has no directed rounding, so each bound is computed in
// round-to-nearest and then moved outward: by one unit in the last place
// (ulp) for the correctly rounded operations (+, -, ×, ÷, sqrt), by
// TranscendentalULPs for the functions of package math (sin, cos, exp, log,
// tanh, atan, pow), whose error is below one ulp in practice but not
// documented. Results are also clamped to the function's known range (sin
// and cos to [-1, 1], exp to [0, ∞), ...). The package's tests check every
// function against evaluations in 256-bit arithmetic (math/big) on random
// boxes.
//
// An interval with a NaN bound is invalid: it results from an operation
// outside its domain on the whole operand (log of a negative interval, say)
// and propagates through every operation. The empty set is not represented.
package interval

import "math"

// TranscendentalULPs is how far (in ulps) a bound computed by a function of
// package math is moved outward.
const TranscendentalULPs = 4

// I is the closed interval [Lo, Hi] (Lo ≤ Hi), possibly unbounded.
type I struct {
	Lo, Hi float64
}

// Point returns the interval that encloses the real number v denotes. For a
// float v that is exact, Point(v) = [v, v].
func Point(v float64) I { return I{v, v} }

// Around returns an interval that contains v and the real number whose
// rounding to float64 gave v (for a decimal literal such as 0.3): [v, v]
// when v is an integer of magnitude ≤ 2^53, else v widened by one ulp.
func Around(v float64) I {
	if v == math.Trunc(v) && math.Abs(v) <= 1<<53 {
		return I{v, v}
	}
	return I{down(v), up(v)}
}

// New returns [lo, hi]. It panics if lo > hi.
func New(lo, hi float64) I {
	if lo > hi {
		panic("interval: lo > hi")
	}
	return I{lo, hi}
}

// Entire is (-∞, ∞).
var Entire = I{math.Inf(-1), math.Inf(1)}

// Invalid is the interval of an operation undefined on its whole operand.
var Invalid = I{math.NaN(), math.NaN()}

// Valid reports whether x has no NaN bound.
func (x I) Valid() bool { return !math.IsNaN(x.Lo) && !math.IsNaN(x.Hi) }

// Width returns Hi - Lo (rounded up).
func (x I) Width() float64 { return addUp(x.Hi, -x.Lo) }

// Mid returns a float in [Lo, Hi] near the midpoint (0 for Entire).
func (x I) Mid() float64 {
	switch {
	case math.IsInf(x.Lo, -1) && math.IsInf(x.Hi, 1):
		return 0
	case math.IsInf(x.Lo, -1):
		return -math.MaxFloat64
	case math.IsInf(x.Hi, 1):
		return math.MaxFloat64
	}
	m := x.Lo/2 + x.Hi/2
	return min(max(m, x.Lo), x.Hi)
}

// Contains reports whether v lies in x.
func (x I) Contains(v float64) bool { return x.Lo <= v && v <= x.Hi }

// Mag returns max |v| over x.
func (x I) Mag() float64 { return max(math.Abs(x.Lo), math.Abs(x.Hi)) }

// Mig returns min |v| over x.
func (x I) Mig() float64 {
	if x.Lo <= 0 && 0 <= x.Hi {
		return 0
	}
	return min(math.Abs(x.Lo), math.Abs(x.Hi))
}

// Hull returns the smallest interval holding x and y.
func Hull(x, y I) I {
	if !x.Valid() || !y.Valid() {
		return Invalid
	}
	return I{min(x.Lo, y.Lo), max(x.Hi, y.Hi)}
}

// Widen returns [Lo - e, Hi + e], rounded outward (e ≥ 0).
func (x I) Widen(e float64) I {
	if e == 0 {
		return x
	}
	return I{addDown(x.Lo, -e), addUp(x.Hi, e)}
}

func down(v float64) float64 {
	if math.IsInf(v, -1) || math.IsNaN(v) {
		return v
	}
	return math.Nextafter(v, math.Inf(-1))
}

func up(v float64) float64 {
	if math.IsInf(v, 1) || math.IsNaN(v) {
		return v
	}
	return math.Nextafter(v, math.Inf(1))
}

// downN and upN move v outward by n ulps.
func downN(v float64, n int) float64 {
	for range n {
		v = down(v)
	}
	return v
}

func upN(v float64, n int) float64 {
	for range n {
		v = up(v)
	}
	return v
}

// The directed roundings below use error-free transformations: the error
// of a float sum, product, quotient or square root is itself a float that
// FMA or TwoSum computes exactly (barring underflow), and its sign says on
// which side of the rounded result the exact one lies. So bounds are exact
// where the operation is exact (0 + 0 stays [0, 0]), and one ulp wider
// otherwise. Near the underflow range the bound is moved one ulp outward
// without the test.
const tiny = 0x1p-960

func inexact(v float64) bool { return math.IsInf(v, 0) || math.IsNaN(v) }

func addDown(a, b float64) float64 {
	s := a + b
	if inexact(s) {
		return s
	}
	bb := s - a
	if (a-(s-bb))+(b-bb) < 0 {
		return down(s)
	}
	return s
}

func addUp(a, b float64) float64 { return -addDown(-a, -b) }

func mulDown(a, b float64) float64 {
	if a == 0 || b == 0 {
		return 0
	}
	p := a * b
	if inexact(p) {
		return p
	}
	if math.Abs(p) < tiny {
		return down(p)
	}
	if math.FMA(a, b, -p) < 0 {
		return down(p)
	}
	return p
}

func mulUp(a, b float64) float64 { return -mulDown(-a, b) }

func divDown(a, b float64) float64 {
	q := a / b
	if inexact(q) || b == 0 {
		return q
	}
	if math.Abs(q) < tiny || math.Abs(a) < tiny {
		return down(q)
	}
	// a/b - q has the sign of (a - q·b)·b.
	r := math.FMA(-q, b, a)
	if (r < 0) != (b < 0) && r != 0 {
		return down(q)
	}
	return q
}

func divUp(a, b float64) float64 { return -divDown(-a, b) }

func sqrtDown(a float64) float64 {
	r := math.Sqrt(a)
	if inexact(r) || r == 0 {
		return r
	}
	if a < tiny {
		return down(r)
	}
	if math.FMA(-r, r, a) < 0 {
		return down(r)
	}
	return r
}

func sqrtUp(a float64) float64 {
	r := math.Sqrt(a)
	if inexact(r) || r == 0 {
		return up(r)
	}
	if a < tiny {
		return up(r)
	}
	if math.FMA(-r, r, a) > 0 {
		return up(r)
	}
	return r
}

// Neg returns -x (exact).
func Neg(x I) I { return I{-x.Hi, -x.Lo} }

// Add returns x + y.
func Add(x, y I) I {
	if !x.Valid() || !y.Valid() {
		return Invalid
	}
	return I{addDown(x.Lo, y.Lo), addUp(x.Hi, y.Hi)}
}

// Sub returns x - y.
func Sub(x, y I) I { return Add(x, Neg(y)) }

// Mul returns x·y (0·∞ counts as 0: the bound of a product whose other
// factor ranges over a bounded set).
func Mul(x, y I) I {
	if !x.Valid() || !y.Valid() {
		return Invalid
	}
	lo := min(mulDown(x.Lo, y.Lo), mulDown(x.Lo, y.Hi), mulDown(x.Hi, y.Lo), mulDown(x.Hi, y.Hi))
	hi := max(mulUp(x.Lo, y.Lo), mulUp(x.Lo, y.Hi), mulUp(x.Hi, y.Lo), mulUp(x.Hi, y.Hi))
	return I{lo, hi}
}

// Scale returns c·x for a float c (exact as given); the same as
// Mul(Point(c), x), with two roundings instead of eight.
func Scale(c float64, x I) I {
	if !x.Valid() || math.IsNaN(c) {
		return Invalid
	}
	if c >= 0 {
		return I{mulDown(c, x.Lo), mulUp(c, x.Hi)}
	}
	return I{mulDown(c, x.Hi), mulUp(c, x.Lo)}
}

// Div returns x/y; Entire when y contains 0.
func Div(x, y I) I {
	if !x.Valid() || !y.Valid() {
		return Invalid
	}
	if y.Lo <= 0 && 0 <= y.Hi {
		if y.Lo == 0 && y.Hi == 0 {
			return Invalid
		}
		return Entire
	}
	lo := min(divDown(x.Lo, y.Lo), divDown(x.Lo, y.Hi), divDown(x.Hi, y.Lo), divDown(x.Hi, y.Hi))
	hi := max(divUp(x.Lo, y.Lo), divUp(x.Lo, y.Hi), divUp(x.Hi, y.Lo), divUp(x.Hi, y.Hi))
	return I{lo, hi}
}

// Sqr returns {v² : v ∈ x} (tighter than Mul(x, x)).
func Sqr(x I) I {
	if !x.Valid() {
		return Invalid
	}
	lo, hi := x.Mig(), x.Mag()
	return I{max(mulDown(lo, lo), 0), mulUp(hi, hi)}
}

// PowInt returns {v^n : v ∈ x} for an integer n (n = 0 gives [1, 1]).
func PowInt(x I, n int) I {
	if !x.Valid() {
		return Invalid
	}
	switch {
	case n == 0:
		return Point(1)
	case n < 0:
		return Div(Point(1), PowInt(x, -n))
	case n == 1:
		return x
	case n == 2:
		return Sqr(x)
	}
	// Repeated squaring with outward rounding of each product: the result
	// encloses v^n for every v in the (monotone) piece of x it is applied
	// to.
	pow := func(v float64) I {
		r, b := Point(1), Point(math.Abs(v))
		for k := n; k > 0; k >>= 1 {
			if k&1 == 1 {
				r = Mul(r, b)
			}
			b = Mul(b, b)
		}
		return r
	}
	if n%2 == 0 {
		lo, hi := pow(x.Mig()), pow(x.Mag())
		return I{max(lo.Lo, 0), hi.Hi}
	}
	signed := func(v float64) I {
		p := pow(v)
		if v < 0 {
			return Neg(p)
		}
		return p
	}
	return I{signed(x.Lo).Lo, signed(x.Hi).Hi}
}

// Sqrt returns {√v : v ∈ x, v ≥ 0}; Invalid if x < 0 everywhere.
func Sqrt(x I) I {
	if !x.Valid() || x.Hi < 0 {
		return Invalid
	}
	return I{max(sqrtDown(max(x.Lo, 0)), 0), sqrtUp(x.Hi)}
}

// mono applies the increasing function f to x, widening by
// TranscendentalULPs and clamping to [lo, hi].
func mono(x I, f func(float64) float64, lo, hi float64) I {
	if !x.Valid() {
		return Invalid
	}
	return I{max(downN(f(x.Lo), TranscendentalULPs), lo), min(upN(f(x.Hi), TranscendentalULPs), hi)}
}

// Exp returns e^x.
func Exp(x I) I { return mono(x, math.Exp, 0, math.Inf(1)) }

// Log returns ln x over x ∩ (0, ∞) (-∞ as lower bound when x reaches 0);
// Invalid if x ≤ 0 everywhere.
func Log(x I) I {
	if !x.Valid() || x.Hi <= 0 {
		return Invalid
	}
	return mono(I{max(x.Lo, 0), x.Hi}, math.Log, math.Inf(-1), math.Inf(1))
}

// Tanh returns tanh x.
func Tanh(x I) I { return mono(x, math.Tanh, -1, 1) }

// Atan returns arctan x.
func Atan(x I) I { return mono(x, math.Atan, -math.Pi/2-1e-15, math.Pi/2+1e-15) }

// Pow returns {a^b : a ∈ x, a ≥ 0, b ∈ y} for a base x ≥ 0 (a^b =
// exp(b·ln a)); an integer point exponent goes to PowInt, so any base is
// allowed there. Invalid if x < 0 everywhere and y is not an integer.
func Pow(x, y I) I {
	if !x.Valid() || !y.Valid() {
		return Invalid
	}
	if y.Lo == y.Hi && y.Lo == math.Trunc(y.Lo) && math.Abs(y.Lo) <= 1<<30 {
		return PowInt(x, int(y.Lo))
	}
	if x.Hi < 0 {
		return Invalid
	}
	x.Lo = max(x.Lo, 0)
	// a^b is monotone in a for fixed b and in b for fixed a, so the extremes
	// are at the corners.
	var lo, hi = math.Inf(1), math.Inf(-1)
	for _, a := range [2]float64{x.Lo, x.Hi} {
		for _, b := range [2]float64{y.Lo, y.Hi} {
			v := math.Pow(a, b)
			if math.IsNaN(v) {
				return Invalid
			}
			lo, hi = min(lo, v), max(hi, v)
		}
	}
	if x.Lo == 0 && y.Lo < 0 {
		hi = math.Inf(1)
	}
	return I{max(downN(lo, TranscendentalULPs), 0), upN(hi, TranscendentalULPs)}
}

// Abs returns {|v| : v ∈ x}.
func Abs(x I) I {
	if !x.Valid() {
		return Invalid
	}
	return I{x.Mig(), x.Mag()}
}

// Min returns {min(a, b) : a ∈ x, b ∈ y}.
func Min(x, y I) I {
	if !x.Valid() || !y.Valid() {
		return Invalid
	}
	return I{min(x.Lo, y.Lo), min(x.Hi, y.Hi)}
}

// Max returns {max(a, b) : a ∈ x, b ∈ y}.
func Max(x, y I) I {
	if !x.Valid() || !y.Valid() {
		return Invalid
	}
	return I{max(x.Lo, y.Lo), max(x.Hi, y.Hi)}
}

// ReLU returns max(x, 0).
func ReLU(x I) I { return Max(x, Point(0)) }

// Hypot returns {√(a² + b²) : a ∈ x, b ∈ y}.
func Hypot(x, y I) I {
	if !x.Valid() || !y.Valid() {
		return Invalid
	}
	// math.Hypot is not correctly rounded: TranscendentalULPs each side.
	lo := max(downN(math.Hypot(x.Mig(), y.Mig()), TranscendentalULPs), 0)
	return I{lo, upN(math.Hypot(x.Mag(), y.Mag()), TranscendentalULPs)}
}

// Step returns {s(v) : v ∈ x} for the unit step s(v) = 1 for v ≥ 0, 0 for
// v < 0.
func Step(x I) I {
	switch {
	case !x.Valid():
		return Invalid
	case x.Lo >= 0:
		return Point(1)
	case x.Hi < 0:
		return Point(0)
	}
	return I{0, 1}
}

// Sign returns {sign(v) : v ∈ x} (sign(0) = 0).
func Sign(x I) I {
	switch {
	case !x.Valid():
		return Invalid
	case x.Lo > 0:
		return Point(1)
	case x.Hi < 0:
		return Point(-1)
	}
	return I{sign(x.Lo), sign(x.Hi)}
}

func sign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// Sin returns sin x.
func Sin(x I) I { return trig(x, math.Sin, 0.25) }

// Cos returns cos x.
func Cos(x I) I { return trig(x, math.Cos, 0) }

// trig encloses f = sin or cos over x. The maxima of f are at
// 2π(k + phase), the minima at 2π(k + phase + ½).
func trig(x I, f func(float64) float64, phase float64) I {
	if !x.Valid() {
		return Invalid
	}
	if math.IsInf(x.Lo, 0) || math.IsInf(x.Hi, 0) || x.Hi-x.Lo >= 6.28 {
		return I{-1, 1}
	}
	a, b := f(x.Lo), f(x.Hi)
	lo := max(downN(min(a, b), TranscendentalULPs), -1)
	hi := min(upN(max(a, b), TranscendentalULPs), 1)
	// t = x/(2π) - phase, with slack for the rounding of the division: an
	// extremum that may lie in x is included (which can only widen).
	const twoPi = 2 * math.Pi
	tl, th := x.Lo/twoPi-phase, x.Hi/twoPi-phase
	slack := 1e-12 * (1 + max(math.Abs(tl), math.Abs(th)))
	tl, th = tl-slack, th+slack
	if math.Ceil(tl) <= math.Floor(th) {
		hi = 1
	}
	if math.Ceil(tl-0.5) <= math.Floor(th-0.5) {
		lo = -1
	}
	return I{lo, hi}
}
