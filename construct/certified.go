package construct

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mgdl/mgdl/interval"
)

// CertOptions tune BuildCertified. The zero value means the defaults.
type CertOptions struct {
	// Rho is how close a certified bound must come to the extreme seen at
	// sample points before the refinement of a cell stops: a lower bound L
	// of min r over a cell is accepted once L ≥ (1-Rho)·(smallest sampled
	// r). 0 means 1/16.
	Rho float64 `json:"rho"`
	// Margin shrinks every coefficient to (1-Margin) times its certified
	// bound, so that each hat leaves at least Margin·|r| of the residual:
	// the strict margin that lets verify.Certify prove the grades on boxes
	// of finite size. 0 means 1/8; it must be below 1/2.
	Margin float64 `json:"margin"`
	// CellBoxes is the budget of boxes per cell for one bound (0: 4096).
	// A cell whose bound is not reached within it gets the bound reached
	// so far (a zero coefficient if that is not positive): always safe.
	CellBoxes int `json:"cell_boxes"`
}

func (c CertOptions) withDefaults() (CertOptions, error) {
	if c.Rho == 0 {
		c.Rho = 1.0 / 16
	}
	if c.Margin == 0 {
		c.Margin = 1.0 / 8
	}
	if c.CellBoxes == 0 {
		c.CellBoxes = 4096
	}
	if !(c.Rho > 0 && c.Rho < 1) || !(c.Margin >= 0 && c.Margin < 0.5) || c.CellBoxes < 1 {
		return c, fmt.Errorf("construct: certified options need 0 < rho < 1, 0 ≤ margin < 1/2 and cell boxes ≥ 1 (got %v, %v, %d)", c.Rho, c.Margin, c.CellBoxes)
	}
	return c, nil
}

// CertStats describe the work of a certified level.
type CertStats struct {
	// Tried lists the mesh exponents j (h = 2^-j) tried at this level, the
	// last one taken.
	Tried []int `json:"tried"`
	// Boxes is the number of boxes whose enclosure was computed.
	Boxes int64 `json:"boxes"`
	// Seconds is the time the level took.
	Seconds float64 `json:"seconds"`
}

