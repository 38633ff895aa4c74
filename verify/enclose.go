package verify

import (
	"math"

	"github.com/mgdl/mgdl/interval"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
)

// Enclosures of a model's grades over boxes, for Certify.

// ---- the network in a form for interval and point evaluation ----

type term struct {
	in int32
	w  float64
}

type unit struct {
	terms []term
	b     float64
	abs   float64 // |b| + Σ|w|, for the rounding bound
}

type layer struct {
	units []unit
	act   nn.Activation // applied after the layer (Identity for the output layer)
	// src[o], for a unit that is a copy of an earlier channel, names that
	// channel; -1 otherwise.
	src []chanRef
}

// chanRef names channel ch of layer t of grade g (g = -1: model input).
type chanRef struct{ g, t, ch int32 }

type cgrade struct {
	layers []layer
	// inputs of the first layer, resolved through copies.
	in []chanRef
}

type cnet struct {
	grades []cgrade
}

// gamma bounds the relative rounding of a sum of n products in any order.
func gamma(n int) float64 { return float64(n+3) * 0x1p-53 * (1 + 1e-10) }

func compileNet(m *model.Model[float64]) *cnet {
	n := &cnet{grades: make([]cgrade, len(m.Grades))}
	for gi, g := range m.Grades {
		cg := &n.grades[gi]
		nl := len(g.Layers)
		for li := range g.Layers {
			Lr := &g.Layers[li]
			act := g.Act
			if li == nl-1 {
				act = nn.Identity
			}
			ly := layer{units: make([]unit, Lr.Out), act: act, src: make([]chanRef, Lr.Out)}
			for o := range Lr.Out {
				u := unit{b: Lr.B[o], abs: math.Abs(Lr.B[o])}
				for j := range Lr.In {
					if w := Lr.W.Data[j*Lr.Out+o]; w != 0 {
						u.terms = append(u.terms, term{int32(j), w})
						u.abs += math.Abs(w)
					}
				}
				ly.units[o] = u
				ly.src[o] = chanRef{-2, 0, 0}
			}
			cg.layers = append(cg.layers, ly)
		}
	}
	// Copies: a hidden ReLU unit with one weight 1, bias 0, reading a
	// nonnegative channel (a ReLU output) is that channel; so is an
	// identity unit with one weight 1 and bias 0.
	source := func(gi, li, ch int) chanRef {
		if li > 0 {
			return chanRef{int32(gi), int32(li - 1), int32(ch)}
		}
		if gi == 0 {
			return chanRef{-1, 0, int32(ch)}
		}
		pg := &n.grades[gi-1]
		return chanRef{int32(gi - 1), int32(len(pg.layers) - 2), int32(ch)}
	}
	nonneg := func(r chanRef) bool {
		return r.g >= 0 && n.grades[r.g].layers[r.t].act == nn.ReLU
	}
	resolve := func(r chanRef) chanRef {
		for r.g >= 0 {
			s := n.grades[r.g].layers[r.t].src[r.ch]
			if s.g == -2 {
				return r
			}
			r = s
		}
		return r
	}
	for gi := range n.grades {
		cg := &n.grades[gi]
		for li := range cg.layers[:len(cg.layers)-1] {
			ly := &cg.layers[li]
			for o, u := range ly.units {
				if len(u.terms) != 1 || u.terms[0].w != 1 || u.b != 0 {
					continue
				}
				s := source(gi, li, int(u.terms[0].in))
				if ly.act == nn.Identity || ly.act == nn.ReLU && nonneg(s) {
					ly.src[o] = resolve(s)
				}
			}
		}
		// The first layer's inputs.
		width := 0
		if gi == 0 {
			width = m.InDim()
		} else {
			width = m.Grades[gi-1].FeatureDim()
		}
		cg.in = make([]chanRef, width)
		for j := range width {
			cg.in[j] = resolve(source(gi, 0, j))
		}
	}
	return n
}

// ---- evaluation on a box (intervals) and at a point (floats), memoised
// per grade ----

type evalMode uint8

