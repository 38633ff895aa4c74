package mgdl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/metrics"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/tensor"
)

// ErrDiverged is wrapped by the error Train returns when a grade's loss
// becomes NaN or infinite.
var ErrDiverged = errors.New("training diverged")

// Event reports progress: once per epoch, and once more with Done set when a
// grade is finished (then Result holds its metrics).
type Event struct {
	Grade, Grades int     // 1-based grade, and how many the run has
	Epoch, Epochs int     // epochs done in this grade, and its budget
	Loss          float64 // mean training loss Σ(y-ŷ)²/(2m) of the last epoch
	LR            float64 // learning rate of the last epoch
	Done          bool
	Result        *GradeResult
}

// GradeResult records one finished grade. RSEs are of the summed model after
// this grade; ValRSE and TestRSE are nil when that split is empty.
type GradeResult struct {
	Grade     int      `json:"grade"`
	Widths    []int    `json:"widths"`
	Epochs    int      `json:"epochs"`
	Seconds   float64  `json:"seconds"`
	TrainLoss float64  `json:"train_loss"`
	TrainRSE  float64  `json:"train_rse"`
	ValRSE    *float64 `json:"val_rse"`
	TestRSE   *float64 `json:"test_rse"`
}

// Trainer fits a Config to data grade by grade. Its zero value is not
// usable; build one with NewTrainer.
type Trainer[T tensor.Float] struct {
	cfg    Config
	splits []*cached[T] // train, validation, test (empty ones skipped)
	model  *Model[T]
	// Progress, if set, receives an Event every epoch and at the end of every
	// grade. It runs on the training goroutine; keep it cheap.
	Progress func(Event)
	// OnGrade, if set, is called after every finished grade with the model
	// so far (e.g. to write a checkpoint). An error stops the run; the
	// grade stays in the model.
	OnGrade func(m *Model[T], r GradeResult) error
}

// cached holds one split's frozen features and residual.
type cached[T tensor.Float] struct {
	name   string
	F, R   *tensor.Dense[T] // features F_l(X) (n×width) and residual e_l (n×k)
	energy float64          // Σy², the RSE denominator
}

// NewTrainer validates cfg against the data and prepares the cached state.
// The data are not copied except the targets (the residuals start as a copy).
func NewTrainer[T tensor.Float](cfg Config, s data.Splits[T]) (*Trainer[T], error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(s.Train.X.Cols, s.Train.Y.Cols); err != nil {
		return nil, err
	}
	t := &Trainer[T]{cfg: cfg, model: &Model[T]{}}
	for _, p := range []struct {
		name string
		d    data.Dataset[T]
	}{{"train", s.Train}, {"validation", s.Val}, {"test", s.Test}} {
		if p.d.Len() == 0 {
			t.splits = append(t.splits, nil)
			continue
		}
		e := metrics.Energy(p.d.Y.Raw())
		if e == 0 {
			return nil, fmt.Errorf("%s set: every target is zero, so the relative error is undefined", p.name)
		}
		t.splits = append(t.splits, &cached[T]{name: p.name, F: p.d.X, R: p.d.Y.Clone(), energy: e})
	}
	return t, nil
}

// Model returns the model of the grades finished so far.
func (t *Trainer[T]) Model() *Model[T] { return t.model }

// Residual returns the cached training residual e_l = y - Σ g (n×k) after
// the grades finished so far. It is owned by the trainer.
func (t *Trainer[T]) Residual() *tensor.Dense[T] { return t.splits[0].R }

// Features returns the cached training features the next grade will read.
func (t *Trainer[T]) Features() *tensor.Dense[T] { return t.splits[0].F }