// BuildCertified constructs the scheme for a target given as a formula
// (tg.Formula), with every coefficient certified on the whole box rather
// than at sample points: for each node z, a_z is (1-Margin) times a
// rigorous lower bound of min r⁺ (or of min r⁻, with the sign) over the
// closure of the support S_z = {x in the cube : φ_z(x) > 0}, computed with
// interval enclosures of the target on an adaptive subdivision of the
// support and the exact range of the piecewise-linear sum built so far; a_z
// is 0 when r may change sign or vanish on S_z. So every grade is a balanced
// contraction at every point of the box, not only at samples:
// |e_l(x)| ≤ |e_{l-1}(x)|, no sign change, and ‖e_{l-1}‖₁ − ‖e_l‖₁ = ‖g_l‖₁.
//
// With the adaptive schedule every level takes the largest h = 2^-j (not
// coarser than the previous level's) for which a certified upper bound of
// max|r| after the level is at most half of the largest |r| seen before it,
// so the sup norm at least halves per level on the whole box (Level.Sup is
// that certified bound, Level.SupLower the largest |r| seen at a point).
// For a discontinuous target no mesh size achieves that near the jump and
// the build fails with ErrNoHalving; the dyadic schedule still certifies
// the pointwise and L^p properties there.
//
// opt.Box is ignored (the target's box is used); Options.MinCoef applies.
// Result.Residual is the residual at the nodes of the finest grid.
func BuildCertified(ctx context.Context, tg Target, opt Options, co CertOptions) (*Result, error) {
	if tg.Formula == nil {
		return nil, fmt.Errorf("construct: the certified construction needs the target as a formula (it bounds the target over boxes)")
	}
	co, err := co.withDefaults()
	if err != nil {
		return nil, err
	}
	d := tg.Dim()
	if d < 1 || d > MaxDim {
		return nil, fmt.Errorf("construct: the target has %d variables; want 1 to %d", d, MaxDim)
	}
	if err := tg.Box.Validate(); err != nil {
		return nil, fmt.Errorf("construct: %w", err)
	}
	if tg.Formula.Dim() > d {
		return nil, fmt.Errorf("construct: the formula uses %d variables but the box has %d sides", tg.Formula.Dim(), d)
	}
	if err := opt.normalize(); err != nil {
		return nil, err
	}
	// The finest grid's nodal values are held in memory: (2^j+1)^d of them.
	maxJ := []int{0, 22, 11, 7, 5}[d]
	if opt.MaxRefine == 0 || opt.MaxRefine > maxJ {
		opt.MaxRefine = maxJ
	}
	if opt.Schedule == Dyadic && opt.Levels+1 > opt.MaxRefine {
		return nil, fmt.Errorf("construct: the certified dyadic schedule allows at most %d levels in dimension %d", opt.MaxRefine-1, d)
	}
	opt.Box = Box{Lo: append([]float64(nil), tg.Box.Lo...), Hi: append([]float64(nil), tg.Box.Hi...)}

	c := newCertifier(tg, co)
	res := &Result{Options: opt, Stopped: "levels"}
	b := &builder{d: d, box: opt.Box, variant: opt.Variant}

	// The sup of f itself: certified bound and sampled value.
	u0, m0, ok := c.supGrid(gridOf(d, c.j), c.sv, c.sErr, 0, false)
	if !ok {
		return nil, fmt.Errorf("construct: the target could not be bounded on the box (is it defined and finite everywhere on %v?)", tg.Box)
	}
	res.Sup0, res.RMS0 = u0, c.nodeRMS()
	sup, seen := u0, m0
	for k := 1; k <= opt.Levels; k++ {
		if err := ctx.Err(); err != nil {
			res.Stopped = "cancelled"
			res.finish(b, c.residualAtNodes())
			return res, err
		}
		if sup == 0 {
			res.Stopped = "zero"
			break
		}
		if opt.Tol > 0 && sup <= opt.Tol {
			res.Stopped = "tol"
			break
		}
		t0 := time.Now()
		boxes0 := c.boxes.Load()
		var lv *certLevel
		var tried []int
		if opt.Schedule == Dyadic {
			lv = c.level(k+1, opt.MinCoef, 0)
			tried = append(tried, k+1)
			lv.sup, lv.seen, _ = c.supGrid(gridOf(d, lv.j), lv.sv, lv.sErr, 0, false)
		} else {
			for j := c.j; j <= opt.MaxRefine; j++ {
				tried = append(tried, j)
				// seen is |r| at a point, up to the rounding of that
				// evaluation: shrink it a little so that it stays below
				// the true sup norm.
				half := seen * (1 - 1e-12) / 2
				cand := c.level(j, opt.MinCoef, half)
				u, m, ok := c.supGrid(gridOf(d, cand.j), cand.sv, cand.sErr, half, true)
				if ok {
					cand.sup, cand.seen = u, m
					lv = cand
					break
				}
			}
			if lv == nil {
				res.finish(b, c.residualAtNodes())
				return res, fmt.Errorf("%w at level %d: no certified h down to 2^-%d halves the sup norm (a discontinuous target? use --schedule dyadic)", ErrNoHalving, k, opt.MaxRefine)
			}
		}
		plan := &levelPlan{j: lv.j, h: math.Ldexp(1, -lv.j), node: lv.node, coef: lv.coef}
		if !b.tryLevel(plan, opt.MaxGrades, res) {
			break
		}
		c.accept(lv)
		sup, seen = lv.sup, lv.seen
		res.Levels = append(res.Levels, Level{
			H: plan.h, Hats: len(plan.coef), Grades: b.gradesFor(len(plan.coef)), GradeEnd: len(b.grades),
			Sup: sup, RMS: c.nodeRMS(), Certified: true, SupLower: seen,
			Cert: &CertStats{Tried: tried, Boxes: c.boxes.Load() - boxes0, Seconds: time.Since(t0).Seconds()},
		})
	}
	res.finish(b, c.residualAtNodes())
	return res, nil
}

