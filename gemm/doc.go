// Copyright ©2026 The mgdl Authors. All rights reserved.

// Package gemm is a fast pure-Go general matrix multiply for float64 and
// float32 row-major matrices:
//
//	C = alpha·op(A)·op(B) + beta·C
//
// where op(X) is X or Xᵀ, op(A) is m×k, op(B) is k×n and C is m×n, with the
// argument conventions of CBLAS's row-major dgemm/sgemm (lda, ldb and ldc are
// the row strides, in elements, of the stored A, B and C).
//
// The algorithm is the GotoBLAS/BLIS one: op(B) is packed, one kc×nc block at
// a time, into contiguous panels of NR columns, op(A) one mc×kc block at a
// time into panels of MR rows, and a micro-kernel accumulates MR×NR tiles of
// C in registers. Transposition is handled while packing, so NN (X·W), TN
// (Xᵀ·dY) and NT (dY·Wᵀ) products never materialize a transpose.
//
// On amd64 the micro-kernels are Go assembly: an AVX-512 variant
// (12×16 float64, 12×32 float32 tiles) and an AVX2+FMA variant (6×8, 6×16),
// chosen at start-up with golang.org/x/sys/cpu. Elsewhere, or with the
// purego build tag, a portable Go kernel is used.
//
// A Backend runs products on a persistent pool of worker goroutines (no
// goroutine or channel is created per call) with per-worker packing buffers
// that are grown once, so a product allocates nothing in steady state.
// The work is split into fixed, tile-aligned pieces of C and the reduction
// over k is never split, so the result is bit-for-bit reproducible for the
// same inputs, and is even the same for every thread count.
//
// Products with m or n equal to 1, or with very few flops, take a simple
// direct path without packing.
package gemm
