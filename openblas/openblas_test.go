// Copyright ©2026 The mgdl Authors. All rights reserved.

package openblas_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/mgdl/mgdl/openblas"
	"github.com/mgdl/mgdl/tensor"
)

func load(t *testing.T) *openblas.Backend {
	t.Helper()
	b, err := openblas.Load()
	if err != nil {
		t.Skipf("no CBLAS library (apt-get install libopenblas0-pthread to run this test): %v", err)
	}
	return b
}

func TestInfo(t *testing.T) {
	b := load(t)
	if b.Name() != "openblas" {
		t.Errorf("Name = %q", b.Name())
	}
	if !strings.Contains(b.Info(), b.Path()) {
		t.Errorf("Info %q does not name the library %q", b.Info(), b.Path())
	}
	n := b.Threads()
	if n == 0 {
		t.Skip("library has no openblas_get_num_threads")
	}
	b.SetThreads(1)
	if got := b.Threads(); got != 1 {
		t.Errorf("after SetThreads(1), Threads = %d", got)
	}
	b.SetThreads(n)
	t.Log(b.Info())
}

func rnd[T tensor.Float](rng *rand.Rand, r, c int) *tensor.Dense[T] {
	m := tensor.New[T](r, c)
	for i := range m.Data {
		m.Data[i] = T(rng.Float64()*2 - 1)
	}
	return m
}

// TestGemm checks every layout, beta = 0 over NaN, and row strides larger
// than the rows (a view of the left columns of wider matrices) against
// tensor.MulRef, to (k+2)·eps·(k+1).
func TestGemm(t *testing.T) {
	b := load(t)
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for _, s := range [][3]int{{1, 1, 1}, {5, 3, 7}, {33, 17, 65}, {130, 70, 1}, {1, 64, 300}} {
				m, n, k := s[0], s[1], s[2]
				ar, ac := m, k
				if tA {
					ar, ac = k, m
				}
				br, bc := k, n
				if tB {
					br, bc = n, k
				}
				// Stored with 3 extra columns; the product uses the left ones.
				a, bb := rnd[float64](rng, ar, ac+3), rnd[float64](rng, br, bc+3)
				c := rnd[float64](rng, m, n+3)
				for i := range c.Data {
					c.Data[i] = math.NaN()
				}
				b.Dgemm(tA, tB, m, n, k, 1.5, a.Data, ac+3, bb.Data, bc+3, 0, c.Data, n+3)
				// Reference on compact copies.
				sub := func(x *tensor.Dense[float64], r, cc int) *tensor.Dense[float64] {
					y := tensor.New[float64](r, cc)
					for i := range r {
						copy(y.Row(i), x.Row(i)[:cc])
					}
					return y
				}
				want := tensor.New[float64](m, n)
				tensor.MulRef(tA, tB, 1.5, sub(a, ar, ac), sub(bb, br, bc), 0, want)
				tol := float64(k+2) * 0x1p-52 * 1.5 * float64(k+1)
				for i := range m {
					for j := range n + 3 {
						got := c.At(i, j)
						if j >= n {
							if !math.IsNaN(got) {
								t.Fatalf("tA=%v tB=%v %v: padding C[%d,%d] written", tA, tB, s, i, j)
							}
							continue
						}
						if d := math.Abs(got - want.At(i, j)); !(d <= tol) {
							t.Fatalf("tA=%v tB=%v %v: C[%d,%d] = %v, want %v", tA, tB, s, i, j, got, want.At(i, j))
						}
					}
				}
				// float32, beta = -0.5, compact.
				as, bs, cs := tensor.Convert[float32](sub(a, ar, ac)), tensor.Convert[float32](sub(bb, br, bc)), rnd[float32](rng, m, n)
				want32 := cs.Clone()
				tensor.MulRef(tA, tB, 1, as, bs, -0.5, want32)
				b.Sgemm(tA, tB, m, n, k, 1, as.Data, ac, bs.Data, bc, -0.5, cs.Data, n)
				tol = float64(k+2) * 0x1p-23 * float64(k+1)
				for i := range cs.Data {
					if d := math.Abs(float64(cs.Data[i] - want32.Data[i])); !(d <= tol) {
						t.Fatalf("Sgemm tA=%v tB=%v %v: C[%d] = %v, want %v", tA, tB, s, i, cs.Data[i], want32.Data[i])
					}
				}
			}
		}
	}
	// k = 0 scales C, alpha = 0 too.
	c := []float64{math.NaN(), 1}
	b.Dgemm(false, false, 1, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
	if c[0] != 0 || c[1] != 0 {
		t.Errorf("k=0, beta=0: %v", c)
	}
}

func TestPanics(t *testing.T) {
	b := load(t)
	defer func() {
		if recover() == nil {
			t.Error("short A did not panic")
		}
	}()
	b.Dgemm(false, false, 2, 2, 2, 1, make([]float64, 3), 2, make([]float64, 4), 2, 0, make([]float64, 4), 2)
}

func TestLoadFromMissing(t *testing.T) {
	_, err := openblas.LoadFrom("libmgdl-no-such-blas.so.9")
	if err == nil || !strings.Contains(err.Error(), "no CBLAS library") {
		t.Errorf("LoadFrom(missing) error = %v", err)
	}
}
