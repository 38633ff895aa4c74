package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

func fill[T Float](rng *rand.Rand, m *Dense[T]) *Dense[T] {
	for i := range m.Data {
		m.Data[i] = T(2*rng.Float64() - 1)
	}
	return m
}

// TestMulAgainstReference checks the current backend on every layout against
// the float64 reference loop.
func TestMulAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 1, 9}, {64, 33, 65}, {130, 70, 3}} {
		m, k, n := sz[0], sz[1], sz[2]
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				name := fmt.Sprintf("%dx%dx%d/tA=%v/tB=%v", m, k, n, tA, tB)
				t.Run(name, func(t *testing.T) {
					ar, ac := m, k
					if tA {
						ar, ac = k, m
					}
					br, bc := k, n
					if tB {
						br, bc = n, k
					}
					a := fill(rng, New[float64](ar, ac))
					b := fill(rng, New[float64](br, bc))
					c := fill(rng, New[float64](m, n))
					want := c.Clone()
					Mul(tA, tB, 0.7, a, b, 0.3, c)
					MulRef(tA, tB, 0.7, a, b, 0.3, want)
					for i := range c.Data {
						if math.Abs(c.Data[i]-want.Data[i]) > 1e-12*float64(k+1) {
							t.Fatalf("element %d: %g, reference %g", i, c.Data[i], want.Data[i])
						}
					}
					a32, b32 := Convert[float32](a), Convert[float32](b)
					c32 := New[float32](m, n)
					for i := range c32.Data {
						c32.Data[i] = float32(math.NaN()) // beta = 0 must ignore it
					}
					want32 := New[float32](m, n)
					Mul(tA, tB, 1, a32, b32, 0, c32)
					MulRef(tA, tB, 1, a32, b32, 0, want32)
					for i := range c32.Data {
						if math.Abs(float64(c32.Data[i]-want32.Data[i])) > 1e-5*float64(k+1) {
							t.Fatalf("float32 element %d: %g, reference %g", i, c32.Data[i], want32.Data[i])
						}
					}
				})
			}
		}
	}
}

func TestMulShapePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("mismatched shapes did not panic")
		}
	}()
	Mul(false, false, 1, New[float64](2, 3), New[float64](4, 2), 0, New[float64](2, 2))
}

func TestViewsAndGather(t *testing.T) {
	m := FromSlice(3, 2, []float64{1, 2, 3, 4, 5, 6})
	v := m.RowsView(1, 3)
	if v.Rows != 2 || v.At(0, 1) != 4 {
		t.Fatalf("view %v", v)
	}
	v.Set(1, 0, 50)
	if m.At(2, 0) != 50 {
		t.Fatal("view does not share storage")
	}
	g := New[float64](2, 2)
	Gather(g, m, []int{2, 0})
	if g.At(0, 0) != 50 || g.At(1, 1) != 2 {
		t.Fatalf("gather %v", g.Data)
	}
}