// certifier holds the piecewise-linear sum s built so far as its values at
// the nodes of the grid h = 2^-j (s is linear on every Kuhn simplex of that
// grid, because the triangulations of dyadic grids are nested and j only
// grows).
type certifier struct {
	tg    Target
	co    CertOptions
	d     int
	j     int
	sv    []float64    // s at the nodes of grid j, lexicographic
	sErr  float64      // bound on |sv - exact s| at the nodes (rounding)
	boxes atomic.Int64 // boxes whose enclosure was computed
	lo    []interval.I // box lower corner, per side
	width []interval.I // box side lengths
}

func newCertifier(tg Target, co CertOptions) *certifier {
	d := tg.Dim()
	c := &certifier{tg: tg, co: co, d: d, sv: make([]float64, 1<<d)}
	for i := range d {
		c.lo = append(c.lo, interval.Point(tg.Box.Lo[i]))
		c.width = append(c.width, interval.Sub(interval.Point(tg.Box.Hi[i]), interval.Point(tg.Box.Lo[i])))
	}
	return c
}

const unitRoundoff = 0x1p-53

// certLevel is a candidate level on grid j: its coefficients and the sum
// after it.
type certLevel struct {
	j         int
	sv        []float64
	sErr      float64
	node      [][]int
	coef      []float64
	sup, seen float64
}

// accept makes lv's sum the current one.
func (c *certifier) accept(lv *certLevel) {
	c.j, c.sv, c.sErr = lv.j, lv.sv, lv.sErr
}

// grid is the geometry of grid j.
type grid struct {
	d, j int
	k    int // 2^j
	n1   int // k+1
}

func gridOf(d, j int) grid { return grid{d: d, j: j, k: 1 << j, n1: 1<<j + 1} }

func (g grid) nodes() int {
	n := 1
	for range g.d {
		n *= g.n1
	}
	return n
}

func (g grid) cells() int {
	n := 1
	for range g.d {
		n *= g.k
	}
	return n
}

// cellCorner returns the node index of corner bits of the cell with
// multi-index ci.
func (g grid) index(node []int) int {
	idx := 0
	for _, v := range node {
		idx = idx*g.n1 + v
	}
	return idx
}

func (g grid) cellIndex(cell int, ci []int) {
	for i := g.d - 1; i >= 0; i-- {
		ci[i] = cell % g.k
		cell /= g.k
	}
}

// refined returns s at the nodes of grid j ≥ c.j (the Kuhn interpolant of
// the current values: exact for a piecewise-linear s on nested grids).
func (c *certifier) refined(j int) ([]float64, float64) {
	if j == c.j {
		return append([]float64(nil), c.sv...), c.sErr
	}
	old := gridOf(c.d, c.j)
	nw := gridOf(c.d, j)
	out := make([]float64, nw.nodes())
	node := make([]int, c.d)
	cell := make([]int, c.d)
	t := make([]float64, c.d)
	shift := j - c.j
	maxAbs := 0.0
	for p := range out {
		r := p
		for i := c.d - 1; i >= 0; i-- {
			node[i] = r % nw.n1
			r /= nw.n1
		}
		for i := range c.d {
			q := node[i] >> shift
			if q == old.k {
				q--
			}
			cell[i] = q
			t[i] = float64(node[i]-q<<shift) / float64(int(1)<<shift) // exact dyadic
		}
		out[p] = kuhn(old, c.sv, cell, t)
		maxAbs = max(maxAbs, math.Abs(out[p]))
	}
	return out, c.sErr + float64(2*(c.d+2))*unitRoundoff*maxAbs
}

