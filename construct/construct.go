package construct

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
)

// MaxDim is the largest input dimension Build accepts.
const MaxDim = 4

// Variant selects how the hats of a level are spread over grades.
type Variant int

const (
	// VariantA puts one hat a_z φ_z in each grade: every grade has width
	// d+4 and d+1 hidden layers. It is the default.
	VariantA Variant = iota
	// VariantB splits variant A's grades into d+1 grades of one hidden layer
	// each; the first d of them have a zero read-out (trivial grades that
	// only build features).
	VariantB
	// VariantC puts a whole level in one grade of width d+6 that accumulates
	// the hats in two nonnegative channels; its depth is (d+1)·(hats).
	VariantC
)

var variantNames = [...]string{VariantA: "A", VariantB: "B", VariantC: "C"}

// String returns "A", "B" or "C".
func (v Variant) String() string {
	if v < 0 || int(v) >= len(variantNames) {
		return fmt.Sprintf("Variant(%d)", int(v))
	}
	return variantNames[v]
}

// ParseVariant maps "A", "B" or "C" (any case) to a Variant.
func ParseVariant(s string) (Variant, error) {
	for i, n := range variantNames {
		if strings.EqualFold(s, n) {
			return Variant(i), nil
		}
	}
	return 0, fmt.Errorf("unknown variant %q (want A, B or C)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (v Variant) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (v *Variant) UnmarshalText(b []byte) error {
	p, err := ParseVariant(string(b))
	if err == nil {
		*v = p
	}
	return err
}

// Schedule selects the mesh size of each level.
type Schedule int

const (
	// Adaptive takes, at every level, the largest h = 2^-j for which one
	// correction at least halves the sup norm of the residual on the points.
	// It is the default and the rule the halving guarantee is proved for.
	Adaptive Schedule = iota
	// Dyadic takes h_k = 2^-(k+1) at level k = 1, 2, ... (no halving
	// guarantee; the other properties hold).
	Dyadic
)

var scheduleNames = [...]string{Adaptive: "adaptive", Dyadic: "dyadic"}

// String returns "adaptive" or "dyadic".
func (s Schedule) String() string {
	if s < 0 || int(s) >= len(scheduleNames) {
		return fmt.Sprintf("Schedule(%d)", int(s))
	}
	return scheduleNames[s]
}

// ParseSchedule maps "adaptive" or "dyadic" to a Schedule.
func ParseSchedule(s string) (Schedule, error) {
	for i, n := range scheduleNames {
		if strings.EqualFold(s, n) {
			return Schedule(i), nil
		}
	}
	return 0, fmt.Errorf("unknown schedule %q (want adaptive or dyadic)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (s Schedule) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Schedule) UnmarshalText(b []byte) error {
	p, err := ParseSchedule(string(b))
	if err == nil {
		*s = p
	}
	return err
}

// Box is the axis-aligned box [Lo_1,Hi_1]×...×[Lo_d,Hi_d].
type Box struct {
	Lo []float64 `json:"lo"`
	Hi []float64 `json:"hi"`
}

// UnitBox returns [0,1]^d.
func UnitBox(d int) Box {
	b := Box{Lo: make([]float64, d), Hi: make([]float64, d)}
	for i := range b.Hi {
		b.Hi[i] = 1
	}
	return b
}

// Dim returns d.
func (b Box) Dim() int { return len(b.Lo) }

// String writes b as [lo,hi]×[lo,hi]...
func (b Box) String() string {
	parts := make([]string, len(b.Lo))
	for i := range b.Lo {
		parts[i] = fmt.Sprintf("[%g,%g]", b.Lo[i], b.Hi[i])
	}
	return strings.Join(parts, "×")
}

// ParseBox reads a box written as lo:hi,lo:hi,... (one lo:hi per side).
func ParseBox(s string) (Box, error) {
	var b Box
	for i, side := range strings.Split(s, ",") {
		lo, hi, ok := strings.Cut(strings.TrimSpace(side), ":")
		if !ok {
			return Box{}, fmt.Errorf("box %q: side %d is %q; want lo:hi", s, i+1, side)
		}
		l, err1 := strconv.ParseFloat(strings.TrimSpace(lo), 64)
		h, err2 := strconv.ParseFloat(strings.TrimSpace(hi), 64)
		if err1 != nil || err2 != nil {
			return Box{}, fmt.Errorf("box %q: side %d is %q; want two numbers lo:hi", s, i+1, side)
		}
		b.Lo, b.Hi = append(b.Lo, l), append(b.Hi, h)
	}
	if len(b.Lo) > MaxDim {
		return Box{}, fmt.Errorf("box %q has %d sides; at most %d", s, len(b.Lo), MaxDim)
	}
	if err := b.Validate(); err != nil {
		return Box{}, err
	}
	return b, nil
}

// Validate returns an error unless Lo and Hi have the same length and
// Lo_i < Hi_i are finite.
func (b Box) Validate() error {
	if len(b.Lo) != len(b.Hi) {
		return fmt.Errorf("box: %d lower and %d upper bounds", len(b.Lo), len(b.Hi))
	}
	for i := range b.Lo {
		if !(b.Lo[i] < b.Hi[i]) || math.IsInf(b.Lo[i], 0) || math.IsInf(b.Hi[i], 0) {
			return fmt.Errorf("box: side %d is [%v, %v]; need finite lo < hi", i+1, b.Lo[i], b.Hi[i])
		}
	}
	return nil
}

// Options configure Build. The zero value is not usable: set Levels or Tol.
type Options struct {
	// Variant is how a level is spread over grades (VariantA by default).
	Variant Variant `json:"variant"`
	// Schedule picks each level's mesh size (Adaptive by default).
	Schedule Schedule `json:"schedule"`
	// Levels is the largest number of levels (0: up to 64 when Tol is set).
	Levels int `json:"levels"`
	// Tol stops the construction once max|e| on the points is ≤ Tol (0: run
	// all Levels).
	Tol float64 `json:"tol"`
	// MaxGrades stops the construction before a level that would take the
	// model past this many grades (0: no limit). The result then has fewer
	// levels and Result.Stopped says why.
	MaxGrades int `json:"max_grades"`
	// MaxRefine is the finest mesh the adaptive rule tries, h = 2^-MaxRefine
	// (0: 30, or less where the node numbering would overflow for large d).
	MaxRefine int `json:"max_refine"`
	// MinCoef drops coefficients with |a_z| ≤ MinCoef (0: only exact
	// zeros). Dropping a coefficient is always balanced (0 lies between 0
	// and r), so the guarantees are kept; it avoids grades of round-off
	// size on piecewise-linear targets.
	MinCoef float64 `json:"min_coef,omitempty"`
	// Box is the domain, mapped affinely onto [0,1]^d inside the model. Nil
	// bounds mean the bounding box of the points.
	Box Box `json:"box"`
}

// Level describes one level of the construction. Norms are those of the
// residual on the coefficient points after the level, computed from the
// hats directly (package verify measures the network itself).
type Level struct {
	// H is the mesh size (in the unit cube).
	H float64 `json:"h"`
	// Hats is the number of nodes with a nonzero coefficient.
	Hats int `json:"hats"`
	// Grades is the number of grades the level added; GradeEnd the number
	// of grades of the model after it.
	Grades   int `json:"grades"`
	GradeEnd int `json:"grade_end"`
	// Sup and RMS are max|e| and sqrt(mean e²) after the level. For a
	// certified level Sup is a certified upper bound of max|e| over the
	// whole box, SupLower the largest |e| seen at a point (so the true sup
	// norm lies between them), and RMS is taken over the grid's nodes.
	Sup float64 `json:"sup"`
	RMS float64 `json:"rms"`
	// Certified is set for the levels of BuildCertified, with the work
	// they took in Cert.
	Certified bool       `json:"certified,omitempty"`
	SupLower  float64    `json:"sup_lower,omitempty"`
	Cert      *CertStats `json:"cert,omitempty"`
}

// Result is a constructed model and how it was built.
type Result struct {
	// Model is the scheme as an ordinary MGDL model. A construction that
	// needed no hat (f ≡ 0 on the points) gets one grade with zero output,
	// so that the model can still be evaluated.
	Model *model.Model[float64]
	// Options are the options used, with the box filled in.
	Options Options
	// Sup0 and RMS0 are the norms of the target on the points.
	Sup0, RMS0 float64
	// Levels lists the levels in order.
	Levels []Level
	// Residual is e on the points after the last level (from the hats).
	Residual []float64
	// Stopped says why the construction ended: "levels", "tol", "zero",
	// "max-grades", "limits" (the next level would exceed the table of
	// limits of package limits; LimitNote says which) or "cancelled".
	Stopped   string
	LimitNote string `json:"limit_note,omitempty"`
}

// LevelEnds returns the number of grades after each level (Level.GradeEnd),
// the level boundaries verify.Options takes.
func (r *Result) LevelEnds() []int {
	out := make([]int, len(r.Levels))
	for i, l := range r.Levels {
		out[i] = l.GradeEnd
	}
	return out
}

// ErrNoHalving is returned (wrapped) when the adaptive rule finds no mesh
// size that halves the sup norm, which happens when two points closer than
// the finest mesh carry different values.
var ErrNoHalving = errors.New("construct: no mesh size halves the residual")

// Build constructs the scheme for the values y (length n) at the points x
// (n×d, 1 ≤ d ≤ MaxDim). Points outside opt.Box, non-finite values and
// invalid options are errors. It panics if len(y) != x.Rows.
// The context is checked between levels; on cancellation the levels built so
// far are returned with the context's error.
func Build(ctx context.Context, x *tensor.Dense[float64], y []float64, opt Options) (*Result, error) {
	if len(y) != x.Rows {
		panic(fmt.Sprintf("construct: %d points but %d values", x.Rows, len(y)))
	}
	n, d := x.Rows, x.Cols
	if d < 1 || d > MaxDim {
		return nil, fmt.Errorf("construct: inputs have %d columns; want 1 to %d", d, MaxDim)
	}
	if n == 0 {
		return nil, fmt.Errorf("construct: no points")
	}
	for i, v := range x.Raw() {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("construct: point %d coordinate %d is %v", i/d+1, i%d+1, v)
		}
	}
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("construct: value %d is %v", i+1, v)
		}
	}
	if err := opt.normalize(); err != nil {
		return nil, err
	}
	maxJ := 62/d - 1
	if d == 1 {
		maxJ = 52
	}
	if opt.MaxRefine == 0 || opt.MaxRefine > maxJ {
		opt.MaxRefine = min(30, maxJ)
	}
	if opt.Box.Lo == nil && opt.Box.Hi == nil {
		opt.Box = BoundingBox(x)
	} else {
		opt.Box = Box{Lo: slices.Clone(opt.Box.Lo), Hi: slices.Clone(opt.Box.Hi)}
	}
	if opt.Box.Dim() != d {
		return nil, fmt.Errorf("construct: box has dimension %d, points %d", opt.Box.Dim(), d)
	}
	if err := opt.Box.Validate(); err != nil {
		return nil, fmt.Errorf("construct: %w", err)
	}
	if opt.Schedule == Dyadic && opt.Levels+1 > maxJ {
		return nil, fmt.Errorf("construct: the dyadic schedule allows at most %d levels in dimension %d", maxJ-1, d)
	}

	// Unit coordinates.
	u := make([]float64, n*d)
	for p := range n {
		for i := range d {
			v := x.Data[p*d+i]
			if v < opt.Box.Lo[i] || v > opt.Box.Hi[i] {
				return nil, fmt.Errorf("construct: point %d coordinate %d = %v is outside [%v, %v]", p+1, i+1, v, opt.Box.Lo[i], opt.Box.Hi[i])
			}
			u[p*d+i] = (v - opt.Box.Lo[i]) / (opt.Box.Hi[i] - opt.Box.Lo[i])
		}
	}

	e := slices.Clone(y)
	res := &Result{Options: opt, Stopped: "levels"}
	res.Sup0, res.RMS0 = supRMS(e)
	b := &builder{d: d, box: opt.Box, variant: opt.Variant}
	ws := newWorkspace(n, d)
	ws.minCoef = opt.MinCoef
	for k := 1; k <= opt.Levels; k++ {
		if err := ctx.Err(); err != nil {
			res.Stopped = "cancelled"
			res.finish(b, e)
			return res, err
		}
		sup, _ := supRMS(e)
		if sup == 0 {
			res.Stopped = "zero"
			break
		}
		if opt.Tol > 0 && sup <= opt.Tol {
			res.Stopped = "tol"
			break
		}
		var lv *levelPlan
		switch opt.Schedule {
		case Dyadic:
			lv = ws.plan(u, e, k+1)
		default:
			for j := 0; j <= opt.MaxRefine; j++ {
				lv = ws.plan(u, e, j)
				if lv.sup <= sup/2 {
					break
				}
				lv = nil
			}
			if lv == nil {
				res.finish(b, e)
				return res, fmt.Errorf("%w at level %d: tried h down to 2^-%d (points closer than that with different values?)", ErrNoHalving, k, opt.MaxRefine)
			}
		}
		if !b.tryLevel(lv, opt.MaxGrades, res) {
			break
		}
		copy(e, lv.next)
		s, r := supRMS(e)
		res.Levels = append(res.Levels, Level{H: lv.h, Hats: len(lv.coef), Grades: b.gradesFor(len(lv.coef)), GradeEnd: len(b.grades), Sup: s, RMS: r})
	}
	res.finish(b, e)
	return res, nil
}

