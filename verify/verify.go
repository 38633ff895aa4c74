package verify

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/tensor"
)

// Options configure Check.
type Options struct {
	// Tol is the round-off allowance: an increase |e_l| - |e_{l-1}| counts as
	// a violation, and a sign change as a flip, only when it exceeds Tol; a
	// grade is nontrivial when max|g_l| > Tol. 0 means RelTol·max|y|.
	Tol float64 `json:"tol,omitempty"`
	// RelTol is used when Tol is 0. 0 means 1e-12 for float64 models and
	// 1e-5 for float32 models.
	RelTol float64 `json:"rel_tol,omitempty"`
	// LevelEnds are the numbers of grades after each level, increasing (as
	// construct.Result.LevelEnds gives). Nil makes every grade a level.
	LevelEnds []int `json:"level_ends,omitempty"`
}

// Norms are discrete norms of a residual on the n evaluation values:
// L1 = Σ|e|/n, L2 = sqrt(Σe²/n) and Linf = max|e|.
type Norms struct {
	L1   float64 `json:"l1"`
	L2   float64 `json:"l2"`
	Linf float64 `json:"linf"`
}

// GradeStats are the checks of one grade l on the evaluation set, with
// e_l = y - (g_1 + ... + g_l).
type GradeStats struct {
	// Grade is l (1-based).
	Grade int `json:"grade"`
	// MaxAbsG is max|g_l|; the grade is Nontrivial when it exceeds the
	// tolerance.
	MaxAbsG    float64 `json:"max_abs_g"`
	Nontrivial bool    `json:"nontrivial"`
	// MaxIncrease is max(|e_l| - |e_{l-1}|) over the points (≤ 0 up to
	// round-off when the pointwise property holds).
	MaxIncrease float64 `json:"max_increase"`
	// Violations counts the values where |e_l| - |e_{l-1}| > tolerance.
	Violations int `json:"violations"`
	// SignFlips counts the values where e_l and e_{l-1} have opposite signs
	// and |e_l| > tolerance.
	SignFlips int `json:"sign_flips"`
	// Norms of e_l.
	Norms
	// StrictL1 and StrictL2 say whether the L1 and L2 norms fell strictly
	// at this grade (only meaningful for nontrivial grades).
	StrictL1 bool `json:"strict_l1"`
	StrictL2 bool `json:"strict_l2"`
}

// LevelStats give the sup norm at the end of each level.
type LevelStats struct {
	Level    int     `json:"level"`
	GradeEnd int     `json:"grade_end"`
	Sup      float64 `json:"sup"`
	// Ratio is Sup over the previous level's Sup (or over max|y| for the
	// first level); NaN when that is 0.
	Ratio Ratio   `json:"ratio"`
	L2    float64 `json:"l2"`
}

// Report is the outcome of Check.
type Report struct {
	// Values is the number of residual values checked (points × outputs).
	Values int     `json:"values"`
	Tol    float64 `json:"tol"`
	// Initial are the norms of y (e_0); Final those of the last residual.
	Initial Norms        `json:"initial"`
	Final   Norms        `json:"final"`
	Grades  []GradeStats `json:"grades"`
	Levels  []LevelStats `json:"levels"`

	// Summary over all grades.
	NumGrades      int     `json:"num_grades"`
	Nontrivial     int     `json:"nontrivial_grades"`
	MaxIncrease    float64 `json:"max_increase"`
	Violations     int     `json:"violations"`
	GradesViolated int     `json:"grades_with_violations"`
	SignFlips      int     `json:"sign_flips"`
	NotStrictL1    int     `json:"nontrivial_grades_not_strict_l1"`
	NotStrictL2    int     `json:"nontrivial_grades_not_strict_l2"`
	MaxLevelRatio  float64 `json:"max_level_ratio"`
}

