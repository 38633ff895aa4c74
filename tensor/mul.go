package tensor

import (
	"fmt"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/gonum"
)

// Backend multiplies row-major matrices: C = alpha·op(A)·op(B) + beta·C where
// op(X) is X or Xᵀ, C is m×n and the inner dimension is k. lda, ldb and ldc
// are the row strides of the stored (untransposed) A, B and C. The contract is
// CBLAS's row-major gemm.
type Backend interface {
	// Name identifies the backend, e.g. "gonum".
	Name() string
	// Info describes the backend for logs and summaries (version, threads).
	Info() string
	Dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int)
	Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

var (
	backendMu sync.RWMutex
	backend   Backend = goBackend
)

// SetBackend makes b the backend used by Mul and returns the previous one.
// It is meant to be called at start-up, not while products are running.
func SetBackend(b Backend) Backend {
	backendMu.Lock()
	defer backendMu.Unlock()
	old := backend
	backend = b
	return old
}

// CurrentBackend returns the backend used by Mul.
func CurrentBackend() Backend {
	backendMu.RLock()
	defer backendMu.RUnlock()
	return backend
}

// Mul computes C = alpha·op(A)·op(B) + beta·C, where op(X) is Xᵀ when the
// matching flag is true. With beta = 0, C's previous contents are ignored
// (even NaN). Shapes: op(A) is m×k, op(B) is k×n, C is m×n; anything else
// panics. C must not overlap A or B.
func Mul[T Float](tA, tB bool, alpha T, a, b *Dense[T], beta T, c *Dense[T]) {
	m, k := a.Rows, a.Cols
	if tA {
		m, k = k, m
	}
	kb, n := b.Rows, b.Cols
	if tB {
		kb, n = n, kb
	}
	if k != kb || c.Rows != m || c.Cols != n {
		panic(fmt.Sprintf("tensor: Mul shapes op(A)=%d×%d op(B)=%d×%d C=%d×%d", m, k, kb, n, c.Rows, c.Cols))
	}
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		Scale(beta, c)
		return
	}
	be := backend
	switch cd := any(c.Data).(type) {
	case []float64:
		be.Dgemm(tA, tB, m, n, k, float64(alpha), any(a.Data).([]float64), max(a.Cols, 1), any(b.Data).([]float64), max(b.Cols, 1), float64(beta), cd, max(c.Cols, 1))
	case []float32:
		be.Sgemm(tA, tB, m, n, k, float32(alpha), any(a.Data).([]float32), max(a.Cols, 1), any(b.Data).([]float32), max(b.Cols, 1), float32(beta), cd, max(c.Cols, 1))
	}
}

// Scale sets C = beta·C (C = 0 when beta is 0, whatever C held).
func Scale[T Float](beta T, c *Dense[T]) {
	if beta == 0 {
		c.Zero()
		return
	}
	for i := range c.Raw() {
		c.Data[i] *= beta
	}
}

// MulRef is the slow, obvious reference for Mul, used by tests to check
// backends. It accumulates in float64 whatever T is.
func MulRef[T Float](tA, tB bool, alpha T, a, b *Dense[T], beta T, c *Dense[T]) {
	at := func(i, p int) float64 {
		if tA {
			return float64(a.At(p, i))
		}
		return float64(a.At(i, p))
	}
	bt := func(p, j int) float64 {
		if tB {
			return float64(b.At(j, p))
		}
		return float64(b.At(p, j))
	}
	k := a.Cols
	if tA {
		k = a.Rows
	}
	for i := 0; i < c.Rows; i++ {
		for j := 0; j < c.Cols; j++ {
			var s float64
			for p := 0; p < k; p++ {
				s += at(i, p) * bt(p, j)
			}
			old := float64(0)
			if beta != 0 {
				old = float64(beta) * float64(c.At(i, j))
			}
			c.Set(i, j, T(float64(alpha)*s+old))
		}
	}
}

// Gonum is the pure-Go backend built on gonum's BLAS implementation.
type Gonum struct{}

var gonumImpl gonum.Implementation

func trans(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// Name returns "gonum".
func (Gonum) Name() string { return "gonum" }

// Info describes the gonum backend.
func (Gonum) Info() string { return "gonum v0.17 pure-Go BLAS" }

// Dgemm implements Backend.
func (Gonum) Dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	gonumImpl.Dgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemm implements Backend.
func (Gonum) Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gonumImpl.Sgemm(trans(tA), trans(tB), m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}
