// Copyright ©2026 The mgdl Authors. All rights reserved.

package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"
)

// kernelSets returns a Backend per micro-kernel this machine can run.
func kernelSets() []*Backend {
	var bs []*Backend
	seen := map[string]bool{}
	add := func(kd kernel[float64], ks kernel[float32]) {
		if seen[kd.name] {
			return
		}
		seen[kd.name] = true
		b := New(2)
		b.kd, b.ks = &kd, &ks
		bs = append(bs, b)
	}
	add(kernD, kernS)
	addArch(add)
	add(goKernelD(), goKernelS())
	return bs
}

// refGemm is the obvious triple loop in float64. It also returns the bound
// |alpha|·Σ|a||b| + |beta·c| for every element, for the tolerance.
func refGemm[T Float](tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) (ref, mag []float64) {
	ref = make([]float64, m*n)
	mag = make([]float64, m*n)
	for i := range m {
		for j := range n {
			var s, sa float64
			for p := range k {
				var av, bv T
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if tB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
				sa += math.Abs(float64(av) * float64(bv))
			}
			r := float64(alpha) * s
			g := math.Abs(float64(alpha)) * sa
			if beta != 0 {
				r += float64(beta) * float64(c[i*ldc+j])
				g += math.Abs(float64(beta) * float64(c[i*ldc+j]))
			}
			ref[i*n+j], mag[i*n+j] = r, g
		}
	}
	return ref, mag
}

type gemmCase struct {
	tA, tB           bool
	m, n, k          int
	alpha, beta      float64
	padA, padB, padC int
}

func (tc gemmCase) String() string {
	l := map[[2]bool]string{{false, false}: "NN", {true, false}: "TN", {false, true}: "NT", {true, true}: "TT"}[[2]bool{tc.tA, tc.tB}]
	return fmt.Sprintf("%s/%dx%dx%d/alpha=%g,beta=%g/pad=%d,%d,%d", l, tc.m, tc.k, tc.n, tc.alpha, tc.beta, tc.padA, tc.padB, tc.padC)
}

// operands returns random A, B, C for tc, with C full of NaN when beta is 0.
func operands[T Float](rng *rand.Rand, tc gemmCase) (a []T, lda int, b []T, ldb int, c []T, ldc int) {
	ra, ca := tc.m, tc.k
	if tc.tA {
		ra, ca = tc.k, tc.m
	}
	rb, cb := tc.k, tc.n
	if tc.tB {
		rb, cb = tc.n, tc.k
	}
	lda, ldb, ldc = ca+tc.padA, cb+tc.padB, tc.n+tc.padC
	fill := func(r, ld int, nan bool) []T {
		x := make([]T, r*ld)
		for i := range x {
			if nan {
				x[i] = T(math.NaN())
			} else {
				x[i] = T(rng.Float64()*2 - 1)
			}
		}
		return x
	}
	return fill(ra, lda, false), lda, fill(rb, ldb, false), ldb, fill(tc.m, ldc, tc.beta == 0), ldc
}

func checkCase[T Float](t *testing.T, be *Backend, rng *rand.Rand, tc gemmCase) {
	t.Helper()
	a, lda, b, ldb, c, ldc := operands[T](rng, tc)
	ref, mag := refGemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, T(tc.alpha), a, lda, b, ldb, T(tc.beta), c, ldc)
	orig := append([]T(nil), c...)
	var eps float64
	switch cc := any(c).(type) {
	case []float64:
		eps = 0x1p-52
		be.Dgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, any(a).([]float64), lda, any(b).([]float64), ldb, tc.beta, cc, ldc)
	case []float32:
		eps = 0x1p-23
		be.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, float32(tc.alpha), any(a).([]float32), lda, any(b).([]float32), ldb, float32(tc.beta), cc, ldc)
	}
	for i := range tc.m {
		for j := range ldc {
			got := float64(c[i*ldc+j])
			if j >= tc.n {
				if !same(got, float64(orig[i*ldc+j])) {
					t.Fatalf("%v: padding C[%d,%d] changed to %v", tc, i, j, got)
				}
				continue
			}
			// Tolerance: (k+2)·eps·(|alpha|·Σ|a·b| + |beta·c|).
			tol := float64(tc.k+2)*eps*mag[i*tc.n+j] + 1e-300
			if d := math.Abs(got - ref[i*tc.n+j]); !(d <= tol) {
				t.Fatalf("%v: C[%d,%d] = %v, want %v (diff %g > tol %g)", tc, i, j, got, ref[i*tc.n+j], d, tol)
			}
		}
	}
}

