package construct

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl/formula"
	"github.com/mgdl/mgdl/tensor"
)

// Target is a function on a box, for building and checking the scheme.
type Target struct {
	// Name is the key used on the command line, e.g. "sin10" (empty for a
	// formula given directly).
	Name string
	// Class is one of "smooth", "oscillatory", "kink", "cusp" or
	// "discontinuous" (empty for a formula given directly).
	Class string
	// Description states the formula and the box.
	Description string
	// Box is the domain; its dimension is the target's.
	Box Box
	// F evaluates the target at a point of the box.
	F func(x []float64) float64
	// Formula is the target as an expression (nil for a target given only
	// as a Go function): it gives rigorous enclosures over boxes, which
	// BuildCertified and verify.Certify need.
	Formula *formula.Formula
}

// Dim returns the input dimension.
func (t Target) Dim() int { return t.Box.Dim() }

// named is a library target: a formula on a box.
func named(name, class, expr, where string, box Box) Target {
	f := formula.MustParse(expr)
	return Target{Name: name, Class: class, Description: expr + " on " + where, Box: box, F: f.Eval, Formula: f}
}

var targets = []Target{
	named("sin10", "smooth", "sin(10*x) + 0.3*x", "[0,1] (the reference case of docs/CONSTRUCTIVE.md)", UnitBox(1)),
	named("runge", "smooth", "1/(1 + 25*x^2)", "[-1,1] (a box other than the unit cube)", Box{Lo: []float64{-1}, Hi: []float64{1}}),
	named("chirp", "oscillatory", "sin(20*pi*x*x)", "[0,1]: the frequency grows from 0 to 20 periods per unit", UnitBox(1)),
	named("sin50", "oscillatory", "sin(50*x)", "[0,1]", UnitBox(1)),
	named("kinks", "kink", "abs(x - 0.3) - 2*abs(x - 0.62) + x", "[0,1]: two kinks off the dyadic grid", UnitBox(1)),
	named("sqrt-cusp", "cusp", "sqrt(abs(x - 1/3))", "[0,1]: Hölder-½, infinite slope at 1/3", UnitBox(1)),
	named("step", "discontinuous", "x >= 1/pi ? 1 : 0", "[0,1]: not continuous, so uniform convergence is not promised", UnitBox(1)),
	named("sin2d", "smooth", "sin(2*pi*x)*cos(2*pi*y) + 0.5*(x - y)", "[0,1]² (the 2-D reference case)", UnitBox(2)),
	named("cone2d", "cusp", "sqrt(hypot(x - 0.4, y - 0.55))", "[0,1]²", UnitBox(2)),
	named("kink2d", "kink", "abs(x + y - 0.9) - 0.5*abs(x - 0.35)", "[0,1]²: kinks along a diagonal and a vertical line off the grid", UnitBox(2)),
	named("wave2d", "oscillatory", "sin(6*pi*(x + y*y))", "[-1,1]×[0,1]", Box{Lo: []float64{-1, 0}, Hi: []float64{1, 1}}),
	named("disk2d", "discontinuous", "hypot(x - 0.5, y - 0.5) < 0.3 ? 1 : 0", "[0,1]²: the indicator of a disk", UnitBox(2)),
	named("gauss3d", "smooth", "exp(-4*((x - 0.3)^2 + (y - 0.5)^2 + (z - 0.7)^2)) - 0.5", "[0,1]³", UnitBox(3)),
	named("bump3d", "smooth", "exp(-((x - 0.3)^2 + (y - 0.5)^2 + (z - 0.7)^2))", "[0,1]³: a wide Gaussian bump", UnitBox(3)),
	named("cusp3d", "cusp", "pow(hypot(hypot(x - 0.4, y - 0.55), z - 0.45), 0.75)", "[0,1]³: Hölder-¾ at an interior point, infinite slope there", UnitBox(3)),
	named("kink3d", "kink", "abs(x + y - z - 0.3) - 0.5*abs(y - 0.6)", "[0,1]³", UnitBox(3)),
	named("ridge4d", "smooth", "cos(pi*(x + y + z + w)/2)", "[0,1]⁴", UnitBox(4)),
}

// Targets returns the library of targets, in a fixed order.
func Targets() []Target { return slices.Clone(targets) }

