// Copyright ©2026 The mgdl Authors. All rights reserved.

package openblas

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/mgdl/mgdl/internal/blasargs"
)

// CBLAS enum values.
const (
	cblasRowMajor = 101
	cblasNoTrans  = 111
	cblasTrans    = 112
)

// Candidates is the list of library names Load tries after MGDL_BLAS_LIB,
// in order.
var Candidates = []string{
	"libopenblas.so.0",
	"libopenblas.so",
	"libopenblasp.so.0",
	"libopenblaso.so.0",
	"/usr/lib/x86_64-linux-gnu/libopenblas.so.0",
	"/usr/lib/aarch64-linux-gnu/libopenblas.so.0",
	"/usr/lib64/libopenblas.so.0",
	"/usr/local/lib/libopenblas.so.0",
	"/opt/homebrew/opt/openblas/lib/libopenblas.dylib",
	"/usr/local/opt/openblas/lib/libopenblas.dylib",
	"libopenblas.dylib",
	"libblas.so.3",
	"libcblas.so.3",
	"libblis.so.4",
	"libblis.so",
}

// Backend multiplies matrices with the loaded CBLAS. It has the methods of
// tensor.Backend. Obtain one with Load.
type Backend struct {
	path   string
	config string // openblas_get_config, if present

	dgemm func(order, tA, tB, m, n, k int32, alpha float64, a *float64, lda int32, b *float64, ldb int32, beta float64, c *float64, ldc int32)
	sgemm func(order, tA, tB, m, n, k int32, alpha float32, a *float32, lda int32, b *float32, ldb int32, beta float32, c *float32, ldc int32)

	// Fortran dgemm_/sgemm_, called through purego.SyscallN with every
	// argument by pointer, which allocates nothing; 0 when absent.
	fdgemm, fsgemm uintptr

	setThreads func(n int32)
	getThreads func() int32
}

var (
	loadOnce sync.Once
	loaded   *Backend
	loadErr  error
)

// Load loads the CBLAS library on first use and returns the Backend that
// calls it. It returns an error naming the libraries tried when none can be
// loaded or none exports cblas_dgemm and cblas_sgemm.
func Load() (*Backend, error) {
	loadOnce.Do(func() { loaded, loadErr = load() })
	return loaded, loadErr
}

func load() (*Backend, error) {
	names := Candidates
	if p := os.Getenv("MGDL_BLAS_LIB"); p != "" {
		names = append([]string{p}, names...)
	}
	return LoadFrom(names...)
}

// LoadFrom loads the first of the named libraries that can be opened and
// exports cblas_dgemm and cblas_sgemm, without the caching of Load. Each call
// opens the library again (dlopen shares an already open library). The error
// lists why each name failed.
func LoadFrom(names ...string) (*Backend, error) {
	if errUnsupported != nil {
		return nil, errUnsupported
	}
	var errs []string
	for _, name := range names {
		h, err := dlopen(name)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		b, err := bind(h, name)
		if err != nil {
			errs = append(errs, name+": "+err.Error())
			dlclose(h)
			continue
		}
		return b, nil
	}
	return nil, errors.New("openblas: no CBLAS library could be loaded (install OpenBLAS, e.g. apt-get install libopenblas0-pthread, or set MGDL_BLAS_LIB): " + strings.Join(errs, "; "))
}

func bind(h uintptr, path string) (*Backend, error) {
	b := &Backend{path: path}
	for _, s := range []string{"cblas_dgemm", "cblas_sgemm"} {
		if _, err := dlsym(h, s); err != nil {
			return nil, fmt.Errorf("no %s", s)
		}
	}
	if runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" {
		fd, errd := dlsym(h, "dgemm_")
		fs, errs := dlsym(h, "sgemm_")
		if errd == nil && errs == nil {
			b.fdgemm, b.fsgemm = fd, fs
		}
	}
	registerLibFunc(&b.dgemm, h, "cblas_dgemm")
	registerLibFunc(&b.sgemm, h, "cblas_sgemm")
	if _, err := dlsym(h, "openblas_set_num_threads"); err == nil {
		registerLibFunc(&b.setThreads, h, "openblas_set_num_threads")
	}
	if _, err := dlsym(h, "openblas_get_num_threads"); err == nil {
		registerLibFunc(&b.getThreads, h, "openblas_get_num_threads")
	}
	if _, err := dlsym(h, "openblas_get_config"); err == nil {
		var cfg func() string
		registerLibFunc(&cfg, h, "openblas_get_config")
		b.config = strings.TrimSpace(cfg())
	}
	return b, nil
}

// Name returns "openblas".
func (b *Backend) Name() string { return "openblas" }

// Info describes the library, e.g.
// "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY SapphireRapids MAX_THREADS=64 (libopenblas.so.0), 2 threads".
func (b *Backend) Info() string {
	s := b.config
	if s == "" {
		s = "CBLAS"
	}
	s += " (" + b.path + ")"
	if n := b.Threads(); n > 0 {
		s += fmt.Sprintf(", %d threads", n)
	}
	return s
}

// Path returns the name the library was loaded by.
func (b *Backend) Path() string { return b.path }