func same(x, y float64) bool { return x == y || (math.IsNaN(x) && math.IsNaN(y)) }

func testCases(rng *rand.Rand, count int, big bool) []gemmCase {
	alphas := []float64{1, -0.5, 2.5, 0}
	betas := []float64{0, 1, -0.75}
	var cs []gemmCase
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for i := range count {
				tc := gemmCase{tA: tA, tB: tB,
					m: 1 + rng.IntN(70), n: 1 + rng.IntN(70), k: 1 + rng.IntN(70),
					alpha: alphas[i%len(alphas)], beta: betas[i%len(betas)],
					padA: rng.IntN(3), padB: rng.IntN(3), padC: rng.IntN(3)}
				if i%5 == 0 {
					tc.m = 1
				}
				if i%7 == 0 {
					tc.n = 1
				}
				cs = append(cs, tc)
			}
			if big {
				for _, s := range [][3]int{{300, 200, 600}, {37, 2100, 5}, {1000, 3, 257}, {7, 5, 3000}, {256, 256, 1}} {
					cs = append(cs, gemmCase{tA: tA, tB: tB, m: s[0], n: s[1], k: s[2], alpha: 1.5, beta: 0, padA: 1, padB: 2, padC: 3})
				}
			}
		}
	}
	return cs
}

func TestGemm(t *testing.T) {
	for _, be := range kernelSets() {
		kd, _ := be.kernels()
		t.Run(kd.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			for _, tc := range testCases(rng, 60, !testing.Short()) {
				checkCase[float64](t, be, rng, tc)
				checkCase[float32](t, be, rng, tc)
			}
		})
	}
}

func TestGemmZeroSizes(t *testing.T) {
	be := New(2)
	c := []float64{math.NaN(), 2}
	be.Dgemm(false, false, 1, 2, 0, 1, nil, 1, nil, 2, 0, c, 2)
	if c[0] != 0 || c[1] != 0 {
		t.Errorf("k=0, beta=0: C = %v, want zeros", c)
	}
	c = []float64{1, 2}
	be.Dgemm(false, false, 1, 2, 0, 1, nil, 1, nil, 2, 3, c, 2)
	if c[0] != 3 || c[1] != 6 {
		t.Errorf("k=0, beta=3: C = %v, want [3 6]", c)
	}
	be.Dgemm(false, false, 0, 0, 5, 1, nil, 5, nil, 1, 0, nil, 1)
}