const (
	// natural: interval propagation, each pre-activation in
	// midpoint-radius form widened by a bound of every rounding, so that
	// the enclosures hold for the exact network and for the model as it is
	// evaluated in floats.
	natural evalMode = iota
	// affine: first-order forms of the exact network (see gradeAffine)
	// and bounds of |float - exact|.
	affine
)

type evaluator struct {
	net   *cnet
	mode  evalMode
	x     []interval.I // the box
	p     []float64    // the point
	stamp []int
	now   int
	// ivals and zvals enclose the values and pre-activations of the units
	// as the model computes them in floats; [grade][layer][unit].
	ivals [][][]interval.I
	zvals [][][]interval.I
	fvals [][][]float64
	// Affine mode: the exact network's values, each unit's first-order
	// form K + Σ_i G_i·(x_i - c_i) (K and G intervals), and a bound of
	// |float result - exact result|; c is the box's centre and dx = x - c.
	evals [][][]interval.I
	formK [][][]interval.I
	formG [][][][maxGradDim]interval.I
	dvals [][][]float64
	c     [maxGradDim]float64
	dx    [maxGradDim]interval.I
}

// maxGradDim is the largest input dimension the first-order forms are
// used for.
const maxGradDim = 4

func newEvaluator(net *cnet) *evaluator {
	n := len(net.grades)
	e := &evaluator{net: net, stamp: make([]int, n)}
	e.ivals = make([][][]interval.I, n)
	e.zvals = make([][][]interval.I, n)
	e.evals = make([][][]interval.I, n)
	e.formK = make([][][]interval.I, n)
	e.fvals = make([][][]float64, n)
	e.formG = make([][][][maxGradDim]interval.I, n)
	e.dvals = make([][][]float64, n)
	for gi, g := range net.grades {
		for _, ly := range g.layers {
			k := len(ly.units)
			e.ivals[gi] = append(e.ivals[gi], make([]interval.I, k))
			e.zvals[gi] = append(e.zvals[gi], make([]interval.I, k))
			e.evals[gi] = append(e.evals[gi], make([]interval.I, k))
			e.formK[gi] = append(e.formK[gi], make([]interval.I, k))
			e.fvals[gi] = append(e.fvals[gi], make([]float64, k))
			e.formG[gi] = append(e.formG[gi], make([][maxGradDim]interval.I, k))
			e.dvals[gi] = append(e.dvals[gi], make([]float64, k))
		}
	}
	return e
}

// setBox evaluates on box x by natural interval propagation.
func (e *evaluator) setBox(x []interval.I) { e.x, e.mode = x, natural; e.now++ }

// setBoxAffine evaluates on box x (at most maxGradDim sides) with
// first-order forms about the centre c; dx encloses x - c.
func (e *evaluator) setBoxAffine(x []interval.I, c []float64, dx []interval.I) {
	e.x, e.mode = x, affine
	copy(e.c[:], c)
	copy(e.dx[:], dx)
	e.now++
}

func (e *evaluator) setPoint(p []float64) { e.p = p; e.now++ }

// ival returns the enclosure of channel r's float value on the current
// box.
func (e *evaluator) ival(r chanRef) interval.I {
	if r.g < 0 {
		return e.x[r.ch]
	}
	e.gradeI(int(r.g))
	return e.ivals[r.g][r.t][r.ch]
}

// unitForm is what affine mode knows of a channel: the exact value's
// enclosure, its first-order form and the bound of |float - exact|.
type unitForm struct {
	v   interval.I
	K   interval.I
	G   *[maxGradDim]interval.I
	dev float64
}

var unitG [maxGradDim][maxGradDim]interval.I

func init() {
	for i := range unitG {
		unitG[i][i] = interval.Point(1)
	}
}

// form returns channel r's unitForm (affine mode).
func (e *evaluator) form(r chanRef) unitForm {
	if r.g < 0 {
		return unitForm{v: e.x[r.ch], K: interval.Point(e.c[r.ch]), G: &unitG[r.ch]}
	}
	e.gradeI(int(r.g))
	return unitForm{e.evals[r.g][r.t][r.ch], e.formK[r.g][r.t][r.ch], &e.formG[r.g][r.t][r.ch], e.dvals[r.g][r.t][r.ch]}
}

