// Copyright ©2026 The mgdl Authors. All rights reserved.

//go:build amd64 && !purego

package gemm

import "unsafe"

//go:noescape
func axpyD16(n int, alpha float64, x, y *float64)

//go:noescape
func axpyS32(n int, alpha float32, x, y *float32)

//go:noescape
func dotD16(n int, x, y *float64) float64

//go:noescape
func dotS32(n int, x, y *float32) float32

// hasVec reports whether the AVX2+FMA helpers may be used.
var hasVec = level() != "go"

// axpyVec does y[:v] += alpha·x[:v] for the largest v ≤ len(y) the vector
// code handles and returns v.
func axpyVec[T Float](alpha T, x, y []T) int {
	if !hasVec {
		return 0
	}
	switch yy := any(y).(type) {
	case []float64:
		v := len(yy) &^ 15
		if v > 0 {
			xx := any(x).([]float64)
			_ = xx[v-1]
			axpyD16(v, float64(alpha), &xx[0], &yy[0])
		}
		return v
	case []float32:
		v := len(yy) &^ 31
		if v > 0 {
			xx := any(x).([]float32)
			_ = xx[v-1]
			axpyS32(v, float32(alpha), &xx[0], &yy[0])
		}
		return v
	}
	return 0
}

// dotVec returns Σ x[i]·y[i] over i < v for the largest v ≤ n the vector
// code handles, and v.
func dotVec[T Float](n int, x, y []T) (T, int) {
	if !hasVec {
		return 0, 0
	}
	switch xx := any(x).(type) {
	case []float64:
		v := n &^ 15
		if v == 0 {
			return 0, 0
		}
		yy := any(y).([]float64)
		_, _ = xx[v-1], yy[v-1]
		s := dotD16(v, &xx[0], &yy[0])
		return *(*T)(unsafe.Pointer(&s)), v
	case []float32:
		v := n &^ 31
		if v == 0 {
			return 0, 0
		}
		yy := any(y).([]float32)
		_, _ = xx[v-1], yy[v-1]
		s := dotS32(v, &xx[0], &yy[0])
		return *(*T)(unsafe.Pointer(&s)), v
	}
	return 0, 0
}
