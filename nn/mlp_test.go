package nn

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mgdl/mgdl/tensor"
)

// lossOf runs a forward pass and returns Σ c⊙out, a loss whose gradient with
// respect to the output is c, so every output entry is exercised.
func lossOf(n *MLP[float64], x, c *tensor.Dense[float64]) float64 {
	out := n.Forward(x)
	var s float64
	for i, v := range out.Raw() {
		s += v * c.Data[i]
	}
	return s
}

func randDense(rng *rand.Rand, r, c int) *tensor.Dense[float64] {
	m := tensor.New[float64](r, c)
	for i := range m.Data {
		m.Data[i] = 2*rng.Float64() - 1
	}
	return m
}

// relErr is |a-b| / max(|a|, |b|, floor).
func relErr(a, b, floor float64) float64 {
	return math.Abs(a-b) / math.Max(math.Max(math.Abs(a), math.Abs(b)), floor)
}

// TestGradientFiniteDifference checks every parameter gradient and the input
// gradient of whole networks, for every activation, against central
// differences (float64, relative error < 1e-6).
func TestGradientFiniteDifference(t *testing.T) {
	cases := []struct {
		widths []int
		act    Activation
	}{
		{[]int{3, 5, 2}, ReLU},
		{[]int{3, 4, 6, 2}, ReLU},
		{[]int{2, 5, 4, 3}, Sin},
		{[]int{2, 5, 4, 3}, Tanh},
		{[]int{2, 5, 4, 3}, Identity},
		{[]int{4, 3}, ReLU}, // a single affine layer
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%v/%v", tc.act, tc.widths), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			n := NewMLP[float64](tc.widths, tc.act)
			n.Init(Xavier, rng)
			m := 7
			x := randDense(rng, m, tc.widths[0])
			c := randDense(rng, m, n.OutDim())
			lossOf(n, x, c)
			dx := tensor.New[float64](m, tc.widths[0])
			n.Backward(c, dx)
			grads := append([]float64(nil), n.Grads()...)
			const h = 1e-6
			p := n.Params()
			check := func(what string, i int, v *float64, analytic float64) {
				old := *v
				*v = old + h
				fp := lossOf(n, x, c)
				*v = old - h
				fm := lossOf(n, x, c)
				*v = old
				fd := (fp - fm) / (2 * h)
				// ReLU kinks: skip the rare coordinate whose step crosses a kink.
				if e := relErr(fd, analytic, 1e-3); e > 1e-6 {
					t.Errorf("%s %d: finite difference %.10g, backward %.10g (rel err %.2g)", what, i, fd, analytic, e)
				}
			}
			for i := range p {
				check("param", i, &p[i], grads[i])
			}
			for i := range x.Data {
				check("input", i, &x.Data[i], dx.Data[i])
			}
		})
	}
}

func TestMSEGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	p := randDense(rng, 5, 3)
	y := randDense(rng, 5, 3)
	g := tensor.New[float64](5, 3)
	loss := MSE(p, y, g)
	var want float64
	for i := range p.Data {
		d := p.Data[i] - y.Data[i]
		want += d * d
	}
	want /= 2 * 5
	if relErr(loss, want, 1e-300) > 1e-14 {
		t.Fatalf("loss %g, want %g", loss, want)
	}
	const h = 1e-6
	for i := range p.Data {
		old := p.Data[i]
		p.Data[i] = old + h
		fp := MSE(p, y, nil)
		p.Data[i] = old - h
		fm := MSE(p, y, nil)
		p.Data[i] = old
		if e := relErr((fp-fm)/(2*h), g.Data[i], 1e-3); e > 1e-6 {
			t.Errorf("grad %d: fd %g, analytic %g", i, (fp-fm)/(2*h), g.Data[i])
		}
	}
}

