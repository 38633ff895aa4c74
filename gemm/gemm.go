// Copyright ©2026 The mgdl Authors. All rights reserved.

package gemm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mgdl/mgdl/internal/blasargs"
)

// Thresholds of the work split.
const (
	// directFlops: products with m·n·k below this take the direct path.
	directFlops = 8 * 8 * 8
	// parallelFlops: products with m·n·k below this run on one thread.
	parallelFlops = 64 * 64 * 64
	// spinTime is how long an idle worker polls for the next piece of work
	// before it parks. Waking a parked goroutine costs about 8 µs on the
	// reference machine; the phases of one product follow each other
	// without a gap, and a short spin also catches back-to-back products.
	spinTime = 30 * time.Microsecond
	// chunksPerThread: the work of a phase is cut into about this many
	// chunks per thread, handed out dynamically so that a thread slowed down
	// by a busy core does not hold the others up.
	chunksPerThread = 4
)

// Backend multiplies matrices with the packed pure-Go GEMM on a pool of
// worker goroutines. It has the methods of tensor.Backend.
//
// The zero value is ready to use with runtime.GOMAXPROCS(0) threads; New and
// SetThreads choose another count. The calling goroutine takes part in every
// product; the other workers are started on the first parallel product, poll
// for about 30 µs after each piece of work and then park until the next
// product. They live until Close.
//
// A product proceeds in phases: for each kc×nc block of op(B), the workers
// pack the block into a shared buffer, then share out the mc-row blocks of
// A (and, when m is small, column ranges of the B block) to pack and
// multiply. Chunks are handed out dynamically, but the tile boundaries and
// the order of the sums do not depend on who computes what, so the results
// are bit-identical for any number of threads.
//
// A Backend may be used from several goroutines: a product that finds the
// pool busy runs on the calling goroutine alone, with identical results.
type Backend struct {
	mu      sync.Mutex // held while the pool runs a product
	threads int        // 0: runtime.GOMAXPROCS(0)
	workers []*worker  // helpers; the calling goroutine uses self
	self    worker

	// state is gen<<48 | nchunks<<24 | next for the current phase: workers
	// run a phase when gen changes and take chunk next while next < nchunks.
	state     atomic.Uint64
	completed atomic.Int64 // chunks of the current phase finished
	waiting   atomic.Bool  // the caller is parked on done
	done      chan struct{}
	par       bool // the current product uses the pool

	job job
	pbD []float64 // shared packed block of op(B)
	pbS []float32

	kd *kernel[float64]
	ks *kernel[float32]
}

type worker struct {
	wake     chan struct{} // capacity 1
	sleeping atomic.Bool
	quit     atomic.Bool
	d        workspace[float64]
	s        workspace[float32]
}

type params[T Float] struct {
	alpha, beta T
	a, b, c     []T
}

// Phases.
const (
	phaseDirect = iota
	phasePackB
	phaseCompute
)

// job is the product the pool is running and its current phase.
type job struct {
	f64           bool
	tA, tB        bool
	m, n, k       int
	lda, ldb, ldc int
	d             params[float64]
	s             params[float32]

	phase      int
	rowsPer    int // phaseDirect: rows per chunk
	jc, nb     int // current block of op(B): columns [jc, jc+nb)
	pc, kb     int // and rows [pc, pc+kb)
	ppc        int // phasePackB: panels per chunk
	mcb, ncb   int // phaseCompute: rows and columns per chunk
	colBlocks  int // phaseCompute: column ranges per row block
	chunkCount int
}

const (
	genShift   = 48
	countShift = 24
	fieldMask  = 1<<24 - 1
)

// New returns a Backend with the given number of threads; threads < 1 means
// runtime.GOMAXPROCS(0).
func New(threads int) *Backend {
	b := &Backend{}
	b.SetThreads(threads)
	return b
}

// Name returns "go".
func (b *Backend) Name() string { return "go" }

