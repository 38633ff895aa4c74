// Copyright ©2026 The mgdl Authors. All rights reserved.

package gemm

import "github.com/mgdl/mgdl/internal/blasargs"

// workspace holds one worker's packing buffers. They are grown to the
// blocking sizes of the kernel on first use and then reused.
type workspace[T Float] struct {
	a, b, tile []T
}

// ensure grows the buffers for kr; the one for B only when withB is set
// (the pool packs B into a shared buffer).
func (w *workspace[T]) ensure(kr *kernel[T], withB bool) {
	na := roundUp(kr.mc, kr.mr) * kr.kc
	nb := roundUp(kr.nc, kr.nr) * kr.kc
	if len(w.a) < na {
		w.a = make([]T, na)
	}
	if withB && len(w.b) < nb {
		w.b = make([]T, nb)
	}
	if len(w.tile) < kr.mr*kr.nr {
		w.tile = make([]T, kr.mr*kr.nr)
	}
}

func roundUp(x, m int) int { return (x + m - 1) / m * m }

// blockSize returns the size of the blocks that split n into the fewest
// blocks of at most limit, rounded up to a multiple of unit (and still at
// most limit when limit is a multiple of unit).
func blockSize(n, limit, unit int) int {
	nb := (n + limit - 1) / limit
	return min(roundUp((n+nb-1)/nb, unit), limit)
}

// packA packs the mb×kb block of op(A) starting at op(A)(i0, p0) into
// panels of mr rows: panel q holds, for p = 0..kb-1, the mr values
// op(A)(i0+q·mr+r, p0+p), r = 0..mr-1, zero-padded past mb.
func packA[T Float](dst []T, tA bool, a []T, lda, i0, p0, mb, kb, mr int) {
	for q := 0; q < mb; q += mr {
		rows := min(mr, mb-q)
		pan := dst[q*kb : q*kb+mr*kb]
		if tA {
			// op(A)(i, p) = A[p*lda+i]: row p of A holds the mr values.
			for p := range kb {
				src := a[(p0+p)*lda+i0+q:]
				d := pan[p*mr : p*mr+mr : p*mr+mr]
				copy(d, src[:rows])
				clear(d[rows:])
			}
			continue
		}
		for r := range rows {
			src := a[(i0+q+r)*lda+p0:]
			src = src[:kb:kb]
			for p, v := range src {
				pan[p*mr+r] = v
			}
		}
		if rows < mr {
			for p := range kb {
				clear(pan[p*mr+rows : p*mr+mr])
			}
		}
	}
}

// packB packs the kb×nb block of op(B) starting at op(B)(p0, j0) into
// panels of nr columns: panel q holds, for p = 0..kb-1, the nr values
// op(B)(p0+p, j0+q·nr+j), j = 0..nr-1, zero-padded past nb.
func packB[T Float](dst []T, tB bool, b []T, ldb, p0, j0, kb, nb, nr int) {
	for q := 0; q < nb; q += nr {
		cols := min(nr, nb-q)
		pan := dst[q*kb : q*kb+nr*kb]
		if !tB {
			for p := range kb {
				src := b[(p0+p)*ldb+j0+q:]
				d := pan[p*nr : p*nr+nr : p*nr+nr]
				copy(d, src[:cols])
				clear(d[cols:])
			}
			continue
		}
		// op(B)(p, j) = B[j*ldb+p]: row j of B holds column j of op(B).
		for j := range cols {
			src := b[(j0+q+j)*ldb+p0:]
			src = src[:kb:kb]
			for p, v := range src {
				pan[p*nr+j] = v
			}
		}
		if cols < nr {
			for p := range kb {
				clear(pan[p*nr+cols : p*nr+nr])
			}
		}
	}
}