// Pointwise reports whether no grade increased |e| or flipped its sign
// beyond the tolerance.
func (r *Report) Pointwise() bool { return r.Violations == 0 && r.SignFlips == 0 }

// StrictDecay reports whether L1 and L2 fell strictly at every nontrivial
// grade.
func (r *Report) StrictDecay() bool { return r.NotStrictL1 == 0 && r.NotStrictL2 == 0 }

// Check evaluates m on x (n×InDim) and checks its residuals against the
// targets y (n×OutDim), grade by grade. It works on any model, constructed
// or trained. Residuals are accumulated in float64 whatever T is. Shape
// mismatches and non-finite targets are errors; a model with no grades
// panics.
func Check[T tensor.Float](m *model.Model[T], x, y *tensor.Dense[T], opt Options) (*Report, error) {
	if x.Cols != m.InDim() {
		return nil, fmt.Errorf("verify: points have %d coordinates, the model reads %d", x.Cols, m.InDim())
	}
	if y.Rows != x.Rows || y.Cols != m.OutDim() {
		return nil, fmt.Errorf("verify: targets are %d×%d, want %d×%d", y.Rows, y.Cols, x.Rows, m.OutDim())
	}
	if x.Rows == 0 {
		return nil, fmt.Errorf("verify: no points")
	}
	L := len(m.Grades)
	if err := checkLevelEnds(opt.LevelEnds, L); err != nil {
		return nil, err
	}
	k := m.OutDim()
	sup0 := 0.0
	for _, v := range y.Raw() {
		if !finite(float64(v)) {
			return nil, fmt.Errorf("verify: a target is %v", v)
		}
		sup0 = max(sup0, math.Abs(float64(v)))
	}
	tol := opt.Tol
	if tol == 0 {
		rel := opt.RelTol
		if rel == 0 {
			rel = 1e-12
			if tensor.DType[T]() == "float32" {
				rel = 1e-5
			}
		}
		tol = rel * max(sup0, math.SmallestNonzeroFloat64)
	}

	accs := make([]checkAcc, L)
	for l := range accs {
		accs[l].maxInc = math.Inf(-1)
	}
	r := &Report{Values: x.Rows * k, Tol: tol, NumGrades: L}
	e := make([]float64, x.Rows*k)
	for i, v := range y.Raw() {
		e[i] = float64(v)
		r.Initial.L1 += math.Abs(e[i])
		r.Initial.L2 += e[i] * e[i]
		r.Initial.Linf = max(r.Initial.Linf, math.Abs(e[i]))
	}
	if m.Narrow() {
		// Neighbouring rows let a Program skip the grades that are
		// constant on a chunk; the statistics do not depend on the order.
		x, y = spatialOrder(x, y)
		for i, v := range y.Raw() {
			e[i] = float64(v)
		}
		checkParallel(model.Compile(m), x, e, k, tol, accs)
	} else {
		m.Walk(x, checkVisitor[T](accs, e, k, tol))
	}
	n := float64(r.Values)
	r.Initial.L1 /= n
	r.Initial.L2 = math.Sqrt(r.Initial.L2 / n)
	r.MaxIncrease = math.Inf(-1)
	last := r.Initial
	for l, a := range accs {
		gs := GradeStats{
			Grade: l + 1, MaxAbsG: a.maxG, Nontrivial: a.maxG > tol,
			MaxIncrease: a.maxInc, Violations: a.viol, SignFlips: a.flips,
			Norms: Norms{L1: a.s1 / n, L2: math.Sqrt(a.s2 / n), Linf: a.sInf},
		}
		gs.StrictL1 = gs.L1 < last.L1
		gs.StrictL2 = gs.L2 < last.L2
		if gs.Nontrivial {
			r.Nontrivial++
			if !gs.StrictL1 {
				r.NotStrictL1++
			}
			if !gs.StrictL2 {
				r.NotStrictL2++
			}
		}
		r.MaxIncrease = max(r.MaxIncrease, gs.MaxIncrease)
		r.Violations += gs.Violations
		if gs.Violations > 0 {
			r.GradesViolated++
		}
		r.SignFlips += gs.SignFlips
		r.Grades = append(r.Grades, gs)
		last = gs.Norms
	}
	r.Final = last

	ends := levelEnds(opt.LevelEnds, L)
	prevSup := r.Initial.Linf
	for i, end := range ends {
		nm := r.Initial
		if end > 0 {
			nm = r.Grades[end-1].Norms
		}
		ratio := math.NaN()
		if prevSup > 0 {
			ratio = nm.Linf / prevSup
			r.MaxLevelRatio = max(r.MaxLevelRatio, ratio)
		}
		r.Levels = append(r.Levels, LevelStats{Level: i + 1, GradeEnd: end, Sup: nm.Linf, Ratio: Ratio(ratio), L2: nm.L2})
		prevSup = nm.Linf
	}
	return r, nil
}