// Info describes the kernel and the number of threads, e.g.
// "pure-Go GEMM, avx512 kernel (f64 12×16, f32 12×32), 2 threads".
func (b *Backend) Info() string {
	kd, ks := b.kernels()
	return fmt.Sprintf("pure-Go GEMM, %s kernel (f64 %d×%d, f32 %d×%d), %d threads",
		kd.name, kd.mr, kd.nr, ks.mr, ks.nr, b.Threads())
}

// SetThreads sets the number of threads a product may use, the calling
// goroutine included; n < 1 means runtime.GOMAXPROCS(0), and more than
// runtime.GOMAXPROCS(0) counts as that many. It stops the current
// workers; new ones start with the next parallel product. It waits for a
// product running on b to finish.
func (b *Backend) SetThreads(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stop()
	b.threads = max(n, 0)
}

// Threads returns the number of threads a product may use: the number set,
// but at most runtime.GOMAXPROCS(0), since workers that poll must not
// outnumber the processors.
func (b *Backend) Threads() int {
	p := runtime.GOMAXPROCS(0)
	if b.threads < 1 {
		return p
	}
	return min(b.threads, p)
}

// Close stops the worker goroutines. b stays usable; workers restart on the
// next parallel product.
func (b *Backend) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.stop()
}

// stop ends the workers. b.mu is held.
func (b *Backend) stop() {
	if len(b.workers) == 0 {
		return
	}
	for _, w := range b.workers {
		w.quit.Store(true)
	}
	b.publish(0)
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

// start makes sure n-1 helpers are running. b.mu is held.
func (b *Backend) start(n int) {
	if len(b.workers) == n-1 {
		return
	}
	b.stop()
	if b.done == nil {
		b.done = make(chan struct{}, 1)
	}
	gen := b.state.Load() >> genShift
	for range n - 1 {
		w := &worker{wake: make(chan struct{}, 1)}
		b.workers = append(b.workers, w)
		go b.loop(w, gen)
	}
}

// publish starts a new phase of nchunks chunks and wakes parked workers.
func (b *Backend) publish(nchunks int) {
	b.completed.Store(0)
	gen := b.state.Load()>>genShift + 1
	b.state.Store(gen<<genShift | uint64(nchunks)<<countShift)
	for _, w := range b.workers {
		if w.sleeping.CompareAndSwap(true, false) {
			w.wake <- struct{}{}
		}
	}
}

func (b *Backend) loop(w *worker, last uint64) {
	for {
		last = b.waitGen(w, last)
		if w.quit.Load() {
			return
		}
		b.work(w, last)
	}
}

// waitGen returns the generation of the next phase after last, polling for
// spinTime and then parking.
func (b *Backend) waitGen(w *worker, last uint64) uint64 {
	var t0 time.Time
	for i := 0; ; i++ {
		if g := b.state.Load() >> genShift; g != last {
			return g
		}
		if i&63 == 63 {
			if t0.IsZero() {
				t0 = time.Now()
			} else if time.Since(t0) > spinTime {
				break
			}
		}
	}
	w.sleeping.Store(true)
	if g := b.state.Load() >> genShift; g != last {
		if w.sleeping.CompareAndSwap(true, false) {
			return g
		}
	}
	// publish has claimed us (or will: it sees sleeping) and sends a token.
	<-w.wake
	return b.state.Load() >> genShift
}

// work takes and runs chunks of phase gen until there are none left.
func (b *Backend) work(w *worker, gen uint64) {
	for {
		s := b.state.Load()
		if s>>genShift != gen {
			return
		}
		next, count := s&fieldMask, s>>countShift&fieldMask
		if next >= count {
			return
		}
		if !b.state.CompareAndSwap(s, s+1) {
			continue
		}
		b.chunk(w, int(next))
		if b.completed.Add(1) == int64(count) && b.waiting.CompareAndSwap(true, false) {
			b.done <- struct{}{}
		}
	}
}

// phase runs the current phase, cut into n chunks, on the pool (or inline
// when the product is serial).
func (b *Backend) phase(n int) {
	if !b.par {
		for i := range n {
			b.chunk(&b.self, i)
		}
		return
	}
	b.publish(n)
	b.work(&b.self, b.state.Load()>>genShift)
	// Poll for the chunks still running elsewhere, then park.
	var t0 time.Time
	for i := 0; b.completed.Load() != int64(n); i++ {
		if i&63 == 63 {
			if t0.IsZero() {
				t0 = time.Now()
			} else if time.Since(t0) > spinTime {
				b.waitDone(int64(n))
				return
			}
		}
	}
}

// waitDone parks until the n chunks of the phase are completed.
func (b *Backend) waitDone(n int64) {
	b.waiting.Store(true)
	if b.completed.Load() == n {
		if b.waiting.CompareAndSwap(true, false) {
			return
		}
	}
	// The worker that completes the last chunk claims us and sends a token.
	<-b.done
}

func (b *Backend) chunk(w *worker, i int) {
	kd, ks := b.kernels()
	if b.job.f64 {
		doChunk(&b.job, &w.d, kd, &b.job.d, b.pbD, i)
	} else {
		doChunk(&b.job, &w.s, ks, &b.job.s, b.pbS, i)
	}
}

// doChunk runs chunk i of the current phase of j.
func doChunk[T Float](j *job, ws *workspace[T], kr *kernel[T], p *params[T], pb []T, i int) {
	switch j.phase {
	case phaseDirect:
		lo := i * j.rowsPer
		hi := min(j.m, lo+j.rowsPer)
		direct(j.tA, j.tB, lo, hi, j.n, j.k, p.alpha, p.a, j.lda, p.b, j.ldb, p.beta, p.c, j.ldc)
	case phasePackB:
		q0 := i * j.ppc * kr.nr
		q1 := min(j.nb, q0+j.ppc*kr.nr)
		packB(pb[q0*j.kb:], j.tB, p.b, j.ldb, j.pc, j.jc+q0, j.kb, q1-q0, kr.nr)
	case phaseCompute:
		ws.ensure(kr, false)
		i0 := i / j.colBlocks * j.mcb
		j0 := i % j.colBlocks * j.ncb
		mb := min(j.mcb, j.m-i0)
		nb := min(j.ncb, j.nb-j0)
		bet := p.beta
		if j.pc > 0 {
			bet = 1
		}
		var ip inPlace[T]
		blockA(kr, ws.a, j.tA, p.a, j.lda, i0, j.pc, mb, j.kb, &ip)
		macro(kr, ws.tile, mb, nb, j.kb, p.alpha, bet, ws.a, pb[j0*j.kb:], &ip, p.c[i0*j.ldc+j.jc+j0:], j.ldc)
	}
}

// run computes the product described by b.job (sizes, p) with kernel kr and
// shared buffer *pb, on the pool when it is big enough. b.mu is held.
func run[T Float](b *Backend, kr *kernel[T], p *params[T], pb *[]T) {
	j := &b.job
	m, n, k := j.m, j.n, j.k
	threads := b.Threads()
	b.par = threads > 1 && m*n*k >= parallelFlops
	target := 1
	if b.par {
		target = chunksPerThread * threads
		b.start(threads)
	}
	if isDirect(m, n, k) {
		j.phase = phaseDirect
		// Chunks start at multiples of 32 so that the vector code covers
		// the same elements whatever the split.
		j.rowsPer = roundUp((m+target-1)/target, 32)
		if j.tA && n == 1 {
			// Sums of scaled rows of A: long row segments amortize the
			// loop over k.
			j.rowsPer = roundUp((m+threads-1)/threads, 32)
		}
		b.phase((m + j.rowsPer - 1) / j.rowsPer)
		return
	}
	if need := roundUp(kr.nc, kr.nr) * kr.kc; len(*pb) < need {
		*pb = make([]T, need) // *pb is b.pbD or b.pbS
	}
	mr, nr := kr.mr, kr.nr
	kc := blockSize(k, kr.kc, 1)
	// Row blocks: at most mc rows, and at least target of them when there
	// are enough tiles.
	tilesM := (m + mr - 1) / mr
	rb := max((m+kr.mc-1)/kr.mc, min(tilesM, target))
	j.mcb = roundUp((m+rb-1)/rb, mr)
	rb = (m + j.mcb - 1) / j.mcb
	for jc := 0; jc < n; jc += kr.nc {
		nb := min(kr.nc, n-jc)
		panels := (nb + nr - 1) / nr
		// Column ranges when there are too few row blocks.
		cb := 1
		if rb < target {
			cb = min(panels, (target+rb-1)/rb)
		}
		j.ncb = roundUp((nb+cb-1)/cb, nr)
		j.colBlocks = (nb + j.ncb - 1) / j.ncb
		j.ppc = (panels + target - 1) / target
		for pc := 0; pc < k; pc += kc {
			j.jc, j.nb, j.pc, j.kb = jc, nb, pc, min(kc, k-pc)
			j.phase = phasePackB
			b.phase((panels + j.ppc - 1) / j.ppc)
			j.phase = phaseCompute
			b.phase(rb * j.colBlocks)
		}
	}
}

// Dgemm computes C = alpha·op(A)·op(B) + beta·C for row-major float64
// matrices, where op(A) is m×k, op(B) is k×n and C is m×n; op(X) is Xᵀ when
// the matching flag is set. lda, ldb and ldc are the row strides of the stored
// A (m×k, or k×m when tA), B (k×n, or n×k when tB) and C. With beta = 0 the
// previous contents of C are ignored, even NaN. C must not overlap A or B.
// Dgemm panics on negative sizes, too small strides or too short slices.
func (b *Backend) Dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, bm []float64, ldb int, beta float64, c []float64, ldc int) {
	check(tA, tB, m, n, k, len(a), lda, len(bm), ldb, len(c), ldc)
	if blasargs.Trivial(m, n, k, alpha, beta, c, ldc) {
		return
	}
	kd, _ := b.kernels()
	if !b.mu.TryLock() {
		gemmSerial(kd, tA, tB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc, &poolD)
		return
	}
	b.setJob(true, tA, tB, m, n, k, lda, ldb, ldc)
	b.job.d = params[float64]{alpha: alpha, beta: beta, a: a, b: bm, c: c}
	run(b, kd, &b.job.d, &b.pbD)
	b.job.d = params[float64]{}
	b.mu.Unlock()
}