// normalize checks the options Build and BuildCertified share and sets
// Levels to 64 when only Tol is given.
func (opt *Options) normalize() error {
	if opt.Variant < VariantA || opt.Variant > VariantC {
		return fmt.Errorf("construct: invalid variant %d", int(opt.Variant))
	}
	if opt.Schedule < Adaptive || opt.Schedule > Dyadic {
		return fmt.Errorf("construct: invalid schedule %d", int(opt.Schedule))
	}
	if opt.Levels < 0 || opt.Tol < 0 || opt.MaxGrades < 0 || opt.MaxRefine < 0 || opt.MinCoef < 0 || math.IsNaN(opt.Tol) || math.IsNaN(opt.MinCoef) {
		return fmt.Errorf("construct: levels, max grades and max refine must not be negative, tol and min coef must be numbers ≥ 0")
	}
	if opt.Levels == 0 {
		if opt.Tol == 0 {
			return fmt.Errorf("construct: set a number of levels or a tolerance")
		}
		opt.Levels = 64
	}
	return nil
}

// tryLevel adds the grades of level lv unless they would take the model
// past maxGrades (> 0) or the table of limits; then it leaves the model as
// it was, records why in res and returns false.
func (b *builder) tryLevel(lv *levelPlan, maxGrades int, res *Result) bool {
	if maxGrades > 0 && len(b.grades)+b.gradesFor(len(lv.coef)) > maxGrades {
		res.Stopped = "max-grades"
		return false
	}
	before := len(b.grades)
	b.addLevel(lv)
	if reason := b.overLimits(before); reason != "" {
		// The level would make a model no model file holds: stop before
		// it, with a model that can be saved.
		b.grades = b.grades[:before]
		res.Stopped = "limits"
		res.LimitNote = fmt.Sprintf("level %d not added: %s", len(res.Levels)+1, reason)
		return false
	}
	return true
}

