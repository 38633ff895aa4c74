package mgdl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
	"unsafe"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/internal/nprand"
	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/metrics"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/tensor"
)

// ErrDiverged is wrapped by the error Train returns when a grade's loss
// becomes NaN or infinite or explodes (see explodeFactor).
var ErrDiverged = errors.New("training diverged")

// predictChunk bounds the rows the trainer pushes through a network at once
// (validation losses, advancing the cached features, the refit), so that a
// network's workspace stays small for large splits.
const predictChunk = 4096

// explodeFactor: a grade diverges when its epoch loss exceeds this multiple
// of the loss it started from.
const explodeFactor = 1e4

// Event reports progress: once per epoch, and once more with Done set when a
// grade is finished (then Result holds its metrics). The RSEs are those of
// the summed model (the grades kept so far plus this one), the figures the
// papers report.
type Event struct {
	Grade, Grades int     // 1-based grade, and the most the run can have
	Epoch, Epochs int     // epochs done in this grade, and its budget
	Loss          float64 // mean training loss of the last epoch
	LR            float64 // learning rate of the last epoch
	// TrainRSE is the training RSE over the last epoch's minibatches as
	// they were visited (a running figure, as the loss is); Result.TrainRSE
	// is the exact one at the end of the grade.
	TrainRSE float64
	// ValRSE and ValLoss are the validation RSE and loss at the last
	// record (every EarlyStop.Every epochs and at the last epoch); NaN
	// before the first record and without a validation set.
	ValRSE, ValLoss float64
	Done            bool
	Result          *GradeResult
}

// GradeResult records one finished grade. RSEs are of the summed model after
// this grade; ValRSE and TestRSE are nil when that split is empty.
type GradeResult struct {
	Grade   int     `json:"grade"`
	Widths  []int   `json:"widths"`
	Epochs  int     `json:"epochs"` // epochs run
	Seconds float64 `json:"seconds"`
	// TrainLoss is the mean training loss of the last epoch run (the last
	// finite one for a diverged grade; the starting loss with 0 epochs).
	TrainLoss float64  `json:"train_loss"`
	TrainRSE  float64  `json:"train_rse"`
	ValRSE    *float64 `json:"val_rse"`
	TestRSE   *float64 `json:"test_rse"`
	// Accuracies of the summed model (classification only).
	TrainAcc *float64 `json:"train_accuracy,omitempty"`
	ValAcc   *float64 `json:"val_accuracy,omitempty"`
	TestAcc  *float64 `json:"test_accuracy,omitempty"`
	// StopReason says why training ended.
	StopReason StopReason `json:"stop_reason"`
	// BestEpoch is the epoch whose state was restored (early stopping or
	// divergence; 0 means the initial state); absent when the final state
	// was kept.
	BestEpoch *int `json:"best_epoch,omitempty"`
	// Refit reports a least-squares refit of the output layer, and
	// TrainRSEBeforeRefit the training RSE the trained output layer gave.
	Refit               bool     `json:"refit,omitempty"`
	TrainRSEBeforeRefit *float64 `json:"train_rse_before_refit,omitempty"`
	// Rejected is set for a grade the adaptive growth trained but did not
	// keep, because it did not improve the validation error enough.
	Rejected bool `json:"rejected,omitempty"`
}

// Trainer fits a Config to data grade by grade. Its zero value is not
// usable; build one with NewTrainer.
type Trainer[T tensor.Float] struct {
	cfg              Config
	train, val, test *cached[T] // val and test are nil when empty
	kept             *model.Model[T]
	// Progress, if set, receives an Event every epoch and at the end of every
	// grade. It runs on the training goroutine; keep it cheap.
	Progress func(Event)
	// OnGrade, if set, is called after every kept grade with the model so
	// far (e.g. to write a checkpoint). An error stops the run; the grade
	// stays in the model.
	OnGrade func(m *model.Model[T], r GradeResult) error
}

