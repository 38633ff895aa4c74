package optim

import (
	"fmt"
	"math"
	"strings"

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
	step := T(lr / c1)
	isc2 := T(1 / math.Sqrt(c2))
	b1, b2 := T(a.Beta1), T(a.Beta2)
	o1, o2 := 1-b1, 1-b2
	eps := T(a.Eps)
	g := grads[:len(params)]
	m := a.m[:len(params)]
	v := a.v[:len(params)]
	for i := range params {
		gi := g[i]
		mi := b1*m[i] + o1*gi
		vi := b2*v[i] + o2*gi*gi
		m[i], v[i] = mi, vi
		params[i] -= step * mi / (T(math.Sqrt(float64(vi)))*isc2 + eps)
	}
}