func (r *Result) finish(b *builder, e []float64) {
	r.Residual = e
	if len(b.grades) == 0 {
		b.addZeroGrade()
	}
	r.Model = &model.Model[float64]{Grades: b.grades}
}

// BoundingBox returns the smallest box holding the rows of x (n×d); a side
// of zero length is widened to [v-½, v+½].
func BoundingBox(x *tensor.Dense[float64]) Box {
	d := x.Cols
	b := Box{Lo: make([]float64, d), Hi: make([]float64, d)}
	for i := range d {
		b.Lo[i], b.Hi[i] = math.Inf(1), math.Inf(-1)
	}
	for p := range x.Rows {
		for i := range d {
			v := x.Data[p*d+i]
			b.Lo[i], b.Hi[i] = min(b.Lo[i], v), max(b.Hi[i], v)
		}
	}
	for i := range d {
		if b.Lo[i] == b.Hi[i] { // a flat side: widen it so the box is valid
			b.Lo[i], b.Hi[i] = b.Lo[i]-0.5, b.Hi[i]+0.5
		}
	}
	return b
}

func supRMS(e []float64) (sup, rms float64) {
	var s float64
	for _, v := range e {
		sup = max(sup, math.Abs(v))
		s += v * v
	}
	return sup, math.Sqrt(s / float64(len(e)))
}