// cached holds one split's frozen features and residual, and those a
// candidate grade would give (next*), until the grade is committed.
type cached[T tensor.Float] struct {
	name   string
	Y      *tensor.Dense[T] // targets (n×k)
	F, R   *tensor.Dense[T] // features F_l(X) (n×width) and residual e_l (n×k)
	energy float64          // Σy², the RSE denominator

	nextF, nextR *tensor.Dense[T]
	nextSSE      float64
}

// rse is the split's RSE after the grades kept so far.
func (c *cached[T]) rse() float64 { return metrics.Energy(c.R.Raw()) / c.energy }

// nextRSE is the split's RSE with the candidate grade added.
func (c *cached[T]) nextRSE() float64 { return c.nextSSE / c.energy }

// accuracy is the share of rows whose predicted class argmax(Y - R) is the
// target class argmax(Y).
func (c *cached[T]) accuracy(R *tensor.Dense[T]) float64 {
	hit := 0
	for i := 0; i < c.Y.Rows; i++ {
		y, r := c.Y.Row(i), R.Row(i)
		best, arg, want := math.Inf(-1), 0, 0
		for j := range y {
			if p := float64(y[j] - r[j]); p > best {
				best, arg = p, j
			}
			if y[j] > y[want] {
				want = j
			}
		}
		if arg == want {
			hit++
		}
	}
	return float64(hit) / float64(c.Y.Rows)
}

// NewTrainer validates cfg against the data and prepares the cached state.
// The data are not copied except the targets (the residuals start as a copy).
// A config that does not fit the data gives a *ConfigError.
func NewTrainer[T tensor.Float](cfg Config, s data.Splits[T]) (*Trainer[T], error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Validate(s.Train.X.Cols, s.Train.Y.Cols); err != nil {
		return nil, err
	}
	rows := s.Train.Len() + s.Val.Len() + s.Test.Len()
	var zero T
	if err := limits.CheckTotal(fmt.Sprintf("training %d grades (grade 1: %s) on %d rows", cfg.MaxGrades(), model.FormatWidths(cfg.Grades[0].Widths), rows), cfg.MemoryBytes(rows, s.Train.Len(), int(unsafe.Sizeof(zero)))); err != nil {
		return nil, &ConfigError{err}
	}
	if s.Val.Len() == 0 {
		for l := 0; l < cfg.MaxGrades(); l++ {
			if g, _ := cfg.spec(l); g.EarlyStop.Rule != StopNone {
				return nil, configErrorf("grade %d: early stopping needs a validation set", l+1)
			}
		}
	}
	t := &Trainer[T]{cfg: cfg, kept: &model.Model[T]{}}
	for _, p := range []struct {
		dst  **cached[T]
		name string
		d    data.Dataset[T]
	}{{&t.train, "train", s.Train}, {&t.val, "validation", s.Val}, {&t.test, "test", s.Test}} {
		if p.d.Len() == 0 {
			continue
		}
		e := metrics.Energy(p.d.Y.Raw())
		if e == 0 {
			return nil, fmt.Errorf("%s set: every target is zero, so the relative error is undefined", p.name)
		}
		*p.dst = &cached[T]{name: p.name, Y: p.d.Y, F: p.d.X, R: p.d.Y.Clone(), energy: e}
	}
	return t, nil
}

// splits returns the non-empty splits: train, then validation and test.
func (t *Trainer[T]) splits() []*cached[T] {
	out := []*cached[T]{t.train}
	for _, s := range []*cached[T]{t.val, t.test} {
		if s != nil {
			out = append(out, s)
		}
	}
	return out
}

// Model returns the model of the grades kept so far.
func (t *Trainer[T]) Model() *model.Model[T] { return t.kept }

// Residual returns the cached training residual e_l = y - Σ g (n×k) after
// the grades kept so far. It is owned by the trainer.
func (t *Trainer[T]) Residual() *tensor.Dense[T] { return t.train.R }

// Features returns the cached training features the next grade will read.
func (t *Trainer[T]) Features() *tensor.Dense[T] { return t.train.F }

