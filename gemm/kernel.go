// Copyright ©2026 The mgdl Authors. All rights reserved.

package gemm

import "unsafe"

// Float is the set of element types of the products.
type Float interface{ float32 | float64 }

// kernFunc computes one mr×nr tile: C = alpha·Ã·B̃ + beta·C, with Ã a packed
// mr×kc panel (mr values per step of k), B̃ a packed kc×nr panel (nr values
// per step of k) and C of row stride ldc elements. When beta is 0 C is not
// read.
type kernFunc[T Float] func(kc int, a, b, c *T, ldc int, alpha, beta T)

// kernUFunc is kernFunc reading A in place: row r of the mr×kc tile of A
// starts at a+r·lda.
type kernUFunc[T Float] func(kc int, a *T, lda int, b, c *T, ldc int, alpha, beta T)

// kernel describes a micro-kernel and the blocking that goes with it.
type kernel[T Float] struct {
	name       string
	mr, nr     int
	kc, mc, nc int
	fn         kernFunc[T]
	// fnU, when not nil, is the same kernel reading A in place. It is used
	// for untransposed A, whose packing is a strided gather; the sums are
	// the same, so the results are bit-identical.
	fnU kernUFunc[T]
	// fnT, when not nil, reads transposed A in place: the mr values of
	// step p are contiguous at a+p·lda, as in a packed panel.
	fnT kernUFunc[T]
}

// Portable kernel tile.
const (
	goMR = 4
	goNR = 4
)

// kernGo is the portable micro-kernel, a goMR×goNR tile.
func kernGo[T Float](kc int, ap, bp, cp *T, ldc int, alpha, beta T) {
	a := unsafe.Slice(ap, kc*goMR)
	b := unsafe.Slice(bp, kc*goNR)
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 T
	for p := 0; p < kc; p++ {
		aa := a[p*goMR : p*goMR+goMR : p*goMR+goMR]
		bb := b[p*goNR : p*goNR+goNR : p*goNR+goNR]
		a0, a1, a2, a3 := aa[0], aa[1], aa[2], aa[3]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	c := unsafe.Slice(cp, 3*ldc+goNR)
	acc := [goMR][goNR]T{
		{c00, c01, c02, c03},
		{c10, c11, c12, c13},
		{c20, c21, c22, c23},
		{c30, c31, c32, c33},
	}
	for i := range goMR {
		row := c[i*ldc : i*ldc+goNR : i*ldc+goNR]
		if beta == 0 {
			for j := range goNR {
				row[j] = alpha * acc[i][j]
			}
		} else {
			for j := range goNR {
				row[j] = alpha*acc[i][j] + beta*row[j]
			}
		}
	}
}

func goKernelD() kernel[float64] {
	return kernel[float64]{name: "portable Go", mr: goMR, nr: goNR, kc: 256, mc: 128, nc: 1024, fn: kernGo[float64]}
}

func goKernelS() kernel[float32] {
	return kernel[float32]{name: "portable Go", mr: goMR, nr: goNR, kc: 256, mc: 128, nc: 1024, fn: kernGo[float32]}
}

// Kernels selected at start-up (see kernel_amd64.go and kernel_other.go).
var (
	kernD = selectD()
	kernS = selectS()
)

// KernelName reports the micro-kernel in use, e.g. "avx512" or "portable Go".
func KernelName() string { return kernD.name }
