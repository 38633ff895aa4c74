package verify

import (
	"container/heap"
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/mgdl/mgdl/interval"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
)

// Function is a target known on the whole box: its value at a point and a
// rigorous enclosure of its range over a sub-box (formula.Formula is one).
type Function interface {
	Eval(x []float64) float64
	Range(b []interval.I) interval.I
}

// CertifyOptions configure Certify.
type CertifyOptions struct {
	// Lo and Hi are the box, in the model's input coordinates.
	Lo, Hi []float64
	// Tol is the round-off allowance (0: 1e-12 times a bound of max|f|): a
	// grade is proved when |e_l(x)| ≤ |e_{l-1}(x)| + Tol at every x and
	// e_{l-1}, e_l never have opposite signs with |e_l| > Tol (as in Check).
	Tol float64
	// MaxBoxes is the budget of boxes for the pointwise proof (0: 4·10⁶);
	// SupBoxes the budget per level of the sup-norm bounds (0: 2·10⁴).
	MaxBoxes, SupBoxes int
	// Rho: the certified sup bounds are refined until they are within a
	// factor 1+Rho of the largest value seen at a point (0: 1/16).
	Rho float64
	// LevelEnds are the level boundaries (as in Options); nil makes every
	// grade a level.
	LevelEnds []int
}

// Status of one grade.
const (
	Certified = "certified"
	Refuted   = "refuted"
	Undecided = "undecided"
)

// GradeCert is the outcome for one grade l.
type GradeCert struct {
	Grade int `json:"grade"`
	// Status is Certified (proved at every point of the box), Refuted
	// (Counterexample is a point where |e_l| > |e_{l-1}| + Tol or the sign
	// flips) or Undecided within the budget.
	Status string `json:"status"`
	// Counterexample, with the residuals before and after the grade there
	// as the model's own evaluation (model.StagedPredict) gives them.
	Counterexample []float64 `json:"counterexample,omitempty"`
	EBefore        float64   `json:"e_before,omitempty"`
	EAfter         float64   `json:"e_after,omitempty"`
	// MaxAbsG is the largest |g_l| seen at a point; Nontrivial is MaxAbsG >
	// Tol.
	MaxAbsG    float64 `json:"max_abs_g"`
	Nontrivial bool    `json:"nontrivial"`
	// L1Decrease is a certified lower bound of the mean over the box of
	// |e_{l-1}| - |e_l| (that is, of ‖e_{l-1}‖₁ - ‖e_l‖₁ divided by the
	// box's volume); set only for certified grades. Positive means a
	// certified strict L1 decrease, hence strict decrease in every L^p,
	// p < ∞ (the grade is balanced everywhere).
	L1Decrease float64 `json:"l1_decrease_lower"`
	StrictL1   bool    `json:"strict_l1"`
}

// LevelCert bounds the sup norm after a level.
type LevelCert struct {
	Level    int `json:"level"`
	GradeEnd int `json:"grade_end"`
	// SupUpper is a certified upper bound of max|e| over the box after the
	// level; SupLower the largest |e| at a point seen (a lower bound).
	SupUpper float64 `json:"sup_upper"`
	SupLower float64 `json:"sup_lower"`
	// RatioUpper is SupUpper over the previous level's SupLower: a
	// certified upper bound of the level's sup ratio.
	RatioUpper Ratio `json:"ratio_upper"`
	Boxes      int   `json:"boxes"`
}

// CertReport is the outcome of Certify.
type CertReport struct {
	Tol         float64     `json:"tol"`
	Grades      []GradeCert `json:"grades"`
	Sup0Upper   float64     `json:"sup0_upper"`
	Sup0Lower   float64     `json:"sup0_lower"`
	Levels      []LevelCert `json:"levels"`
	Boxes       int         `json:"boxes"`
	Seconds     float64     `json:"seconds"`
	Proved      int         `json:"certified_grades"`
	Refuted     int         `json:"refuted_grades"`
	Undecided   int         `json:"undecided_grades"`
	NotStrictL1 int         `json:"nontrivial_certified_grades_not_strict_l1"`
	// MaxRatioUpper is the largest RatioUpper.
	MaxRatioUpper float64 `json:"max_ratio_upper"`
	// Stopped is "done", "budget" or "cancelled".
	Stopped string `json:"stopped"`
}

