// Package metrics computes the error measures the MGDL papers report.
// Every function takes the target y and the prediction p as equal-length
// slices (a matrix's Raw() data, so multi-output targets are compared
// elementwise) and accumulates in float64.
package metrics

import (
	"fmt"
	"math"

	"github.com/mgdl/mgdl/tensor"
)

func check[T tensor.Float](y, p []T) {
	if len(y) != len(p) {
		panic(fmt.Sprintf("metrics: %d targets and %d predictions", len(y), len(p)))
	}
}

// RSE is the relative squared error Σ(y-p)²/Σy², the papers' definition (the
// denominator is the energy of y, not its variance). It is NaN when y is all
// zero and p is too, +Inf when only y is.
func RSE[T tensor.Float](y, p []T) float64 {
	check(y, p)
	var num, den float64
	for i, v := range y {
		d := float64(v - p[i])
		num += d * d
		den += float64(v) * float64(v)
	}
	return num / den
}

// SSE is Σ(y-p)².
func SSE[T tensor.Float](y, p []T) float64 {
	check(y, p)
	var s float64
	for i, v := range y {
		d := float64(v - p[i])
		s += d * d
	}
	return s
}

// Energy is Σy².
func Energy[T tensor.Float](y []T) float64 {
	var s float64
	for _, v := range y {
		s += float64(v) * float64(v)
	}
	return s
}

// MSE is the mean squared error Σ(y-p)²/n (NaN for empty input).
func MSE[T tensor.Float](y, p []T) float64 {
	return SSE(y, p) / float64(len(y))
}

// MaxErr is max|y-p| (0 for empty input).
func MaxErr[T tensor.Float](y, p []T) float64 {
	check(y, p)
	var s float64
	for i, v := range y {
		s = max(s, math.Abs(float64(v-p[i])))
	}
	return s
}

// PSNR is -10·log10(MSE), the peak signal-to-noise ratio in dB for values in
// [0, 1].
func PSNR[T tensor.Float](y, p []T) float64 {
	return -10 * math.Log10(MSE(y, p))
}

// LpNorm returns (Σ|r|^p / n)^(1/p), the discrete L^p norm of r on n equally
// weighted points, for p ≥ 1; p = +Inf gives max|r|.
func LpNorm[T tensor.Float](r []T, p float64) float64 {
	if math.IsInf(p, 1) {
		var s float64
		for _, v := range r {
			s = max(s, math.Abs(float64(v)))
		}
		return s
	}
	var s float64
	for _, v := range r {
		s += math.Pow(math.Abs(float64(v)), p)
	}
	return math.Pow(s/float64(len(r)), 1/p)
}
