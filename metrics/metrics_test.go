package metrics

import (
	"math"
	"testing"
)

func TestMetrics(t *testing.T) {
	y := []float64{1, -2, 2}
	p := []float64{1, -1, 0}
	cases := []struct {
		name      string
		got, want float64
	}{
		{"RSE", RSE(y, p), 5.0 / 9},
		{"MSE", MSE(y, p), 5.0 / 3},
		{"MaxErr", MaxErr(y, p), 2},
		{"PSNR", PSNR(y, p), -10 * math.Log10(5.0/3)},
		{"L1", LpNorm([]float64{1, -3}, 1), 2},
		{"L2", LpNorm([]float64{3, -4}, 2), math.Sqrt(12.5)},
		{"Linf", LpNorm([]float64{3, -4}, math.Inf(1)), 4},
	}
	for _, c := range cases {
		if math.Abs(c.got-c.want) > 1e-14 {
			t.Errorf("%s = %g, want %g", c.name, c.got, c.want)
		}
	}
}