// TestForwardReference compares Forward with a scalar loop over the
// definition, for both dtypes.
func TestForwardReference(t *testing.T) {
	for _, act := range []Activation{ReLU, Sin, Tanh, Identity} {
		rng := rand.New(rand.NewPCG(5, 6))
		widths := []int{3, 6, 5, 2}
		n := NewMLP[float64](widths, act)
		n.Init(He, rng)
		n.Init(Xavier, rng)
		x := randDense(rng, 9, 3)
		got := n.Forward(x).Clone()
		n32 := NewMLP[float32](widths, act)
		for i, v := range n.Params() {
			n32.Params()[i] = float32(v)
		}
		got32 := n32.Forward(tensor.Convert[float32](x))
		for r := 0; r < x.Rows; r++ {
			h := append([]float64(nil), x.Row(r)...)
			for li, L := range n.Layers {
				z := make([]float64, L.Out)
				for j := range z {
					z[j] = L.B[j]
					for i := range h {
						z[j] += h[i] * L.W.At(i, j)
					}
					if li < len(n.Layers)-1 {
						z[j] = act.Scalar(z[j])
					}
				}
				h = z
			}
			for j, v := range h {
				if relErr(got.At(r, j), v, 1e-12) > 1e-12 {
					t.Errorf("%v row %d out %d: got %g want %g", act, r, j, got.At(r, j), v)
				}
				if relErr(float64(got32.At(r, j)), v, 1e-3) > 1e-4 {
					t.Errorf("%v float32 row %d out %d: got %g want %g", act, r, j, got32.At(r, j), v)
				}
			}
		}
	}
}

func TestInitScale(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	n := NewMLP[float64]([]int{16, 64, 1}, ReLU)
	n.Init(Xavier, rng)
	bound := math.Sqrt(1.0 / 16)
	for _, v := range n.Layers[0].W.Data {
		if math.Abs(v) > bound {
			t.Fatalf("xavier weight %g outside ±%g", v, bound)
		}
	}
	for _, v := range n.Layers[0].B {
		if math.Abs(v) > bound {
			t.Fatalf("xavier bias %g outside ±%g", v, bound)
		}
	}
	n.Init(He, rng)
	var s float64
	for _, v := range n.Layers[0].W.Data {
		s += v * v
	}
	if v := s / float64(len(n.Layers[0].W.Data)); math.Abs(v-2.0/16) > 0.04 {
		t.Errorf("he variance %g, want about %g", v, 2.0/16)
	}
}

func TestParseActivation(t *testing.T) {
	for _, a := range []Activation{ReLU, Sin, Tanh, Identity} {
		got, err := ParseActivation(a.String())
		if err != nil || got != a {
			t.Errorf("round trip %v: %v %v", a, got, err)
		}
	}
	if _, err := ParseActivation("gelu"); err == nil {
		t.Error("gelu accepted")
	}
}

func ExampleMLP() {
	n := NewMLP[float64]([]int{1, 4, 1}, ReLU)
	n.Init(Xavier, rand.New(rand.NewPCG(1, 1)))
	x := tensor.FromSlice(3, 1, []float64{0, 0.5, 1})
	out := n.Forward(x)
	fmt.Println(out.Rows, out.Cols, n.FeatureDim(), n.NumParams())
	// Output: 3 1 4 13
}

// TestSoftmaxCrossEntropyGradient checks the logits gradient of
// softmax + cross-entropy, through a whole network, by finite differences.
func TestSoftmaxCrossEntropyGradient(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	n := NewMLP[float64]([]int{3, 6, 4}, Tanh)
	n.Softmax = true
	n.Init(Xavier, rng)
	x := randDense(rng, 5, 3)
	y := tensor.New[float64](5, 4)
	for i := 0; i < 5; i++ {
		y.Set(i, i%4, 1)
	}
	g := tensor.New[float64](5, 4)
	prob := n.Forward(x)
	for i := 0; i < 5; i++ {
		var s float64
		for _, v := range prob.Row(i) {
			s += v
		}
		if math.Abs(s-1) > 1e-14 {
			t.Fatalf("row %d sums to %g", i, s)
		}
	}
	SoftmaxCrossEntropy(prob, y, g)
	n.Backward(g, nil)
	grads := append([]float64(nil), n.Grads()...)
	p := n.Params()
	const h = 1e-6
	for i := range p {
		old := p[i]
		p[i] = old + h
		fp := SoftmaxCrossEntropy(n.Forward(x), y, nil)
		p[i] = old - h
		fm := SoftmaxCrossEntropy(n.Forward(x), y, nil)
		p[i] = old
		if e := relErr((fp-fm)/(2*h), grads[i], 1e-3); e > 1e-6 {
			t.Errorf("param %d: fd %g, backward %g", i, (fp-fm)/(2*h), grads[i])
		}
	}
}