// Restore makes the first len(m.Grades) grades of the run those of m (for
// example a checkpoint) and advances the cached features and residuals
// through them, so that Run continues with the next grade. Because every
// grade draws from its own seeded stream, a restored run ends with the same
// model as an uninterrupted one. m's grades must match the config's widths
// and activations; Restore must be called before Run.
func (t *Trainer[T]) Restore(m *model.Model[T]) error {
	if len(t.kept.Grades) != 0 {
		return fmt.Errorf("restore: the trainer has already trained %d grades", len(t.kept.Grades))
	}
	if len(m.Grades) > t.cfg.MaxGrades() {
		return fmt.Errorf("restore: the model has %d grades but the config at most %d", len(m.Grades), t.cfg.MaxGrades())
	}
	for l, g := range m.Grades {
		spec, _ := t.cfg.spec(l)
		if !slices.Equal(g.Widths, spec.Widths) || g.Act != spec.Activation {
			return fmt.Errorf("restore: grade %d is %v %v, the config says %v %v", l+1, g.Widths, g.Act, spec.Widths, spec.Activation)
		}
		if g.Softmax != t.softmaxGrade(l) {
			return fmt.Errorf("restore: grade %d softmax output %v does not match the task", l+1, g.Softmax)
		}
	}
	for _, g := range m.Grades {
		t.advance(g)
		t.commit()
		g.ReleaseWorkspace()
		t.kept.Grades = append(t.kept.Grades, g)
	}
	return nil
}

// Train runs all grades of cfg on s: see Trainer.Run.
func Train[T tensor.Float](ctx context.Context, cfg Config, s data.Splits[T], progress func(Event)) (*model.Model[T], []GradeResult, error) {
	t, err := NewTrainer(cfg, s)
	if err != nil {
		return nil, nil, err
	}
	t.Progress = progress
	res, err := t.Run(ctx)
	return t.Model(), res, err
}

// Run trains the grades of the config in order (and, with Grow, adds grades
// while they pay) and returns one result per trained grade, rejected ones
// included. On error (cancellation, divergence, a failing OnGrade) the grades
// kept before it stay in Model and their results are returned with the
// error; a diverged grade whose best state improved on its start is kept
// first.
func (t *Trainer[T]) Run(ctx context.Context) ([]GradeResult, error) {
	var out []GradeResult
	for l := len(t.kept.Grades); ; l++ {
		spec, ok := t.cfg.spec(l)
		if !ok {
			return out, nil
		}
		start := time.Now()
		net, r, trainErr := t.fit(ctx, l, spec)
		if net == nil {
			return out, trainErr
		}
		t.advance(net)
		if spec.Refit && !net.Softmax && t.train.nextSSE > metrics.Energy(t.train.R.Raw()) {
			// Round-off made the refit grade worse than none: make it trivial.
			clear(net.Layers[len(net.Layers)-1].W.Data)
			clear(net.Layers[len(net.Layers)-1].B)
			t.advance(net)
		}
		t.fillResult(&r)
		r.Seconds = time.Since(start).Seconds()
		if g := t.cfg.Grow; g != nil && l > 0 {
			monitor := t.monitorSplit()
			if !(monitor.nextRSE() < monitor.rse()*(1-g.MinImprove)) {
				r.Rejected = true
				out = append(out, r)
				t.emitDone(l, spec, &r)
				return out, trainErr
			}
		}
		t.commit()
		net.ReleaseWorkspace()
		t.kept.Grades = append(t.kept.Grades, net)
		out = append(out, r)
		t.emitDone(l, spec, &r)
		if t.OnGrade != nil {
			if err := t.OnGrade(t.kept, r); err != nil {
				return out, fmt.Errorf("after grade %d: %w", l+1, err)
			}
		}
		if trainErr != nil {
			return out, trainErr
		}
		if g := t.cfg.Grow; g != nil && g.Target > 0 && t.monitorSplit().rse() <= g.Target {
			return out, nil
		}
	}
}

