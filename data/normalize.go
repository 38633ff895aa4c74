package data

import (
	"fmt"
	"math"

	"github.com/mgdl/mgdl/tensor"
)

// Standardizer maps each column j to (x_j - Mean[j]) / Scale[j].
type Standardizer struct {
	Mean  []float64 `json:"mean"`
	Scale []float64 `json:"scale"`
}

// FitStandardizer returns the column means and standard deviations of x
// (n×d, n ≥ 1, finite values). A column with zero spread gets scale 1, so
// that it maps to 0 rather than to NaN. Sums are taken of the values over
// the column's largest magnitude, so that columns near the float64 range
// (1e300) give finite means and scales instead of overflowing.
func FitStandardizer[T tensor.Float](x *tensor.Dense[T]) *Standardizer {
	d := x.Cols
	s := &Standardizer{Mean: make([]float64, d), Scale: make([]float64, d)}
	big := make([]float64, d)
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			big[j] = max(big[j], math.Abs(float64(v)))
		}
	}
	n := float64(x.Rows)
	mu := make([]float64, d) // mean / big
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			if big[j] > 0 {
				mu[j] += float64(v) / big[j]
			}
		}
	}
	for j := range mu {
		mu[j] /= n
		s.Mean[j] = mu[j] * big[j]
	}
	for i := 0; i < x.Rows; i++ {
		for j, v := range x.Row(i) {
			if big[j] > 0 {
				dv := float64(v)/big[j] - mu[j]
				s.Scale[j] += dv * dv
			}
		}
	}
	for j := range s.Scale {
		s.Scale[j] = math.Sqrt(s.Scale[j]/n) * big[j]
		if s.Scale[j] == 0 || math.IsNaN(s.Scale[j]) {
			s.Scale[j] = 1
		}
	}
	return s
}

// Apply standardises x in place. It panics if x's width differs from the
// standardizer's.
func Apply[T tensor.Float](s *Standardizer, x *tensor.Dense[T]) {
	if s == nil {
		return
	}
	s.width(x.Cols)
	for i := 0; i < x.Rows; i++ {
		r := x.Row(i)
		for j := range r {
			r[j] = T((float64(r[j]) - s.Mean[j]) / s.Scale[j])
		}
	}
}

// Invert undoes Apply on x in place: x_j·Scale[j] + Mean[j].
func Invert[T tensor.Float](s *Standardizer, x *tensor.Dense[T]) {
	if s == nil {
		return
	}
	s.width(x.Cols)
	for i := 0; i < x.Rows; i++ {
		r := x.Row(i)
		for j := range r {
			r[j] = T(float64(r[j])*s.Scale[j] + s.Mean[j])
		}
	}
}

func (s *Standardizer) width(d int) {
	if len(s.Mean) != d || len(s.Scale) != d {
		panic(fmt.Sprintf("data: standardizer has %d columns, matrix %d", len(s.Mean), d))
	}
}

// check returns an error unless s has d columns of finite means and
// positive finite scales.
func (s *Standardizer) check(what string, d int) error {
	if len(s.Mean) != d || len(s.Scale) != d {
		return fmt.Errorf("%s normalisation has %d means and %d scales for %d columns", what, len(s.Mean), len(s.Scale), d)
	}
	for j := range d {
		m, c := s.Mean[j], s.Scale[j]
		// A subnormal scale (below 2⁻¹⁰²²) overflows on division.
		if math.IsNaN(m) || math.IsInf(m, 0) || !(c >= 0x1p-1022) || math.IsInf(c, 0) {
			return fmt.Errorf("%s normalisation of column %d is mean %v, scale %v", what, j, m, c)
		}
	}
	return nil
}

// Normalization is the standardisation of inputs and targets learned from
// the training set. A nil field means that side is used as it is.
type Normalization struct {
	Inputs  *Standardizer `json:"inputs,omitempty"`
	Targets *Standardizer `json:"targets,omitempty"`
}

// Check returns an error unless n fits in inputs and out targets.
func (n *Normalization) Check(in, out int) error {
	if n == nil {
		return nil
	}
	if n.Inputs != nil {
		if err := n.Inputs.check("input", in); err != nil {
			return err
		}
	}
	if n.Targets != nil {
		if err := n.Targets.check("target", out); err != nil {
			return err
		}
	}
	return nil
}

// FitNormalization learns the standardisation of s.Train: of the inputs if
// inputs is set, of the targets if targets is set. It returns nil when
// neither is.
func FitNormalization[T tensor.Float](s Splits[T], inputs, targets bool) *Normalization {
	if !inputs && !targets {
		return nil
	}
	n := &Normalization{}
	if inputs {
		n.Inputs = FitStandardizer(s.Train.X)
	}
	if targets {
		n.Targets = FitStandardizer(s.Train.Y)
	}
	return n
}

// Normalize returns a copy of s with n applied to every split's inputs and
// targets (s is not changed).
func Normalize[T tensor.Float](n *Normalization, s Splits[T]) Splits[T] {
	if n == nil {
		return s
	}
	f := func(d Dataset[T]) Dataset[T] {
		if d.X == nil {
			return d
		}
		out := Dataset[T]{X: d.X, Y: d.Y}
		if n.Inputs != nil {
			out.X = d.X.Clone()
			Apply(n.Inputs, out.X)
		}
		if n.Targets != nil {
			out.Y = d.Y.Clone()
			Apply(n.Targets, out.Y)
		}
		return out
	}
	return Splits[T]{Train: f(s.Train), Val: f(s.Val), Test: f(s.Test)}
}