func TestGemmPanics(t *testing.T) {
	be := New(1)
	for _, f := range []func(){
		func() { be.Dgemm(false, false, -1, 1, 1, 1, nil, 1, nil, 1, 0, nil, 1) },
		func() {
			be.Dgemm(false, false, 2, 2, 2, 1, make([]float64, 4), 1, make([]float64, 4), 2, 0, make([]float64, 4), 2)
		},
		func() {
			be.Sgemm(false, false, 2, 2, 2, 1, make([]float32, 3), 2, make([]float32, 4), 2, 0, make([]float32, 4), 2)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}

// TestDeterministic checks bit-identical results over repeated runs and
// over thread counts.
func TestDeterministic(t *testing.T) {
	// Allow up to 7 threads even on a small machine.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	rng := rand.New(rand.NewPCG(3, 4))
	for _, tc := range []gemmCase{
		{m: 301, n: 77, k: 530, alpha: 1, beta: 0},
		{tA: true, m: 64, n: 130, k: 900, alpha: 1, beta: 0.5},
		{tB: true, m: 257, n: 255, k: 129, alpha: -1, beta: 1},
		{m: 513, n: 1, k: 300, alpha: 1, beta: 0},
		{tA: true, m: 200, n: 1, k: 300, alpha: 1, beta: 0},
		{tA: true, m: 64, n: 64, k: 1100, alpha: 1, beta: 0},
		{tB: true, m: 30, n: 1500, k: 70, alpha: 2, beta: 1},
		{tA: true, tB: true, m: 100, n: 90, k: 80, alpha: 1, beta: 0},
	} {
		a, lda, b, ldb, c0, ldc := operands[float64](rng, tc)
		// The path taken when the pool is busy.
		first := append([]float64(nil), c0...)
		gemmSerial(&kernD, tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, first, ldc, &poolD)
		for _, threads := range []int{1, 2, 3, 2, 1, 7} {
			be := New(threads)
			c := append([]float64(nil), c0...)
			be.Dgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, tc.alpha, a, lda, b, ldb, tc.beta, c, ldc)
			be.Close()
			for i := range c {
				if math.Float64bits(c[i]) != math.Float64bits(first[i]) {
					t.Fatalf("%v threads=%d: C[%d] = %v, first run %v", tc, threads, i, c[i], first[i])
				}
			}
		}
	}
}

func TestAllocs(t *testing.T) {
	be := New(2)
	defer be.Close()
	for _, s := range [][3]int{{256, 64, 64}, {512, 256, 256}, {64, 64, 1024}, {256, 1, 256}, {4, 4, 4}} {
		m, n, k := s[0], s[1], s[2]
		a := make([]float64, m*k)
		b := make([]float64, k*n)
		c := make([]float64, m*n)
		as := make([]float32, m*k)
		bs := make([]float32, k*n)
		cs := make([]float32, m*n)
		for _, tt := range [][2]bool{{false, false}, {true, false}, {false, true}} {
			lda, ldb := k, n
			if tt[0] {
				lda = m
			}
			if tt[1] {
				ldb = k
			}
			be.Dgemm(tt[0], tt[1], m, n, k, 1, a, lda, b, ldb, 0, c, n)
			if got := testing.AllocsPerRun(10, func() {
				be.Dgemm(tt[0], tt[1], m, n, k, 1, a, lda, b, ldb, 0, c, n)
			}); got != 0 {
				t.Errorf("Dgemm %v %v: %v allocations per call", tt, s, got)
			}
			be.Sgemm(tt[0], tt[1], m, n, k, 1, as, lda, bs, ldb, 0, cs, n)
			if got := testing.AllocsPerRun(10, func() {
				be.Sgemm(tt[0], tt[1], m, n, k, 1, as, lda, bs, ldb, 0, cs, n)
			}); got != 0 {
				t.Errorf("Sgemm %v %v: %v allocations per call", tt, s, got)
			}
		}
	}
}

// TestConcurrent runs products on one Backend from several goroutines (some
// then take the serial path) and checks they equal a serial run bit for bit.
func TestConcurrent(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	tc := gemmCase{tB: true, m: 150, n: 140, k: 300, alpha: 1, beta: 0}
	a, lda, b, ldb, c0, ldc := operands[float32](rng, tc)
	want := append([]float32(nil), c0...)
	New(1).Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, want, ldc)
	be := New(2)
	defer be.Close()
	errs := make(chan error, 4)
	for g := range 4 {
		go func() {
			c := append([]float32(nil), c0...)
			for it := range 20 {
				be.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, 1, a, lda, b, ldb, 0, c, ldc)
				for i := range c {
					if math.Float32bits(c[i]) != math.Float32bits(want[i]) {
						errs <- fmt.Errorf("goroutine %d, run %d: C[%d] = %v, want %v", g, it, i, c[i], want[i])
						return
					}
				}
			}
			errs <- nil
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestInPlaceA checks that reading A in place gives the same bits as
// packing it.
func TestInPlaceA(t *testing.T) {
	kd, ks := kernD, kernS
	if kd.fnU == nil {
		t.Skip("no in-place kernel")
	}
	pd, ps := kd, ks
	pd.fnU, ps.fnU, pd.fnT, ps.fnT = nil, nil, nil, nil
	inPlace, packedOnly := New(2), New(2)
	inPlace.kd, inPlace.ks = &kd, &ks
	packedOnly.kd, packedOnly.ks = &pd, &ps
	rng := rand.New(rand.NewPCG(11, 12))
	for _, tc := range []gemmCase{
		{m: 301, n: 77, k: 530, alpha: 1, beta: 0, padA: 3},
		{tB: true, m: 37, n: 45, k: 1030, alpha: -1, beta: 1},
		{tA: true, m: 301, n: 77, k: 530, alpha: 1, beta: 0, padA: 3},
		{tA: true, tB: true, m: 37, n: 45, k: 1030, alpha: -1, beta: 1, padA: 1},
	} {
		a, lda, b, ldb, c0, ldc := operands[float32](rng, tc)
		c1, c2 := append([]float32(nil), c0...), append([]float32(nil), c0...)
		inPlace.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, float32(tc.alpha), a, lda, b, ldb, float32(tc.beta), c1, ldc)
		packedOnly.Sgemm(tc.tA, tc.tB, tc.m, tc.n, tc.k, float32(tc.alpha), a, lda, b, ldb, float32(tc.beta), c2, ldc)
		for i := range c1 {
			if math.Float32bits(c1[i]) != math.Float32bits(c2[i]) {
				t.Fatalf("%v: C[%d] in place %v, packed %v", tc, i, c1[i], c2[i])
			}
		}
	}
}
