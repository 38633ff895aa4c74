package mgdl

import (
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/tensor"
)

var update = flag.Bool("update", false, "rewrite testdata/trajectory.json")

// trajectory is the per-grade training, validation and test RSE of a short
// fixed-seed run: y = sin(2πx) with label noise (σ = 0.05) on 600 training
// and validation points, clean test labels; three small grades with ReLU,
// sin and tanh, Adam with decaying rates, minibatches of 32 (the last one
// partial).
func trajectory[T tensor.Float](t *testing.T) [][3]float64 {
	t.Helper()
	s := data.ConvertSplits[T](noisySine(600, 0.05, 1))
	cfg := Config{Seed: 7, Grades: []GradeSpec{
		{Widths: []int{1, 32, 32, 1}, Epochs: 20, BatchSize: 32, LR: optim.ExpDecay(1e-2, 1e-3)},
		{Widths: []int{32, 24, 1}, Activation: nn.Sin, Epochs: 10, BatchSize: 32, LR: optim.ExpDecay(1e-2, 1e-3)},
		{Widths: []int{24, 16, 16, 1}, Activation: nn.Tanh, Epochs: 10, BatchSize: 32, LR: optim.Constant(3e-3)},
	}}
	_, res, err := Train(context.Background(), cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	out := make([][3]float64, len(res))
	for l, r := range res {
		out[l] = [3]float64{r.TrainRSE, *r.ValRSE, *r.TestRSE}
	}
	return out
}

// TestGoldenTrajectory pins the per-grade RSEs of a short fixed-seed run,
// for both dtypes: a change to initialisation, shuffling, the optimizer,
// the loss or the grade chaining moves them by far more than the
// tolerance, which only has room for summation order (the AVX-512 and AVX2
// kernels, OpenBLAS). After an intended change, rewrite the file with
//
//	go test . -run GoldenTrajectory -update
func TestGoldenTrajectory(t *testing.T) {
	path := filepath.Join("testdata", "trajectory.json")
	got := map[string][][3]float64{"float64": trajectory[float64](t), "float32": trajectory[float32](t)}
	if *update {
		b, _ := json.MarshalIndent(got, "", "  ")
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var want map[string][][3]float64
	if err := json.Unmarshal(b, &want); err != nil {
		t.Fatal(err)
	}
	tol := map[string]float64{"float64": 1e-9, "float32": 1e-4}
	for dt, g := range got {
		w := want[dt]
		if len(w) != len(g) {
			t.Fatalf("%s: %d grades, the golden file has %d", dt, len(g), len(w))
		}
		for l := range g {
			for k, name := range []string{"train", "val", "test"} {
				if d := math.Abs(g[l][k]-w[l][k]) / w[l][k]; !(d <= tol[dt]) {
					t.Errorf("%s grade %d %s RSE %.12g, golden %.12g (relative difference %.2g > %g)", dt, l+1, name, g[l][k], w[l][k], d, tol[dt])
				}
			}
		}
		t.Logf("%s: final train/val/test RSE %.6g %.6g %.6g", dt, g[len(g)-1][0], g[len(g)-1][1], g[len(g)-1][2])
	}
}