// LookupTarget returns the target called name.
func LookupTarget(name string) (Target, error) {
	for _, t := range targets {
		if strings.EqualFold(t.Name, name) {
			return t, nil
		}
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	return Target{}, fmt.Errorf("unknown target %q (known: %s)", name, strings.Join(names, ", "))
}

// ParseTarget returns the library target called s, or else the formula s
// (package formula) on box; a nil box means the unit cube of the formula's
// dimension. A formula's dimension must match the box's.
func ParseTarget(s string, box *Box) (Target, error) {
	if t, err := LookupTarget(s); err == nil {
		if box != nil {
			return Target{}, fmt.Errorf("target %q is a library target with its own box; --box applies to a formula", s)
		}
		return t, nil
	}
	if isName(s) {
		if _, err := formula.Parse(s); err != nil {
			_, lerr := LookupTarget(s)
			return Target{}, lerr
		}
	}
	f, err := formula.Parse(s)
	if err != nil {
		return Target{}, err
	}
	b := UnitBox(f.Dim())
	if box != nil {
		b = *box
		if err := b.Validate(); err != nil {
			return Target{}, err
		}
		if b.Dim() < f.Dim() {
			return Target{}, fmt.Errorf("formula %q uses %d variables but the box has %d sides", s, f.Dim(), b.Dim())
		}
	}
	if b.Dim() > MaxDim {
		return Target{}, fmt.Errorf("formula %q: the box has %d sides; at most %d", s, b.Dim(), MaxDim)
	}
	return Target{Description: s + " on " + b.String(), Box: b, F: f.Eval, Formula: f}, nil
}

// isName reports whether s looks like a library target's name rather than a
// formula (letters, digits and '-' only, with a letter first).
func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && (r >= '0' && r <= '9' || r == '-')) {
			return false
		}
	}
	return true
}

// Grid returns the m^d points of the uniform grid of box with m points per
// side (corners included), the first coordinate varying slowest, as an
// (m^d)×d matrix. It panics if m < 2.
func Grid(box Box, m int) *tensor.Dense[float64] {
	if m < 2 {
		panic(fmt.Sprintf("construct: grid needs at least 2 points per side, got %d", m))
	}
	d := box.Dim()
	n := 1
	for range d {
		n *= m
	}
	x := tensor.New[float64](n, d)
	for p := range n {
		r := p
		for i := d - 1; i >= 0; i-- {
			k := r % m
			r /= m
			v := box.Lo[i] + (box.Hi[i]-box.Lo[i])*(float64(k)/float64(m-1))
			if k == m-1 {
				v = box.Hi[i]
			}
			x.Data[p*d+i] = v
		}
	}
	return x
}

// RandomPoints returns n points drawn uniformly from box with the given
// seed, as an n×d matrix.
func RandomPoints(box Box, n int, seed uint64) *tensor.Dense[float64] {
	rng := rand.New(rand.NewPCG(seed, 0x636f6e73)) // stream "cons"
	d := box.Dim()
	x := tensor.New[float64](n, d)
	for p := range n {
		for i := range d {
			x.Data[p*d+i] = box.Lo[i] + (box.Hi[i]-box.Lo[i])*rng.Float64()
		}
	}
	return x
}

// Eval returns f at every row of x.
func Eval(f func([]float64) float64, x *tensor.Dense[float64]) []float64 {
	y := make([]float64, x.Rows)
	for p := range y {
		y[p] = f(x.Row(p))
	}
	return y
}

// ReadCSV reads samples from a CSV file with a header row: one row per
// point, the coordinates first and the target value in the last column.
// Every cell must be a finite number; the error names the line and column
// of the first that is not.
func ReadCSV(r io.Reader) (*tensor.Dense[float64], []float64, error) {
	cr := csv.NewReader(r)
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("csv: empty file (want a header row, then one row per point)")
	}
	if err != nil {
		return nil, nil, fmt.Errorf("csv: %w", err)
	}
	cols := len(head)
	if cols < 2 {
		return nil, nil, fmt.Errorf("csv: header has %d column; want the coordinates, then the target", cols)
	}
	var xs, ys []float64
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("csv: %w", err)
		}
		line, _ := cr.FieldPos(0)
		for j, s := range rec {
			v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, nil, fmt.Errorf("csv: line %d column %d (%s): %q is not a finite number", line, j+1, head[j], s)
			}
			if j < cols-1 {
				xs = append(xs, v)
			} else {
				ys = append(ys, v)
			}
		}
	}
	if len(ys) == 0 {
		return nil, nil, fmt.Errorf("csv: no data rows after the header")
	}
	return tensor.FromSlice(len(ys), cols-1, xs), ys, nil
}
