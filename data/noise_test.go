package data

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/mgdl/mgdl/tensor"
)

// Label noise perturbs the training and validation targets by the
// papers' formula and leaves the test targets clean; the source keeps it
// through its JSON form.
func TestLabelNoise(t *testing.T) {
	src := DefaultSource()
	src.Example = "xu2"
	clean, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	src.LabelNoise = &LabelNoise{Beta: 0.5, Kappa: 3}
	r, err := src.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Source
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.LabelNoise == nil || *back.LabelNoise != *src.LabelNoise {
		t.Fatalf("JSON %s lost the label noise", b)
	}
	noisy, err := back.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []struct {
		name         string
		clean, noisy Dataset[float64]
		perturbed    bool
	}{{"train", clean.Splits.Train, noisy.Splits.Train, true}, {"val", clean.Splits.Val, noisy.Splits.Val, true}, {"test", clean.Splits.Test, noisy.Splits.Test, false}} {
		changed := 0
		for i := range s.clean.Y.Rows {
			x, y := s.clean.X.Row(i)[0], s.clean.Y.Row(i)[0]
			want := y
			if s.perturbed {
				want = y + y*0.5*math.Sin(2*math.Pi*3*math.Abs(x))
			}
			if got := s.noisy.Y.Row(i)[0]; math.Abs(got-want) > 1e-15 {
				t.Fatalf("%s row %d: %v, want %v", s.name, i, got, want)
			}
			if want != y {
				changed++
			}
		}
		if s.perturbed && changed < s.clean.Y.Rows/2 {
			t.Errorf("%s: only %d of %d targets changed", s.name, changed, s.clean.Y.Rows)
		}
	}
	// One-hot targets: only the true class's entry moves.
	d := Dataset[float64]{X: clean.Splits.Train.X, Y: clean.Splits.Train.Y}
	oh := LabelNoise{Beta: 1, Kappa: 5}.Apply(Dataset[float64]{X: d.X, Y: onehot(d.Y.Rows)})
	for i := range oh.Y.Rows {
		row := oh.Y.Row(i)
		if row[0] != 0 || row[2] != 0 || math.Abs(row[1]-(1+math.Sin(2*math.Pi*5*math.Abs(d.X.Row(i)[0])))) > 1e-15 {
			t.Fatalf("one-hot row %d: %v", i, row)
		}
	}
	bad := src
	bad.LabelNoise = &LabelNoise{Beta: math.Inf(1), Kappa: 1}
	if _, err := bad.Resolve(); err == nil || !IsSettingError(err) {
		t.Errorf("infinite beta: %v, want a setting error", err)
	}
}

// onehot returns n one-hot rows of 3 classes, all of class 1.
func onehot(n int) *tensor.Dense[float64] {
	y := tensor.New[float64](n, 3)
	for i := range n {
		y.Set(i, 1, 1)
	}
	return y
}
