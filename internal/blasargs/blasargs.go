// Package blasargs checks the arguments of a row-major gemm call and does
// the calls that need no product, for the matrix-multiply backends (gemm,
// openblas), which cannot import tensor.
package blasargs

import "fmt"

// Check panics, with messages prefixed by pkg, unless m, n, k are not
// negative and the slices of lengths la, lb, lc with row strides lda, ldb,
// ldc hold op(A) (m×k), op(B) (k×n) and C (m×n); op(X) is Xᵀ when its flag
// is set.
func Check(pkg string, tA, tB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("%s: negative size m=%d n=%d k=%d", pkg, m, n, k))
	}
	ra, ca := m, k
	if tA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if tB {
		rb, cb = n, k
	}
	checkMat(pkg, "A", ra, ca, la, lda)
	checkMat(pkg, "B", rb, cb, lb, ldb)
	checkMat(pkg, "C", m, n, lc, ldc)
}

func checkMat(pkg, name string, r, c, l, ld int) {
	if ld < max(1, c) {
		panic(fmt.Sprintf("%s: ld%s=%d < max(1, %d)", pkg, name, ld, c))
	}
	if r > 0 && c > 0 && l < (r-1)*ld+c {
		panic(fmt.Sprintf("%s: %s is %d×%d with stride %d but has %d elements", pkg, name, r, c, ld, l))
	}
}

// Trivial does the whole of a gemm call that needs no product and reports
// whether it did: nothing when m or n is 0, and C = beta·C (C = 0 for
// beta = 0, whatever C held) when k is 0 or alpha is 0.
func Trivial[T float32 | float64](m, n, k int, alpha, beta T, c []T, ldc int) bool {
	if m == 0 || n == 0 {
		return true
	}
	if k != 0 && alpha != 0 {
		return false
	}
	Scale(m, n, beta, c, ldc)
	return true
}

// Scale sets the m×n block of C (row stride ldc) to beta·C, and to 0 when
// beta is 0, whatever C held (even NaN).
func Scale[T float32 | float64](m, n int, beta T, c []T, ldc int) {
	if beta == 1 {
		return
	}
	for i := range m {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}