// kuhn evaluates the Kuhn interpolant of the nodal values sv of grid g in
// the cell with lower corner cell, at local coordinates t ∈ [0,1]^d.
func kuhn(g grid, sv []float64, cell []int, t []float64) float64 {
	var v [MaxDim]int
	return kuhnAt(t, func(bits int) float64 {
		for i := range g.d {
			v[i] = cell[i] + (bits>>(g.d-1-i))&1
		}
		return sv[g.index(v[:g.d])]
	})
}

// kuhnAt evaluates at local coordinates t ∈ [0,1]^d the Kuhn interpolant
// of a cell's corner values: corner(bits) is the value at the corner whose
// coordinate i is bit d-1-i of bits. On the simplex where t is sorted
// decreasingly, t_π1 ≥ ... ≥ t_πd, the interpolant is
// s(v_0) + Σ_k t_πk·(s(v_k) - s(v_{k-1})), v_k = v_{k-1} + e_πk.
func kuhnAt(t []float64, corner func(bits int) float64) float64 {
	d := len(t)
	var ord [MaxDim]int
	for i := range d {
		ord[i] = i
	}
	for a := 1; a < d; a++ { // insertion sort, d ≤ 4
		for b := a; b > 0 && t[ord[b]] > t[ord[b-1]]; b-- {
			ord[b], ord[b-1] = ord[b-1], ord[b]
		}
	}
	bits := 0
	prev := corner(0)
	s := prev
	for k := range d {
		bits |= 1 << (d - 1 - ord[k])
		cur := corner(bits)
		s += t[ord[k]] * (cur - prev)
		prev = cur
	}
	return s
}

// cellGeom is one cell of grid j with the values of s at its corners.
type cellGeom struct {
	g       grid
	ci      [MaxDim]int
	corners [1 << MaxDim]float64
	smin    float64
	smax    float64
	slope   [MaxDim]float64 // max |Δs| along each axis over the cell's edges
	sErr    float64
}

func (c *certifier) cellGeom(g grid, sv []float64, sErr float64, cell int) *cellGeom {
	cg := &cellGeom{g: g, smin: math.Inf(1), smax: math.Inf(-1)}
	g.cellIndex(cell, cg.ci[:g.d])
	var v [MaxDim]int
	maxAbs := 0.0
	for bits := range 1 << g.d {
		for i := range g.d {
			v[i] = cg.ci[i] + (bits>>(g.d-1-i))&1
		}
		s := sv[g.index(v[:g.d])]
		cg.corners[bits] = s
		cg.smin, cg.smax = min(cg.smin, s), max(cg.smax, s)
		maxAbs = max(maxAbs, math.Abs(s))
	}
	for i := range g.d {
		bit := 1 << (g.d - 1 - i)
		for bits := range 1 << g.d {
			if bits&bit == 0 {
				cg.slope[i] = max(cg.slope[i], math.Abs(cg.corners[bits|bit]-cg.corners[bits]))
			}
		}
		cg.slope[i] *= 1 + 4*unitRoundoff
	}
	cg.sErr = sErr + float64(4*(g.d+2))*unitRoundoff*maxAbs
	return cg
}

// sub is a sub-box of a cell in local coordinates [0,1]^d.
type sub struct {
	lo, hi [MaxDim]float64
	enc    interval.I // enclosure of r (or of σ·r) on the sub-box
	key    float64
}