// Hat returns the Freudenthal (Kuhn) hat φ(y) = max(0, 1 - max{0,y_1..y_d} +
// min{0,y_1..y_d}) in scaled coordinates y = (x - z)/h. It is nonnegative,
// supported in the open cube (-1,1)^d, and the hats of the nodes of hZ^d sum
// to 1 and reproduce linear functions.
func Hat(y []float64) float64 {
	mx, mn := 0.0, 0.0
	for _, v := range y {
		mx, mn = max(mx, v), min(mn, v)
	}
	return max(0, 1.0-mx+mn)
}

// levelPlan is one level: the mesh, the nonzero coefficients in node order
// and the residual the level leaves on the points.
type levelPlan struct {
	j    int
	h    float64
	node [][]int // node multi-indices (z = node·h), lexicographic order
	coef []float64
	next []float64 // residual after the level
	sup  float64   // max |next|
}

// entry links a point to one node whose open support contains it.
type entry struct {
	key int64
	p   int32
	phi float64
}

type workspace struct {
	d       int
	minCoef float64
	entries []entry
	next    []float64
}

func newWorkspace(n, d int) *workspace {
	return &workspace{d: d, entries: make([]entry, 0, n<<d), next: make([]float64, n)}
}

// plan computes the balanced coefficients of residual e on the mesh
// h = 2^-j: a_z = min_{S_z} e⁺ - min_{S_z} e⁻ over the points in the open
// support of φ_z, and the residual e - Σ a_z φ_z.
func (w *workspace) plan(u, e []float64, j int) *levelPlan {
	d := w.d
	h := math.Ldexp(1, -j)
	K := int64(1) << j
	n := len(e)
	w.entries = w.entries[:0]
	var cand [MaxDim][2]int64
	var ncand [MaxDim]int
	var y [MaxDim]float64
	for p := range n {
		for i := range d {
			t := u[p*d+i] * float64(K) // exact: K is a power of two
			f := math.Floor(t)
			c := 0
			for _, z := range [2]float64{f, f + 1} {
				if z >= 0 && z <= float64(K) && math.Abs(u[p*d+i]-z*h) < h {
					cand[i][c] = int64(z)
					c++
				}
			}
			ncand[i] = c
		}
		// Enumerate the product of the candidates.
		var idx [MaxDim]int
		for {
			var key int64
			for i := range d {
				z := cand[i][idx[i]]
				key = key*(K+1) + z
				y[i] = (u[p*d+i] - float64(z)*h) / h
			}
			w.entries = append(w.entries, entry{key: key, p: int32(p), phi: Hat(y[:d])})
			i := d - 1
			for ; i >= 0; i-- {
				idx[i]++
				if idx[i] < ncand[i] {
					break
				}
				idx[i] = 0
			}
			if i < 0 {
				break
			}
		}
	}
	slices.SortFunc(w.entries, func(a, b entry) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		return int(a.p - b.p)
	})
	lv := &levelPlan{j: j, h: h, next: make([]float64, n)}
	copy(lv.next, e)
	for s := 0; s < len(w.entries); {
		t := s
		minPos, minNeg := math.Inf(1), math.Inf(1)
		for ; t < len(w.entries) && w.entries[t].key == w.entries[s].key; t++ {
			r := e[w.entries[t].p]
			minPos = min(minPos, max(r, 0))
			minNeg = min(minNeg, max(-r, 0))
		}
		a := minPos - minNeg
		if a != 0 && math.Abs(a) > w.minCoef {
			key := w.entries[s].key
			z := make([]int, d)
			for i := d - 1; i >= 0; i-- {
				z[i] = int(key % (K + 1))
				key /= K + 1
			}
			lv.node = append(lv.node, z)
			lv.coef = append(lv.coef, a)
			for q := s; q < t; q++ {
				lv.next[w.entries[q].p] -= a * w.entries[q].phi
			}
		}
		s = t
	}
	lv.sup, _ = supRMS(lv.next)
	return lv
}

