package verify

import (
	"container/heap"
	"context"
	"math"
	"slices"
	"sync"

	"github.com/mgdl/mgdl/interval"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/tensor"
)

// The branch and bound of Certify: the pointwise proof, the sup-norm
// bounds and the L1 integrals.

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
	evs  []*evaluator
}

// maxStored bounds the grade records (4 bytes each) that the boxes waiting
// in the queue of the pointwise proof may hold before it goes depth first.
const maxStored = 20_000_000

// gradFunction is a Function that also encloses its gradient
// (formula.Formula does): the residuals are then enclosed by the
// first-order form f(c) - K + Σ (∂f - G)·(x - c) too, which does not lose
// the cancellation of f against the model that the separate enclosures of
// f and of the grades lose.
type gradFunction interface {
	RangeGrad(b []interval.I) (interval.I, []interval.I)
}

// resAcc accumulates the grades of a box in order: the natural enclosure
// of their sum over the box, and in affine mode the sum of their forms and
// of their rounding bounds.
type resAcc struct {
	S, SK interval.I
	SG    [maxGradDim]interval.I
	SD    float64
	form  bool
}

func (a *resAcc) add(G, K interval.I, grad *[maxGradDim]interval.I, dev float64) {
	a.S = interval.Add(a.S, G)
	if grad == nil {
		return
	}
	a.form = true
	a.SK = interval.Add(a.SK, K)
	for i := range a.SG {
		a.SG[i] = interval.Add(a.SG[i], grad[i])
	}
	a.SD += dev
}

// mvBox holds, for one box, the centre and offsets of the first-order
// forms (d ≤ maxGradDim) and what the mean-value form needs of f.
type mvBox struct {
	// affine: the network is evaluated in affine mode; on: f's gradient
	// is enclosed too, and the residual's mean-value form is used.
	affine, on bool
	fpt        interval.I   // f at the centre
	fg         []interval.I // f's gradient over the box
	c          []float64
	dx         []interval.I
}

