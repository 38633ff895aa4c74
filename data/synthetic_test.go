package data

import (
	"math"
	"testing"
)

func TestExamplesShapesAndSeeds(t *testing.T) {
	sizes := map[string][3]int{
		"spectral1": {6000, 2000, 2000}, "spectral2": {6000, 2000, 2000},
		"spectral3": {6000, 2000, 2000}, "spectral4": {6000, 2000, 2000},
		"manifold-q0": {12000, 4000, 4000}, "manifold-q4": {12000, 4000, 4000},
		"xu1": {5000, 1000, 1000}, "xu2": {5000, 1000, 1000}, "xu3": {5000, 1000, 1000},
		"digits": {1079, 359, 359},
	}
	if len(Examples()) != len(sizes) {
		t.Fatalf("%d examples registered, %d expected", len(Examples()), len(sizes))
	}
	for name, want := range sizes {
		e, err := Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		s := Generate[float64](e, 42)
		if err := s.Validate(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got := [3]int{s.Train.Len(), s.Val.Len(), s.Test.Len()}
		if got != want {
			t.Errorf("%s: sizes %v, want %v", name, got, want)
		}
		if s.Train.X.Cols != e.InDim || s.Train.Y.Cols != e.OutDim {
			t.Errorf("%s: widths %d→%d", name, s.Train.X.Cols, s.Train.Y.Cols)
		}
		again := Generate[float64](e, 42)
		other := Generate[float64](e, 43)
		same, diff := true, false
		for i, v := range s.Val.Y.Data {
			same = same && v == again.Val.Y.Data[i]
			diff = diff || v != other.Val.Y.Data[i]
		}
		if !same || !diff {
			t.Errorf("%s: same seed same data %v, other seed other data %v", name, same, diff)
		}
	}
}

// TestSpectralPinned pins the training grid and the target's structure: the
// grid is i/6000, and setting 1's target is bounded by its 20 unit
// amplitudes; setting 2's value at a point equals the defining sum.
func TestSpectralPinned(t *testing.T) {
	e, _ := Lookup("spectral2")
	s := Generate[float64](e, 7)
	if s.Train.X.At(3000, 0) != 0.5 || s.Train.X.At(5999, 0) != 5999.0/6000 {
		t.Fatalf("grid points %g %g", s.Train.X.At(3000, 0), s.Train.X.At(5999, 0))
	}
	var maxAbs float64
	for _, v := range s.Train.Y.Data {
		maxAbs = max(maxAbs, math.Abs(v))
	}
	// Σ linspace(1, 0.05, 20) = 10.5 bounds |λ|; a random-phase sum gets well above 3.
	if maxAbs > 10.5 || maxAbs < 3 {
		t.Fatalf("max |λ| = %g", maxAbs)
	}
}

func TestXu3Pinned(t *testing.T) {
	// Values computed by hand from the authors' formula.
	for _, c := range []struct{ x, want float64 }{{-1, 0}, {0.3, 1.3 * 0.9}} {
		got := xu3(c.x)
		// at x = 0.3: cos(0)=1, |1-0.7|=0.3, |cos(2π(-0.2))-0.5| = |0.309017-0.5| = 0.190983;
		// then -|0.190983-1.3|+1.3 = 0.190983; -|0.190983-0.9|+0.9 = 0.190983; times 1.3.
		if c.x == 0.3 {
			c.want = 1.3 * (0.5 - math.Cos(0.4*math.Pi))
		}
		if math.Abs(got-c.want) > 1e-12 {
			t.Errorf("xu3(%g) = %g, want %g", c.x, got, c.want)
		}
	}
}

func TestValidateRejectsBadData(t *testing.T) {
	e, _ := Lookup("xu1")
	s := Generate[float64](e, 1)
	s.Train.Y.Data[10] = math.NaN()
	if err := s.Validate(); err == nil {
		t.Fatal("NaN target accepted")
	}
	s = Generate[float64](e, 1)
	s.Val.X = s.Val.X.RowsView(0, 5)
	if err := s.Validate(); err == nil {
		t.Fatal("ragged validation set accepted")
	}
	if _, err := Lookup("nope"); err == nil {
		t.Fatal("unknown example accepted")
	}
}

func TestDigitsPinned(t *testing.T) {
	X, labels, err := Digits()
	if err != nil {
		t.Fatal(err)
	}
	if X.Rows != 1797 || X.Cols != 64 || len(labels) != 1797 {
		t.Fatalf("shape %d×%d, %d labels", X.Rows, X.Cols, len(labels))
	}
	// first row of the file: 0,0,5,13,9,1,0,0,... label 0
	if X.At(0, 2) != 5.0/16 || X.At(0, 3) != 13.0/16 || labels[0] != 0 || labels[1] != 1 {
		t.Fatalf("first rows %v labels %v", X.Row(0)[:8], labels[:2])
	}
	count := make([]int, 10)
	for _, c := range labels {
		count[c]++
	}
	for c, n := range count {
		if n < 170 || n > 190 {
			t.Errorf("class %d has %d rows", c, n)
		}
	}
}

// TestGenerateNumPyMatchesAuthors pins the NumPy-stream data against the
// values NumPy 1.24 computes with the authors' procedure
// (bench/reference/mgdl_numpy.py spectral(setting, seed)): the second
// input and the first, second and last targets of each split.
func TestGenerateNumPyMatchesAuthors(t *testing.T) {
	cases := []struct {
		name string
		seed uint64
		want [3][4]float64 // per split: x[1], y[0], y[1], y[last]
	}{
		{"spectral2", 1, [3][4]float64{
			{0.00016666666666666666, -3.010539398746615, -3.0380069750286443, -2.965147421589666},
			{0.7151893663724195, -1.1000204891330787, 1.6604624329960918, -3.1004029982358703},
			{0.7203244934421581, 0.08250478391773919, 0.4119994593079274, -1.1949126394151974}}},
		{"spectral3", 4, [3][4]float64{
			{0.00016666666666666666, 1.238497602412671, 0.7936674860705353, 0.6469546295111782},
			{0.7081478226181048, 1.702447452020418, -0.8941819390921655, -0.16873898828641348},
			{0.5472322491757223, -1.9875425381172287, -1.588970917784163, -0.6982282190966659}}},
	}
	for _, c := range cases {
		e, err := Lookup(c.name)
		if err != nil {
			t.Fatal(err)
		}
		s, err := GenerateNumPy[float64](e, c.seed)
		if err != nil {
			t.Fatal(err)
		}
		for k, d := range []Dataset[float64]{s.Train, s.Val, s.Test} {
			n := d.Len()
			got := [4]float64{d.X.Data[1], d.Y.Data[0], d.Y.Data[1], d.Y.Data[n-1]}
			for i, w := range c.want[k] {
				// Inputs are exact; targets within a few ulps (Go's math.Sin
				// and glibc's sin may round differently).
				if tol := 1e-14 * math.Abs(w); math.Abs(got[i]-w) > tol {
					t.Errorf("%s seed %d split %d value %d: %.17g, NumPy %.17g", c.name, c.seed, k, i, got[i], w)
				}
			}
		}
	}
	if _, err := GenerateNumPy[float64](examples["xu1"], 1); err == nil {
		t.Error("xu1 has no NumPy stream, but GenerateNumPy gave no error")
	}
	if _, err := GenerateNumPy[float64](examples["spectral1"], 0); err == nil {
		t.Error("NumPy data seed 0 was accepted")
	}
}
