package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mgdl/mgdl/tensor"
)

// TestReLUKernels checks the forward and backward ReLU kernels bit for bit
// against the plain loops, on data with zeros, NaNs and infinities.
func TestReLUKernels(t *testing.T) {
	testReLUKernels[float64](t)
	testReLUKernels[float32](t)
}

func testReLUKernels[T tensor.Float](t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const rows, cols = 7, 13
	special := []float64{0, math.Inf(1), math.Inf(-1), math.NaN(), 1e-300, -1e-300}
	draw := func() T {
		if rng.IntN(5) == 0 {
			return T(special[rng.IntN(len(special))])
		}
		return T(rng.NormFloat64())
	}
	z := tensor.New[T](rows, cols)
	b := make([]T, cols)
	for i := range z.Data {
		z.Data[i] = draw()
	}
	for i := range b {
		b[i] = draw()
	}
	same := func(a, c T) bool {
		return math.Float64bits(float64(a)) == math.Float64bits(float64(c)) || (a != a && c != c)
	}
	for _, keepZ := range []bool{false, true} {
		zz, h := z.Clone(), tensor.New[T](rows, cols)
		biasAct(ReLU, zz, h, b, keepZ)
		for i, v := range z.Data {
			v += b[i%cols]
			want := max(v, 0)
			if !same(h.Data[i], want) || (keepZ && !same(zz.Data[i], v)) {
				t.Fatalf("keepZ %v: element %d: h %v z %v, want %v, %v", keepZ, i, h.Data[i], zz.Data[i], want, v)
			}
			if v == v && v != 0 && h.Data[i] != map[bool]T{true: v, false: 0}[v > 0] {
				t.Fatalf("element %d: relu(%v) = %v", i, v, h.Data[i])
			}
		}
	}
	h := tensor.New[T](rows, cols)
	for i := range h.Data {
		h.Data[i] = draw()
	}
	d := tensor.New[T](rows, cols)
	for i := range d.Data {
		d.Data[i] = draw()
	}
	got, db := d.Clone(), make([]T, cols)
	actBackward(ReLU, got, nil, h, db)
	wantDB := make([]T, cols)
	for i, v := range d.Data {
		if h.Data[i] <= 0 {
			v = 0
		}
		wantDB[i%cols] += v
		if !same(got.Data[i], v) {
			t.Fatalf("backward element %d: %v, want %v (h %v)", i, got.Data[i], v, h.Data[i])
		}
	}
	for j := range db {
		if !same(db[j], wantDB[j]) {
			t.Fatalf("db[%d] = %v, want %v", j, db[j], wantDB[j])
		}
	}
}
