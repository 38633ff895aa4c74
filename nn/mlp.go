package nn

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/mgdl/mgdl/internal/nprand"
	"github.com/mgdl/mgdl/tensor"
)

// Init selects how weights are drawn.
type Init int

const (
	// Xavier draws W and b from U(-1,1)·sqrt(1/fan_in), as the papers'
	// reference code does. It is the default.
	Xavier Init = iota
	// He draws W from N(0, 2/fan_in) and sets b = 0.
	He
)

var initNames = [...]string{Xavier: "xavier", He: "he"}

// String returns "xavier" or "he".
func (i Init) String() string {
	if i < 0 || int(i) >= len(initNames) {
		return fmt.Sprintf("Init(%d)", int(i))
	}
	return initNames[i]
}

// ParseInit maps "xavier" or "he" to an Init.
func ParseInit(s string) (Init, error) {
	for i, n := range initNames {
		if s == n {
			return Init(i), nil
		}
	}
	return 0, fmt.Errorf("unknown init %q (want xavier or he)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (i Init) MarshalText() ([]byte, error) { return []byte(i.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (i *Init) UnmarshalText(b []byte) error {
	v, err := ParseInit(string(b))
	if err != nil {
		return err
	}
	*i = v
	return nil
}

// Layer is one dense layer: Z = X·W + b. W is In×Out, B has length Out.
// W, B, GW and GB are views into the owning MLP's parameter and gradient
// slices.
type Layer[T tensor.Float] struct {
	In, Out int
	W       tensor.Dense[T]
	B       []T
	GW      tensor.Dense[T]
	GB      []T
}

// MLP is a shallow network with widths [d0, ..., dn]: n dense layers, the
// hidden activation Act after layers 1..n-1 and an affine output layer.
// It owns its workspace: Forward and Backward allocate only when a batch
// larger than any seen before arrives.
type MLP[T tensor.Float] struct {
	Widths []int
	Act    Activation
	// Softmax, when set, makes Forward return the row-wise softmax of the
	// affine output (class probabilities). Backward then expects the
	// gradient with respect to the affine output (the logits), which is what
	// SoftmaxCrossEntropy returns.
	Softmax bool
	Layers  []Layer[T]

	params, grads []T

	// workspace, sized for cap rows
	cap  int
	zbuf [][]T              // pre-activations per layer (nil where not kept)
	hbuf [][]T              // activations per layer; the last is the output
	z, h []tensor.Dense[T]  // current views
	dbuf [2][]T             // ping-pong gradient buffers of the widest layer
	dv   [2]tensor.Dense[T] // views into dbuf
	x    tensor.Dense[T]    // the input of the last Forward
}

// NewMLP returns a network with the given widths (at least two, all
// positive) and hidden activation, with all parameters zero. Use
// (*MLP).Init to draw them. It panics on invalid widths.
func NewMLP[T tensor.Float](widths []int, act Activation) *MLP[T] {
	if len(widths) < 2 {
		panic(fmt.Sprintf("nn: need at least 2 widths, got %v", widths))
	}
	total := 0
	for i, w := range widths {
		if w <= 0 {
			panic(fmt.Sprintf("nn: width %d is %d in %v", i, w, widths))
		}
		if i > 0 {
			total += widths[i-1]*w + w
		}
	}
	n := &MLP[T]{
		Widths: append([]int(nil), widths...),
		Act:    act,
		Layers: make([]Layer[T], len(widths)-1),
		params: make([]T, total),
		grads:  make([]T, total),
	}
	off := 0
	for i := range n.Layers {
		in, out := widths[i], widths[i+1]
		L := &n.Layers[i]
		L.In, L.Out = in, out
		L.W = tensor.Dense[T]{Rows: in, Cols: out, Data: n.params[off : off+in*out : off+in*out]}
		L.GW = tensor.Dense[T]{Rows: in, Cols: out, Data: n.grads[off : off+in*out : off+in*out]}
		off += in * out
		L.B = n.params[off : off+out : off+out]
		L.GB = n.grads[off : off+out : off+out]
		off += out
	}
	return n
}

// Init draws all parameters from rng with the given scheme.
func (n *MLP[T]) Init(scheme Init, rng *rand.Rand) {
	for i := range n.Layers {
		n.InitLayer(i, scheme, rng)
	}
}

// InitLayer draws the parameters of layer i (0-based) from rng.
func (n *MLP[T]) InitLayer(i int, scheme Init, rng *rand.Rand) {
	L := &n.Layers[i]
	switch scheme {
	case He:
		s := math.Sqrt(2 / float64(L.In))
		for k := range L.W.Data {
			L.W.Data[k] = T(rng.NormFloat64() * s)
		}
		clear(L.B)
	default:
		s := math.Sqrt(1 / float64(L.In))
		for k := range L.W.Data {
			L.W.Data[k] = T((2*rng.Float64() - 1) * s)
		}
		for k := range L.B {
			L.B[k] = T((2*rng.Float64() - 1) * s)
		}
	}
}

// InitNumPy draws the parameters as the papers' NumPy code does from one
// legacy RandomState, layer by layer: Xavier takes W as an out×in array
// np.random.uniform(-1, 1, (out, in))·sqrt(1/in) and then b the same way
// (out×1); He takes W = np.random.randn(out, in)·sqrt(2/in) and b = 0.
// W is stored in×out, so the draws fill it column by column.
func (n *MLP[T]) InitNumPy(scheme Init, r *nprand.RandomState) {
	for i := range n.Layers {
		L := &n.Layers[i]
		in, out := L.In, L.Out
		switch scheme {
		case He:
			s := math.Sqrt(2 / float64(in))
			for o := 0; o < out; o++ {
				for k := 0; k < in; k++ {
					L.W.Data[k*out+o] = T(r.Gauss() * s)
				}
			}
			clear(L.B)
		default:
			s := math.Sqrt(1 / float64(in))
			for o := 0; o < out; o++ {
				for k := 0; k < in; k++ {
					L.W.Data[k*out+o] = T(r.Uniform(-1, 1) * s)
				}
			}
			for o := range L.B {
				L.B[o] = T(r.Uniform(-1, 1) * s)
			}
		}
	}
}

// Params returns all parameters in one slice (layer by layer: W row-major,
// then b). Writing to it changes the network.
func (n *MLP[T]) Params() []T { return n.params }

// Grads returns the gradients of the last Backward, in the layout of Params.
func (n *MLP[T]) Grads() []T { return n.grads }

// NumParams returns the number of parameters.
func (n *MLP[T]) NumParams() int { return len(n.params) }

// InDim returns the input width d0.
func (n *MLP[T]) InDim() int { return n.Widths[0] }

// OutDim returns the output width dn.
func (n *MLP[T]) OutDim() int { return n.Widths[len(n.Widths)-1] }

// FeatureDim returns the width of the last hidden layer (the feature map
// the next grade reads). For a network with no hidden layer it is InDim.
func (n *MLP[T]) FeatureDim() int { return n.Widths[len(n.Widths)-2] }

// Clone returns a deep copy of the parameters, with a fresh workspace.
func (n *MLP[T]) Clone() *MLP[T] {
	c := NewMLP[T](n.Widths, n.Act)
	c.Softmax = n.Softmax
	copy(c.params, n.params)
	return c
}

// keepZ reports whether the backward pass needs pre-activations.
func (n *MLP[T]) keepZ() bool { return n.Act == Sin }

// reserve makes the workspace hold m rows and points the views at it.
func (n *MLP[T]) reserve(m int) {
	nl := len(n.Layers)
	if n.z == nil {
		n.z = make([]tensor.Dense[T], nl)
		n.h = make([]tensor.Dense[T], nl)
		n.zbuf = make([][]T, nl)
		n.hbuf = make([][]T, nl)
	}
	if m > n.cap {
		for i, L := range n.Layers {
			n.hbuf[i] = make([]T, m*L.Out)
			if n.keepZ() && i < nl-1 {
				n.zbuf[i] = make([]T, m*L.Out)
			}
		}
		n.dbuf = [2][]T{} // made by Backward, so inference never holds them
		n.cap = m
	}
	for i, L := range n.Layers {
		n.h[i] = tensor.Dense[T]{Rows: m, Cols: L.Out, Data: n.hbuf[i][:m*L.Out]}
		if n.zbuf[i] != nil {
			n.z[i] = tensor.Dense[T]{Rows: m, Cols: L.Out, Data: n.zbuf[i][:m*L.Out]}
		} else {
			n.z[i] = n.h[i]
		}
	}
}

// Forward runs the network on x (m×d0) and returns the output (m×dn). The
// returned matrix and Hidden's are views into the workspace, valid until the
// next Forward. x must stay unchanged until Backward.
func (n *MLP[T]) Forward(x *tensor.Dense[T]) *tensor.Dense[T] {
	if x.Cols != n.Widths[0] {
		panic(fmt.Sprintf("nn: input has %d columns, network expects %d", x.Cols, n.Widths[0]))
	}
	m := x.Rows
	n.reserve(m)
	n.x = *x
	in := x
	last := len(n.Layers) - 1
	for i := range n.Layers {
		L := &n.Layers[i]
		z, h := &n.z[i], &n.h[i]
		tensor.Mul(false, false, 1, in, &L.W, 0, z)
		if i == last {
			addBias(z, L.B)
			if n.Softmax {
				SoftmaxRows(z)
			}
		} else {
			biasAct(n.Act, z, h, L.B, n.keepZ())
		}
		in = h
	}
	return &n.h[last]
}

// Hidden returns the last hidden layer's activations from the last Forward
// (m×FeatureDim), or the input itself when the network has no hidden layer.
func (n *MLP[T]) Hidden() *tensor.Dense[T] {
	if len(n.Layers) == 1 {
		return &n.x
	}
	return &n.h[len(n.Layers)-2]
}

// Backward takes dOut, the gradient of the loss with respect to the output of
// the last Forward (m×dn), and overwrites Grads with the parameter gradient.
// If dx is not nil it receives the gradient with respect to the input (m×d0).
// dOut is not modified.
func (n *MLP[T]) Backward(dOut *tensor.Dense[T], dx *tensor.Dense[T]) {
	m := n.x.Rows
	if dOut.Rows != m || dOut.Cols != n.OutDim() {
		panic(fmt.Sprintf("nn: Backward got %d×%d, want %d×%d", dOut.Rows, dOut.Cols, m, n.OutDim()))
	}
	if need := m * n.maxWidth(); len(n.dbuf[0]) < need {
		n.dbuf[0] = make([]T, n.cap*n.maxWidth())
		n.dbuf[1] = make([]T, n.cap*n.maxWidth())
	}
	last := len(n.Layers) - 1
	d := dOut
	ping := 0
	for i := last; i >= 0; i-- {
		L := &n.Layers[i]
		if i == last {
			colSum(d, L.GB)
		} else {
			actBackward(n.Act, d, &n.z[i], &n.h[i], L.GB)
		}
		in := &n.x
		if i > 0 {
			in = &n.h[i-1]
		}
		tensor.Mul(true, false, 1, in, d, 0, &L.GW)
		switch {
		case i > 0:
			next := &n.dv[ping]
			*next = tensor.Dense[T]{Rows: m, Cols: L.In, Data: n.dbuf[ping][:m*L.In]}
			ping ^= 1
			tensor.Mul(false, true, 1, d, &L.W, 0, next)
			d = next
		case dx != nil:
			tensor.Mul(false, true, 1, d, &L.W, 0, dx)
		}
	}
}

// maxWidth is the widest layer input or output.
func (n *MLP[T]) maxWidth() int {
	w := 0
	for _, L := range n.Layers {
		w = max(w, L.In, L.Out)
	}
	return w
}

// ReleaseWorkspace drops the forward/backward buffers (they are re-made on
// the next Forward). Call it on networks that are done training.
func (n *MLP[T]) ReleaseWorkspace() {
	n.cap = 0
	n.z, n.h, n.zbuf, n.hbuf = nil, nil, nil, nil
	n.dbuf = [2][]T{}
	n.dv = [2]tensor.Dense[T]{}
	n.x = tensor.Dense[T]{}
}
