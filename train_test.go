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
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/tensor"
)

func smallSpectral(t testing.TB, seed uint64) data.Splits[float64] {
	t.Helper()
	e, err := data.Lookup("spectral2")
	if err != nil {
		t.Fatal(err)
	}
	return data.Generate[float64](e, seed)
}

func smallConfig(epochs int, widths ...[]int) Config {
	return Uniform(widths, GradeSpec{Epochs: epochs, BatchSize: 256, LR: optim.Constant(1e-3)}, 11)
}

// TestCachedEqualsFreshForward: the residuals the trainer advances through
// cached features equal y minus a fresh forward pass through the chained
// grades, on the training set and on unseen (test) points.
func TestCachedEqualsFreshForward(t *testing.T) {
	s := smallSpectral(t, 1)
	cfg := smallConfig(3, []int{1, 32, 32, 1}, []int{32, 24, 16, 1})
	tr, err := NewTrainer(cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	m := tr.Model()
	for i, d := range []data.Dataset[float64]{s.Train, s.Val, s.Test} {
		// fresh chained forward, written out by hand
		g1 := m.Grades[0].Forward(d.X).Clone()
		g2 := m.Grades[1].Forward(m.Grades[0].Hidden()).Clone()
		pred := m.Predict(d.X)
		var worst, worstPred float64
		for k := range d.Y.Data {
			want := d.Y.Data[k] - g1.Data[k] - g2.Data[k]
			worst = max(worst, math.Abs(tr.splits()[i].R.Data[k]-want))
			worstPred = max(worstPred, math.Abs(pred.Data[k]-(g1.Data[k]+g2.Data[k])))
		}
		if worst > 1e-12 || worstPred > 1e-12 {
			t.Errorf("split %d: cached residual differs by %g, Predict by %g", i, worst, worstPred)
		}
		staged := m.StagedPredict(d.X)
		if len(staged) != 2 || metrics.MaxErr(staged[0].Raw(), g1.Raw()) > 1e-12 || metrics.MaxErr(staged[1].Raw(), pred.Raw()) > 1e-12 {
			t.Errorf("split %d: staged predictions disagree", i)
		}
	}
}

// TestTrainingReducesResidual trains 4 grades on spectral setting 2 and
// requires the training RSE to drop strictly at every grade.
func TestTrainingReducesResidual(t *testing.T) {
	if testing.Short() {
		t.Skip("trains 4 grades (a few seconds)")
	}
	s := smallSpectral(t, 2)
	w := []int{64, 64, 64, 1}
	cfg := smallConfig(15, []int{1, 64, 64, 1}, w, w, w)
	_, res, err := Train(context.Background(), cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	prev := 1.0
	for _, r := range res {
		t.Logf("grade %d: train RSE %.4g, test RSE %.4g", r.Grade, r.TrainRSE, *r.TestRSE)
		if !(r.TrainRSE < prev) {
			t.Errorf("grade %d: train RSE %g did not drop below %g", r.Grade, r.TrainRSE, prev)
		}
		prev = r.TrainRSE
	}
}

// TestSameSeedSameResult: two runs with one seed agree bit for bit; another
// seed differs.
func TestSameSeedSameResult(t *testing.T) {
	s := smallSpectral(t, 3)
	cfg := smallConfig(2, []int{1, 16, 16, 1}, []int{16, 16, 1})
	_, a, err := Train(context.Background(), cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, b, _ := Train(context.Background(), cfg, s, nil)
	cfg.Seed++
	_, c, _ := Train(context.Background(), cfg, s, nil)
	for i := range a {
		if a[i].TrainRSE != b[i].TrainRSE || *a[i].TestRSE != *b[i].TestRSE || a[i].TrainLoss != b[i].TrainLoss {
			t.Errorf("grade %d: runs differ: %+v vs %+v", i+1, a[i], b[i])
		}
	}
	if a[1].TrainRSE == c[1].TrainRSE {
		t.Error("another seed gave the same result")
	}
}

func TestSGDLConfig(t *testing.T) {
	cfg := smallConfig(5, []int{1, 256, 256, 1}, []int{256, 256, 256, 1}, []int{256, 128, 1})
	s := cfg.SGDL(9)
	want := []int{1, 256, 256, 256, 256, 128, 1}
	if len(s.Grades) != 1 || s.Grades[0].Epochs != 9 || len(s.Grades[0].Widths) != len(want) {
		t.Fatalf("SGDL config %+v", s)
	}
	for i := range want {
		if s.Grades[0].Widths[i] != want[i] {
			t.Fatalf("widths %v, want %v", s.Grades[0].Widths, want)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	s := smallSpectral(t, 1)
	cases := map[string]Config{
		"no grades":     {},
		"input width":   smallConfig(1, []int{2, 8, 1}),
		"chain":         smallConfig(1, []int{1, 8, 1}, []int{9, 4, 1}),
		"output width":  smallConfig(1, []int{1, 8, 2}),
		"zero width":    smallConfig(1, []int{1, 0, 1}),
		"bad lr":        Uniform([][]int{{1, 4, 1}}, GradeSpec{Epochs: 1}, 1),
		"short widths":  smallConfig(1, []int{1}),
		"negative epoc": smallConfig(-1, []int{1, 4, 1}),
	}
	for name, cfg := range cases {
		if _, _, err := Train(context.Background(), cfg, s, nil); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestDivergenceKeepsFinishedGrades: a grade whose loss blows up returns
// ErrDiverged and leaves the finished grades in the model.
func TestDivergenceKeepsFinishedGrades(t *testing.T) {
	s := smallSpectral(t, 1)
	cfg := smallConfig(2, []int{1, 16, 16, 1}, []int{16, 16, 1})
	cfg.Grades[1].LR = optim.Constant(1e300)
	cfg.Grades[1].Optimizer = optim.KindGD
	m, res, err := Train(context.Background(), cfg, s, nil)
	if !errors.Is(err, ErrDiverged) {
		t.Fatalf("error %v, want ErrDiverged", err)
	}
	if len(m.Grades) != 1 || len(res) != 1 {
		t.Fatalf("kept %d grades and %d results, want 1", len(m.Grades), len(res))
	}
}

func TestCancelKeepsFinishedGrades(t *testing.T) {
	s := smallSpectral(t, 1)
	cfg := smallConfig(3, []int{1, 8, 8, 1}, []int{8, 8, 1})
	ctx, cancel := context.WithCancel(context.Background())
	m, _, err := Train(ctx, cfg, s, func(e Event) {
		if e.Done && e.Grade == 1 {
			cancel()
		}
	})
	if !errors.Is(err, context.Canceled) || len(m.Grades) != 1 {
		t.Fatalf("err %v, %d grades", err, len(m.Grades))
	}
}

// TestTrainingStepAllocatesNothing: a minibatch epoch (gather, forward,
// loss, backward, Adam) allocates nothing once warm.
func TestTrainingStepAllocatesNothing(t *testing.T) {
	for _, act := range []nn.Activation{nn.ReLU, nn.Sin} {
		rng := rand.New(rand.NewPCG(1, 2))
		X := tensor.New[float64](1000, 32)
		Y := tensor.New[float64](1000, 1)
		for i := range X.Data {
			X.Data[i] = rng.Float64()
		}
		net := nn.NewMLP[float64]([]int{32, 32, 32, 1}, act)
		net.Init(nn.Xavier, rng)
		f := newFitter(net, optim.New[float64](optim.KindAdam), rng)
		f.epoch(X, Y, 128, 1e-3)
		if a := testing.AllocsPerRun(5, func() { f.epoch(X, Y, 128, 1e-3) }); a != 0 {
			t.Errorf("%v: %v allocations per epoch", act, a)
		}
		if a := testing.AllocsPerRun(5, func() { f.epoch(X, Y, 0, 1e-3) }); a != 0 {
			t.Errorf("%v: %v allocations per full-batch step", act, a)
		}
	}
}

// TestRestoreContinuesExactly: training 1 grade, restoring it into a fresh
// trainer and running the rest gives the model of an uninterrupted run.
func TestRestoreContinuesExactly(t *testing.T) {
	s := smallSpectral(t, 4)
	cfg := smallConfig(2, []int{1, 16, 16, 1}, []int{16, 16, 1}, []int{16, 8, 1})
	full, resFull, err := Train(context.Background(), cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := cfg
	first.Grades = cfg.Grades[:1]
	part, _, err := Train(context.Background(), first, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := NewTrainer(cfg, s)
	if err := tr.Restore(part); err != nil {
		t.Fatal(err)
	}
	var seen []int
	tr.OnGrade = func(m *model.Model[float64], r GradeResult) error { seen = append(seen, r.Grade); return nil }
	res, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 2 || res[1].TrainRSE != resFull[2].TrainRSE || len(seen) != 2 || seen[0] != 2 {
		t.Fatalf("resumed results %+v (grades seen %v), uninterrupted %+v", res, seen, resFull)
	}
	for l := range full.Grades {
		if !slices.Equal(full.Grades[l].Params(), tr.Model().Grades[l].Params()) {
			t.Errorf("grade %d parameters differ", l+1)
		}
	}
	bad, _ := NewTrainer(smallConfig(1, []int{1, 8, 1}), s)
	if err := bad.Restore(part); err == nil {
		t.Error("restoring a mismatched model succeeded")
	}
}