// Restore makes the first len(m.Grades) grades of the run those of m (for
// example a checkpoint) and advances the cached features and residuals
// through them, so that Run continues with the next grade. Because every
// grade draws from its own seeded stream, a restored run ends with the same
// model as an uninterrupted one. m's grades must match the config's widths
// and activations; Restore must be called before Run.
func (t *Trainer[T]) Restore(m *Model[T]) error {
	if len(t.model.Grades) != 0 {
		return fmt.Errorf("restore: the trainer has already trained %d grades", len(t.model.Grades))
	}
	if len(m.Grades) > len(t.cfg.Grades) {
		return fmt.Errorf("restore: the model has %d grades but the config only %d", len(m.Grades), len(t.cfg.Grades))
	}
	for l, g := range m.Grades {
		spec := t.cfg.Grades[l]
		if !slices.Equal(g.Widths, spec.Widths) || g.Act != spec.Activation {
			return fmt.Errorf("restore: grade %d is %v %v, the config says %v %v", l+1, g.Widths, g.Act, spec.Widths, spec.Activation)
		}
	}
	for _, g := range m.Grades {
		t.advance(g)
		g.ReleaseWorkspace()
		t.model.Grades = append(t.model.Grades, g)
	}
	return nil
}

// Train runs all grades of cfg on s: see Trainer.Run.
func Train[T tensor.Float](ctx context.Context, cfg Config, s data.Splits[T], progress func(Event)) (*Model[T], []GradeResult, error) {
	t, err := NewTrainer(cfg, s)
	if err != nil {
		return nil, nil, err
	}
	t.Progress = progress
	res, err := t.Run(ctx)
	return t.Model(), res, err
}

// Run trains every grade of the config in order and returns one result per
// finished grade. On error (cancellation, divergence) the grades finished
// before it are kept in Model and their results returned with the error.
func (t *Trainer[T]) Run(ctx context.Context) ([]GradeResult, error) {
	var out []GradeResult
	for l := len(t.model.Grades); l < len(t.cfg.Grades); l++ {
		r, err := t.grade(ctx, l)
		if err != nil {
			return out, err
		}
		out = append(out, r)
		if t.OnGrade != nil {
			if err := t.OnGrade(t.model, r); err != nil {
				return out, fmt.Errorf("after grade %d: %w", l+1, err)
			}
		}
	}
	return out, nil
}

// grade trains grade l (0-based) on the cached state, appends it to the
// model and advances the cache.
func (t *Trainer[T]) grade(ctx context.Context, l int) (GradeResult, error) {
	spec := t.cfg.Grades[l]
	start := time.Now()
	rng := rand.New(rand.NewPCG(t.cfg.Seed, uint64(l+1)))
	net := nn.NewMLP[T](spec.Widths, spec.Activation)
	net.Init(spec.Init, rng)
	f := newFitter(net, optim.New[T](spec.Optimizer), rng)
	tr := t.splits[0]
	loss := math.NaN()
	for e := 0; e < spec.Epochs; e++ {
		if err := ctx.Err(); err != nil {
			return GradeResult{}, fmt.Errorf("grade %d stopped at epoch %d of %d: %w", l+1, e, spec.Epochs, err)
		}
		lr := spec.LR.LR(e, spec.Epochs)
		loss = f.epoch(tr.F, tr.R, spec.BatchSize, lr)
		if math.IsNaN(loss) || math.IsInf(loss, 0) {
			return GradeResult{}, fmt.Errorf("grade %d, epoch %d: loss is %v: %w (finished grades are kept; try a smaller learning rate)", l+1, e+1, loss, ErrDiverged)
		}
		if t.Progress != nil {
			t.Progress(Event{Grade: l + 1, Grades: len(t.cfg.Grades), Epoch: e + 1, Epochs: spec.Epochs, Loss: loss, LR: lr})
		}
	}
	t.advance(net)
	net.ReleaseWorkspace()
	t.model.Grades = append(t.model.Grades, net)
	r := GradeResult{
		Grade:     l + 1,
		Widths:    append([]int(nil), spec.Widths...),
		Epochs:    spec.Epochs,
		TrainLoss: loss,
		TrainRSE:  t.rse(0),
		Seconds:   time.Since(start).Seconds(),
	}
	if t.splits[1] != nil {
		v := t.rse(1)
		r.ValRSE = &v
	}
	if t.splits[2] != nil {
		v := t.rse(2)
		r.TestRSE = &v
	}
	if t.Progress != nil {
		t.Progress(Event{Grade: l + 1, Grades: len(t.cfg.Grades), Epoch: spec.Epochs, Epochs: spec.Epochs, Loss: loss, Done: true, Result: &r})
	}
	return r, nil
}