// Certify proves or refutes, grade by grade and on the whole box, that the
// model's residuals e_l = f - (g_1 + ... + g_l) are pointwise nonincreasing
// in magnitude without sign changes, by branch and bound over sub-boxes: on
// each box, interval enclosures of f (Function.Range) and of every grade
// (interval propagation through the layers, with outward rounding and an a
// priori bound of the float rounding of any summation order, so that the
// enclosure also holds for the model as it is evaluated) either prove the
// property on the box, or the box's centre refutes it, or the box is split.
// It also gives certified upper bounds of the sup norm after every level
// and certified lower bounds of each grade's L1 decrease.
//
// It works for any model of ReLU, tanh, sin or identity grades with one
// output. Grades whose inputs are only weight-1 ReLU copies of earlier
// channels (the constructed scheme's x channels) are evaluated from those
// channels directly, so a box costs only the grades that are not zero on
// it. The context bounds the time: on cancellation the grades still open
// are undecided.
func Certify(ctx context.Context, m *model.Model[float64], f Function, opt CertifyOptions) (*CertReport, error) {
	t0 := time.Now()
	if len(m.Grades) == 0 {
		return nil, fmt.Errorf("verify: the model has no grades")
	}
	if m.OutDim() != 1 {
		return nil, fmt.Errorf("verify: certification needs a model with one output, this one has %d", m.OutDim())
	}
	d := m.InDim()
	if len(opt.Lo) != d || len(opt.Hi) != d {
		return nil, fmt.Errorf("verify: the box has %d sides, the model reads %d inputs", len(opt.Lo), d)
	}
	for i := range d {
		if !(opt.Lo[i] < opt.Hi[i]) || math.IsInf(opt.Lo[i], 0) || math.IsInf(opt.Hi[i], 0) {
			return nil, fmt.Errorf("verify: box side %d is [%v, %v]; need finite lo < hi", i+1, opt.Lo[i], opt.Hi[i])
		}
	}
	for _, g := range m.Grades {
		if g.Softmax {
			return nil, fmt.Errorf("verify: certification of softmax outputs is not supported")
		}
	}
	L := len(m.Grades)
	if err := checkLevelEnds(opt.LevelEnds, L); err != nil {
		return nil, err
	}
	if opt.MaxBoxes == 0 {
		opt.MaxBoxes = 4_000_000
	}
	if opt.SupBoxes == 0 {
		opt.SupBoxes = 20_000
	}
	if opt.Rho == 0 {
		opt.Rho = 1.0 / 16
	}
	net := compileNet(m)
	root := make([]interval.I, d)
	for i := range d {
		root[i] = interval.I{Lo: opt.Lo[i], Hi: opt.Hi[i]}
	}
	fr := f.Range(root)
	if !fr.Valid() {
		return nil, fmt.Errorf("verify: the target is undefined on the whole box")
	}
	tol := opt.Tol
	if tol == 0 {
		mag := fr.Mag()
		if math.IsInf(mag, 0) {
			mid := make([]float64, d)
			for i := range d {
				mid[i] = (opt.Lo[i] + opt.Hi[i]) / 2
			}
			mag = math.Abs(f.Eval(mid))
		}
		tol = 1e-12 * max(mag, math.SmallestNonzeroFloat64)
	}
	c := &certRun{ctx: ctx, m: m, net: net, f: f, d: d, tol: tol, opt: opt, vol: 1}
	for i := range d {
		c.vol *= opt.Hi[i] - opt.Lo[i]
	}
	rep := &CertReport{Tol: tol, Stopped: "done"}
	rep.Grades = make([]GradeCert, L)
	for l := range rep.Grades {
		rep.Grades[l] = GradeCert{Grade: l + 1, Status: Certified}
	}
	c.rep = rep
	c.pointwise(root)

	ends := levelEnds(opt.LevelEnds, L)
	rep.Sup0Upper, rep.Sup0Lower, _ = c.sup(root, 0)
	prevLower := rep.Sup0Lower
	for i, end := range ends {
		up, lo, n := c.sup(root, end)
		ratio := math.NaN()
		if prevLower > 0 {
			ratio = up / prevLower
			rep.MaxRatioUpper = max(rep.MaxRatioUpper, ratio)
		}
		rep.Levels = append(rep.Levels, LevelCert{Level: i + 1, GradeEnd: end, SupUpper: up, SupLower: lo, RatioUpper: Ratio(ratio), Boxes: n})
		prevLower = lo
	}
	for l := range rep.Grades {
		g := &rep.Grades[l]
		g.Nontrivial = g.MaxAbsG > tol
		switch g.Status {
		case Certified:
			rep.Proved++
			g.L1Decrease = c.l1[l] / c.vol
			g.StrictL1 = g.L1Decrease > 0
			if g.Nontrivial && !g.StrictL1 {
				rep.NotStrictL1++
			}
		case Refuted:
			rep.Refuted++
		default:
			rep.Undecided++
		}
	}
	if ctx.Err() != nil {
		rep.Stopped = "cancelled"
	}
	rep.Seconds = time.Since(t0).Seconds()
	return rep, nil
}

