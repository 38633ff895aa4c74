package data

import (
	"fmt"
	"math"

	"github.com/mgdl/mgdl/tensor"
)

// LabelNoise is the structured label noise of Fang & Xu (NeurIPS 2024)
// §3.4: every target row y of an input row x becomes
//
//	ỹ = y + y·β·sin(2π κ ‖x‖₂),
//
// on the training and validation sets only; the test set keeps its clean
// targets, so that test errors measure how well a model recovers the clean
// function from noisy labels. For one-hot targets (MNIST) it perturbs the
// true class's entry alone. ‖x‖₂ is taken on the inputs as loaded, before
// any standardisation (MNIST: pixel values / 255).
type LabelNoise struct {
	Beta  float64 `json:"beta"`
	Kappa float64 `json:"kappa"`
}

// check returns an error unless β and κ are finite.
func (n LabelNoise) check() error {
	for _, v := range []struct {
		name string
		v    float64
	}{{"beta", n.Beta}, {"kappa", n.Kappa}} {
		if math.IsNaN(v.v) || math.IsInf(v.v, 0) {
			return settingErrorf("data: label noise %s %v must be a finite number", v.name, v.v)
		}
	}
	return nil
}

// Apply returns d with noisy targets (a new Y; d's are left unchanged).
// X is shared with d.
func (n LabelNoise) Apply(d Dataset[float64]) Dataset[float64] {
	if d.Y == nil {
		return d
	}
	y := tensor.New[float64](d.Y.Rows, d.Y.Cols)
	for i := range d.Y.Rows {
		var ss float64
		for _, v := range d.X.Row(i) {
			ss += v * v
		}
		f := 1 + n.Beta*math.Sin(2*math.Pi*n.Kappa*math.Sqrt(ss))
		src, dst := d.Y.Row(i), y.Row(i)
		for j, v := range src {
			dst[j] = v * f
		}
	}
	return Dataset[float64]{X: d.X, Y: y}
}

// String gives the noise as the papers write it.
func (n LabelNoise) String() string {
	return fmt.Sprintf("label noise y(1 + %g sin(2π·%g‖x‖₂)) on training and validation targets", n.Beta, n.Kappa)
}