// checkLevelEnds returns an error unless ends is nondecreasing and within
// the model's grades.
func checkLevelEnds(ends []int, grades int) error {
	prev := 0
	for i, e := range ends {
		if e < prev || e > grades {
			return fmt.Errorf("verify: level end %d (%d) is out of order or past the %d grades", i+1, e, grades)
		}
		prev = e
	}
	return nil
}

// levelEnds returns ends, or every grade as a level when ends is nil.
func levelEnds(ends []int, grades int) []int {
	if ends != nil {
		return ends
	}
	ends = make([]int, grades)
	for l := range ends {
		ends[l] = l + 1
	}
	return ends
}

// spatialOrder returns copies of x and y with the rows sorted along a
// Z-order (Morton) curve of x's bounding box, so that rows close in the

// checkAcc accumulates one grade's statistics over a set of rows.
type checkAcc struct {
	maxG, maxInc, s1, s2, sInf float64
	viol, flips                int
}

// merge adds b (the rows after a's) to a.
func (a *checkAcc) merge(b *checkAcc) {
	a.maxG, a.maxInc, a.sInf = max(a.maxG, b.maxG), max(a.maxInc, b.maxInc), max(a.sInf, b.sInf)
	a.s1 += b.s1
	a.s2 += b.s2
	a.viol += b.viol
	a.flips += b.flips
}

// checkVisitor returns the visit function of a walk over rows whose
// residuals are e (k per row, from row 0 of the walk), updating accs.
func checkVisitor[T tensor.Float](accs []checkAcc, e []float64, k int, tol float64) func(l, i0 int, g *tensor.Dense[T]) {
	// Norms of the current residual on the chunk being visited: a grade
	// whose output is zero on the chunk only adds them.
	cur, cs1, cs2, csInf := -1, 0.0, 0.0, 0.0
	return func(l, i0 int, g *tensor.Dense[T]) {
		a := &accs[l]
		es := e[i0*k : (i0+g.Rows)*k]
		zero := true
		for _, gv := range g.Raw() {
			if gv != 0 {
				zero = false
				break
			}
		}
		if zero {
			if i0 != cur {
				cur, cs1, cs2, csInf = i0, 0, 0, 0
				for _, v := range es {
					cs1 += math.Abs(v)
					cs2 += v * v
					csInf = max(csInf, math.Abs(v))
				}
			}
			a.maxInc = max(a.maxInc, 0)
			a.s1 += cs1
			a.s2 += cs2
			a.sInf = max(a.sInf, csInf)
			return
		}
		cur = -1
		for q, gv := range g.Raw() {
			old := es[q]
			nw := old - float64(gv)
			es[q] = nw
			ag, ao, an := math.Abs(float64(gv)), math.Abs(old), math.Abs(nw)
			a.maxG = max(a.maxG, ag)
			inc := an - ao
			a.maxInc = max(a.maxInc, inc)
			if inc > tol || math.IsNaN(nw) {
				a.viol++
			}
			if old*nw < 0 && an > tol {
				a.flips++
			}
			a.s1 += an
			a.s2 += nw * nw
			a.sInf = max(a.sInf, an)
		}
	}
}