func (e *evaluator) fval(r chanRef) float64 {
	if r.g < 0 {
		return e.p[r.ch]
	}
	e.gradeF(int(r.g))
	return e.fvals[r.g][r.t][r.ch]
}

// gradeI evaluates grade gi on the box (once per box) and returns the
// enclosure of its output as the model computes it.
func (e *evaluator) gradeI(gi int) interval.I {
	g := &e.net.grades[gi]
	last := len(g.layers) - 1
	if e.stamp[gi] != e.now {
		e.stamp[gi] = e.now
		if e.mode == natural {
			e.gradeNatural(gi)
		} else {
			e.gradeAffine(gi)
		}
	}
	return e.ivals[gi][last][0]
}

// gradeNatural: midpoint-radius propagation, c = b + Σ w·mid, r = Σ
// |w|·rad, widened by a bound of the rounding of c, r and of the network's
// own sum in any order: gamma(n)·(|b| + Σ|w|·mag).
func (e *evaluator) gradeNatural(gi int) {
	g := &e.net.grades[gi]
	out := e.ivals[gi]
	for li := range g.layers {
		ly := &g.layers[li]
		for o := range ly.units {
			if s := ly.src[o]; s.g != -2 {
				out[li][o] = e.ival(s)
				continue
			}
			u := &ly.units[o]
			cs, rs, mag := u.b, 0.0, math.Abs(u.b)
			for _, t := range u.terms {
				var v interval.I
				if li == 0 {
					v = e.ival(g.in[t.in])
				} else {
					v = out[li-1][t.in]
				}
				if !v.Valid() || math.IsInf(v.Lo, 0) || math.IsInf(v.Hi, 0) {
					cs = math.NaN()
					break
				}
				mid := v.Lo/2 + v.Hi/2
				rad := max(v.Hi-mid, mid-v.Lo)
				cs += t.w * mid
				rs += math.Abs(t.w) * rad
				mag += math.Abs(t.w) * v.Mag()
			}
			var z interval.I
			if math.IsNaN(cs) {
				z = interval.Entire
			} else {
				// A sum of exact zeros and an exact bias is exact (the
				// output of a grade that is off on the box is [0, 0]).
				err := 0.0
				if mag+rs != math.Abs(u.b) || rs != 0 {
					err = 2*gamma(len(u.terms))*(mag+rs) + 0x1p-1070
				}
				z = interval.I{Lo: cs - rs, Hi: cs + rs}.Widen(err)
			}
			e.zvals[gi][li][o] = z
			out[li][o] = activate(ly.act, z)
		}
	}
}