func (t *Trainer[T]) rse(i int) float64 {
	s := t.splits[i]
	var sse float64
	for _, v := range s.R.Raw() {
		sse += float64(v) * float64(v)
	}
	return sse / s.energy
}

// advance pushes every split once through the finished grade: the residual
// loses the grade's output and the features become its last hidden layer.
func (t *Trainer[T]) advance(net *nn.MLP[T]) {
	for _, s := range t.splits {
		if s == nil {
			continue
		}
		n := s.F.Rows
		newF := tensor.New[T](n, net.FeatureDim())
		for i0 := 0; i0 < n; i0 += predictChunk {
			i1 := min(i0+predictChunk, n)
			out := net.Forward(s.F.RowsView(i0, i1))
			r := s.R.RowsView(i0, i1).Raw()
			for k, v := range out.Raw() {
				r[k] -= v
			}
			copy(newF.RowsView(i0, i1).Raw(), net.Hidden().Raw())
		}
		s.F = newF
	}
}

// fitter trains one network on fixed inputs and targets with minibatches
// gathered into reused buffers: a step allocates nothing.
type fitter[T tensor.Float] struct {
	net              *nn.MLP[T]
	opt              optim.Optimizer[T]
	rng              *rand.Rand
	idx              []int
	xbuf, ybuf, gbuf []T
	xb, yb, g        tensor.Dense[T]
}

func newFitter[T tensor.Float](net *nn.MLP[T], opt optim.Optimizer[T], rng *rand.Rand) *fitter[T] {
	return &fitter[T]{net: net, opt: opt, rng: rng}
}

// step does one forward, backward and optimizer update on (x, y) and returns
// the batch loss.
func (f *fitter[T]) step(x, y *tensor.Dense[T], lr float64) float64 {
	out := f.net.Forward(x)
	need := y.Rows * y.Cols
	if len(f.gbuf) < need {
		f.gbuf = make([]T, need)
	}
	f.g = tensor.Dense[T]{Rows: y.Rows, Cols: y.Cols, Data: f.gbuf[:need]}
	loss := nn.MSE(out, y, &f.g)
	f.net.Backward(&f.g, nil)
	f.opt.Step(f.net.Params(), f.net.Grads(), lr)
	return loss
}

// epoch runs one pass over (X, Y): one full-batch step when batch is 0 or
// covers the data, otherwise reshuffled minibatches of size batch (the last
// one smaller). It returns the mean loss.
func (f *fitter[T]) epoch(X, Y *tensor.Dense[T], batch int, lr float64) float64 {
	n := X.Rows
	if batch <= 0 || batch >= n {
		return f.step(X, Y, lr)
	}
	if len(f.idx) != n {
		f.idx = make([]int, n)
		for i := range f.idx {
			f.idx[i] = i
		}
		f.xbuf = make([]T, batch*X.Cols)
		f.ybuf = make([]T, batch*Y.Cols)
	}
	idx := f.idx
	f.rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	var total float64
	for i0 := 0; i0 < n; i0 += batch {
		b := min(batch, n-i0)
		f.xb = tensor.Dense[T]{Rows: b, Cols: X.Cols, Data: f.xbuf[:b*X.Cols]}
		f.yb = tensor.Dense[T]{Rows: b, Cols: Y.Cols, Data: f.ybuf[:b*Y.Cols]}
		tensor.Gather(&f.xb, X, idx[i0:i0+b])
		tensor.Gather(&f.yb, Y, idx[i0:i0+b])
		total += f.step(&f.xb, &f.yb, lr) * float64(b)
	}
	return total / float64(n)
}