// SetThreads sets the library's thread count (process-wide) when it exports
// openblas_set_num_threads; n < 1 is ignored. Otherwise it does nothing.
func (b *Backend) SetThreads(n int) {
	if b.setThreads != nil && n >= 1 {
		b.setThreads(int32(min(n, math.MaxInt32)))
	}
}

// Threads returns the library's thread count, or 0 when unknown.
func (b *Backend) Threads() int {
	if b.getThreads == nil {
		return 0
	}
	return int(b.getThreads())
}

func trans(t bool) int32 {
	if t {
		return cblasTrans
	}
	return cblasNoTrans
}

// Dgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float64
// matrices, where op(A) is m×k, op(B) is k×n and C is m×n; op(X) is Xᵀ when
// the matching flag is set. lda, ldb and ldc are the row strides of the stored
// A, B and C. With beta = 0 the previous contents of C are ignored, even NaN.
// Dgemm panics on negative sizes, too small strides, too short slices or
// sizes beyond the 32-bit CBLAS interface.
func (b *Backend) Dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, bm []float64, ldb int, beta float64, c []float64, ldc int) {
	check(tA, tB, m, n, k, len(a), lda, len(bm), ldb, len(c), ldc)
	if blasargs.Trivial(m, n, k, alpha, beta, c, ldc) {
		return
	}
	if b.fdgemm != 0 {
		f := argPool.Get().(*fargs)
		f.set(tA, tB, m, n, k, lda, ldb, ldc)
		f.alphaD, f.betaD = alpha, beta
		fcall(b.fdgemm, unsafe.Pointer(&f.tb), unsafe.Pointer(&f.ta), unsafe.Pointer(&f.n), unsafe.Pointer(&f.m), unsafe.Pointer(&f.k),
			unsafe.Pointer(&f.alphaD), unsafe.Pointer(&bm[0]), unsafe.Pointer(&f.ldb), unsafe.Pointer(&a[0]), unsafe.Pointer(&f.lda),
			unsafe.Pointer(&f.betaD), unsafe.Pointer(&c[0]), unsafe.Pointer(&f.ldc))
		argPool.Put(f)
		return
	}
	b.dgemm(cblasRowMajor, trans(tA), trans(tB), int32(m), int32(n), int32(k), alpha, &a[0], int32(lda), &bm[0], int32(ldb), beta, &c[0], int32(ldc))
}

// Sgemm is Dgemm for float32.
func (b *Backend) Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) {
	check(tA, tB, m, n, k, len(a), lda, len(bm), ldb, len(c), ldc)
	if blasargs.Trivial(m, n, k, alpha, beta, c, ldc) {
		return
	}
	if b.fsgemm != 0 {
		f := argPool.Get().(*fargs)
		f.set(tA, tB, m, n, k, lda, ldb, ldc)
		f.alphaS, f.betaS = alpha, beta
		fcall(b.fsgemm, unsafe.Pointer(&f.tb), unsafe.Pointer(&f.ta), unsafe.Pointer(&f.n), unsafe.Pointer(&f.m), unsafe.Pointer(&f.k),
			unsafe.Pointer(&f.alphaS), unsafe.Pointer(&bm[0]), unsafe.Pointer(&f.ldb), unsafe.Pointer(&a[0]), unsafe.Pointer(&f.lda),
			unsafe.Pointer(&f.betaS), unsafe.Pointer(&c[0]), unsafe.Pointer(&f.ldc))
		argPool.Put(f)
		return
	}
	b.sgemm(cblasRowMajor, trans(tA), trans(tB), int32(m), int32(n), int32(k), alpha, &a[0], int32(lda), &bm[0], int32(ldb), beta, &c[0], int32(ldc))
}

// fargs holds the by-reference arguments of a Fortran gemm call. Values come
// from argPool, so they live on the heap and are reused.
//
// A row-major product C = op(A)·op(B) is the column-major product
// Cᵀ = op(B)ᵀ·op(A)ᵀ, and a row-major matrix is its transpose in column-major
// order, so the call passes B before A, n before m, and keeps each
// matrix's own transposition flag.
type fargs struct {
	ta, tb                 byte
	m, n, k, lda, ldb, ldc int32
	alphaD, betaD          float64
	alphaS, betaS          float32
}

func (f *fargs) set(tA, tB bool, m, n, k, lda, ldb, ldc int) {
	f.ta, f.tb = 'N', 'N'
	if tA {
		f.ta = 'T'
	}
	if tB {
		f.tb = 'T'
	}
	f.m, f.n, f.k = int32(m), int32(n), int32(k)
	f.lda, f.ldb, f.ldc = int32(lda), int32(ldb), int32(ldc)
}

var argPool = sync.Pool{New: func() any { return new(fargs) }}

// check panics unless the arguments describe valid matrices that the
// 32-bit interface can address.
func check(tA, tB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("openblas: negative size m=%d n=%d k=%d", m, n, k))
	}
	for _, v := range []int{m, n, k, lda, ldb, ldc} {
		if v > math.MaxInt32 {
			panic(fmt.Sprintf("openblas: size or stride %d exceeds the 32-bit CBLAS interface", v))
		}
	}
	blasargs.Check("openblas", tA, tB, m, n, k, la, lda, lb, ldb, lc, ldc)
}
