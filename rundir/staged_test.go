package rundir

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
)

func target1(x float64) float64 {
	return math.Sin(2*math.Pi*3*x) + 0.3*math.Sin(2*math.Pi*40*x)
}

func TestNewStaged1D(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	m := &model.Model[float64]{}
	for _, w := range [][]int{{1, 8, 8, 1}, {8, 8, 1}} {
		g := nn.NewMLP[float64](w, nn.Tanh)
		g.Init(nn.Xavier, rng)
		m.Grades = append(m.Grades, g)
	}
	n := 5000 // more than MaxStagedPoints, in decreasing order
	x, y := tensor.New[float64](n, 1), tensor.New[float64](n, 1)
	for i := range n {
		x.Data[i] = 1 - float64(i)/float64(n)
		y.Data[i] = target1(x.Data[i])
	}
	s := NewStaged1D(m, "train", x, y)
	if s == nil || len(s.X) != MaxStagedPoints || len(s.Pred) != 2 {
		t.Fatalf("got %d points and %d grades, want %d and 2", len(s.X), len(s.Pred), MaxStagedPoints)
	}
	for i := 1; i < len(s.X); i++ {
		if !(s.X[i] > s.X[i-1]) {
			t.Fatalf("inputs not increasing at %d: %v, %v", i, s.X[i-1], s.X[i])
		}
	}
	// The staged values are the model's staged predictions at those inputs.
	xin := tensor.New[float64](len(s.X), 1)
	copy(xin.Data, s.X)
	want := m.StagedPredict(xin)
	for l := range want {
		for i, v := range want[l].Data {
			if v != s.Pred[l][i] {
				t.Fatalf("grade %d point %d: %v, want %v", l+1, i, s.Pred[l][i], v)
			}
		}
	}
	for i, xv := range s.X {
		if s.Y[i] != target1(xv) {
			t.Fatalf("target at %v: %v, want %v", xv, s.Y[i], target1(xv))
		}
	}
	path := filepath.Join(t.TempDir(), StagedFile)
	if err := s.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	back, err := ReadStaged(path)
	if err != nil || len(back.Pred) != 2 || back.Pred[1][7] != s.Pred[1][7] {
		t.Fatalf("round trip: %v", err)
	}
	// Two inputs: no staged record.
	if NewStaged1D(m, "train", tensor.New[float64](3, 2), tensor.New[float64](3, 1)) != nil {
		t.Error("staged record for 2-D inputs")
	}
}