// Sgemm is Dgemm for float32.
func (b *Backend) Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, bm []float32, ldb int, beta float32, c []float32, ldc int) {
	check(tA, tB, m, n, k, len(a), lda, len(bm), ldb, len(c), ldc)
	if blasargs.Trivial(m, n, k, alpha, beta, c, ldc) {
		return
	}
	_, ks := b.kernels()
	if !b.mu.TryLock() {
		gemmSerial(ks, tA, tB, m, n, k, alpha, a, lda, bm, ldb, beta, c, ldc, &poolS)
		return
	}
	b.setJob(false, tA, tB, m, n, k, lda, ldb, ldc)
	b.job.s = params[float32]{alpha: alpha, beta: beta, a: a, b: bm, c: c}
	run(b, ks, &b.job.s, &b.pbS)
	b.job.s = params[float32]{}
	b.mu.Unlock()
}

func (b *Backend) setJob(f64, tA, tB bool, m, n, k, lda, ldb, ldc int) {
	j := &b.job
	j.f64, j.tA, j.tB = f64, tA, tB
	j.m, j.n, j.k = m, n, k
	j.lda, j.ldb, j.ldc = lda, ldb, ldc
}

var (
	poolD = sync.Pool{New: func() any { return new(workspace[float64]) }}
	poolS = sync.Pool{New: func() any { return new(workspace[float32]) }}
)

// gemmSerial runs a product on the calling goroutine with buffers from pool,
// for when b's workers are busy. Its results are identical to the pool's.
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

// check panics unless the arguments describe valid matrices.
func check(tA, tB bool, m, n, k, la, lda, lb, ldb, lc, ldc int) {
	blasargs.Check("gemm", tA, tB, m, n, k, la, lda, lb, ldb, lc, ldc)
}
