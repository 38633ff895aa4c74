package mgdl

import (
	"fmt"
	"math"
	"slices"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/internal/buildinfo"
	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
)

// Version is the library version recorded in summaries and models.
const Version = buildinfo.Version

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
	// ZeroOutput starts the output layer at zero, so that adding the grade
	// starts from the unchanged model.
	ZeroOutput bool `json:"zero_output,omitempty"`
	// Refit solves, after training, the linear least-squares problem for
	// the output layer on the grade's hidden features (with Config.Ridge),
	// so that the training residual cannot grow. Regression grades only
	// (not a softmax grade).
	Refit bool `json:"refit,omitempty"`
	// EarlyStop stops the grade on the validation loss and restores the
	// best state seen.
	EarlyStop EarlyStop `json:"early_stop"`
}

// RNG names a family of random streams.
type RNG string

// The stream families.
const (
	// RNGPCG draws grade l's initialisation and minibatch order from one
	// math/rand/v2 PCG stream seeded with (Seed, l+1). The empty RNG means
	// RNGPCG.
	RNGPCG RNG = "pcg"
	// RNGNumPy draws them as the papers' NumPy code does: every grade
	// initialises from np.random.seed(Seed), drawing each layer's W as an
	// out×in array and then b, and epoch e (0-based) of a grade takes its
	// minibatches from np.random.seed(Seed+1+e).permutation(n). Seed must
	// then stay below 2³² together with the epoch count.
	RNGNumPy RNG = "numpy"
)

// ParseRNG maps "pcg" (or "") and "numpy" to an RNG; the result is in
// canonical form ("" for pcg). The names are those of data.ParseRNG.
func ParseRNG(s string) (RNG, error) {
	v, err := data.ParseRNG(s)
	return RNG(v), err
}

// Task is what the outputs mean.
type Task string

// Tasks.
const (
	// Regression fits the targets with the squared loss (default).
	Regression Task = "regression"
	// Classification takes one-hot targets: grade 1 ends in softmax and
	// cross-entropy, later grades fit onehot - (previous outputs) with the
	// squared loss, and the class is the argmax of the sum (Xu's code).
	Classification Task = "classification"
)

// Grow configures the adaptive grade count: after the listed grades, grades
// from Template (by default a copy of the last listed grade; of grade 1,
// made square on its features) are added until the validation RSE (training RSE without a
// validation set) improves by less than the relative margin MinImprove,
// falls to Target, or MaxGrades grades exist. A grade that does not improve
// by the margin is rejected (recorded, not kept) and growth stops.
type Grow struct {
	Template   GradeSpec `json:"template,omitzero"`
	MaxGrades  int       `json:"max_grades"`
	Target     float64   `json:"target,omitempty"`
	MinImprove float64   `json:"min_improve,omitempty"`
}

// Hidden returns the hidden widths (all but the first and last).
func (g GradeSpec) Hidden() []int { return g.Widths[1 : len(g.Widths)-1] }

// Config is a training run: the grades, in order, and the seed.
type Config struct {
	Grades []GradeSpec `json:"grades"`
	// Seed drives initialisation and minibatch shuffling. The same seed,
	// backend and thread count give bit-identical results.
	Seed uint64 `json:"seed"`
	// RNG is the family of random streams initialisation and minibatch
	// order draw from: RNGPCG (mgdl's own, the default) or RNGNumPy (the
	// legacy NumPy streams of the papers' reference code; see RNGNumPy).
	RNG RNG `json:"rng,omitempty"`
	// Task is Regression (the default when empty) or Classification.
	Task Task `json:"task,omitempty"`
	// Ridge is the relative ridge of least-squares refits (refit.go): the
	// penalty is λ‖W‖² with λ = Ridge · max(trace(HᵀH)/h, n) for n rows of h
	// hidden features H. 0 means the default 1e-10.
	Ridge float64 `json:"ridge,omitempty"`
	// Grow, if set, adds grades adaptively after the listed ones.
	Grow *Grow `json:"grow,omitempty"`
}

// spec returns the spec of grade l (0-based) and whether the run has one.
func (c Config) spec(l int) (GradeSpec, bool) {
	if l < len(c.Grades) {
		return c.Grades[l], true
	}
	if c.Grow != nil && l < c.Grow.MaxGrades {
		return c.growTemplate(), true
	}
	return GradeSpec{}, false
}

// growTemplate returns the grade Grow adds: its Template, or, when that has
// no widths, a copy of the last listed grade (grade 1 made square on its
// features: [1,256,256,1] gives [256,256,256,1]).
func (c Config) growTemplate() GradeSpec {
	if len(c.Grow.Template.Widths) > 0 || len(c.Grades) == 0 {
		return c.Grow.Template
	}
	t := c.Grades[len(c.Grades)-1]
	t.Widths = slices.Clone(t.Widths)
	if len(c.Grades) == 1 && len(t.Widths) > 2 {
		t.Widths[0] = t.Widths[len(t.Widths)-2]
	}
	return t
}

// MaxGrades returns the most grades the run can have.
func (c Config) MaxGrades() int {
	if c.Grow != nil {
		return max(c.Grow.MaxGrades, len(c.Grades))
	}
	return len(c.Grades)
}

// ConfigError is a configuration that cannot be trained: a grade chain
// that does not fit the data, a bad setting. Validate and NewTrainer
// return it, so that callers can tell it from a data problem.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *ConfigError) Unwrap() error { return e.Err }