// Channels of a grade: x_1..x_d, then a, b, p, q, then (variant C) S+, S-.
type builder struct {
	d       int
	box     Box
	variant Variant
	grades  []*nn.MLP[float64]
}

// width returns the grades' hidden width.
func (b *builder) width() int {
	if b.variant == VariantC {
		return b.d + 6
	}
	return b.d + 4
}

// gradesFor returns the number of grades a level with hats nonzero
// coefficients adds.
// overLimits says which limit the grades from index from on break, or "".
func (b *builder) overLimits(from int) string {
	if len(b.grades) > limits.MaxGrades {
		return fmt.Sprintf("%d grades, more than the %d a model may have", len(b.grades), limits.MaxGrades)
	}
	var params int64
	for i, g := range b.grades {
		params += int64(g.NumParams())
		if i >= from && len(g.Layers) > limits.MaxLayers {
			return fmt.Sprintf("its grade would have %d layers, more than the %d a grade may have (variant A or B makes shallower grades)", len(g.Layers), limits.MaxLayers)
		}
	}
	if params > limits.MaxParams {
		return fmt.Sprintf("%d parameters, more than the %d a model may have", params, limits.MaxParams)
	}
	return ""
}

func (b *builder) gradesFor(hats int) int {
	switch b.variant {
	case VariantB:
		return hats * (b.d + 1)
	case VariantC:
		if hats > 0 {
			return 1
		}
		return 0
	}
	return hats
}

