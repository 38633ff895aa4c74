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

	"github.com/mgdl/mgdl/tensor"
)

// Target is a function on a box, for building and checking the scheme.
type Target struct {
	// Name is the key used on the command line, e.g. "sin10".
	Name string
	// Class is one of "smooth", "oscillatory", "kink", "cusp" or
	// "discontinuous".
	Class string
	// Description states the formula and the box.
	Description string
	// Box is the domain; its dimension is the target's.
	Box Box
	// F evaluates the target at a point of the box.
	F func(x []float64) float64
}

// Dim returns the input dimension.
func (t Target) Dim() int { return t.Box.Dim() }

var targets = []Target{
	{Name: "sin10", Class: "smooth", Description: "sin(10x) + 0.3x on [0,1] (the reference case of docs/CONSTRUCTIVE.md)",
		Box: UnitBox(1), F: func(x []float64) float64 { return math.Sin(10*x[0]) + 0.3*x[0] }},
	{Name: "runge", Class: "smooth", Description: "1/(1+25x²) on [-1,1] (a box other than the unit cube)",
		Box: Box{Lo: []float64{-1}, Hi: []float64{1}}, F: func(x []float64) float64 { return 1 / (1 + 25*x[0]*x[0]) }},
	{Name: "chirp", Class: "oscillatory", Description: "sin(20π x²) on [0,1]: the frequency grows from 0 to 20 periods per unit",
		Box: UnitBox(1), F: func(x []float64) float64 { return math.Sin(20 * math.Pi * x[0] * x[0]) }},
	{Name: "sin50", Class: "oscillatory", Description: "sin(50x) on [0,1]",
		Box: UnitBox(1), F: func(x []float64) float64 { return math.Sin(50 * x[0]) }},
	{Name: "kinks", Class: "kink", Description: "|x - 0.3| - 2|x - 0.62| + x on [0,1]: two kinks off the dyadic grid",
		Box: UnitBox(1), F: func(x []float64) float64 { return math.Abs(x[0]-0.3) - 2*math.Abs(x[0]-0.62) + x[0] }},
	{Name: "sqrt-cusp", Class: "cusp", Description: "|x - 1/3|^½ on [0,1]: Hölder-½, infinite slope at 1/3",
		Box: UnitBox(1), F: func(x []float64) float64 { return math.Sqrt(math.Abs(x[0] - 1.0/3)) }},
	{Name: "step", Class: "discontinuous", Description: "1 for x ≥ 1/π, 0 below, on [0,1]: not continuous, so uniform convergence between the points is not promised",
		Box: UnitBox(1), F: func(x []float64) float64 {
			if x[0] >= 1/math.Pi {
				return 1
			}
			return 0
		}},
	{Name: "sin2d", Class: "smooth", Description: "sin(2πx)cos(2πy) + 0.5(x - y) on [0,1]² (the 2-D reference case)",
		Box: UnitBox(2), F: func(x []float64) float64 {
			return math.Sin(2*math.Pi*x[0])*math.Cos(2*math.Pi*x[1]) + 0.5*(x[0]-x[1])
		}},
	{Name: "cone2d", Class: "cusp", Description: "‖x - (0.4, 0.55)‖^½ on [0,1]²",
		Box: UnitBox(2), F: func(x []float64) float64 { return math.Sqrt(math.Hypot(x[0]-0.4, x[1]-0.55)) }},
	{Name: "wave2d", Class: "oscillatory", Description: "sin(6π(x + y²)) on [-1,1]×[0,1]",
		Box: Box{Lo: []float64{-1, 0}, Hi: []float64{1, 1}}, F: func(x []float64) float64 { return math.Sin(6 * math.Pi * (x[0] + x[1]*x[1])) }},
	{Name: "disk2d", Class: "discontinuous", Description: "1 inside the disk ‖x - (0.5,0.5)‖ < 0.3, 0 outside, on [0,1]²",
		Box: UnitBox(2), F: func(x []float64) float64 {
			if math.Hypot(x[0]-0.5, x[1]-0.5) < 0.3 {
				return 1
			}
			return 0
		}},
	{Name: "gauss3d", Class: "smooth", Description: "exp(-4‖x - (0.3,0.5,0.7)‖²) - 0.5 on [0,1]³",
		Box: UnitBox(3), F: func(x []float64) float64 {
			a, b, c := x[0]-0.3, x[1]-0.5, x[2]-0.7
			return math.Exp(-4*(a*a+b*b+c*c)) - 0.5
		}},
	{Name: "kink3d", Class: "kink", Description: "|x + y - z - 0.3| - 0.5|y - 0.6| on [0,1]³",
		Box: UnitBox(3), F: func(x []float64) float64 { return math.Abs(x[0]+x[1]-x[2]-0.3) - 0.5*math.Abs(x[1]-0.6) }},
	{Name: "ridge4d", Class: "smooth", Description: "cos(π(x₁ + x₂ + x₃ + x₄)/2) on [0,1]⁴",
		Box: UnitBox(4), F: func(x []float64) float64 { return math.Cos(math.Pi * (x[0] + x[1] + x[2] + x[3]) / 2) }},
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
