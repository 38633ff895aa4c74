// Copyright ©2026 The mgdl Authors. All rights reserved.

//go:build !amd64 || purego

package gemm

func axpyVec[T Float](alpha T, x, y []T) int { return 0 }

func dotVec[T Float](n int, x, y []T) (T, int) { return 0, 0 }