// packed computes C = alpha·op(A)·op(B) + beta·C on one thread with the
// packed algorithm. a, b and c start at the sub-problem's first elements.
func packed[T Float](w *workspace[T], kr *kernel[T], tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	w.ensure(kr, true)
	mr, nr := kr.mr, kr.nr
	// Split k and m into blocks of nearly equal sizes, at most kr.kc and
	// kr.mc: a product with k a little above kc then makes two passes over C
	// of even cost rather than a full one and a thin one.
	kc := blockSize(k, kr.kc, 1)
	mc := blockSize(m, kr.mc, mr)
	for jc := 0; jc < n; jc += kr.nc {
		nb := min(kr.nc, n-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			packB(w.b, tB, b, ldb, pc, jc, kb, nb, nr)
			bet := beta
			if pc > 0 {
				bet = 1
			}
			for ic := 0; ic < m; ic += mc {
				mb := min(mc, m-ic)
				var ip inPlace[T]
				blockA(kr, w.a, tA, a, lda, ic, pc, mb, kb, &ip)
				macro(kr, w.tile, mb, nb, kb, alpha, bet, w.a, w.b, &ip, c[ic*ldc+jc:], ldc)
			}
		}
	}
}

// inPlace describes an mb×kb block of A that the kernel reads where it is
// stored: the full mr-row tile at row ir starts at a[ir·step], its last
// element is at a[ir·step+last], and fn reads it with stride lda.
type inPlace[T Float] struct {
	fn         kernUFunc[T]
	a          []T
	lda        int
	step, last int
}

// macro multiplies a packed mb×kb block of A (panels of kr.mr rows) by a
// packed kb×nb block of B (panels of kr.nr columns) into the mb×nb matrix c:
// c = alpha·Ã·B̃ + bet·c. tile is an mr×nr scratch for the edge tiles.
//
// When ip.fn is not nil, the full mr-row tiles read A in place as ip says,
// and pa holds only the packed last, partial panel.
func macro[T Float](kr *kernel[T], tile []T, mb, nb, kb int, alpha, bet T, pa, pb []T, ip *inPlace[T], c []T, ldc int) {
	mr, nr := kr.mr, kr.nr
	for jr := 0; jr < nb; jr += nr {
		cols := min(nr, nb-jr)
		bp := &pb[jr*kb]
		for ir := 0; ir < mb; ir += mr {
			rows := min(mr, mb-ir)
			off := ir*ldc + jr
			full := rows == mr && cols == nr
			if full {
				_ = c[off+(mr-1)*ldc+nr-1]
			}
			switch {
			case ip.fn != nil && rows == mr:
				_ = ip.a[ir*ip.step+ip.last]
				ap := &ip.a[ir*ip.step]
				if full {
					ip.fn(kb, ap, ip.lda, bp, &c[off], ldc, alpha, bet)
					continue
				}
				ip.fn(kb, ap, ip.lda, bp, &tile[0], nr, alpha, 0)
			case ip.fn != nil:
				kr.fn(kb, &pa[0], bp, &tile[0], nr, alpha, 0)
			case full:
				kr.fn(kb, &pa[ir*kb], bp, &c[off], ldc, alpha, bet)
				continue
			default:
				kr.fn(kb, &pa[ir*kb], bp, &tile[0], nr, alpha, 0)
			}
			for r := range rows {
				cr := c[off+r*ldc : off+r*ldc+cols]
				tr := tile[r*nr : r*nr+cols]
				if bet == 0 {
					copy(cr, tr)
					continue
				}
				for j, v := range tr {
					cr[j] = v + bet*cr[j]
				}
			}
		}
	}
}

// blockA prepares the mb×kb block of op(A) at (i0, p0) for macro. When the
// kernel can read A where it is stored, it packs only the last partial panel
// into buf and fills in ip; otherwise it packs the whole block into buf and
// clears ip.fn. The sums are the same either way, so are the results.
func blockA[T Float](kr *kernel[T], buf []T, tA bool, a []T, lda, i0, p0, mb, kb int, ip *inPlace[T]) {
	mr := kr.mr
	fn := kr.fnU
	if tA {
		fn = kr.fnT
	}
	if fn == nil {
		ip.fn = nil
		packA(buf, tA, a, lda, i0, p0, mb, kb, mr)
		return
	}
	full := mb / mr * mr
	if full < mb {
		packA(buf, tA, a, lda, i0+full, p0, mb-full, kb, mr)
	}
	*ip = inPlace[T]{fn: fn, lda: lda}
	if tA {
		// op(A)(i, p) = A[p·lda+i].
		ip.a = a[p0*lda+i0:]
		ip.step, ip.last = 1, (kb-1)*lda+mr-1
	} else {
		ip.a = a[i0*lda+p0:]
		ip.step, ip.last = lda, (mr-1)*lda+kb-1
	}
}