func (t *Trainer[T]) emitDone(l int, spec GradeSpec, r *GradeResult) {
	if t.Progress == nil {
		return
	}
	e := Event{Grade: l + 1, Grades: t.cfg.MaxGrades(), Epoch: r.Epochs, Epochs: spec.Epochs, Loss: r.TrainLoss,
		TrainRSE: r.TrainRSE, ValRSE: math.NaN(), ValLoss: math.NaN(), Done: true, Result: r}
	if r.ValRSE != nil {
		e.ValRSE = *r.ValRSE
	}
	t.Progress(e)
}

// monitorSplit is the split adaptive growth watches: validation if present.
func (t *Trainer[T]) monitorSplit() *cached[T] {
	if t.val != nil {
		return t.val
	}
	return t.train
}

func (t *Trainer[T]) softmaxGrade(l int) bool { return t.cfg.Task == Classification && l == 0 }

// fit trains grade l and returns the network in its final or restored best
// state (refit if asked), with the result's training fields filled. A nil
// network means nothing usable was trained (the error says why).
func (t *Trainer[T]) fit(ctx context.Context, l int, spec GradeSpec) (*nn.MLP[T], GradeResult, error) {
	rng := rand.New(rand.NewPCG(t.cfg.Seed, uint64(l+1)))
	net := nn.NewMLP[T](spec.Widths, spec.Activation)
	net.Softmax = t.softmaxGrade(l)
	var np *npOrder
	if t.cfg.RNG == RNGNumPy {
		np = &npOrder{seed: uint32(t.cfg.Seed)}
		np.rs.Seed(np.seed)
		net.InitNumPy(spec.Init, &np.rs)
	} else {
		net.Init(spec.Init, rng)
	}
	if spec.ZeroOutput && l > 0 {
		out := &net.Layers[len(net.Layers)-1]
		clear(out.W.Data)
		clear(out.B)
	}
	f := newFitter(net, optim.New[T](spec.Optimizer), rng)
	f.np = np
	f.softmax = net.Softmax
	es := spec.EarlyStop.withDefaults()
	r := GradeResult{Grade: l + 1, Widths: slices.Clone(spec.Widths), StopReason: StoppedBudget}

	// Best-state tracking and early stopping: on the validation loss when
	// there is a validation set, else on the training loss, recorded every
	// es.Every epochs and at the last epoch.
	monitor := func(trainLoss float64) (loss, rse float64) {
		if t.val != nil {
			loss, sse := f.evaluate(t.val.F, t.val.R)
			return loss, sse / t.val.energy
		}
		return trainLoss, math.NaN()
	}
	start, _ := f.evaluate(t.train.F, t.train.R)
	r.TrainLoss = start // the loss at the start, until an epoch runs
	best, _ := monitor(start)
	bestEpoch := 0
	bestParams := slices.Clone(net.Params())
	stop := spec.EarlyStop.stopper(best)
	valLoss, valRSE := math.NaN(), math.NaN()
	diverged, badLoss := false, 0.0
	for e := 0; e < spec.Epochs; e++ {
		if err := ctx.Err(); err != nil {
			return nil, r, fmt.Errorf("grade %d interrupted at epoch %d of %d: %w", l+1, e, spec.Epochs, err)
		}
		lr := spec.LR.LR(e, spec.Epochs)
		loss, sse := f.epoch(t.train.F, t.train.R, spec.BatchSize, lr)
		r.Epochs = e + 1
		if math.IsNaN(loss) || math.IsInf(loss, 0) || loss > explodeFactor*start {
			diverged = true
			badLoss = loss
			break
		}
		r.TrainLoss = loss
		var reason StopReason
		if (e+1)%es.Every == 0 || e+1 == spec.Epochs {
			v, rse := monitor(loss)
			if t.val != nil {
				valLoss, valRSE = v, rse
			}
			if v < best {
				best, bestEpoch = v, e+1
				copy(bestParams, net.Params())
			}
			reason = stop.record(e+1, v)
		}
		if t.Progress != nil {
			t.Progress(Event{Grade: l + 1, Grades: t.cfg.MaxGrades(), Epoch: e + 1, Epochs: spec.Epochs, Loss: loss, LR: lr,
				TrainRSE: sse / t.train.energy, ValRSE: valRSE, ValLoss: valLoss})
		}
		if reason != "" {
			r.StopReason = reason
			break
		}
	}
	var err error
	if diverged || spec.EarlyStop.Rule != StopNone {
		copy(net.Params(), bestParams)
		be := bestEpoch
		r.BestEpoch = &be
	}
	if diverged {
		r.StopReason = StoppedDiverged
		what := fmt.Sprintf("the best state (epoch %d) was restored and kept", bestEpoch)
		if bestEpoch == 0 {
			what = "the grade never improved on its start and was dropped"
		}
		err = fmt.Errorf("grade %d, epoch %d: loss is %v (started at %.4g): %w; %s; finished grades are kept; try a smaller learning rate",
			l+1, r.Epochs, badLoss, start, ErrDiverged, what)
		if bestEpoch == 0 {
			return nil, r, err
		}
	}
	if spec.Refit && !net.Softmax {
		before, rerr := t.refit(net)
		if rerr != nil {
			return nil, r, fmt.Errorf("grade %d: %w", l+1, rerr)
		}
		r.Refit = true
		r.TrainRSEBeforeRefit = &before
	}
	return net, r, err
}