// checkParts is the number of row ranges checkParallel splits the rows
// into. It does not depend on the number of cores, so neither do the
// sums (each range is summed on its own, then the ranges in order).
const checkParts = 16

// checkParallel walks p over the rows of x in checkParts contiguous ranges,
// as many at once as there are cores, and merges their statistics into
// accs in row order.
func checkParallel[T tensor.Float](p *model.Program[T], x *tensor.Dense[T], e []float64, k int, tol float64, accs []checkAcc) {
	n := x.Rows
	per := (n + checkParts - 1) / checkParts
	per = (per + model.ProgramChunk - 1) / model.ProgramChunk * model.ProgramChunk
	var ranges [][2]int
	for i0 := 0; i0 < n; i0 += per {
		ranges = append(ranges, [2]int{i0, min(i0+per, n)})
	}
	parts := make([][]checkAcc, len(ranges))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for pi, rg := range ranges {
		parts[pi] = make([]checkAcc, len(accs))
		for l := range parts[pi] {
			parts[pi][l].maxInc = math.Inf(-1)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			p.Walk(x.RowsView(rg[0], rg[1]), checkVisitor[T](parts[pi], e[rg[0]*k:rg[1]*k], k, tol))
		}()
	}
	wg.Wait()
	for _, part := range parts {
		for l := range accs {
			accs[l].merge(&part[l])
		}
	}
}