// resid returns an enclosure of r = f - s on the sub-box b of cell cg and
// r at the sub-box's centre (a sample).
func (c *certifier) resid(cg *cellGeom, b *sub, whole bool) (interval.I, float64) {
	d := cg.g.d
	h := math.Ldexp(1, -cg.g.j)
	var box [MaxDim]interval.I
	var xc, tc [MaxDim]float64
	for i := range d {
		// u = (ci + t)·h exactly (dyadic), x = lo + width·u.
		ul := (float64(cg.ci[i]) + b.lo[i]) * h
		uh := (float64(cg.ci[i]) + b.hi[i]) * h
		box[i] = interval.Add(c.lo[i], interval.Mul(c.width[i], interval.I{Lo: ul, Hi: uh}))
		tc[i] = (b.lo[i] + b.hi[i]) / 2
		uc := (float64(cg.ci[i]) + tc[i]) * h
		xc[i] = c.tg.Box.Lo[i] + (c.tg.Box.Hi[i]-c.tg.Box.Lo[i])*uc
	}
	fB := c.tg.Formula.Range(box[:d])
	var sB interval.I
	sMid := cg.interp(tc[:d])
	if whole {
		sB = interval.I{Lo: cg.smin, Hi: cg.smax}
	} else {
		rad := 0.0
		for i := range d {
			rad += cg.slope[i] * (b.hi[i] - b.lo[i]) / 2
		}
		rad *= 1 + 8*unitRoundoff
		sB = interval.I{Lo: sMid, Hi: sMid}.Widen(rad)
		// The range on the sub-box is inside the range on the cell.
		sB = interval.I{Lo: max(sB.Lo, cg.smin), Hi: min(sB.Hi, cg.smax)}
	}
	sB = sB.Widen(cg.sErr)
	return interval.Sub(fB, sB), c.tg.F(xc[:d]) - sMid
}

// interp evaluates s at local coordinates t of the cell.
func (cg *cellGeom) interp(t []float64) float64 {
	return kuhnAt(t, func(bits int) float64 { return cg.corners[bits] })
}

// split halves b along its longest side.
func split(b *sub, d int) (sub, sub) {
	k, w := 0, -1.0
	for i := range d {
		if b.hi[i]-b.lo[i] > w {
			k, w = i, b.hi[i]-b.lo[i]
		}
	}
	m := (b.lo[k] + b.hi[k]) / 2
	l, r := *b, *b
	l.hi[k], r.lo[k] = m, m
	return l, r
}

type subHeap []sub