func configErrorf(format string, a ...any) error {
	return &ConfigError{fmt.Errorf(format, a...)}
}

// Validate checks the grade chain against input width in and target width
// out. Its errors are *ConfigError.
func (c Config) Validate(in, out int) error {
	if err := c.validate(in, out); err != nil {
		return &ConfigError{err}
	}
	return nil
}

func (c Config) validate(in, out int) error {
	if len(c.Grades) == 0 {
		return fmt.Errorf("no grades to train")
	}
	if c.MaxGrades() > limits.MaxGrades {
		return fmt.Errorf("%d grades; at most %d", c.MaxGrades(), limits.MaxGrades)
	}
	var params int64
	for l, g := range c.Grades {
		name := fmt.Sprintf("grade %d", l+1)
		if err := checkWidths(name, g.Widths); err != nil {
			return err
		}
		if params += limits.Params(g.Widths); params > limits.MaxParams {
			return fmt.Errorf("grades 1 to %d have %d parameters together; at most %d", l+1, params, limits.MaxParams)
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
		if err := g.EarlyStop.validate(); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	rng, err := ParseRNG(string(c.RNG))
	if err != nil {
		return err
	}
	for l := 0; rng == RNGNumPy && l < c.MaxGrades(); l++ {
		g, _ := c.spec(l)
		if c.Seed > 1<<32-2 || uint64(g.Epochs) > 1<<32-2-c.Seed {
			return fmt.Errorf("rng numpy: seed %d and %d epochs pass NumPy's largest seed 2^32-1", c.Seed, g.Epochs)
		}
	}
	switch c.Task {
	case "", Regression:
	case Classification:
		if out < 2 {
			return fmt.Errorf("classification needs one-hot targets with at least 2 columns, got %d", out)
		}
	default:
		return fmt.Errorf("task %q (want regression or classification)", c.Task)
	}
	if !(c.Ridge >= 0) || math.IsInf(c.Ridge, 0) {
		return fmt.Errorf("ridge %v must be a finite number ≥ 0", c.Ridge)
	}
	if g := c.Grow; g != nil {
		tmpl := c.growTemplate()
		w := tmpl.Widths
		if err := checkWidths("grow template", w); err != nil {
			return err
		}
		if len(w) < 3 {
			return fmt.Errorf("grow: template widths %v need a hidden layer", w)
		}
		last := c.Grades[len(c.Grades)-1].Widths
		if w[0] != last[len(last)-2] || w[0] != w[len(w)-2] {
			return fmt.Errorf("grow: template widths %v must read and give %d features (the last listed grade's hidden width)", w, last[len(last)-2])
		}
		if w[len(w)-1] != out {
			return fmt.Errorf("grow: template output width %d, but the data have %d target columns", w[len(w)-1], out)
		}
		if g.MaxGrades < len(c.Grades) {
			return fmt.Errorf("grow: max grades %d is below the %d listed grades", g.MaxGrades, len(c.Grades))
		}
		if !(g.MinImprove >= 0 && g.MinImprove < 1) || !(g.Target >= 0) || math.IsInf(g.Target, 0) {
			return fmt.Errorf("grow: min improve %g must be in [0,1) and target %g not negative", g.MinImprove, g.Target)
		}
		if err := tmpl.LR.Validate(); err != nil {
			return fmt.Errorf("grow template: %w", err)
		}
		if err := tmpl.EarlyStop.validate(); err != nil {
			return fmt.Errorf("grow template: %w", err)
		}
	}
	return nil
}

// checkWidths checks one grade's widths against the table of limits.
func checkWidths(name string, w []int) error {
	if _, err := limits.Widths(w); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// MemoryBytes estimates the most memory training c takes at once, in
// bytes of elem bytes per number, for rows rows in all splits together of
// which train are training rows: the model kept so far, and for the grade
// being trained its parameters with their gradients and Adam moments, the
// activations of one minibatch forward and backward, and the frozen
// features, residuals and new features of every row. It is -1 when the
// count overflows.
func (c Config) MemoryBytes(rows, train, elem int) int64 {
	var kept, peak int64
	for l := 0; l < c.MaxGrades(); l++ {
		g, _ := c.spec(l)
		w := g.Widths
		p := limits.Params(w)
		batch := int64(g.BatchSize)
		if batch <= 0 || batch > int64(train) {
			batch = int64(train)
		}
		var sum int64
		for _, v := range w {
			sum += int64(v)
		}
		act, ok1 := limits.Product(2, batch, sum)
		feat, ok2 := limits.Product(2, int64(rows), int64(w[0]+w[len(w)-2]+2*w[len(w)-1]))
		if !ok1 || !ok2 {
			return -1
		}
		if step := limits.Sum(kept, 4*p, act, feat); step < 0 {
			return -1
		} else {
			peak = max(peak, step)
		}
		kept += p
	}
	n, ok := limits.Product(peak, int64(elem))
	if !ok {
		return -1
	}
	return n
}

// SGDL returns the single-grade baseline of c: one grade holding all of c's
// hidden layers in order ([[1,256,256,1],[256,256,256,1]] becomes
// [1,256,256,256,256,1]), trained for epochs epochs with grade 1's
// activation, init, batch size, schedule, optimizer, refit and early
// stopping, and c's seed, task and ridge (no adaptive growth).
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
	out := c
	out.Grades = []GradeSpec{s}
	out.Grow = nil
	return out
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