// order are close in space.
func spatialOrder[T tensor.Float](x, y *tensor.Dense[T]) (*tensor.Dense[T], *tensor.Dense[T]) {
	n, d := x.Rows, x.Cols
	if d == 0 || n < 2*model.ProgramChunk {
		return x, y
	}
	bits := max(1, 60/min(d, 8))
	if bits > 20 {
		bits = 20
	}
	lo := make([]float64, d)
	hi := make([]float64, d)
	for i := range d {
		lo[i], hi[i] = math.Inf(1), math.Inf(-1)
	}
	for r := range n {
		for i, v := range x.Row(r) {
			lo[i], hi[i] = min(lo[i], float64(v)), max(hi[i], float64(v))
		}
	}
	keys := make([]uint64, n)
	scale := float64(uint64(1)<<bits - 1)
	for r := range n {
		var qs [8]uint64
		for i, v := range x.Row(r)[:min(d, 8)] {
			if hi[i] > lo[i] {
				qs[i] = uint64((float64(v) - lo[i]) / (hi[i] - lo[i]) * scale)
			}
		}
		var k uint64
		for b := bits - 1; b >= 0; b-- {
			for i := range min(d, 8) {
				k = k<<1 | qs[i]>>uint(b)&1
			}
		}
		keys[r] = k
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	xs, ys := tensor.New[T](n, d), tensor.New[T](n, y.Cols)
	for r, i := range idx {
		copy(xs.Row(r), x.Row(i))
		copy(ys.Row(r), y.Row(i))
	}
	return xs, ys
}

// WriteTable writes r as readable text: a summary, the sup norm per level
// and the per-grade checks. With more than maxGrades grades, only the first
// and last few and those with violations or sign flips are listed (all are
// in the JSON form); maxGrades ≤ 0 lists all.
func (r *Report) WriteTable(w io.Writer, title string, maxGrades int) error {
	var b strings.Builder
	ok := func(v bool) string {
		if v {
			return "yes"
		}
		return "NO"
	}
	fmt.Fprintf(&b, "%s: %d values, %d grades (%d nontrivial), tolerance %.1e\n", title, r.Values, r.NumGrades, r.Nontrivial, r.Tol)
	fmt.Fprintf(&b, "  pointwise |e_l| <= |e_{l-1}|: %s (max increase %.3e, %d violations in %d grades)\n", ok(r.Violations == 0), r.MaxIncrease, r.Violations, r.GradesViolated)
	fmt.Fprintf(&b, "  no sign flips:               %s (%d)\n", ok(r.SignFlips == 0), r.SignFlips)
	fmt.Fprintf(&b, "  strict L1 / L2 decay at nontrivial grades: %s / %s (%d / %d grades not strict)\n", ok(r.NotStrictL1 == 0), ok(r.NotStrictL2 == 0), r.NotStrictL1, r.NotStrictL2)
	fmt.Fprintf(&b, "  residual: initial L1 %.4e L2 %.4e Linf %.4e; final L1 %.4e L2 %.4e Linf %.4e\n",
		r.Initial.L1, r.Initial.L2, r.Initial.Linf, r.Final.L1, r.Final.L2, r.Final.Linf)
	fmt.Fprintf(&b, "\n  %5s %8s %12s %8s %12s\n", "level", "grades", "sup", "ratio", "L2")
	fmt.Fprintf(&b, "  %5d %8d %12.4e %8s %12.4e\n", 0, 0, r.Initial.Linf, "", r.Initial.L2)
	for _, lv := range r.Levels {
		ratio := fmt.Sprintf("%8.4f", float64(lv.Ratio))
		if r := math.Abs(float64(lv.Ratio)); r >= 1e4 {
			ratio = fmt.Sprintf("%8.1e", float64(lv.Ratio)) // a ratio of overflowing norms fits the column
		}
		fmt.Fprintf(&b, "  %5d %8d %12.4e %s %12.4e\n", lv.Level, lv.GradeEnd, lv.Sup, ratio, lv.L2)
	}
	fmt.Fprintf(&b, "\n  %6s %4s %11s %11s %6s %6s %11s %11s %11s %4s %4s\n",
		"grade", "ntr", "max|g|", "max incr", "viol", "flips", "L1", "L2", "Linf", "sL1", "sL2")
	show := func(i int) bool {
		if maxGrades <= 0 || len(r.Grades) <= maxGrades {
			return true
		}
		g := r.Grades[i]
		return i < maxGrades/4 || i >= len(r.Grades)-maxGrades/4 || g.Violations > 0 || g.SignFlips > 0
	}
	skipped, listed := 0, 0
	for i, g := range r.Grades {
		if !show(i) || (maxGrades > 0 && listed >= 2*maxGrades) {
			skipped++
			continue
		}
		if skipped > 0 {
			fmt.Fprintf(&b, "  %6s (%d grades not listed)\n", "...", skipped)
			skipped = 0
		}
		listed++
		yn := func(v bool) string {
			if v {
				return "y"
			}
			return "n"
		}
		fmt.Fprintf(&b, "  %6d %4s %11.3e %11.3e %6d %6d %11.4e %11.4e %11.4e %4s %4s\n",
			g.Grade, yn(g.Nontrivial), g.MaxAbsG, g.MaxIncrease, g.Violations, g.SignFlips, g.L1, g.L2, g.Linf, yn(g.StrictL1), yn(g.StrictL2))
	}
	if skipped > 0 {
		fmt.Fprintf(&b, "  %6s (%d grades not listed)\n", "...", skipped)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// Ratio is a level's sup ratio. It is NaN when the previous level's
// residual was already zero (the ratio is undefined); JSON writes that as
// null, and reads null back as NaN.
type Ratio float64

// MarshalJSON writes r, or null when it is not a finite number.
func (r Ratio) MarshalJSON() ([]byte, error) {
	f := float64(r)
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return []byte("null"), nil
	}
	return json.Marshal(f)
}

// UnmarshalJSON reads a number, or null as NaN.
func (r *Ratio) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*r = Ratio(math.NaN())
		return nil
	}
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*r = Ratio(f)
	return nil
}
