package mgdl

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/metrics"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/tensor"
)

// noisySine is y = sin(2πx) with N(0, sigma²) label noise on the training
// and validation sets and clean test labels: a small synthetic version of
// the noisy-label MNIST experiment.
func noisySine(n int, sigma float64, seed uint64) data.Splits[float64] {
	rng := rand.New(rand.NewPCG(seed, 99))
	mk := func(m int, noise float64) data.Dataset[float64] {
		d := data.Dataset[float64]{X: tensor.New[float64](m, 1), Y: tensor.New[float64](m, 1)}
		for i := 0; i < m; i++ {
			x := rng.Float64()
			d.X.Data[i] = x
			d.Y.Data[i] = math.Sin(2*math.Pi*x) + noise*rng.NormFloat64()
		}
		return d
	}
	return data.Splits[float64]{Train: mk(n, sigma), Val: mk(n, sigma), Test: mk(1000, 0)}
}

// TestEarlyStoppingPreventsOverfitting: SGDL trained long on noisy labels
// memorises the noise (its test error ends well above its best), and with
// the patience rule it stops near the best state and tests better.
func TestEarlyStoppingPreventsOverfitting(t *testing.T) {
	if testing.Short() {
		t.Skip("trains two networks for 3000 epochs (a few seconds)")
	}
	s := noisySine(48, 0.5, 1)
	spec := GradeSpec{Widths: []int{1, 128, 128, 128, 1}, Epochs: 3000, LR: optim.Constant(3e-3)}
	cfg := Config{Grades: []GradeSpec{spec}, Seed: 3}
	var valLosses []float64
	_, long, err := Train(context.Background(), cfg, s, func(e Event) {
		if !e.Done && !math.IsNaN(e.ValLoss) && e.Epoch%10 == 0 {
			valLosses = append(valLosses, e.ValLoss)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Grades[0].EarlyStop = EarlyStop{Rule: StopPatience, Every: 10, Patience: 300}
	_, early, err := Train(context.Background(), cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	l, e := long[0], early[0]
	t.Logf("no early stopping: train RSE %.3g, test RSE %.3g; patience: stopped at epoch %d (best %d), train RSE %.3g, test RSE %.3g",
		l.TrainRSE, *l.TestRSE, e.Epochs, *e.BestEpoch, e.TrainRSE, *e.TestRSE)
	if !(l.TrainRSE < e.TrainRSE) {
		t.Errorf("the long run should fit the noisy training labels closer: %g vs %g", l.TrainRSE, e.TrainRSE)
	}
	if !(*e.TestRSE < 0.8**l.TestRSE) {
		t.Errorf("early stopping should test clearly better: %g vs %g", *e.TestRSE, *l.TestRSE)
	}
	if e.StopReason != StoppedPatience || e.Epochs >= 3000 {
		t.Errorf("stop reason %q after %d epochs", e.StopReason, e.Epochs)
	}
	if slices.Min(valLosses) >= valLosses[len(valLosses)-1]*0.9 {
		t.Errorf("the long run's validation loss should have risen from its minimum %g to %g", slices.Min(valLosses), valLosses[len(valLosses)-1])
	}
}

// TestEarlyStoppingRestoresBest: the kept state is the one with the lowest
// recorded validation loss, and its epoch is recorded.
func TestEarlyStoppingRestoresBest(t *testing.T) {
	s := noisySine(48, 0.5, 2)
	for _, rule := range []StopRule{StopPatience, StopPlateau} {
		spec := GradeSpec{Widths: []int{1, 64, 64, 1}, Epochs: 800, LR: optim.Constant(3e-3),
			EarlyStop: EarlyStop{Rule: rule, Every: 5, Patience: 100, Window: 100, Records: 10, Tol: 1e-3}}
		var records []float64
		var epochs []int
		_, res, err := Train(context.Background(), Config{Grades: []GradeSpec{spec}, Seed: 4}, s, func(e Event) {
			if !e.Done && e.Epoch%5 == 0 {
				records = append(records, e.ValLoss)
				epochs = append(epochs, e.Epoch)
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		r := res[0]
		i := slices.Index(records, slices.Min(records))
		// validation loss of the kept model: Σ residual² / (2n)
		kept := *r.ValRSE * metrics.Energy(s.Val.Y.Raw()) / (2 * float64(s.Val.Len()))
		if math.Abs(kept-records[i]) > 1e-12*records[i] || *r.BestEpoch != epochs[i] {
			t.Errorf("%s: kept val loss %.12g (best epoch %d), best recorded %.12g at epoch %d", rule, kept, *r.BestEpoch, records[i], epochs[i])
		}
		t.Logf("%s: stopped %q after %d epochs, best epoch %d", rule, r.StopReason, r.Epochs, *r.BestEpoch)
	}
}

// TestRefitNeverRaisesTrainingError: with the least-squares refit the
// training RSE is non-increasing at every grade even when the grades are
// trained badly (one epoch at a rate that wrecks them), and the refit
// correction satisfies ||e_l||² ≈ ||e_{l+1}||² + ||g_{l+1}||². Without the
// refit the same grades raise the error.
func TestRefitNeverRaisesTrainingError(t *testing.T) {
	s := smallSpectral(t, 5)
	w := []int{32, 32, 32, 1}
	bad := Uniform([][]int{{1, 32, 32, 1}, w, w, w, w}, GradeSpec{Epochs: 1, BatchSize: 64, LR: optim.Constant(0.5)}, 8)
	_, plain, err := Train(context.Background(), bad, s, nil)
	if err != nil && !errors.Is(err, ErrDiverged) {
		t.Fatal(err)
	}
	rose := false
	prev := 1.0
	for _, r := range plain {
		rose = rose || r.TrainRSE > prev
		prev = r.TrainRSE
	}
	if !rose {
		t.Log("note: without refit no grade raised the error this time")
	}
	for i := range bad.Grades {
		bad.Grades[i].Refit = true
	}
	tr, _ := NewTrainer(bad, s)
	var sse []float64
	sse = append(sse, metrics.Energy(tr.Residual().Raw()))
	tr.OnGrade = func(m *model.Model[float64], r GradeResult) error {
		sse = append(sse, metrics.Energy(tr.Residual().Raw()))
		return nil
	}
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	prev = 1.0
	for i, r := range res {
		if r.TrainRSE > prev*(1+1e-12) {
			t.Errorf("grade %d: train RSE rose from %g to %g with refit", r.Grade, prev, r.TrainRSE)
		}
		if !r.Refit || r.TrainRSEBeforeRefit == nil || *r.TrainRSEBeforeRefit < r.TrainRSE*(1-1e-9) {
			t.Errorf("grade %d: refit %v, before %v after %g", r.Grade, r.Refit, r.TrainRSEBeforeRefit, r.TrainRSE)
		}
		prev = r.TrainRSE
		// Pythagoras: the refit output is the orthogonal projection.
		g := tr.Model().GradeOutputs(s.Train.X)[i]
		gg := metrics.Energy(g.Raw())
		if d := sse[i] - sse[i+1] - gg; math.Abs(d) > 1e-6*sse[i] {
			t.Errorf("grade %d: ||e||² drop %g but ||g||² %g", r.Grade, sse[i]-sse[i+1], gg)
		}
	}
}

// TestGrowStopsWhenDoneAndContinuesWhenNot: adaptive growth stops early on a
// target one grade nearly fits, and keeps adding grades on spectral setting
// 2, where each grade still pays.
func TestGrowStopsWhenDoneAndContinuesWhenNot(t *testing.T) {
	if testing.Short() {
		t.Skip("trains up to 10 grades")
	}
	easy := noisySine(400, 0, 3)
	tmpl := GradeSpec{Widths: []int{32, 32, 1}, Epochs: 100, BatchSize: 100, LR: optim.ExpDecay(1e-2, 1e-3), Refit: true}
	first := tmpl
	first.Widths = []int{1, 32, 32, 1}
	cfg := Config{Grades: []GradeSpec{first}, Seed: 1, Grow: &Grow{Template: tmpl, MaxGrades: 6, Target: 1e-3, MinImprove: 0.01}}
	_, res, err := Train(context.Background(), cfg, easy, nil)
	if err != nil {
		t.Fatal(err)
	}
	last := res[len(res)-1]
	t.Logf("easy: %d grades, final val RSE %.3g, rejected %v", len(res), *last.ValRSE, last.Rejected)
	if len(res) >= 6 || (*last.ValRSE > 1e-3 && !last.Rejected) {
		t.Errorf("easy target: %d grades, val RSE %g", len(res), *last.ValRSE)
	}

	hard := smallSpectral(t, 6)
	tmpl = GradeSpec{Widths: []int{64, 64, 64, 1}, Epochs: 60, BatchSize: 256, LR: optim.Constant(3e-3), Refit: true}
	first = tmpl
	first.Widths = []int{1, 64, 64, 1}
	cfg = Config{Grades: []GradeSpec{first}, Seed: 1, Grow: &Grow{Template: tmpl, MaxGrades: 4, Target: 1e-6, MinImprove: 0.001}}
	m, res, err := Train(context.Background(), cfg, hard, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Logf("hard grade %d: val RSE %.4g rejected %v", r.Grade, *r.ValRSE, r.Rejected)
	}
	if len(m.Grades) != 4 {
		t.Errorf("hard target: kept %d grades, want all 4", len(m.Grades))
	}
}

// TestGrowRejectsUselessGrade: a grade that cannot improve (zero epochs and
// a zeroed output) is rejected and recorded.
func TestGrowRejectsUselessGrade(t *testing.T) {
	s := noisySine(200, 0.1, 4)
	tmpl := GradeSpec{Widths: []int{16, 16, 1}, Epochs: 0, LR: optim.Constant(1e-3), ZeroOutput: true}
	first := GradeSpec{Widths: []int{1, 16, 16, 1}, Epochs: 50, LR: optim.Constant(1e-2)}
	m, res, err := Train(context.Background(), Config{Grades: []GradeSpec{first}, Seed: 1, Grow: &Grow{Template: tmpl, MaxGrades: 5, MinImprove: 0.01}}, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Grades) != 1 || len(res) != 2 || !res[1].Rejected {
		t.Fatalf("kept %d grades, results %+v", len(m.Grades), res)
	}
}

// TestZeroOutputStartsFromUnchangedModel: with 0 epochs a zero-output grade
// leaves the residual exactly as it was.
func TestZeroOutputStartsFromUnchangedModel(t *testing.T) {
	s := noisySine(100, 0, 5)
	cfg := Config{Seed: 1, Grades: []GradeSpec{
		{Widths: []int{1, 8, 8, 1}, Epochs: 20, LR: optim.Constant(1e-2)},
		{Widths: []int{8, 8, 1}, Epochs: 0, LR: optim.Constant(1e-2), ZeroOutput: true},
	}}
	_, res, err := Train(context.Background(), cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].TrainRSE != res[1].TrainRSE {
		t.Fatalf("train RSE changed from %g to %g", res[0].TrainRSE, res[1].TrainRSE)
	}
}

// TestDivergenceRestoresBestState: a grade that improves and then blows up
// (gradient descent at too high a rate) is restored to its best state, kept,
// reported, and the run stops with ErrDiverged.
func TestDivergenceRestoresBestState(t *testing.T) {
	s := smallSpectral(t, 1)
	cfg := smallConfig(30, []int{1, 32, 32, 1}, []int{32, 32, 1})
	cfg.Grades[0].LR = optim.Constant(2.5)
	cfg.Grades[0].Optimizer = optim.KindGD
	cfg.Grades[0].BatchSize = 0
	cfg.Grades[0].EarlyStop.Every = 1
	m, res, err := Train(context.Background(), cfg, s, nil)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("error %v", err)
	}
	if len(m.Grades) != 1 || len(res) != 1 || res[0].StopReason != StoppedDiverged || res[0].BestEpoch == nil || *res[0].BestEpoch == 0 {
		t.Fatalf("model %d grades, results %+v", len(m.Grades), res)
	}
	if math.IsNaN(res[0].TrainRSE) || res[0].TrainRSE > 1.01 {
		t.Errorf("restored state has train RSE %g", res[0].TrainRSE)
	}
}

// TestClassificationDigits: MGDL classification (softmax grade 1, squared
// loss on the residual afterwards) on the handwritten digits reaches the
// accuracy of a small MLP, and SGDL with the same layers is the baseline.
func TestClassificationDigits(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on 1797 digits (a few seconds)")
	}
	e, _ := data.Lookup("digits")
	s := data.Generate[float64](e, 1)
	tmpl := GradeSpec{Epochs: 100, BatchSize: 64, LR: optim.ExpDecay(1e-3, 1e-4)}
	cfg := Uniform([][]int{{64, 128, 10}, {128, 128, 10}, {128, 128, 10}}, tmpl, 2)
	cfg.Task = Classification
	for i := 1; i < 3; i++ {
		cfg.Grades[i].Refit = true
	}
	m, res, err := Train(context.Background(), cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		t.Logf("MGDL grade %d: train acc %.4f, val acc %.4f, test acc %.4f", r.Grade, *r.TrainAcc, *r.ValAcc, *r.TestAcc)
	}
	sg := cfg.SGDL(100)
	_, sres, err := Train(context.Background(), sg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SGDL %v: test acc %.4f", sg.Grades[0].Widths, *sres[0].TestAcc)
	if acc := *res[len(res)-1].TestAcc; acc < 0.95 {
		t.Errorf("MGDL test accuracy %.4f, want ≥ 0.95", acc)
	}
	if *res[0].TestAcc < 0.93 || *sres[0].TestAcc < 0.93 {
		t.Errorf("grade-1 / SGDL accuracies %.4f / %.4f", *res[0].TestAcc, *sres[0].TestAcc)
	}
	// Classify agrees with the accuracy the trainer reports.
	pred := m.Classify(s.Test.X)
	hit := 0
	for i, c := range pred {
		if s.Test.Y.At(i, c) == 1 {
			hit++
		}
	}
	if got := float64(hit) / float64(len(pred)); math.Abs(got-*res[len(res)-1].TestAcc) > 1e-12 {
		t.Errorf("Classify accuracy %g, trainer %g", got, *res[len(res)-1].TestAcc)
	}
}
