package optim

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/mgdl/mgdl/tensor"
)

// Optimizer updates params in place from grads, with learning rate lr.
type Optimizer[T tensor.Float] interface {
	Step(params, grads []T, lr float64)
	// Reset forgets all state (moments, step counter).
	Reset()
}

// Kind names an optimizer in configurations.
type Kind int

// The optimizers.
const (
	KindAdam Kind = iota
	KindGD
)

// String returns "adam" or "gd".
func (k Kind) String() string {
	if k == KindGD {
		return "gd"
	}
	return "adam"
}

// ParseKind maps "adam" or "gd"/"sgd" to a Kind.
func ParseKind(s string) (Kind, error) {
	switch strings.ToLower(s) {
	case "adam":
		return KindAdam, nil
	case "gd", "sgd":
		return KindGD, nil
	}
	return 0, fmt.Errorf("unknown optimizer %q (want adam or gd)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (k *Kind) UnmarshalText(b []byte) error {
	v, err := ParseKind(string(b))
	if err != nil {
		return err
	}
	*k = v
	return nil
}

// New returns a fresh optimizer of kind k with Adam's default moments.
func New[T tensor.Float](k Kind) Optimizer[T] {
	if k == KindGD {
		return &GD[T]{}
	}
	return NewAdam[T]()
}

// GD is plain gradient descent: p -= lr·g.
type GD[T tensor.Float] struct{}

// Step implements Optimizer.
func (GD[T]) Step(params, grads []T, lr float64) {
	g := grads[:len(params)]
	a := T(lr)
	for i := range params {
		params[i] -= a * g[i]
	}
}

// Reset implements Optimizer (GD has no state).
func (GD[T]) Reset() {}

// Adam is the optimizer of Kingma & Ba with bias-corrected moments.
type Adam[T tensor.Float] struct {
	Beta1, Beta2, Eps float64
	m, v              []T
	t                 int
	par               *adamPar[T] // state of steps shared with helpers
}

// NewAdam returns Adam with β1 = 0.9, β2 = 0.999, ε = 1e-8.
func NewAdam[T tensor.Float]() *Adam[T] { return &Adam[T]{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

// Reset zeroes the moments and the step counter.
func (a *Adam[T]) Reset() {
	clear(a.m)
	clear(a.v)
	a.t = 0
}

// Steps returns the number of steps taken since the last Reset.
func (a *Adam[T]) Steps() int { return a.t }

// Step performs one Adam update:
//
//	m = β1 m + (1-β1) g;  v = β2 v + (1-β2) g²
//	p -= lr · (m/(1-β1ᵗ)) / (sqrt(v/(1-β2ᵗ)) + ε)
//
// A step of at least 2·adamChunk parameters is cut into chunks that the
// calling goroutine and idle helper goroutines (at most Threads()-1,
// started on first use) update together; every parameter is computed the
// same way whoever updates it, so the result does not depend on the split.
func (a *Adam[T]) Step(params, grads []T, lr float64) {
	if len(a.m) != len(params) {
		a.m = make([]T, len(params))
		a.v = make([]T, len(params))
		a.t = 0
	}
	a.t++
	c1 := 1 - math.Pow(a.Beta1, float64(a.t))
	c2 := 1 - math.Pow(a.Beta2, float64(a.t))
	// p -= step · m / (sqrt(v)/sqrt(c2) + ε), step = lr/c1
	b1, b2 := T(a.Beta1), T(a.Beta2)
	n := len(params)
	u := adamUpdate[T]{
		p: params, g: grads[:n], m: a.m[:n], v: a.v[:n],
		step: T(lr / c1), isc2: T(1 / math.Sqrt(c2)),
		b1: b1, b2: b2, o1: 1 - b1, o2: 1 - b2, eps: T(a.Eps),
	}
	procs := Threads()
	if n < 2*adamChunk || procs < 2 {
		u.apply(0, n)
		return
	}
	if a.par == nil {
		a.par = new(adamPar[T])
	}
	s := a.par
	s.u = u
	s.next.Store(0)
	helpersOnce.Do(startHelpers)
	for range min(procs-1, n/adamChunk-1) {
		s.wg.Add(1)
		select {
		case helpers <- s: // an idle helper takes chunks too
		default: // none idle: the caller does the work
			s.wg.Done()
		}
	}
	s.work()
	s.wg.Wait()
	s.u = adamUpdate[T]{} // keep no references
}

// adamChunk is the number of parameters updated as one piece of a shared
// step: about 50 µs of work.
const adamChunk = 1 << 14

// adamUpdate is one Adam step over p, with its constants.
type adamUpdate[T tensor.Float] struct {
	p, g, m, v                      []T
	step, isc2, b1, b2, o1, o2, eps T
}

// apply updates the parameters [lo, hi).
func (u *adamUpdate[T]) apply(lo, hi int) {
	p, g, m, v := u.p[lo:hi], u.g[lo:hi], u.m[lo:hi], u.v[lo:hi]
	g, m, v = g[:len(p)], m[:len(p)], v[:len(p)]
	step, isc2, b1, b2, o1, o2, eps := u.step, u.isc2, u.b1, u.b2, u.o1, u.o2, u.eps
	for i := range p {
		gi := g[i]
		mi := b1*m[i] + o1*gi
		vi := b2*v[i] + o2*gi*gi
		m[i], v[i] = mi, vi
		p[i] -= step * mi / (T(math.Sqrt(float64(vi)))*isc2 + eps)
	}
}

// adamPar is a step in progress, shared out by chunks.
type adamPar[T tensor.Float] struct {
	u    adamUpdate[T]
	next atomic.Int64 // the next chunk to take
	wg   sync.WaitGroup
}

// work updates chunks until none is left.
func (s *adamPar[T]) work() {
	n := len(s.u.p)
	for {
		i := int(s.next.Add(1)-1) * adamChunk
		if i >= n {
			return
		}
		s.u.apply(i, min(i+adamChunk, n))
	}
}

func (s *adamPar[T]) help() {
	s.work()
	s.wg.Done()
}

// threads is the thread count of a step set by SetThreads (0: GOMAXPROCS).
var threads atomic.Int64

// SetThreads sets how many threads (the caller and helpers) may share one
// optimizer step; 0 means one per processor (runtime.GOMAXPROCS). The
// command line's --threads sets it together with the matrix backend's, so
// that the whole training step obeys one thread count.
func SetThreads(n int) { threads.Store(int64(max(n, 0))) }

// Threads returns the thread count of a step.
func Threads() int {
	if n := int(threads.Load()); n > 0 {
		return min(n, runtime.GOMAXPROCS(0))
	}
	return runtime.GOMAXPROCS(0)
}

// helpers hands shared steps to the helper goroutines. It is unbuffered: a
// send succeeds only when a helper is idle.
var (
	helpers     chan interface{ help() }
	helpersOnce sync.Once
)

func startHelpers() {
	helpers = make(chan interface{ help() })
	for range runtime.GOMAXPROCS(0) - 1 {
		go func() {
			for j := range helpers {
				j.help()
			}
		}()
	}
}
