// Package blasargs checks the arguments of a row-major gemm call, for the
// matrix-multiply backends (gemm, openblas), which cannot import tensor.
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
