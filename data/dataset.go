package data

import (
	"fmt"
	"math"

	"github.com/mgdl/mgdl/tensor"
)

// Dataset pairs inputs X (n×d) with targets Y (n×k). An empty Dataset has
// nil X and Y.
type Dataset[T tensor.Float] struct {
	X, Y *tensor.Dense[T]
}

// Len returns the number of samples (0 for an empty Dataset).
func (d Dataset[T]) Len() int {
	if d.X == nil {
		return 0
	}
	return d.X.Rows
}

// Validate checks that X and Y have the same number of rows, positive
// widths and only finite values. name is used in messages ("train", ...).
func (d Dataset[T]) Validate(name string) error {
	if d.X == nil && d.Y == nil {
		return nil
	}
	if d.X == nil || d.Y == nil {
		return fmt.Errorf("%s set: inputs and targets must both be given", name)
	}
	if d.X.Rows != d.Y.Rows {
		return fmt.Errorf("%s set: %d input rows but %d target rows", name, d.X.Rows, d.Y.Rows)
	}
	if d.X.Cols == 0 || d.Y.Cols == 0 {
		return fmt.Errorf("%s set: inputs have %d columns and targets %d; both need at least one", name, d.X.Cols, d.Y.Cols)
	}
	for _, m := range []struct {
		what string
		a    *tensor.Dense[T]
	}{{"input", d.X}, {"target", d.Y}} {
		for i, v := range m.a.Raw() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("%s set: %s row %d column %d is %v", name, m.what, i/m.a.Cols, i%m.a.Cols, v)
			}
		}
	}
	return nil
}

// Splits holds the training, validation and test sets. Validation and test
// may be empty.
type Splits[T tensor.Float] struct {
	Train, Val, Test Dataset[T]
}

// Validate checks every split and that all splits agree on widths. The
// training set must not be empty.
func (s Splits[T]) Validate() error {
	if s.Train.Len() == 0 {
		return fmt.Errorf("the training set is empty")
	}
	for _, p := range []struct {
		name string
		d    Dataset[T]
	}{{"train", s.Train}, {"validation", s.Val}, {"test", s.Test}} {
		if err := p.d.Validate(p.name); err != nil {
			return err
		}
		if p.d.Len() == 0 {
			continue
		}
		if p.d.X.Cols != s.Train.X.Cols || p.d.Y.Cols != s.Train.Y.Cols {
			return fmt.Errorf("%s set has %d inputs and %d targets per row, the training set %d and %d",
				p.name, p.d.X.Cols, p.d.Y.Cols, s.Train.X.Cols, s.Train.Y.Cols)
		}
	}
	return nil
}

// ConvertSplits returns a copy of s with element type U.
func ConvertSplits[U, T tensor.Float](s Splits[T]) Splits[U] {
	c := func(d Dataset[T]) Dataset[U] {
		if d.X == nil {
			return Dataset[U]{}
		}
		return Dataset[U]{X: tensor.Convert[U](d.X), Y: tensor.Convert[U](d.Y)}
	}
	return Splits[U]{Train: c(s.Train), Val: c(s.Val), Test: c(s.Test)}
}