// inWidth is the input width of the next grade.
func (b *builder) inWidth() int {
	if len(b.grades) == 0 {
		return b.d
	}
	return b.width()
}

func (b *builder) newGrade(hidden int) *nn.MLP[float64] {
	widths := []int{b.inWidth()}
	for range hidden {
		widths = append(widths, b.width())
	}
	widths = append(widths, 1)
	return nn.NewMLP[float64](widths, nn.ReLU)
}

func (b *builder) addLevel(lv *levelPlan) {
	d := b.d
	z := make([]float64, d)
	switch b.variant {
	case VariantA, VariantB:
		for k, node := range lv.node {
			for i := range node {
				z[i] = float64(node[i]) * lv.h
			}
			if b.variant == VariantA {
				g := b.newGrade(d + 1)
				raw := len(b.grades) == 0
				for s := 0; s <= d; s++ {
					b.hatLayer(&g.Layers[s], s, z, lv.h, raw && s == 0, 0)
				}
				g.Layers[d+1].W.Data[d] = lv.coef[k] // read-out a_z · a
				b.grades = append(b.grades, g)
				continue
			}
			for s := 0; s <= d; s++ {
				g := b.newGrade(1)
				b.hatLayer(&g.Layers[0], s, z, lv.h, len(b.grades) == 0, 0)
				if s == d {
					g.Layers[1].W.Data[d] = lv.coef[k]
				}
				b.grades = append(b.grades, g)
			}
		}
	case VariantC:
		if len(lv.node) == 0 {
			return
		}
		g := b.newGrade((d + 1) * len(lv.node))
		raw := len(b.grades) == 0
		prev := 0.0
		for k, node := range lv.node {
			for i := range node {
				z[i] = float64(node[i]) * lv.h
			}
			for s := 0; s <= d; s++ {
				fold := 0.0
				if s == 0 {
					fold = prev
				}
				b.hatLayer(&g.Layers[k*(d+1)+s], s, z, lv.h, raw && k == 0 && s == 0, fold)
			}
			prev = lv.coef[k]
		}
		out := g.Layers[len(g.Layers)-1].W.Data
		out[d] = prev // a_z · φ_z of the last hat
		out[d+4] = 1  // + S+
		out[d+5] = -1 // - S-
		b.grades = append(b.grades, g)
	}
}

