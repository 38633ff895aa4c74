// Copyright ©2026 The mgdl Authors. All rights reserved.

package gemm

import (
	"fmt"
	"runtime"
	"sync"
)

// Thresholds of the work split.
const (
	// directFlops: products with m·n·k below this take the direct path.
	directFlops = 8 * 8 * 8
	// parallelFlops: products with m·n·k below this run on one thread.
	parallelFlops = 48 * 48 * 48
)

// Backend multiplies matrices with the packed pure-Go GEMM on a pool of
// worker goroutines. It has the methods of tensor.Backend.
//
// The zero value is ready to use with runtime.GOMAXPROCS(0) workers; New and
// SetThreads choose another count. The worker goroutines are started on the
// first parallel product and live until Close. A Backend may be used from
// several goroutines: a product that finds the pool busy runs on the calling
// goroutine alone (with identical results).
type Backend struct {
	mu      sync.Mutex // held while the pool runs a product
	threads int        // 0: runtime.GOMAXPROCS(0)
	workers []*worker  // helpers; the calling goroutine is part 0
	wg      sync.WaitGroup
	job     job
	self    worker // part 0's buffers

	kd *kernel[float64]
	ks *kernel[float32]
}

type worker struct {
	wake chan struct{}
	d    workspace[float64]
	s    workspace[float32]
}

type params[T Float] struct {
	alpha, beta T
	a, b, c     []T
}

// job is the product the pool is running.
type job struct {
	f64           bool
	tA, tB        bool
	direct        bool
	splitM        bool
	m, n, k       int
	lda, ldb, ldc int
	chunk         int // rows (splitM) or columns per part
	d             params[float64]
	s             params[float32]
}

// New returns a Backend with the given number of worker threads; threads < 1
// means runtime.GOMAXPROCS(0).
func New(threads int) *Backend {
	b := &Backend{}
	b.SetThreads(threads)
	return b
}

// Name returns "go".
func (b *Backend) Name() string { return "go" }

// Info describes the kernel and the number of workers, e.g.
// "pure-Go GEMM, avx512 kernel (f64 12×16, f32 12×32), 2 workers".
func (b *Backend) Info() string {
	kd, ks := b.kernels()
	return fmt.Sprintf("pure-Go GEMM, %s kernel (f64 %d×%d, f32 %d×%d), %d workers",
		kd.name, kd.mr, kd.nr, ks.mr, ks.nr, b.Threads())
}

// SetThreads sets the number of threads a product may use (the calling
// goroutine included); n < 1 means runtime.GOMAXPROCS(0). It stops the
// current workers; new ones start with the next parallel product. It must not
// be called while a product is running on b.
func (b *Backend) SetThreads(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stop()
	if n < 1 {
		n = 0
	}
	b.threads = n
}

// Threads returns the number of threads a product may use.
func (b *Backend) Threads() int {
	if b.threads < 1 {
		return runtime.GOMAXPROCS(0)
	}
	return b.threads
}

// Close stops the worker goroutines. b stays usable; workers restart on the
// next parallel product.
func (b *Backend) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stop()
}

func (b *Backend) stop() {
	for _, w := range b.workers {
		close(w.wake)
	}
	b.workers = nil
}

func (b *Backend) kernels() (*kernel[float64], *kernel[float32]) {
	kd, ks := b.kd, b.ks
	if kd == nil {
		kd = &kernD
	}
	if ks == nil {
		ks = &kernS
	}
	return kd, ks
}

// start makes sure n-1 helper goroutines are running. b.mu is held.
func (b *Backend) start(n int) {
	if len(b.workers) == n-1 {
		return
	}
	b.stop()
	for i := 1; i < n; i++ {
		w := &worker{wake: make(chan struct{})}
		b.workers = append(b.workers, w)
		go b.loop(w, i)
	}
}

func (b *Backend) loop(w *worker, part int) {
	for range w.wake {
		b.run(w, part)
		b.wg.Done()
	}
}

// run computes part of b.job.
func (b *Backend) run(w *worker, part int) {
	kd, ks := b.kernels()
	if b.job.f64 {
		runPart(&w.d, kd, &b.job, &b.job.d, part)
	} else {
		runPart(&w.s, ks, &b.job, &b.job.s, part)
	}
}

func runPart[T Float](ws *workspace[T], kr *kernel[T], j *job, p *params[T], part int) {
	lo := part * j.chunk
	if j.splitM {
		hi := min(j.m, lo+j.chunk)
		if lo >= hi {
			return
		}
		if j.direct {
			direct(j.tA, j.tB, lo, hi, j.n, j.k, p.alpha, p.a, j.lda, p.b, j.ldb, p.beta, p.c, j.ldc)
			return
		}
		aOff := lo * j.lda
		if j.tA {
			aOff = lo
		}
		packed(ws, kr, j.tA, j.tB, hi-lo, j.n, j.k, p.alpha, p.a[aOff:], j.lda, p.b, j.ldb, p.beta, p.c[lo*j.ldc:], j.ldc)
		return
	}
	hi := min(j.n, lo+j.chunk)
	if lo >= hi {
		return
	}
	bOff := lo
	if j.tB {
		bOff = lo * j.ldb
	}
	packed(ws, kr, j.tA, j.tB, j.m, hi-lo, j.k, p.alpha, p.a, j.lda, p.b[bOff:], j.ldb, p.beta, p.c[lo:], j.ldc)
}

// Dgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float64
// matrices, where op(A) is m×k, op(B) is k×n and C is m×n; op(X) is Xᵀ when
// the matching flag is set. lda, ldb and ldc are the row strides of the stored
// A (m×k, or k×m when tA), B (k×n, or n×k when tB) and C. With beta = 0 the
// previous contents of C are ignored, even NaN. C must not overlap A or B.
// Dgemm panics on negative sizes, too small strides or too short slices.
func (b *Backend) Dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, bm []float64, ldb int, beta float64, c []float64, ldc int) {
	check(tA, tB, m, n, k, len(a), lda, len(bm), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	kd, _ := b.kernels()
	if !b.setup(kd.mr, kd.nr, tA, tB, m, n, k, lda, ldb, ldc) {
		gemmSerial(kd, tA, tB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc, &poolD)
		return
	}
	b.job.f64 = true
	b.job.d = params[float64]{alpha: alpha, beta: beta, a: a, b: bm, c: c}
	b.exec()
	b.job.d = params[float64]{}
}

// Sgemm is Dgemm for float32.
func (b *Backend) Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) {
	check(tA, tB, m, n, k, len(a), lda, len(bm), ldb, len(c), ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || alpha == 0 {
		scale(m, n, beta, c, ldc)
		return
	}
	_, ks := b.kernels()
	if !b.setup(ks.mr, ks.nr, tA, tB, m, n, k, lda, ldb, ldc) {
		gemmSerial(ks, tA, tB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc, &poolS)
		return
	}
	b.job.f64 = false
	b.job.s = params[float32]{alpha: alpha, beta: beta, a: a, b: bm, c: c}
	b.exec()
	b.job.s = params[float32]{}
}

var (
	poolD = sync.Pool{New: func() any { return new(workspace[float64]) }}
	poolS = sync.Pool{New: func() any { return new(workspace[float32]) }}
)

// gemmSerial runs a product on the calling goroutine with buffers from pool,
// for when b's workers are busy.
func gemmSerial[T Float](kr *kernel[T], tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int, pool *sync.Pool) {
	if isDirect(m, n, k) {
		direct(tA, tB, 0, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
		return
	}
	ws := pool.Get().(*workspace[T])
	packed(ws, kr, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	pool.Put(ws)
}

func isDirect(m, n, k int) bool { return m == 1 || n == 1 || m*n*k < directFlops }

// setup locks b and fills in the split of the job; it returns false, with b
// unlocked, when the pool is busy.
func (b *Backend) setup(mr, nr int, tA, tB bool, m, n, k, lda, ldb, ldc int) bool {
	if !b.mu.TryLock() {
		return false
	}
	j := &b.job
	j.tA, j.tB = tA, tB
	j.m, j.n, j.k = m, n, k
	j.lda, j.ldb, j.ldc = lda, ldb, ldc
	j.direct = isDirect(m, n, k)
	parts := b.Threads()
	if m*n*k < parallelFlops {
		parts = 1
	}
	switch {
	case j.direct:
		j.splitM = true
		j.chunk = (m + parts - 1) / parts
	case (m+mr-1)/mr >= (n+nr-1)/nr:
		j.splitM = true
		tiles := (m + mr - 1) / mr
		j.chunk = (tiles + parts - 1) / parts * mr
	default:
		j.splitM = false
		tiles := (n + nr - 1) / nr
		j.chunk = (tiles + parts - 1) / parts * nr
	}
	return true
}

// exec runs b.job on the pool and unlocks b.
func (b *Backend) exec() {
	j := &b.job
	total := j.n
	if j.splitM {
		total = j.m
	}
	parts := (total + j.chunk - 1) / j.chunk
	if parts > 1 {
		b.start(b.Threads())
		b.wg.Add(parts - 1)
		for i := 1; i < parts; i++ {
			b.workers[i-1].wake <- struct{}{}
		}
	}
	b.run(&b.self, 0)
	if parts > 1 {
		b.wg.Wait()
	}
	b.mu.Unlock()
}

// check panics unless the arguments describe valid matrices.
func check(tA, tB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	ra, ca := m, k
	if tA {
		ra, ca = k, m
	}
	rb, cb := k, n
	if tB {
		rb, cb = n, k
	}
	checkMat("A", ra, ca, la, lda)
	checkMat("B", rb, cb, lb, ldb)
	checkMat("C", m, n, lc, ldc)
}

func checkMat(name string, r, c, l, ld int) {
	if ld < max(1, c) {
		panic(fmt.Sprintf("gemm: ld%s=%d < max(1, %d)", name, ld, c))
	}
	if r > 0 && c > 0 && l < (r-1)*ld+c {
		panic(fmt.Sprintf("gemm: %s is %d×%d with stride %d but has %d elements", name, r, c, ld, l))
	}
}