// gradeAffine encloses the exact network on the box by first-order forms:
// every unit's exact value lies in K + Σ_i G_i·(x_i - c_i) for x in the box
// (K and G intervals, combined through the layers with outward rounding).
// A pre-activation's range is that form's range intersected with interval
// propagation. A ReLU whose input keeps a sign on the box (boundary
// included) passes the form or zero; one whose input z ∈ [l, u] changes
// sign is relaxed: ReLU(z) ∈ λz + [0, δ] with λ = u/(u - l) and δ =
// max(-λl, (1-λ)u), which keeps the linear part (so kinks of different
// grades along the same line cancel in the sum). Sin and tanh use the
// mean-value form about K's midpoint. Inside one linear region of a ReLU
// network the form is exact up to rounding.
//
// The float results are enclosed from the exact ones and a bound of their
// distance, dev = Σ|w|·dev_in + gamma(n)·(|b| + Σ|w|·max|float in|), plus
// a few ulps for sin and tanh.
func (e *evaluator) gradeAffine(gi int) {
	g := &e.net.grades[gi]
	d := len(e.x)
	for li := range g.layers {
		ly := &g.layers[li]
		for o := range ly.units {
			if s := ly.src[o]; s.g != -2 {
				f := e.form(s)
				e.evals[gi][li][o], e.formK[gi][li][o], e.formG[gi][li][o], e.dvals[gi][li][o] = f.v, f.K, *f.G, f.dev
				e.ivals[gi][li][o] = e.ival(s)
				continue
			}
			u := &ly.units[o]
			input := func(t term) unitForm {
				if li == 0 {
					return e.form(g.in[t.in])
				}
				return unitForm{e.evals[gi][li-1][t.in], e.formK[gi][li-1][t.in], &e.formG[gi][li-1][t.in], e.dvals[gi][li-1][t.in]}
			}
			z := interval.Point(u.b)
			K := z
			var G [maxGradDim]interval.I
			dev, mag := 0.0, math.Abs(u.b)
			if len(u.terms) <= exactTerms {
				// Directed rounding per operation: exact where the floats
				// are, so a box edge on a kink stays on it.
				for _, t := range u.terms {
					f := input(t)
					z = interval.Add(z, interval.Scale(t.w, f.v))
					K = interval.Add(K, interval.Scale(t.w, f.K))
					for i := range d {
						if f.G[i].Lo != 0 || f.G[i].Hi != 0 {
							G[i] = interval.Add(G[i], interval.Scale(t.w, f.G[i]))
						}
					}
					aw := math.Abs(t.w)
					dev += aw * f.dev
					mag += aw * (f.v.Mag() + f.dev)
				}
			} else {
				// Wide layers (trained networks): midpoint-radius sums with
				// one bound of their rounding each.
				var zs, ks mrSum
				var gs [maxGradDim]mrSum
				zs.start(u.b)
				ks.start(u.b)
				for _, t := range u.terms {
					f := input(t)
					zs.add(t.w, f.v)
					ks.add(t.w, f.K)
					for i := range d {
						if f.G[i].Lo != 0 || f.G[i].Hi != 0 {
							gs[i].add(t.w, f.G[i])
						}
					}
					aw := math.Abs(t.w)
					dev += aw * f.dev
					mag += aw * (f.v.Mag() + f.dev)
				}
				n := len(u.terms)
				z, K = zs.result(n), ks.result(n)
				for i := range d {
					G[i] = gs[i].result(n)
				}
			}
			if len(u.terms) > 0 || u.b != 0 {
				dev = (dev + gamma(len(u.terms))*mag) * (1 + 1e-10)
			}
			bad := !z.Valid() || math.IsNaN(dev) || math.IsInf(z.Lo, 0) || math.IsInf(z.Hi, 0)
			if bad {
				dev = math.Inf(1)
			} else {
				zf := K
				for i := range d {
					zf = interval.Add(zf, interval.Mul(G[i], e.dx[i]))
				}
				if zf.Valid() {
					if lo, hi := max(z.Lo, zf.Lo), min(z.Hi, zf.Hi); lo <= hi {
						z = interval.I{Lo: lo, Hi: hi}
					}
				}
			}
			zfl := z.Widen(dev) // the float pre-activation
			var v interval.I
			switch ly.act {
			case nn.ReLU:
				v = interval.ReLU(z)
				switch {
				case z.Lo >= 0: // ReLU(z) = z on the box
				case z.Hi <= 0:
					K, G = interval.I{}, [maxGradDim]interval.I{}
				default:
					lam := z.Hi / (z.Hi - z.Lo)
					if !(lam >= 0 && lam <= 1) {
						lam = 1
					}
					// ReLU(z) - λz is 0 at 0, -λl at l and u - λu at u.
					delta := max(interval.Scale(-lam, interval.Point(z.Lo)).Hi,
						interval.Sub(interval.Point(z.Hi), interval.Scale(lam, interval.Point(z.Hi))).Hi, 0)
					K = interval.Add(interval.Scale(lam, K), interval.I{Lo: 0, Hi: delta})
					for i := range d {
						G[i] = interval.Scale(lam, G[i])
					}
				}
				if zfl.Hi <= 0 { // the float result is 0 as well
					dev = 0
				}
			case nn.Sin, nn.Tanh:
				v = activate(ly.act, z)
				m := K.Lo/2 + K.Hi/2
				Z := interval.Hull(z, interval.Point(m))
				var D interval.I
				if ly.act == nn.Sin {
					D = interval.Cos(Z)
				} else {
					D = interval.Sub(interval.Point(1), interval.Sqr(interval.Tanh(Z)))
				}
				K = interval.Add(activate(ly.act, interval.Point(m)), interval.Mul(D, interval.Sub(K, interval.Point(m))))
				for i := range d {
					G[i] = interval.Mul(D, G[i])
				}
				dev += 0x1p-50
			default:
				v = z
			}
			if bad || !K.Valid() || math.IsInf(K.Lo, 0) || math.IsInf(K.Hi, 0) {
				K, G = v, [maxGradDim]interval.I{}
			}
			e.evals[gi][li][o], e.formK[gi][li][o], e.formG[gi][li][o], e.dvals[gi][li][o] = v, K, G, dev
			e.zvals[gi][li][o] = zfl
			if ly.act == nn.ReLU || ly.act == nn.Identity {
				e.ivals[gi][li][o] = activate(ly.act, zfl)
			} else {
				e.ivals[gi][li][o] = v.Widen(dev)
			}
		}
	}
}