// residual encloses f - (the grades accumulated in a) over the box: the
// natural enclosure fB - S, intersected with the first-order form
// f(c) - K + Σ_i (∂f - G)_i·(x_i - c_i) ± (rounding of the model), where
// K + Σ G_i·(x_i - c_i) is the grades' summed form (or, without f's
// gradient, with fB - (the summed form's range)).
func (m *mvBox) residual(fB interval.I, a *resAcc) interval.I {
	nat := interval.Sub(fB, a.S)
	if !m.affine || !a.form && !m.on {
		return nat
	}
	var mv interval.I
	if m.on {
		mv = interval.Sub(m.fpt, a.SK)
		for i := range m.dx {
			mv = interval.Add(mv, interval.Mul(interval.Sub(m.fg[i], a.SG[i]), m.dx[i]))
		}
	} else {
		S := a.SK
		for i := range m.dx {
			S = interval.Add(S, interval.Mul(a.SG[i], m.dx[i]))
		}
		mv = interval.Sub(fB, S)
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

// newMV prepares box x: the centre and offsets for the affine mode of the
// network (d ≤ maxGradDim) and, where f encloses its gradient, f's part of
// the residual's mean-value form.
func (c *certRun) newMV(x []interval.I) *mvBox {
	m := &mvBox{}
	if c.d > maxGradDim {
		return m
	}
	m.affine = true
	m.c = make([]float64, c.d)
	m.dx = make([]interval.I, c.d)
	cbox := make([]interval.I, c.d)
	for i := range x {
		ci := x[i].Lo/2 + x[i].Hi/2
		m.c[i] = ci
		cbox[i] = interval.Point(ci)
		m.dx[i] = interval.Sub(x[i], cbox[i])
	}
	gf, ok := c.f.(gradFunction)
	if !ok {
		return m
	}
	m.on = true
	_, m.fg = gf.RangeGrad(x)
	m.fpt = c.f.Range(cbox)
	return m
}

// setBox points ev at box x, in affine mode where the dimension allows.
func (m *mvBox) setBox(ev *evaluator, x []interval.I) {
	if m.affine {
		ev.setBoxAffine(x, m.c, m.dx)
	} else {
		ev.setBox(x)
	}
}

// add puts grade l's enclosures on the box (as ev evaluates them) into a
// and returns its value enclosure.
func (m *mvBox) add(ev *evaluator, a *resAcc, l int32) interval.I {
	G := ev.gradeI(int(l))
	if G == zeroI {
		return G
	}
	if !m.affine {
		a.add(G, interval.I{}, nil, 0)
		return G
	}
	K, grad, dev := ev.gradeForm(int(l))
	a.add(G, K, grad, dev)
	return G
}

type cbox struct {
	x    []interval.I
	open []int32 // grades not yet proved on the box, increasing
	// contrib: grades (proved or refuted) that were not zero on the
	// parent box and precede an open grade, increasing. They are
	// evaluated again on the box (tighter than the parent's enclosure)
	// and dropped where they are zero.
	contrib []int32
}

var zeroI = interval.I{}

// certWorker holds what one goroutine of the pointwise proof needs.
type certWorker struct {
	ev            *evaluator
	active, still []int32
	center        []float64
	openAt        []int // openAt[l] == stamp marks the grades pointCheck tests
	stamp         int
	maxG          []float64 // largest |g_l| seen
}

// boxResult is what processing one box gives; the results of a batch are
// applied in box order, so that the outcome does not depend on the number
// of workers.
type boxResult struct {
	l1        []l1Inc
	cands     []cand // counterexample candidates
	undecided []int32
	children  []cbox
}

type l1Inc struct {
	l int32
	v float64
}

type cand struct {
	l int32
	p []float64
}

// certBatch is the number of boxes given to the workers at a time.
const certBatch = 1024

func (c *certRun) pointwise(root []interval.I) {
	L := len(c.net.grades)
	c.l1 = make([]float64, L)
	c.seen = make([]bool, L)
	all := make([]int32, L)
	for l := range all {
		all[l] = int32(l)
	}
	nw := len(c.evs)
	workers := make([]*certWorker, nw)
	for i := range workers {
		workers[i] = &certWorker{ev: c.evs[i], center: make([]float64, c.d), openAt: make([]int, L), maxG: make([]float64, L)}
	}
	queue := []cbox{{x: root, open: all}}
	stored := len(all) // grade records held by the boxes in the queue
	boxes := 0
	minWidth := make([]float64, c.d)
	for i := range c.d {
		minWidth[i] = (root[i].Hi - root[i].Lo) * 0x1p-50
	}
	batch := make([]cbox, 0, certBatch)
	results := make([]boxResult, certBatch)
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
		n := min(len(queue), certBatch, c.opt.MaxBoxes-boxes)
		batch = batch[:0]
		if stored > maxStored {
			batch = append(batch, queue[len(queue)-n:]...)
			clear(queue[len(queue)-n:])
			queue = queue[:len(queue)-n]
			slices.Reverse(batch)
		} else {
			batch = append(batch, queue[:n]...)
			clear(queue[:n])
			queue = queue[n:]
		}
		boxes += n
		// The boxes of a batch see the refutations found before it.
		var wg sync.WaitGroup
		per := (n + nw - 1) / nw
		for wi, w := range workers {
			lo, hi := wi*per, min((wi+1)*per, n)
			if lo >= hi {
				break
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := lo; i < hi; i++ {
					results[i] = boxResult{}
					c.processBox(w, batch[i], root, minWidth, &results[i])
				}
			}()
		}
		wg.Wait()
		for i := range n {
			r := &results[i]
			stored -= len(batch[i].open) + len(batch[i].contrib)
			for _, v := range r.l1 {
				c.l1[v.l] += v.v
			}
			for _, l := range r.undecided {
				c.undecided(int(l))
			}
			for _, k := range r.cands {
				if !c.seen[k.l] {
					c.confirm(int(k.l), k.p)
				}
			}
			for _, ch := range r.children {
				queue = append(queue, ch)
				stored += len(ch.open) + len(ch.contrib)
			}
			*r = boxResult{}
		}
	}
	for _, w := range workers {
		for l, v := range w.maxG {
			c.rep.Grades[l].MaxAbsG = max(c.rep.Grades[l].MaxAbsG, v)
		}
	}
	c.rep.Boxes = boxes
}

// processBox tries to prove the open grades of box b, checks the centre
// for those it cannot, and splits the box for them.
func (c *certRun) processBox(w *certWorker, b cbox, root []interval.I, minWidth []float64, r *boxResult) {
	ev := w.ev
	fB := c.f.Range(b.x)
	mv := c.newMV(b.x)
	mv.setBox(ev, b.x)
	acc := resAcc{}
	// add puts grade l's enclosures on the box into the running sum and
	// returns its value enclosure; a grade that is [0, 0] on the box is
	// zero on it and adds nothing.
	add := func(l int32) interval.I {
		G := mv.add(ev, &acc, l)
		if G != zeroI {
			w.active = append(w.active, l)
		}
		return G
	}
	// Running sum over the earlier grades and the open ones, in grade
	// order. Refuted grades still count in the residuals of the grades
	// after them.
	w.active, w.still = w.active[:0], w.still[:0]
	ci := 0
	vol := 1.0
	for i := range c.d {
		vol *= b.x[i].Hi - b.x[i].Lo
	}
	tau := c.tol / 2
	for _, l := range b.open {
		for ci < len(b.contrib) && b.contrib[ci] < l {
			add(b.contrib[ci])
			ci++
		}
		G := add(l)
		if c.seen[l] {
			continue
		}
		if G.Valid() {
			w.maxG[l] = max(w.maxG[l], G.Mig())
		}
		E1 := mv.residual(fB, &acc)
		// The L1 decrease on the box: |e_{l-1}| - |e_l| ≥ |g_l| - Tol
		// wherever the grade is proved (≥ -|g_l| where it is about 0).
		proved, l1 := false, 0.0
		switch {
		case G.Valid() && G.Mag() <= tau:
			proved, l1 = true, -G.Mag()*vol
		case G.Lo >= -tau && E1.Lo >= -tau, G.Hi <= tau && E1.Hi <= tau:
			proved, l1 = true, (G.Mig()-2*c.tol)*vol
		}
		if proved {
			if l1 != 0 {
				r.l1 = append(r.l1, l1Inc{l, l1})
			}
		} else {
			w.still = append(w.still, l)
		}
	}
	still, active := w.still, w.active
	if len(still) == 0 {
		return
	}
	// Point checks at the centre for the open grades, with every grade that
	// is not zero on the box (those whose enclosure is [0,0] are 0 at the
	// centre).
	for i := range c.d {
		w.center[i] = b.x[i].Lo/2 + b.x[i].Hi/2
	}
	c.pointCheck(w, w.center, active, still, r)
	small := true
	for i := range c.d {
		if b.x[i].Hi-b.x[i].Lo > minWidth[i] {
			small = false
		}
	}
	if small {
		r.undecided = append(r.undecided, still...)
		return
	}
	// The sub-boxes need the grades that are not zero here and come before
	// their last open grade; the open ones are in still.
	last := still[len(still)-1]
	var contrib []int32
	open := slices.Clone(still)
	si := 0
	for _, l := range active {
		for si < len(still) && still[si] < l {
			si++
		}
		if l >= last {
			break
		}
		if si < len(still) && still[si] == l {
			continue
		}
		contrib = append(contrib, l)
	}
	// Split along the widest side (relative to the root).
	k, wd := 0, -1.0
	for i := range c.d {
		if q := (b.x[i].Hi - b.x[i].Lo) / (root[i].Hi - root[i].Lo); q > wd {
			k, wd = i, q
		}
	}
	mid := b.x[k].Lo/2 + b.x[k].Hi/2
	for side := range 2 {
		x := slices.Clone(b.x)
		if side == 0 {
			x[k].Hi = mid
		} else {
			x[k].Lo = mid
		}
		r.children = append(r.children, cbox{x: x, open: open, contrib: contrib})
	}
}

func (c *certRun) undecided(l int) {
	if g := &c.rep.Grades[l]; g.Status == Certified {
		g.Status = Undecided
	}
}

// pointCheck evaluates the residuals at p with the grades of active (those
// that may be nonzero there, increasing) and records, for a grade of check
// (increasing, not empty, a subset of active or zero on the box) where the
// property fails at p, a candidate counterexample in r (confirmed later
// with the model's own evaluation).
func (c *certRun) pointCheck(w *certWorker, p []float64, active, check []int32, r *boxResult) {
	ev := w.ev
	ev.setPoint(p)
	fp := c.f.Eval(p)
	last := check[len(check)-1] // the residuals are needed up to here
	w.stamp++
	for _, l := range check {
		w.openAt[l] = w.stamp
	}
	e := fp
	for _, l := range active {
		if l > last {
			break
		}
		g := ev.gradeF(int(l))
		w.maxG[l] = max(w.maxG[l], math.Abs(g))
		next := e - g
		if w.openAt[l] == w.stamp && !c.seen[l] && (math.Abs(next)-math.Abs(e) > c.tol || e*next < 0 && math.Abs(next) > c.tol) {
			r.cands = append(r.cands, cand{l, slices.Clone(p)})
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

type intBox struct {
	x      []interval.I
	lo, up float64 // bounds of ∫|g_l| over x
}

// intHeap puts the box with the widest gap between its bounds first.
type intHeap []intBox

func (h intHeap) Len() int           { return len(h) }
func (h intHeap) Less(i, j int) bool { return h[i].up-h[i].lo > h[j].up-h[j].lo }
func (h intHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *intHeap) Push(x any)        { *h = append(*h, x.(intBox)) }
func (h *intHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// absIntegral is a lower bound of ∫|g_l| over the box, by best-first
// bisection of the boxes where g_l's enclosure holds 0 and is not [0, 0],
// until the bound is at least half the upper bound or the budget is spent.
func (c *certRun) absIntegral(ev *evaluator, l int, root []interval.I) float64 {
	var h intHeap
	lo, up := 0.0, 0.0
	push := func(x []interval.I) {
		ev.setBox(x)
		G := ev.gradeI(l)
		if G == zeroI {
			return
		}
		vol := 1.0
		for i := range x {
			vol *= x[i].Hi - x[i].Lo
		}
		b := intBox{x, G.Mig() * vol * (1 - 1e-12), G.Mag() * vol * (1 + 1e-12)}
		if !G.Valid() {
			b.up = math.Inf(1)
		}
		lo, up = lo+b.lo, up+b.up
		heap.Push(&h, b)
	}
	push(root)
	for n := 1; len(h) > 0 && lo < up/2 && n < 4096; n += 2 {
		b := heap.Pop(&h).(intBox)
		lo, up = lo-b.lo, up-b.up
		k, w := 0, -1.0
		for i := range b.x {
			if r := (b.x[i].Hi - b.x[i].Lo) / (root[i].Hi - root[i].Lo); r > w {
				k, w = i, r
			}
		}
		mid := b.x[k].Lo/2 + b.x[k].Hi/2
		x1, x2 := slices.Clone(b.x), slices.Clone(b.x)
		x1[k].Hi, x2[k].Lo = mid, mid
		push(x1)
		push(x2)
	}
	// The running sums were rounded to nearest: recompute the lower one.
	lo = 0
	for _, b := range h {
		lo += b.lo
	}
	return lo * (1 - 1e-9)
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
func (c *certRun) sup(ev *evaluator, root []interval.I, end int) (upper, seen float64, boxes int) {
	active := make([]int32, end)
	for l := range active {
		active[l] = int32(l)
	}
	eval := func(x []interval.I, act []int32) (float64, []int32, float64) {
		mv := c.newMV(x)
		mv.setBox(ev, x)
		var acc resAcc
		var keep []int32
		for _, l := range act {
			if mv.add(ev, &acc, l) != zeroI {
				keep = append(keep, l)
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