func (h subHeap) Len() int           { return len(h) }
func (h subHeap) Less(i, j int) bool { return h[i].key < h[j].key }
func (h subHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *subHeap) Push(x any)        { *h = append(*h, x.(sub)) }
func (h *subHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func wholeCell(d int) sub {
	var b sub
	for i := range d {
		b.hi[i] = 1
	}
	return b
}

// cellSign returns the signed certified bound of r on the cell: σ·L with
// σ = ±1 the sign of r on the whole cell and 0 < L ≤ min σ·r, within Rho
// of the smallest σ·r sampled; or 0 when no sign can be certified. It also
// returns the largest |r| sampled and the number of boxes used.
func (c *certifier) cellSign(cg *cellGeom) (signed, seen, upper float64, boxes int) {
	d := cg.g.d
	root := wholeCell(d)
	enc, mid := c.resid(cg, &root, true)
	boxes = 1
	seen = math.Abs(mid)
	upper = enc.Mag()
	if !enc.Valid() {
		upper = math.Inf(1)
	}
	if !enc.Valid() || mid == 0 || math.IsNaN(mid) {
		return 0, seen, upper, boxes
	}
	sigma := 1.0
	if mid < 0 {
		sigma = -1
	}
	orient := func(e interval.I) interval.I {
		if sigma < 0 {
			return interval.Neg(e)
		}
		return e
	}
	m := sigma * mid // smallest σ·r seen
	root.enc = orient(enc)
	root.key = root.enc.Lo
	h := subHeap{root}
	for {
		top := h[0]
		if top.enc.Lo >= (1-c.co.Rho)*m {
			return sigma * top.enc.Lo, seen, upper, boxes
		}
		if boxes >= c.co.CellBoxes {
			if top.enc.Lo > 0 {
				return sigma * top.enc.Lo, seen, upper, boxes
			}
			return 0, seen, upper, boxes
		}
		heap.Pop(&h)
		l, r := split(&top, d)
		for _, ch := range [2]*sub{&l, &r} {
			e, v := c.resid(cg, ch, false)
			boxes++
			if math.IsNaN(v) || !e.Valid() {
				return 0, seen, upper, boxes
			}
			seen = max(seen, math.Abs(v))
			m = min(m, sigma*v)
			ch.enc = orient(e)
			ch.enc.Lo = max(ch.enc.Lo, top.enc.Lo) // a sub-box's bound is at least its parent's
			ch.key = ch.enc.Lo
			heap.Push(&h, *ch)
		}
		if m <= 0 {
			return 0, seen, upper, boxes
		}
	}
}

// cellSup bounds max |r| on the cell. With fixed (adaptive test) it
// returns ok = false as soon as a point with |r| > thresh is seen or the
// budget runs out, and ok = true with the bound once every piece is below
// thresh. Without fixed the target is max(thresh, (1+Rho)·largest |r|
// sampled), and the bound reached within the budget is returned.
func (c *certifier) cellSup(cg *cellGeom, thresh float64, fixed bool) (upper, seen float64, boxes int, ok bool) {
	d := cg.g.d
	root := wholeCell(d)
	enc, mid := c.resid(cg, &root, true)
	boxes = 1
	if !enc.Valid() || math.IsNaN(mid) {
		return math.Inf(1), math.Abs(mid), boxes, false
	}
	seen = math.Abs(mid)
	root.enc = enc
	root.key = -enc.Mag()
	h := subHeap{root}
	for {
		top := h[0]
		target := thresh
		if !fixed {
			target = max(thresh, (1+c.co.Rho)*seen)
		}
		if top.enc.Mag() <= target {
			return top.enc.Mag(), seen, boxes, true
		}
		if fixed && seen > thresh {
			return top.enc.Mag(), seen, boxes, false
		}
		if boxes >= c.co.CellBoxes {
			return top.enc.Mag(), seen, boxes, !fixed
		}
		heap.Pop(&h)
		l, r := split(&top, d)
		for _, ch := range [2]*sub{&l, &r} {
			e, v := c.resid(cg, ch, false)
			boxes++
			if math.IsNaN(v) || !e.Valid() {
				return math.Inf(1), seen, boxes, false
			}
			seen = max(seen, math.Abs(v))
			// Intersect with the parent's enclosure: both are valid.
			e = interval.I{Lo: max(e.Lo, top.enc.Lo), Hi: min(e.Hi, top.enc.Hi)}
			ch.enc = e
			ch.key = -e.Mag()
			heap.Push(&h, *ch)
		}
	}
}

// parallel runs f(i) for i in [0, n) on GOMAXPROCS goroutines; f must be
// safe to run concurrently. It stops early once stop() is true.
func parallel(n int, f func(i int), stop func() bool) {
	workers := min(runtime.GOMAXPROCS(0), max(n/64, 1))
	var wg sync.WaitGroup
	var mu sync.Mutex
	next := 0
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next += 16
				mu.Unlock()
				if i >= n || stop() {
					return
				}
				for k := i; k < min(i+16, n); k++ {
					f(k)
				}
			}
		}()
	}
	wg.Wait()
}

