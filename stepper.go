package mgdl

import (
	"math/rand/v2"

	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/tensor"
)

// Stepper exposes the inner loop of a grade — forward, squared loss,
// backward and optimizer update into reused buffers — for benchmarks and
// custom training loops. A step allocates nothing once warm.
type Stepper[T tensor.Float] struct{ f *fitter[T] }

// NewStepper returns a Stepper training net with a fresh optimizer of kind
// opt; seed drives minibatch shuffling.
func NewStepper[T tensor.Float](net *nn.MLP[T], opt optim.Kind, seed uint64) *Stepper[T] {
	return &Stepper[T]{f: newFitter(net, optim.New[T](opt), rand.New(rand.NewPCG(seed, 0)))}
}

// Step does one full-batch update on x (m×in) and y (m×out) at rate lr and
// returns the loss Σ(ŷ-y)²/(2m) before the update.
func (s *Stepper[T]) Step(x, y *tensor.Dense[T], lr float64) float64 {
	loss, _ := s.f.step(x, y, lr)
	return loss
}

// Epoch runs one epoch of reshuffled minibatches of size batch (0: full
// batch) and returns the mean loss.
func (s *Stepper[T]) Epoch(x, y *tensor.Dense[T], batch int, lr float64) float64 {
	loss, _ := s.f.epoch(x, y, batch, lr)
	return loss
}
