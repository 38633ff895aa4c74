package mgdl

import (
	"fmt"

	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
)

// GradeSpec describes one grade and how it is trained.
type GradeSpec struct {
	// Widths lists the layer widths, input first and output last: [1,256,256,1]
	// is a grade with two hidden layers of 256. Grade l+1's first width must
	// equal grade l's last hidden width.
	Widths []int `json:"widths"`
	// Activation of the hidden layers (ReLU by default).
	Activation nn.Activation `json:"activation"`
	// Init is the weight initialisation (Xavier by default).
	Init nn.Init `json:"init"`
	// Epochs of training.
	Epochs int `json:"epochs"`
	// BatchSize is the minibatch size; 0 (or ≥ the training size) means full batch.
	// Minibatches are reshuffled every epoch from the run's seed.
	BatchSize int `json:"batch_size"`
	// LR is the learning-rate schedule (constant or exponential decay).
	LR optim.Schedule `json:"lr"`
	// Optimizer is Adam (default; moments reset at the start of the grade)
	// or plain gradient descent.
	Optimizer optim.Kind `json:"optimizer"`
}

// Hidden returns the hidden widths (all but the first and last).
func (g GradeSpec) Hidden() []int { return g.Widths[1 : len(g.Widths)-1] }

// Config is a training run: the grades, in order, and the seed.
type Config struct {
	Grades []GradeSpec `json:"grades"`
	// Seed drives initialisation and minibatch shuffling. The same seed,
	// backend and thread count give bit-identical results.
	Seed uint64 `json:"seed"`
}

// Validate checks the grade chain against input width in and target width
// out.
func (c Config) Validate(in, out int) error {
	if len(c.Grades) == 0 {
		return fmt.Errorf("no grades to train")
	}
	for l, g := range c.Grades {
		name := fmt.Sprintf("grade %d", l+1)
		if len(g.Widths) < 2 {
			return fmt.Errorf("%s: widths %v need at least an input and an output", name, g.Widths)
		}
		for _, w := range g.Widths {
			if w <= 0 {
				return fmt.Errorf("%s: widths %v must be positive", name, g.Widths)
			}
		}
		if l > 0 && len(g.Widths) < 3 && l < len(c.Grades)-1 {
			return fmt.Errorf("%s: widths %v have no hidden layer, so no later grade can read its features", name, g.Widths)
		}
		want := in
		if l > 0 {
			prev := c.Grades[l-1].Widths
			want = prev[len(prev)-2]
		}
		if g.Widths[0] != want {
			if l == 0 {
				return fmt.Errorf("%s: input width %d, but the data have %d input columns", name, g.Widths[0], in)
			}
			return fmt.Errorf("%s: input width %d, but grade %d's last hidden layer has width %d", name, g.Widths[0], l, want)
		}
		if g.Widths[len(g.Widths)-1] != out {
			return fmt.Errorf("%s: output width %d, but the data have %d target columns", name, g.Widths[len(g.Widths)-1], out)
		}
		if g.Epochs < 0 {
			return fmt.Errorf("%s: epochs %d is negative", name, g.Epochs)
		}
		if g.BatchSize < 0 {
			return fmt.Errorf("%s: batch size %d is negative", name, g.BatchSize)
		}
		if err := g.LR.Validate(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return nil
}

// SGDL returns the single-grade baseline of c: one grade holding all of c's
// hidden layers in order ([[1,256,256,1],[256,256,256,1]] becomes
// [1,256,256,256,256,1]), trained for epochs epochs with grade 1's
// activation, init, batch size, schedule and optimizer, and c's seed.
func (c Config) SGDL(epochs int) Config {
	g0 := c.Grades[0]
	widths := []int{g0.Widths[0]}
	for _, g := range c.Grades {
		widths = append(widths, g.Hidden()...)
	}
	widths = append(widths, g0.Widths[len(g0.Widths)-1])
	s := g0
	s.Widths = widths
	s.Epochs = epochs
	return Config{Grades: []GradeSpec{s}, Seed: c.Seed}
}

// Uniform returns a config with one grade per widths entry, all sharing the
// other settings of tmpl.
func Uniform(widths [][]int, tmpl GradeSpec, seed uint64) Config {
	c := Config{Seed: seed}
	for _, w := range widths {
		g := tmpl
		g.Widths = append([]int(nil), w...)
		c.Grades = append(c.Grades, g)
	}
	return c
}