// advance pushes every split once through net: the candidate residual loses
// the grade's output and the candidate features become its last hidden
// layer. Nothing is committed.
func (t *Trainer[T]) advance(net *nn.MLP[T]) {
	for _, s := range t.splits() {
		n := s.F.Rows
		F := tensor.New[T](n, net.FeatureDim())
		R := s.R.Clone()
		for i0 := 0; i0 < n; i0 += predictChunk {
			i1 := min(i0+predictChunk, n)
			out := net.Forward(s.F.RowsView(i0, i1))
			r := R.RowsView(i0, i1).Raw()
			for k, v := range out.Raw() {
				r[k] -= v
			}
			copy(F.RowsView(i0, i1).Raw(), net.Hidden().Raw())
		}
		s.nextF, s.nextR, s.nextSSE = F, R, metrics.Energy(R.Raw())
	}
}

// commit makes the candidate state of every split its state.
func (t *Trainer[T]) commit() {
	for _, s := range t.splits() {
		s.F, s.R = s.nextF, s.nextR
		s.nextF, s.nextR = nil, nil
	}
}

// fillResult sets the RSEs (and accuracies) the candidate gives.
func (t *Trainer[T]) fillResult(r *GradeResult) {
	acc := func(s *cached[T]) *float64 {
		if t.cfg.Task != Classification {
			return nil
		}
		a := s.accuracy(s.nextR)
		return &a
	}
	r.TrainRSE, r.TrainAcc = t.train.nextRSE(), acc(t.train)
	if s := t.val; s != nil {
		v := s.nextRSE()
		r.ValRSE, r.ValAcc = &v, acc(s)
	}
	if s := t.test; s != nil {
		v := s.nextRSE()
		r.TestRSE, r.TestAcc = &v, acc(s)
	}
}

// fitter trains one network on fixed inputs and targets with minibatches
// gathered into reused buffers: a step allocates nothing.
type fitter[T tensor.Float] struct {
	net              *nn.MLP[T]
	opt              optim.Optimizer[T]
	rng              *rand.Rand
	np               *npOrder // NumPy's minibatch order instead of rng's (RNGNumPy)
	softmax          bool     // cross-entropy on a softmax output instead of MSE
	idx              []int
	xbuf, ybuf, gbuf []T
	xb, yb, g        tensor.Dense[T]
}