// ProvedAll reports whether every grade was certified.
func (r *CertReport) ProvedAll() bool { return r.Proved == len(r.Grades) }

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

type evaluator struct {
	net   *cnet
	x     []interval.I // the box
	p     []float64    // the point
	stamp []int
	now   int
	ivals [][][]interval.I // [grade][layer][unit]
	zvals [][][]interval.I // pre-activations
	fvals [][][]float64
	point bool
	// Gradients (with respect to the model input) and bounds of |float
	// result - exact result| per unit, for the mean-value form; filled by
	// gradeD for boxes of at most maxGradDim dimensions.
	stampD []int
	gvals  [][][][maxGradDim]interval.I
	dvals  [][][]float64
}

// maxGradDim is the largest input dimension the mean-value form is used
// for.
const maxGradDim = 4

func newEvaluator(net *cnet) *evaluator {
	n := len(net.grades)
	e := &evaluator{net: net, stamp: make([]int, n), stampD: make([]int, n)}
	e.ivals = make([][][]interval.I, n)
	e.zvals = make([][][]interval.I, n)
	e.fvals = make([][][]float64, n)
	e.gvals = make([][][][maxGradDim]interval.I, n)
	e.dvals = make([][][]float64, n)
	for gi, g := range net.grades {
		for _, ly := range g.layers {
			k := len(ly.units)
			e.ivals[gi] = append(e.ivals[gi], make([]interval.I, k))
			e.zvals[gi] = append(e.zvals[gi], make([]interval.I, k))
			e.fvals[gi] = append(e.fvals[gi], make([]float64, k))
			e.gvals[gi] = append(e.gvals[gi], make([][maxGradDim]interval.I, k))
			e.dvals[gi] = append(e.dvals[gi], make([]float64, k))
		}
	}
	return e
}

func (e *evaluator) setBox(x []interval.I) { e.x, e.point = x, false; e.now++ }

func (e *evaluator) setPoint(p []float64) { e.p, e.point = p, true; e.now++ }

// ival returns the enclosure of channel r on the current box.
func (e *evaluator) ival(r chanRef) interval.I {
	if r.g < 0 {
		return e.x[r.ch]
	}
	e.gradeI(int(r.g))
	return e.ivals[r.g][r.t][r.ch]
}

func (e *evaluator) fval(r chanRef) float64 {
	if r.g < 0 {
		return e.p[r.ch]
	}
	e.gradeF(int(r.g))
	return e.fvals[r.g][r.t][r.ch]
}