// level computes the certified coefficients of the current residual on
// grid j and the sum after adding them. A hat whose support has max|r| ≤
// keepAbove (certified) is left out: where |r| ≤ keepAbove, any balanced
// correction keeps |r| ≤ keepAbove, so leaving it out cannot break the
// halving test at keepAbove = half the sup norm, and it saves grades where
// the residual is already small.
func (c *certifier) level(j int, minCoef, keepAbove float64) *certLevel {
	d := c.d
	g := gridOf(d, j)
	sv, sErr := c.refined(j)
	lv := &certLevel{j: j}
	// Per cell: the signed certified bound of r (0: none) and a certified
	// upper bound of |r|.
	cellSigned := make([]float64, g.cells())
	cellUpper := make([]float64, g.cells())
	var boxes int64
	var mu sync.Mutex
	parallel(g.cells(), func(cell int) {
		cg := c.cellGeom(g, sv, sErr, cell)
		s, _, u, n := c.cellSign(cg)
		cellSigned[cell] = s
		cellUpper[cell] = u
		mu.Lock()
		boxes += int64(n)
		mu.Unlock()
	}, func() bool { return false })
	c.boxes.Add(boxes)
	// a_z from the cells around node z (those inside the cube).
	node := make([]int, d)
	cell := make([]int, d)
	next := append([]float64(nil), sv...)
	maxAbs := 0.0
	for p := range g.nodes() {
		r := p
		for i := d - 1; i >= 0; i-- {
			node[i] = r % g.n1
			r /= g.n1
		}
		bound, sign, ok, upper := math.Inf(1), 0.0, true, 0.0
		for bits := range 1 << d {
			inside := true
			for i := range d {
				cell[i] = node[i] - 1 + (bits>>(d-1-i))&1
				if cell[i] < 0 || cell[i] >= g.k {
					inside = false
				}
			}
			if !inside {
				continue
			}
			ci := 0
			for i := range d {
				ci = ci*g.k + cell[i]
			}
			s := cellSigned[ci]
			switch {
			case s == 0:
				ok = false
			case sign == 0:
				sign = math.Copysign(1, s)
			case math.Copysign(1, s) != sign:
				ok = false
			}
			bound = min(bound, math.Abs(s))
			upper = max(upper, cellUpper[ci])
		}
		if !ok || sign == 0 || upper <= keepAbove {
			continue
		}
		a := sign * (1 - c.co.Margin) * bound
		if a == 0 || math.Abs(a) <= minCoef {
			continue
		}
		lv.node = append(lv.node, append([]int(nil), node...))
		lv.coef = append(lv.coef, a)
		next[p] += a
		maxAbs = max(maxAbs, math.Abs(next[p]))
	}
	lv.sv = next
	lv.sErr = sErr + unitRoundoff*maxAbs
	return lv
}

// supGrid bounds max|f - s| over the box for the sum s given by its values
// sv on grid g (see cellSup): with fixed, ok says whether max|f - s| ≤
// thresh was certified; without, the bound is refined to within Rho of the
// largest value seen.
func (c *certifier) supGrid(g grid, sv []float64, sErr, thresh float64, fixed bool) (upper, seen float64, ok bool) {
	var mu sync.Mutex
	ok = true
	var boxes int64
	failed := false
	parallel(g.cells(), func(cell int) {
		cg := c.cellGeom(g, sv, sErr, cell)
		u, s, n, good := c.cellSup(cg, thresh, fixed)
		mu.Lock()
		upper, seen = max(upper, u), max(seen, s)
		boxes += int64(n)
		if !good {
			ok, failed = false, true
		}
		mu.Unlock()
	}, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return failed && fixed
	})
	c.boxes.Add(boxes)
	return upper, seen, ok
}

// nodeRMS is the RMS of f - s over the nodes of the current grid (a
// sampled figure, for the tables).
func (c *certifier) nodeRMS() float64 {
	r := c.residualAtNodes()
	var s float64
	for _, v := range r {
		s += v * v
	}
	return math.Sqrt(s / float64(len(r)))
}

// residualAtNodes returns f - s at the nodes of the current grid.
func (c *certifier) residualAtNodes() []float64 {
	g := gridOf(c.d, c.j)
	out := make([]float64, g.nodes())
	x := make([]float64, c.d)
	for p := range out {
		r := p
		for i := c.d - 1; i >= 0; i-- {
			u := float64(r%g.n1) / float64(g.k)
			r /= g.n1
			x[i] = c.tg.Box.Lo[i] + (c.tg.Box.Hi[i]-c.tg.Box.Lo[i])*u
		}
		out[p] = c.tg.F(x) - c.sv[p]
	}
	return out
}
