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
// a time, into contiguous panels of NR columns, and a micro-kernel
// accumulates MR×NR tiles of C in registers, taking op(A) one mc×kc block at
// a time. The assembly kernels read A where it is stored (MR rows at stride
// lda, or, for a transposed A, MR consecutive values of each stored row) and
// only the last partial MR-row panel is packed; the portable kernel packs
// the block of A into panels of MR rows. Transposition is handled while
// packing or by the kernel variant, so NN (X·W), TN (Xᵀ·dY) and NT (dY·Wᵀ)
// products never materialize a transpose.
//
// On amd64 the micro-kernels are Go assembly: an AVX-512 variant
// (12×16 float64, 12×32 float32 tiles) and an AVX2+FMA variant (6×8, 6×16),
// chosen at start-up with golang.org/x/sys/cpu; the environment variable
// MGDL_GEMM_KERNEL=avx2 or =go forces a lower level. Elsewhere, or with the
// purego build tag, a portable Go kernel is used. KernelName reports the
// choice.
//
// A Backend runs products on a persistent pool of worker goroutines (no
// goroutine or channel is created per call; the calling goroutine works too)
// with packing buffers that are grown once, so a product allocates nothing in
// steady state. For each block of op(B) the workers first pack the block into
// a shared buffer, then take row blocks of A (and, for small m, column ranges)
// from an atomic counter, so that a thread slowed down by a busy core does not
// hold the others up. Idle workers poll for about 30 µs before parking, which
// saves the ~8 µs wake-up between the phases of a product and between
// back-to-back products. The reduction over k is never split and tile
// boundaries do not depend on the split, so the result is bit-for-bit
// reproducible for the same inputs, whatever the number of threads.
//
// Products with m or n equal to 1, or with very few flops, take a direct
// path without packing: dot products or AXPYs of rows, with AVX2+FMA loops
// on amd64.
package gemm