// exactTerms is the largest fan-in for which gradeAffine rounds every
// operation directedly; wider units use midpoint-radius sums.
var exactTerms = 8

// mrSum is a midpoint-radius sum b + Σ w·v of intervals v: centre c = b +
// Σ w·mid(v), radius r = Σ |w|·rad(v), and m = |b| + Σ |w|·mag(v), from
// which result bounds the rounding of c and r (as gradeNatural does).
type mrSum struct {
	c, r, m float64
	bad     bool
}

func (s *mrSum) start(b float64) { s.c, s.m = b, math.Abs(b) }

func (s *mrSum) add(w float64, v interval.I) {
	if !v.Valid() || math.IsInf(v.Lo, 0) || math.IsInf(v.Hi, 0) {
		s.bad = true
		return
	}
	mid := v.Lo/2 + v.Hi/2
	rad := max(v.Hi-mid, mid-v.Lo)
	aw := math.Abs(w)
	s.c += w * mid
	s.r += aw * rad
	s.m += aw * v.Mag()
}

// result returns the enclosure of the sum of n terms.
func (s *mrSum) result(n int) interval.I {
	if s.bad || math.IsNaN(s.c) || math.IsInf(s.m, 0) {
		return interval.Entire
	}
	if s.m == 0 && s.r == 0 {
		return interval.Point(s.c) // only zeros (and no bias)
	}
	err := 2*gamma(n)*(s.m+s.r) + 0x1p-1070
	return interval.I{Lo: s.c - s.r, Hi: s.c + s.r}.Widen(err)
}

// gradeForm returns, in affine mode, grade gi's output form on the box and
// the bound of |float result - exact result|.
func (e *evaluator) gradeForm(gi int) (interval.I, *[maxGradDim]interval.I, float64) {
	e.gradeI(gi)
	last := len(e.net.grades[gi].layers) - 1
	return e.formK[gi][last][0], &e.formG[gi][last][0], e.dvals[gi][last][0]
}

func activate(a nn.Activation, z interval.I) interval.I {
	switch a {
	case nn.ReLU:
		return interval.ReLU(z)
	case nn.Sin:
		return interval.Sin(z)
	case nn.Tanh:
		return interval.Tanh(z)
	}
	return z
}

// gradeF evaluates grade gi at the point and returns its output.
func (e *evaluator) gradeF(gi int) float64 {
	g := &e.net.grades[gi]
	out := e.fvals[gi]
	if e.stamp[gi] != e.now {
		e.stamp[gi] = e.now
		for li := range g.layers {
			ly := &g.layers[li]
			for o := range ly.units {
				if s := ly.src[o]; s.g != -2 {
					out[li][o] = e.fval(s)
					continue
				}
				u := &ly.units[o]
				z := u.b
				for _, t := range u.terms {
					if li == 0 {
						z += t.w * e.fval(g.in[t.in])
					} else {
						z += t.w * out[li-1][t.in]
					}
				}
				out[li][o] = ly.act.Scalar(z)
			}
		}
	}
	return out[len(g.layers)-1][0]
}