// gradeI evaluates grade gi on the box (once per box) and returns its
// output's enclosure.
func (e *evaluator) gradeI(gi int) interval.I {
	g := &e.net.grades[gi]
	out := e.ivals[gi]
	if e.stamp[gi] != e.now {
		e.stamp[gi] = e.now
		for li := range g.layers {
			ly := &g.layers[li]
			for o := range ly.units {
				if s := ly.src[o]; s.g != -2 {
					out[li][o] = e.ival(s)
					continue
				}
				u := &ly.units[o]
				// Midpoint-radius: c = b + Σ w·mid, r = Σ |w|·rad, plus a
				// bound of the rounding of c, r and of the network's own
				// sum: gamma(n)·(|b| + Σ|w|·mag).
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
	return out[len(g.layers)-1][0]
}

// gval returns the gradient enclosure and the rounding bound of channel r
// on the current box.
func (e *evaluator) gval(r chanRef) (*[maxGradDim]interval.I, float64) {
	if r.g < 0 {
		var g [maxGradDim]interval.I
		g[r.ch] = interval.Point(1)
		return &g, 0
	}
	e.gradeD(int(r.g))
	return &e.gvals[r.g][r.t][r.ch], e.dvals[r.g][r.t][r.ch]
}

// gradeD computes, on the current box, grade gi's gradient enclosures
// (interval forward-mode differentiation of the exact network, with the
// generalised derivative [0, 1] of a ReLU whose input may change sign) and
// bounds of how far each unit's float result may be from the exact one:
// dev_o = Σ|w|·dev_in + gamma(n)·(|b| + Σ|w|·max|in|), plus a few ulps for
// sin and tanh. It returns the output's gradient and bound.
func (e *evaluator) gradeD(gi int) (*[maxGradDim]interval.I, float64) {
	g := &e.net.grades[gi]
	last := len(g.layers) - 1
	if e.stampD[gi] == e.now {
		return &e.gvals[gi][last][0], e.dvals[gi][last][0]
	}
	e.gradeI(gi)
	e.stampD[gi] = e.now
	d := len(e.x)
	for li := range g.layers {
		ly := &g.layers[li]
		for o := range ly.units {
			if s := ly.src[o]; s.g != -2 {
				gs, dv := e.gval(s)
				e.gvals[gi][li][o], e.dvals[gi][li][o] = *gs, dv
				continue
			}
			u := &ly.units[o]
			var gz [maxGradDim]interval.I
			dev, mag := 0.0, math.Abs(u.b)
			for _, t := range u.terms {
				var gin *[maxGradDim]interval.I
				var din float64
				var v interval.I
				if li == 0 {
					gin, din = e.gval(g.in[t.in])
					v = e.ival(g.in[t.in])
				} else {
					gin, din = &e.gvals[gi][li-1][t.in], e.dvals[gi][li-1][t.in]
					v = e.ivals[gi][li-1][t.in]
				}
				w := interval.Point(t.w)
				for i := range d {
					if gin[i].Lo != 0 || gin[i].Hi != 0 {
						gz[i] = interval.Add(gz[i], interval.Mul(w, gin[i]))
					}
				}
				dev += math.Abs(t.w) * din
				mag += math.Abs(t.w) * v.Mag()
			}
			dev = (dev + gamma(len(u.terms))*mag) * (1 + 1e-10)
			z := e.zvals[gi][li][o]
			var dz interval.I
			switch ly.act {
			case nn.ReLU:
				switch {
				case z.Lo > 0:
					dz = interval.Point(1)
				case z.Hi < 0:
					dz = interval.Point(0)
				default:
					dz = interval.I{Lo: 0, Hi: 1}
				}
			case nn.Sin:
				dz = interval.Cos(z)
				dev += 0x1p-50
			case nn.Tanh:
				dz = interval.Sub(interval.Point(1), interval.Sqr(interval.Tanh(z)))
				dev += 0x1p-50
			default:
				dz = interval.Point(1)
			}
			out := &e.gvals[gi][li][o]
			for i := range d {
				out[i] = interval.Mul(dz, gz[i])
			}
			if math.IsNaN(dev) || math.IsInf(z.Lo, 0) || math.IsInf(z.Hi, 0) {
				dev = math.Inf(1)
			}
			e.dvals[gi][li][o] = dev
		}
	}
	return &e.gvals[gi][last][0], e.dvals[gi][last][0]
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

// ---- the pointwise proof ----

type certRun struct {
	ctx  context.Context
	m    *model.Model[float64]
	net  *cnet
	f    Function
	d    int
	tol  float64
	opt  CertifyOptions
	rep  *CertReport
	vol  float64
	l1   []float64
	seen []bool // grades with a counterexample
	// openAt[l] == stamp marks the grades open on the box pointCheck is
	// looking at.
	openAt []int
	stamp  int
}

// maxStored bounds the grade records (about 100 bytes each) that the boxes
// waiting in the queue of the pointwise proof may hold before it goes depth
// first: about 1 GB.
const maxStored = 10_000_000

type gEnc struct {
	g    int32
	enc  interval.I
	grad [maxGradDim]interval.I // gradient enclosure (mean-value form)
	dev  float64                // bound of |float - exact|
}

// gradFunction is a Function that also encloses its gradient
// (formula.Formula does): the residuals are then enclosed by the
// mean-value form too, which does not lose the cancellation of f against
// the model that the separate enclosures of f and of the grades lose.
type gradFunction interface {
	RangeGrad(b []interval.I) (interval.I, []interval.I)
}

// resAcc accumulates the grades of a box in order: the natural enclosure
// of their sum over the box, and for the mean-value form the enclosure of
// the sum at the box's centre, the sum of their gradient enclosures and of
// their rounding bounds.
type resAcc struct {
	S, SP interval.I
	SG    [maxGradDim]interval.I
	SD    float64
}

func (a *resAcc) add(G, P interval.I, grad *[maxGradDim]interval.I, dev float64) {
	a.S = interval.Add(a.S, G)
	if grad == nil {
		return
	}
	a.SP = interval.Add(a.SP, P)
	for i := range a.SG {
		a.SG[i] = interval.Add(a.SG[i], grad[i])
	}
	a.SD += dev
}

// mvBox holds, for one box, what the mean-value form needs of f: its value
// enclosure at the centre, its gradient enclosure over the box and the
// offsets box - centre.
type mvBox struct {
	on   bool
	fpt  interval.I
	fg   []interval.I
	dx   []interval.I
	cbox []interval.I // the centre as a point box
}

// residual encloses f - (the grades accumulated in a) over the box: the
// natural enclosure fB - S, intersected with the mean-value form
// f(c) - S(c) + Σ_i (∂f - ∂S)_i·(B_i - c_i) ± (rounding of the model).
func (m *mvBox) residual(fB interval.I, a *resAcc) interval.I {
	nat := interval.Sub(fB, a.S)
	if !m.on {
		return nat
	}
	mv := interval.Sub(m.fpt, a.SP)
	for i := range m.dx {
		mv = interval.Add(mv, interval.Mul(interval.Sub(m.fg[i], a.SG[i]), m.dx[i]))
	}
	mv = mv.Widen(a.SD * (1 + 1e-10))
	if !mv.Valid() || !nat.Valid() {
		return nat
	}
	lo, hi := max(nat.Lo, mv.Lo), min(nat.Hi, mv.Hi)
	if lo > hi { // cannot happen for valid enclosures; keep the natural one
		return nat
	}
	return interval.I{Lo: lo, Hi: hi}
}

// newMV prepares the mean-value form on box x (off when f has no gradient
// or the dimension is too large).
func (c *certRun) newMV(x []interval.I) *mvBox {
	gf, ok := c.f.(gradFunction)
	m := &mvBox{}
	if !ok || c.d > maxGradDim {
		return m
	}
	m.on = true
	_, m.fg = gf.RangeGrad(x)
	m.cbox = make([]interval.I, c.d)
	m.dx = make([]interval.I, c.d)
	for i := range x {
		ci := x[i].Lo/2 + x[i].Hi/2
		m.cbox[i] = interval.Point(ci)
		m.dx[i] = interval.Sub(x[i], interval.Point(ci))
	}
	m.fpt = c.f.Range(m.cbox)
	return m
}

type cbox struct {
	x       []interval.I
	open    []int32 // grades not yet proved on the box, increasing
	contrib []gEnc  // enclosures of the proved grades that are not zero on the box
}

func (c *certRun) pointwise(root []interval.I) {
	L := len(c.net.grades)
	c.l1 = make([]float64, L)
	c.seen = make([]bool, L)
	c.openAt = make([]int, L)
	all := make([]int32, L)
	for l := range all {
		all[l] = int32(l)
	}
	ev := newEvaluator(c.net)
	lev := newEvaluator(c.net)
	pev := newEvaluator(c.net) // the box's centre, for the mean-value form
	queue := []cbox{{x: root, open: all}}
	stored := len(all) // grade records held by the boxes in the queue
	boxes := 0
	minWidth := make([]float64, c.d)
	for i := range c.d {
		minWidth[i] = (root[i].Hi - root[i].Lo) * 0x1p-50
	}
	center := make([]float64, c.d)
	for len(queue) > 0 {
		if boxes >= c.opt.MaxBoxes || c.ctx.Err() != nil {
			for _, b := range queue {
				for _, l := range b.open {
					c.undecided(int(l))
				}
			}
			if c.ctx.Err() == nil {
				c.rep.Stopped = "budget"
			}
			break
		}
		// Breadth first (coarse boxes everywhere before fine ones, which
		// finds counterexamples early), unless the boxes waiting hold too
		// many grade records: then depth first, which keeps the queue at
		// about depth × list length.
		var b cbox
		if stored > maxStored {
			b = queue[len(queue)-1]
			queue = queue[:len(queue)-1]
		} else {
			b = queue[0]
			queue = queue[1:]
		}
		stored -= len(b.open) + len(b.contrib)
		boxes++
		// Drop grades already refuted.
		open := b.open[:0:0]
		for _, l := range b.open {
			if !c.seen[l] {
				open = append(open, l)
			}
		}
		if len(open) == 0 {
			continue
		}
		ev.setBox(b.x)
		fB := c.f.Range(b.x)
		mv := c.newMV(b.x)
		if mv.on {
			pev.setBox(mv.cbox)
		}
		gs := make([]gEnc, len(open))
		for i, l := range open {
			gs[i] = gEnc{g: l, enc: ev.gradeI(int(l))}
			if mv.on {
				grad, dev := ev.gradeD(int(l))
				gs[i].grad, gs[i].dev = *grad, dev
			}
		}
		acc := resAcc{}
		add := func(g *gEnc) {
			if !mv.on {
				acc.add(g.enc, interval.I{}, nil, 0)
				return
			}
			acc.add(g.enc, pev.gradeI(int(g.g)), &g.grad, g.dev)
		}
		// Running sum over the proved contributions and the open grades,
		// in grade order.
		var closed []gEnc
		var still []int32
		ci := 0
		vol := 1.0
		for i := range c.d {
			vol *= b.x[i].Hi - b.x[i].Lo
		}
		for i, l := range open {
			for ci < len(b.contrib) && b.contrib[ci].g < l {
				add(&b.contrib[ci])
				closed = append(closed, b.contrib[ci]) // still proved, still not zero
				ci++
			}
			G := gs[i].enc
			add(&gs[i])
			if mv.on {
				gc := &c.rep.Grades[l]
				gc.MaxAbsG = max(gc.MaxAbsG, pev.gradeI(int(l)).Mig())
			}
			E1 := mv.residual(fB, &acc)
			tau := c.tol / 2
			proved, l1 := false, 0.0
			switch {
			case G.Valid() && G.Mag() <= tau:
				proved, l1 = true, -G.Mag()*vol
			case G.Lo >= -tau && E1.Lo >= -tau:
				proved = true
				if G.Lo > 2*c.tol {
					l1 = (G.Lo - 2*c.tol) * vol
				} else {
					l1 = c.lowerIntegral(lev, int(l), b.x, 1, 3*c.d) - 2*c.tol*vol
				}
			case G.Hi <= tau && E1.Hi <= tau:
				proved = true
				if -G.Hi > 2*c.tol {
					l1 = (-G.Hi - 2*c.tol) * vol
				} else {
					l1 = c.lowerIntegral(lev, int(l), b.x, -1, 3*c.d) - 2*c.tol*vol
				}
			}
			if proved {
				c.l1[l] += l1
				if G.Lo != 0 || G.Hi != 0 {
					closed = append(closed, gs[i])
				}
			} else {
				still = append(still, l)
			}
		}
		for ; ci < len(b.contrib); ci++ {
			closed = append(closed, b.contrib[ci])
		}
		// Point checks at the centre for every grade that is not zero
		// here (grades whose enclosure is [0,0] are 0 at the centre).
		for i := range c.d {
			center[i] = b.x[i].Lo/2 + b.x[i].Hi/2
		}
		if len(still) == 0 {
			continue
		}
		c.pointCheck(ev, center, b.contrib, open, still)
		small := true
		for i := range c.d {
			if b.x[i].Hi-b.x[i].Lo > minWidth[i] {
				small = false
			}
		}
		if small {
			for _, l := range still {
				c.undecided(int(l))
			}
			continue
		}
		// Split along the widest side (relative to the root).
		k, w := 0, -1.0
		for i := range c.d {
			if r := (b.x[i].Hi - b.x[i].Lo) / (root[i].Hi - root[i].Lo); r > w {
				k, w = i, r
			}
		}
		// closed is in grade order: the proved grades of the parent and of
		// this box were appended as the loop met them.
		mid := b.x[k].Lo/2 + b.x[k].Hi/2
		for side := range 2 {
			x := slices.Clone(b.x)
			if side == 0 {
				x[k].Hi = mid
			} else {
				x[k].Lo = mid
			}
			queue = append(queue, cbox{x: x, open: still, contrib: closed})
			stored += len(still) + len(closed)
		}
	}
	c.rep.Boxes = boxes
}

func (c *certRun) undecided(l int) {
	if g := &c.rep.Grades[l]; g.Status == Certified {
		g.Status = Undecided
	}
}

// pointCheck evaluates the residuals at p for the grades that may be
// nonzero there (those of contrib and open) and records a counterexample
// for a grade of check (increasing, not empty). A
// candidate is confirmed with the model's own evaluation
// (model.StagedPredict) before it is reported.
func (c *certRun) pointCheck(ev *evaluator, p []float64, contrib []gEnc, open, check []int32) {
	ev.setPoint(p)
	fp := c.f.Eval(p)
	last := check[len(check)-1] // the residuals are needed up to here
	idx := make([]int32, 0, len(contrib)+len(open))
	for _, g := range contrib {
		if g.g < last {
			idx = append(idx, g.g)
		}
	}
	for _, l := range open {
		if l <= last {
			idx = append(idx, l)
		}
	}
	slices.Sort(idx)
	c.stamp++
	for _, l := range check {
		c.openAt[l] = c.stamp
	}
	e := fp
	for _, l := range idx {
		g := ev.gradeF(int(l))
		gc := &c.rep.Grades[l]
		gc.MaxAbsG = max(gc.MaxAbsG, math.Abs(g))
		next := e - g
		if c.openAt[l] == c.stamp && !c.seen[l] && (math.Abs(next)-math.Abs(e) > c.tol || e*next < 0 && math.Abs(next) > c.tol) {
			c.confirm(int(l), p)
		}
		e = next
	}
}

// confirm re-evaluates grade l's residuals at p with model.StagedPredict
// and records the counterexample if it holds there.
func (c *certRun) confirm(l int, p []float64) {
	x := tensor.FromSlice(1, len(p), slices.Clone(p))
	outs := c.m.StagedPredict(x)
	fp := c.f.Eval(p)
	before := fp
	if l > 0 {
		before = fp - outs[l-1].Data[0]
	}
	after := fp - outs[l].Data[0]
	if math.Abs(after)-math.Abs(before) > c.tol || before*after < 0 && math.Abs(after) > c.tol {
		c.seen[l] = true
		g := &c.rep.Grades[l]
		g.Status = Refuted
		g.Counterexample = slices.Clone(p)
		g.EBefore, g.EAfter = before, after
	}
}

// lowerIntegral is a lower bound of ∫ sign·g_l over the box x, by
// bisection where the enclosure's lower bound is not positive.
func (c *certRun) lowerIntegral(ev *evaluator, l int, x []interval.I, sign float64, depth int) float64 {
	ev.setBox(x)
	G := ev.gradeI(l)
	lo := G.Lo
	if sign < 0 {
		lo = -G.Hi
	}
	vol := 1.0
	for i := range x {
		vol *= x[i].Hi - x[i].Lo
	}
	if lo > 0 || depth == 0 || G.Mag() == 0 {
		return min(lo, 0)*vol + max(lo, 0)*vol*(1-1e-12)
	}
	k, w := 0, -1.0
	for i := range x {
		if x[i].Hi-x[i].Lo > w {
			k, w = i, x[i].Hi-x[i].Lo
		}
	}
	mid := x[k].Lo/2 + x[k].Hi/2
	a, b := slices.Clone(x), slices.Clone(x)
	a[k].Hi, b[k].Lo = mid, mid
	return c.lowerIntegral(ev, l, a, sign, depth-1) + c.lowerIntegral(ev, l, b, sign, depth-1)
}

// ---- sup-norm bounds ----

type supBox struct {
	x      []interval.I
	active []int32 // grades ≤ end that are not zero on the parent
	upper  float64
}

type supHeap []supBox

func (h supHeap) Len() int           { return len(h) }
func (h supHeap) Less(i, j int) bool { return h[i].upper > h[j].upper }
func (h supHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *supHeap) Push(x any)        { *h = append(*h, x.(supBox)) }
func (h *supHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// sup bounds max|e_end| over the box (e_0 = f): a certified upper bound
// refined until it is within 1+Rho of the largest value seen, the largest
// value seen, and the boxes used.
func (c *certRun) sup(root []interval.I, end int) (upper, seen float64, boxes int) {
	ev := newEvaluator(c.net)
	active := make([]int32, end)
	for l := range active {
		active[l] = int32(l)
	}
	pev := newEvaluator(c.net)
	eval := func(x []interval.I, act []int32) (float64, []int32, float64) {
		ev.setBox(x)
		mv := c.newMV(x)
		if mv.on {
			pev.setBox(mv.cbox)
		}
		var acc resAcc
		var keep []int32
		for _, l := range act {
			G := ev.gradeI(int(l))
			if G.Lo == 0 && G.Hi == 0 {
				continue
			}
			keep = append(keep, l)
			if mv.on {
				grad, dev := ev.gradeD(int(l))
				acc.add(G, pev.gradeI(int(l)), grad, dev)
			} else {
				acc.add(G, interval.I{}, nil, 0)
			}
		}
		E := mv.residual(c.f.Range(x), &acc)
		up := E.Mag()
		if !E.Valid() {
			up = math.Inf(1)
		}
		p := make([]float64, len(x))
		for i := range x {
			p[i] = x[i].Lo/2 + x[i].Hi/2
		}
		ev.setPoint(p)
		e := c.f.Eval(p)
		for _, l := range keep {
			e -= ev.gradeF(int(l))
		}
		return up, keep, math.Abs(e)
	}
	up, keep, s := eval(root, active)
	seen = s
	h := supHeap{{x: root, active: keep, upper: up}}
	boxes = 1
	for {
		top := h[0]
		if top.upper <= (1+c.opt.Rho)*seen || boxes >= c.opt.SupBoxes || c.ctx.Err() != nil {
			return top.upper, seen, boxes
		}
		heap.Pop(&h)
		k, w := 0, -1.0
		for i := range c.d {
			if r := (top.x[i].Hi - top.x[i].Lo) / (root[i].Hi - root[i].Lo); r > w {
				k, w = i, r
			}
		}
		mid := top.x[k].Lo/2 + top.x[k].Hi/2
		for side := range 2 {
			x := slices.Clone(top.x)
			if side == 0 {
				x[k].Hi = mid
			} else {
				x[k].Lo = mid
			}
			up, keep, s := eval(x, top.active)
			boxes++
			seen = max(seen, s)
			heap.Push(&h, supBox{x: x, active: keep, upper: min(up, top.upper)})
		}
	}
}

// WriteTable writes r as readable text: the summary, the sup bounds per
// level and the grades (refuted and undecided ones always; with more than
// rows grades, only the first and last few of the others).
func (r *CertReport) WriteTable(w io.Writer, rows int) error {
	var b strings.Builder
	fmt.Fprintf(&b, "certified on the whole box: %d of %d grades proved, %d refuted, %d undecided (%d boxes, %.1fs, stopped: %s), tolerance %.1e\n",
		r.Proved, len(r.Grades), r.Refuted, r.Undecided, r.Boxes, r.Seconds, r.Stopped, r.Tol)
	fmt.Fprintf(&b, "  proved grades: |e_l| <= |e_{l-1}| + tol and no sign flip at every point; strict L1 decay certified at all but %d nontrivial proved grades\n", r.NotStrictL1)
	fmt.Fprintf(&b, "\n  %5s %8s %12s %12s %12s\n", "level", "grades", "sup <=", "sup >=", "ratio <=")
	fmt.Fprintf(&b, "  %5d %8d %12.4e %12.4e\n", 0, 0, r.Sup0Upper, r.Sup0Lower)
	for _, lv := range r.Levels {
		fmt.Fprintf(&b, "  %5d %8d %12.4e %12.4e %12.4g\n", lv.Level, lv.GradeEnd, lv.SupUpper, lv.SupLower, float64(lv.RatioUpper))
	}
	fmt.Fprintf(&b, "\n  %6s %10s %12s %14s  %s\n", "grade", "status", "max|g|", "L1 decrease >=", "counterexample: x, e_{l-1}(x), e_l(x)")
	skipped := 0
	for i, g := range r.Grades {
		show := rows <= 0 || len(r.Grades) <= rows || i < rows/2 || i >= len(r.Grades)-rows/2 || g.Status != Certified
		if !show {
			skipped++
			continue
		}
		if skipped > 0 {
			fmt.Fprintf(&b, "  %6s (%d proved grades not listed)\n", "...", skipped)
			skipped = 0
		}
		l1 := ""
		if g.Status == Certified {
			l1 = fmt.Sprintf("%.3e", g.L1Decrease)
		}
		cx := ""
		if g.Counterexample != nil {
			cx = fmt.Sprintf("%v, %.6g, %.6g", g.Counterexample, g.EBefore, g.EAfter)
		}
		fmt.Fprintf(&b, "  %6d %10s %12.3e %14s  %s\n", g.Grade, g.Status, g.MaxAbsG, l1, cx)
	}
	if skipped > 0 {
		fmt.Fprintf(&b, "  %6s (%d proved grades not listed)\n", "...", skipped)
	}
	_, err := io.WriteString(w, b.String())
	return err
}