// npOrder draws minibatch orders as the papers' NumPy code does: epoch e
// of a grade shuffles 0..n-1 afresh with np.random.seed(seed+1+e). (A
// grade's batch size is fixed, so a full-batch grade draws no order and
// needs no count.)
type npOrder struct {
	rs    nprand.RandomState
	seed  uint32
	epoch int
}

// order writes the next epoch's permutation of 0..len(idx)-1 into idx.
func (o *npOrder) order(idx []int) {
	o.rs.Seed(o.seed + 1 + uint32(o.epoch))
	o.epoch++
	o.rs.Permutation(idx)
}

func newFitter[T tensor.Float](net *nn.MLP[T], opt optim.Optimizer[T], rng *rand.Rand) *fitter[T] {
	return &fitter[T]{net: net, opt: opt, rng: rng}
}

// loss evaluates the fitter's loss of out against y, writing the gradient
// into grad when it is not nil.
func (f *fitter[T]) loss(out, y, grad *tensor.Dense[T]) float64 {
	if f.softmax {
		return nn.SoftmaxCrossEntropy(out, y, grad)
	}
	return nn.MSE(out, y, grad)
}

// sse returns Σ(y-out)² of a batch whose loss is loss: 2m·loss for the
// squared loss, a pass over the probabilities for a softmax output.
func (f *fitter[T]) sse(out, y *tensor.Dense[T], loss float64) float64 {
	if !f.softmax {
		return 2 * float64(out.Rows) * loss
	}
	return metrics.SSE(y.Raw(), out.Raw())
}

// step does one forward, backward and optimizer update on (x, y) and returns
// the batch loss and Σ(y-ŷ)² before the update.
func (f *fitter[T]) step(x, y *tensor.Dense[T], lr float64) (loss, sse float64) {
	out := f.net.Forward(x)
	need := y.Rows * y.Cols
	if len(f.gbuf) < need {
		f.gbuf = make([]T, need)
	}
	f.g = tensor.Dense[T]{Rows: y.Rows, Cols: y.Cols, Data: f.gbuf[:need]}
	loss = f.loss(out, y, &f.g)
	sse = f.sse(out, y, loss)
	f.net.Backward(&f.g, nil)
	f.opt.Step(f.net.Params(), f.net.Grads(), lr)
	return loss, sse
}

// evaluate returns the mean loss of the network on (X, Y) and Σ(Y-ŷ)²,
// without training.
func (f *fitter[T]) evaluate(X, Y *tensor.Dense[T]) (loss, sse float64) {
	var total float64
	n := X.Rows
	for i0 := 0; i0 < n; i0 += predictChunk {
		i1 := min(i0+predictChunk, n)
		out := f.net.Forward(X.RowsView(i0, i1))
		y := Y.RowsView(i0, i1)
		l := f.loss(out, y, nil)
		total += l * float64(i1-i0)
		sse += f.sse(out, y, l)
	}
	return total / float64(n), sse
}

// epoch runs one pass over (X, Y): one full-batch step when batch is 0 or
// covers the data, otherwise reshuffled minibatches of size batch (the last
// one smaller). It returns the mean loss and Σ(y-ŷ)² over the minibatches
// as they were visited.
func (f *fitter[T]) epoch(X, Y *tensor.Dense[T], batch int, lr float64) (loss, sse float64) {
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
	if f.np != nil {
		f.np.order(idx)
	} else {
		f.rng.Shuffle(n, func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	}
	var total float64
	for i0 := 0; i0 < n; i0 += batch {
		b := min(batch, n-i0)
		f.xb = tensor.Dense[T]{Rows: b, Cols: X.Cols, Data: f.xbuf[:b*X.Cols]}
		f.yb = tensor.Dense[T]{Rows: b, Cols: Y.Cols, Data: f.ybuf[:b*Y.Cols]}
		tensor.Gather(&f.xb, X, idx[i0:i0+b])
		tensor.Gather(&f.yb, Y, idx[i0:i0+b])
		l, e := f.step(&f.xb, &f.yb, lr)
		total += l * float64(b)
		sse += e
	}
	return total / float64(n), sse
}