// dot returns Σ x[i·incx]·y[i·incy], i < n: with vector code when both
// strides are 1, else with four partial sums.
func dot[T Float](n int, x []T, incx int, y []T, incy int) T {
	var s0, s1, s2, s3 T
	i := 0
	if incx == 1 && incy == 1 {
		s, v := dotVec(n, x, y)
		s0, i = s, v
		x, y = x[:n], y[:n]
		for ; i+4 <= n; i += 4 {
			s0 += x[i] * y[i]
			s1 += x[i+1] * y[i+1]
			s2 += x[i+2] * y[i+2]
			s3 += x[i+3] * y[i+3]
		}
		for ; i < n; i++ {
			s0 += x[i] * y[i]
		}
		return (s0 + s1) + (s2 + s3)
	}
	for ; i < n; i++ {
		s0 += x[i*incx] * y[i*incy]
	}
	return s0
}

// axpy sets y += alpha·x for len(y) elements.
func axpy[T Float](alpha T, x, y []T) {
	v := axpyVec(alpha, x, y)
	x = x[v:len(y)]
	y = y[v:]
	for i, xv := range x {
		y[i] += alpha * xv
	}
}

// direct computes the product without packing, for m or n of 1 and for
// tiny products. Rows [i0, i1) of C only.
func direct[T Float](tA, tB bool, i0, i1, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch {
	case n == 1 && tA:
		// c = beta·c + alpha·Aᵀ·b, as a sum of scaled rows of A.
		cc := c[i0*ldc:]
		for i := range i1 - i0 {
			if beta == 0 {
				cc[i*ldc] = 0
			} else {
				cc[i*ldc] *= beta
			}
		}
		for p := range k {
			var bv T
			if tB {
				bv = b[p]
			} else {
				bv = b[p*ldb]
			}
			bv *= alpha
			row := a[p*lda+i0:]
			if ldc == 1 {
				axpy(bv, row, cc[:i1-i0])
				continue
			}
			for i := range i1 - i0 {
				cc[i*ldc] += bv * row[i]
			}
		}
	case n == 1:
		// c(i) = alpha·(row i of A)·b + beta·c(i).
		incb := ldb
		if tB {
			incb = 1
		}
		for i := i0; i < i1; i++ {
			s := alpha * dot(k, a[i*lda:], 1, b, incb)
			if beta == 0 {
				c[i*ldc] = s
			} else {
				c[i*ldc] = s + beta*c[i*ldc]
			}
		}
	case !tB:
		// Row i of C += alpha·op(A)(i, p)·(row p of B).
		for i := i0; i < i1; i++ {
			cr := c[i*ldc : i*ldc+n]
			blasargs.Scale(1, n, beta, cr, n)
			for p := range k {
				var av T
				if tA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				axpy(alpha*av, b[p*ldb:], cr)
			}
		}
	default:
		// tB: C(i, j) = alpha·op(A)(i, :)·B(j, :) + beta·C(i, j).
		for i := i0; i < i1; i++ {
			cr := c[i*ldc : i*ldc+n]
			for j := range cr {
				var s T
				if tA {
					s = dot(k, a[i:], lda, b[j*ldb:], 1)
				} else {
					s = dot(k, a[i*lda:], 1, b[j*ldb:], 1)
				}
				if beta == 0 {
					cr[j] = alpha * s
				} else {
					cr[j] = alpha*s + beta*cr[j]
				}
			}
		}
	}
}
