package mgdl

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/tensor"
)

// epochFitter returns a fitter for grade `grade` (1-based) of the papers'
// spectral-setting-2 model (grades [1,256,256,1] then [256,256,256,1]),
// with the grades before it finished (0 epochs: only the cached features
// matter for timing), and the cached training features and residual.
func epochFitter[T tensor.Float](b *testing.B, grade int) (*fitter[T], *tensor.Dense[T], *tensor.Dense[T]) {
	e, _ := data.Lookup("spectral2")
	s := data.Generate[T](e, 1)
	widths := [][]int{{1, 256, 256, 1}}
	for len(widths) < grade {
		widths = append(widths, []int{256, 256, 256, 1})
	}
	cfg := Uniform(widths[:grade-1], GradeSpec{Epochs: 0, BatchSize: 256, LR: optim.Constant(1e-4)}, 1)
	tr, err := NewTrainer(cfg, s)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := tr.Run(context.Background()); err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, uint64(grade)))
	net := nn.NewMLP[T](widths[grade-1], nn.ReLU)
	net.Init(nn.Xavier, rng)
	f := newFitter(net, optim.New[T](optim.KindAdam), rng)
	return f, tr.Features(), tr.Residual()
}

// sgdlFitter returns a fitter for the SGDL baseline [1, 256×8, 1] on the raw
// spectral-setting-2 data.
func sgdlFitter[T tensor.Float](b *testing.B) (*fitter[T], *tensor.Dense[T], *tensor.Dense[T]) {
	e, _ := data.Lookup("spectral2")
	s := data.Generate[T](e, 1)
	rng := rand.New(rand.NewPCG(1, 1))
	net := nn.NewMLP[T]([]int{1, 256, 256, 256, 256, 256, 256, 256, 256, 1}, nn.ReLU)
	net.Init(nn.Xavier, rng)
	return newFitter(net, optim.New[T](optim.KindAdam), rng), s.Train.X, s.Train.Y
}

// BenchmarkGradeEpoch times one epoch (N=6000, batch 256, 24 Adam steps) of
// grade 2 and grade 4 of the papers' spectral model on cached features, and
// of the SGDL baseline [1,256×8,1], interleaved in one run, and reports the
// ratios grade4/grade2 (≈ 1: a grade's cost does not grow with the grades
// before it) and sgdl/mgdl (SGDL epoch over a grade epoch).
func BenchmarkGradeEpoch(b *testing.B) {
	b.Run("float64", benchGradeEpoch[float64])
	b.Run("float32", benchGradeEpoch[float32])
}

func benchGradeEpoch[T tensor.Float](b *testing.B) {
	f2, x2, y2 := epochFitter[T](b, 2)
	f4, x4, y4 := epochFitter[T](b, 4)
	fs, xs, ys := sgdlFitter[T](b)
	var t2, t4, ts time.Duration
	timeIt := func(f *fitter[T], x, y *tensor.Dense[T], acc *time.Duration) {
		start := time.Now()
		f.epoch(x, y, 256, 1e-4)
		*acc += time.Since(start)
	}
	// warm up buffers
	f2.epoch(x2, y2, 256, 1e-4)
	f4.epoch(x4, y4, 256, 1e-4)
	fs.epoch(xs, ys, 256, 1e-4)
	b.ResetTimer()
	for range b.N {
		timeIt(f2, x2, y2, &t2)
		timeIt(f4, x4, y4, &t4)
		timeIt(fs, xs, ys, &ts)
	}
	n := float64(b.N)
	b.ReportMetric(t2.Seconds()*1e3/n, "ms-grade2")
	b.ReportMetric(t4.Seconds()*1e3/n, "ms-grade4")
	b.ReportMetric(ts.Seconds()*1e3/n, "ms-sgdl")
	b.ReportMetric(t4.Seconds()/t2.Seconds(), "grade4/grade2")
	b.ReportMetric(ts.Seconds()/t2.Seconds(), "sgdl/mgdl")
}

// BenchmarkStep times one full-batch training step of the MLP
// 1→256→256→256→1 (ReLU, MSE, Adam) on N=4096 points, the shape of the
// PyTorch comparison in docs/PERFORMANCE.md.
func BenchmarkStep(b *testing.B) {
	b.Run("float64", benchStep[float64])
	b.Run("float32", benchStep[float32])
}

func benchStep[T tensor.Float](b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	X := tensor.New[T](4096, 1)
	Y := tensor.New[T](4096, 1)
	for i := range X.Data {
		X.Data[i] = T(rng.Float64())
		Y.Data[i] = T(rng.Float64())
	}
	net := nn.NewMLP[T]([]int{1, 256, 256, 256, 1}, nn.ReLU)
	net.Init(nn.Xavier, rng)
	f := newFitter(net, optim.New[T](optim.KindAdam), rng)
	f.step(X, Y, 1e-4)
	b.ResetTimer()
	for range b.N {
		f.step(X, Y, 1e-4)
	}
}
