package verify

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/mgdl/mgdl/interval"
	"github.com/mgdl/mgdl/model"
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
	// MaxBoxes is the budget of boxes for the pointwise proof (0: 5·10⁷);
	// SupBoxes the budget per level of the sup-norm bounds (0: 2·10⁴ plus
	// 8 per grade, times 4^(d-1), at most 4·10⁶).
	MaxBoxes, SupBoxes int
	// Rho: the certified sup bounds are refined until they are within a
	// factor 1+Rho of the largest value seen at a point (0: 1/16).
	Rho float64
	// LevelEnds are the level boundaries (as in Options); nil makes every
	// grade a level.
	LevelEnds []int
	// Workers is the number of goroutines of the pointwise proof (0:
	// GOMAXPROCS). The outcome does not depend on it: boxes are processed
	// in batches whose results are applied in a fixed order.
	Workers int
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
// each box, enclosures of f and of every grade either prove the property on
// the box, or the box's centre refutes it, or the box is split. The
// enclosures hold for the exact network and for the model as it is
// evaluated in floats (outward rounding, and an a priori bound of the float
// rounding of any summation order). A residual's enclosure is interval
// propagation intersected, for d ≤ 4, with a first-order form: f's
// mean-value form (when f encloses its gradient, as formula.Formula does)
// minus the sum of the grades' first-order forms, which are carried through
// the layers with a linear relaxation of each ReLU that may change sign on
// the box (see gradeAffine). It also gives certified upper bounds of the
// sup norm after every level and certified lower bounds of each grade's L1
// decrease.
//
// It works for any model of ReLU, tanh, sin or identity grades with one
// output. Grades whose inputs are only weight-1 ReLU copies of earlier
// channels (the constructed scheme's x channels) are evaluated from those
// channels directly, so a box costs only the grades that are not zero on
// it. Boxes are processed by opt.Workers goroutines, so f must be safe for
// concurrent use (formula.Formula is); the report does not depend on the
// number of workers. The context bounds the time: on cancellation the
// grades still open are undecided.
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
		opt.MaxBoxes = 50_000_000
	}
	if opt.SupBoxes == 0 {
		opt.SupBoxes = min(4_000_000, (20_000+8*L)<<(2*(d-1)))
	}
	if !(opt.Rho >= 0 && opt.Rho <= 1) {
		return nil, fmt.Errorf("verify: Rho is %v; need 0 ≤ Rho ≤ 1", opt.Rho)
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
	// One evaluator (memo tables for every unit of the model) per worker;
	// the sup bounds and the L1 integrals reuse the first.
	nw := opt.Workers
	if nw <= 0 {
		nw = runtime.GOMAXPROCS(0)
	}
	c.evs = make([]*evaluator, nw)
	for i := range c.evs {
		c.evs[i] = newEvaluator(net)
	}
	c.pointwise(root)

	// The sup bounds of the levels are independent: the workers' evaluators
	// take them in turn.
	ends := append([]int{0}, levelEnds(opt.LevelEnds, L)...)
	type supRes struct {
		up, lo float64
		n      int
	}
	sups := make([]supRes, len(ends))
	next := make(chan int, len(ends))
	for i := range ends {
		next <- i
	}
	close(next)
	var wg sync.WaitGroup
	for _, ev := range c.evs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := &sups[i]
				r.up, r.lo, r.n = c.sup(ev, root, ends[i])
			}
		}()
	}
	wg.Wait()
	rep.Sup0Upper, rep.Sup0Lower = sups[0].up, sups[0].lo
	prevLower := rep.Sup0Lower
	for i, end := range ends[1:] {
		up, lo, n := sups[i+1].up, sups[i+1].lo, sups[i+1].n
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
			if g.Nontrivial && c.l1[l] <= 0 {
				// The boxes of the proof were too coarse for this grade.
				c.l1[l] = max(c.l1[l], c.absIntegral(c.evs[0], l, root)-2*tol*c.vol)
			}
			g.L1Decrease = c.l1[l] / c.vol
			if g.L1Decrease > 0 {
				g.L1Decrease *= 1 - 1e-9 // for the rounding of the sums
			}
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