// addZeroGrade appends a grade with the scheme's shape and zero output.
func (b *builder) addZeroGrade() {
	g := b.newGrade(1)
	b.hatLayer(&g.Layers[0], 0, make([]float64, b.d), 1, true, 0)
	b.grades = append(b.grades, g)
}

// hatLayer fills layer L as step s (0..d) of the hat block of node z with
// mesh h (docs/CONSTRUCTIVE.md, "Explicit weights"). raw means L reads the
// model input, which is mapped from the box to the unit cube here. For
// variant C, a layer with s == 0 folds fold·a (the previous hat of the same
// grade) into S+ (fold > 0) or S- (fold < 0); on every other layer S±
// pass through, except at the first hat of a grade, where they start at 0.
func (b *builder) hatLayer(L *nn.Layer[float64], s int, z []float64, h float64, raw bool, fold float64) {
	d := b.d
	W := L.Out
	A, B, P, Q, SP, SN := d, d+1, d+2, d+3, d+4, d+5
	set := func(in, out int, v float64) { L.W.Data[in*W+out] = v }
	scale, shift := 1.0, 0.0
	if raw {
		scale = 1 / (b.box.Hi[0] - b.box.Lo[0])
		shift = -b.box.Lo[0] * scale
	}
	for i := range d {
		if raw {
			sc := 1 / (b.box.Hi[i] - b.box.Lo[i])
			set(i, i, sc)
			L.B[i] = -b.box.Lo[i] * sc
		} else {
			set(i, i, 1)
		}
	}
	switch {
	case s == 0:
		set(0, B, scale/h)
		L.B[B] = (shift - z[0]) / h
		set(0, Q, -scale/h)
		L.B[Q] = (z[0] - shift) / h
	case s < d:
		set(A, A, 1)
		set(B, A, 1)
		set(P, P, 1)
		set(Q, P, 1)
		set(s, B, 1/h)
		set(A, B, -1)
		set(B, B, -1)
		L.B[B] = -z[s] / h
		set(s, Q, -1/h)
		set(P, Q, -1)
		set(Q, Q, -1)
		L.B[Q] = z[s] / h
	}
	if s == d {
		set(A, A, -1)
		set(B, A, -1)
		set(P, A, -1)
		set(Q, A, -1)
		L.B[A] = 1
	}
	if b.variant != VariantC || s == 0 && fold == 0 {
		return // S± start at 0 at the first hat of a grade
	}
	set(SP, SP, 1)
	set(SN, SN, 1)
	if s == 0 && fold > 0 {
		set(A, SP, fold)
	} else if s == 0 {
		set(A, SN, -fold)
	}
}
