package data

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mgdl/mgdl/tensor"
)

// Subset returns the rows idx of d as a new Dataset (copied).
func Subset[T tensor.Float](d Dataset[T], idx []int) Dataset[T] {
	out := Dataset[T]{X: tensor.New[T](len(idx), d.X.Cols), Y: tensor.New[T](len(idx), d.Y.Cols)}
	tensor.Gather(out.X, d.X, idx)
	tensor.Gather(out.Y, d.Y, idx)
	return out
}

// Split shuffles d's rows with seed and cuts them into training,
// validation and test sets holding the fractions 1-val-test, val and test
// of the rows (rounded to the nearest row). The same seed gives the same
// split. It returns an error if the fractions are out of range or leave
// the training set empty.
func Split[T tensor.Float](d Dataset[T], val, test float64, seed uint64) (Splits[T], error) {
	if !(val >= 0 && test >= 0 && val+test < 1) {
		return Splits[T]{}, fmt.Errorf("validation fraction %g and test fraction %g must be ≥ 0 with a sum below 1", val, test)
	}
	n := d.Len()
	nv := int(math.Round(val * float64(n)))
	nt := int(math.Round(test * float64(n)))
	if n-nv-nt < 1 {
		return Splits[T]{}, fmt.Errorf("%d rows leave no training rows after %d for validation and %d for test", n, nv, nt)
	}
	rng := rand.New(rand.NewPCG(seed, 0x73706c6974)) // stream "split"
	perm := rng.Perm(n)
	s := Splits[T]{Train: Subset(d, perm[nv+nt:])}
	if nv > 0 {
		s.Val = Subset(d, perm[:nv])
	}
	if nt > 0 {
		s.Test = Subset(d, perm[nv:nv+nt])
	}
	return s, nil
}
