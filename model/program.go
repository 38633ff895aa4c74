package model

import (
	"fmt"

	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
)

// ProgramChunk is the number of rows a Program pushes through all grades at
// once. Each channel of a chunk is one contiguous run of ProgramChunk
// values, so a layer is a short list of axpy's over cache-resident columns.
const ProgramChunk = 256

const chunk = ProgramChunk

// SmallWidth is the largest layer width for which Walk uses a Program
// instead of the model's own (GEMM) forward pass.
const SmallWidth = 64

// Program is a model compiled for fast evaluation when its grades are many
// and narrow (constructed models: thousands of grades of width 5 to 10).
// Rows are processed in chunks of 256, each channel of a chunk held as one
// contiguous run, and three generic shortcuts remove most of the work of
// such models without looking at what the model is:
//
//   - only nonzero weights are kept, and each output channel is computed in
//     one fused pass per nonconstant input (bias and activation included);
//   - a channel that is constant over the chunk (all-zero ReLU outputs,
//     unused channels) is carried as one number, not as a column;
//   - a ReLU channel that copies a nonnegative channel with weight 1 and
//     bias 0 shares its storage instead of being recomputed.
//
// The arithmetic is that of the model up to summation order (round-off).
// A Program holds a copy of the weights: later changes to the model are not
// seen. It is safe for concurrent use.
type Program[T tensor.Float] struct {
	in, out, maxW int
	grades        []gradeProg[T]
}

type gradeProg[T tensor.Float] struct {
	hidden  []layerProg[T]
	output  layerProg[T]
	softmax bool // row-wise softmax of the output (nn.MLP.Softmax)
}

// layerProg is a layer stored by output channel: channel j reads inputs
// ins[start[j]:start[j+1]] with weights w[...]; fwd[j] ≥ 0 marks a channel
// that is exactly act(input fwd[j]) (weight 1, bias 0, no other input).
type layerProg[T tensor.Float] struct {
	in, out int
	act     nn.Activation
	bias    []T
	start   []int32
	ins     []int32
	w       []T
	fwd     []int32
}

// Compile returns m as a Program. It panics if m has no grades or its grades
// do not chain (see Model.CheckChain).
func Compile[T tensor.Float](m *Model[T]) *Program[T] {
	if len(m.Grades) == 0 {
		panic("model: model has no grades")
	}
	if err := m.CheckChain(); err != nil {
		panic("model: " + err.Error())
	}
	p := &Program[T]{in: m.InDim(), out: m.OutDim(), grades: make([]gradeProg[T], len(m.Grades))}
	for l, g := range m.Grades {
		nl := len(g.Layers)
		gp := &p.grades[l]
		gp.softmax = g.Softmax
		for i := range g.Layers {
			L := &g.Layers[i]
			lp := layerProg[T]{in: L.In, out: L.Out, act: g.Act, bias: append([]T(nil), L.B...),
				start: make([]int32, L.Out+1), fwd: make([]int32, L.Out)}
			for c := range L.Out {
				for r := range L.In {
					if w := L.W.Data[r*L.Out+c]; w != 0 {
						lp.ins = append(lp.ins, int32(r))
						lp.w = append(lp.w, w)
					}
				}
				lp.start[c+1] = int32(len(lp.w))
				lp.fwd[c] = -1
				if k := lp.start[c]; lp.start[c+1] == k+1 && lp.w[k] == 1 && lp.bias[c] == 0 {
					lp.fwd[c] = lp.ins[k]
				}
			}
			p.maxW = max(p.maxW, L.In, L.Out)
			if i == nl-1 {
				gp.output = lp
			} else {
				gp.hidden = append(gp.hidden, lp)
			}
		}
	}
	return p
}

// NumGrades returns the number of grades.
func (p *Program[T]) NumGrades() int { return len(p.grades) }

// chanVal is one channel of a chunk: a column in the pool (buf ≥ 0) or the
// constant c (buf < 0). nonneg records that every value is ≥ 0.
type chanVal[T tensor.Float] struct {
	buf    int32
	c      T
	nonneg bool
}

// pool hands out reference-counted columns of chunk values.
type pool[T tensor.Float] struct {
	bufs [][]T
	ref  []int32
	free []int32
}

func (q *pool[T]) alloc() int32 {
	if n := len(q.free); n > 0 {
		b := q.free[n-1]
		q.free = q.free[:n-1]
		q.ref[b] = 1
		return b
	}
	q.bufs = append(q.bufs, make([]T, chunk))
	q.ref = append(q.ref, 1)
	return int32(len(q.bufs) - 1)
}

func (q *pool[T]) release(vs []chanVal[T]) {
	for _, v := range vs {
		if v.buf >= 0 {
			if q.ref[v.buf]--; q.ref[v.buf] == 0 {
				q.free = append(q.free, v.buf)
			}
		}
	}
}

type term[T tensor.Float] struct {
	s []T
	w T
}

// apply computes dst = act(src·W + b) for a chunk of c rows (act only when
// hidden), channel by channel.
func (l *layerProg[T]) apply(q *pool[T], src, dst []chanVal[T], c int, hidden bool, terms []term[T]) []term[T] {
	relu := hidden && l.act == nn.ReLU
	act := func(v T) T {
		switch {
		case !hidden || l.act == nn.Identity:
			return v
		case relu:
			return max(v, 0)
		}
		return T(l.act.Scalar(float64(v)))
	}
	for j := range l.out {
		if f := l.fwd[j]; f >= 0 && hidden {
			s := src[f]
			if s.buf < 0 {
				v := act(s.c)
				dst[j] = chanVal[T]{buf: -1, c: v, nonneg: v >= 0}
				continue
			}
			if l.act == nn.Identity || relu && s.nonneg {
				q.ref[s.buf]++
				dst[j] = s
				continue
			}
		}
		cst := l.bias[j]
		terms = terms[:0]
		for k := l.start[j]; k < l.start[j+1]; k++ {
			s, w := src[l.ins[k]], l.w[k]
			if s.buf < 0 {
				cst += w * s.c
			} else {
				terms = append(terms, term[T]{q.bufs[s.buf][:c], w})
			}
		}
		if len(terms) == 0 {
			v := act(cst)
			dst[j] = chanVal[T]{buf: -1, c: v, nonneg: v >= 0}
			continue
		}
		b := q.alloc()
		out := q.bufs[b][:c]
		last := terms[len(terms)-1]
		if len(terms) > 1 {
			w0 := terms[0].w
			for k, v := range terms[0].s[:c] {
				out[k] = w0 * v
			}
			for _, t := range terms[1 : len(terms)-1] {
				w := t.w
				for k, v := range t.s[:c] {
					out[k] += w * v
				}
			}
		}
		w := last.w
		if relu {
			nz := false // a NaN counts as nonzero
			if len(terms) == 1 {
				for k, v := range last.s[:c] {
					v = w*v + cst
					if v < 0 {
						v = 0
					}
					out[k] = v
					if v != 0 {
						nz = true
					}
				}
			} else {
				for k, v := range last.s[:c] {
					v = out[k] + w*v + cst
					if v < 0 {
						v = 0
					}
					out[k] = v
					if v != 0 {
						nz = true
					}
				}
			}
			if !nz {
				q.ref[b] = 0
				q.free = append(q.free, b)
				dst[j] = chanVal[T]{buf: -1, nonneg: true}
				continue
			}
			dst[j] = chanVal[T]{buf: b, nonneg: true}
			continue
		}
		if len(terms) == 1 {
			for k, v := range last.s[:c] {
				out[k] = w*v + cst
			}
		} else {
			for k, v := range last.s[:c] {
				out[k] += w*v + cst
			}
		}
		if hidden && l.act != nn.Identity {
			for k, v := range out {
				out[k] = T(l.act.Scalar(float64(v)))
			}
		}
		dst[j] = chanVal[T]{buf: b}
	}
	return terms
}

// Walk evaluates the grades on x (n×InDim) and calls visit(l, i0, g) with
// grade l's output g for rows [i0, i0+g.Rows), grade by grade within each
// chunk of rows. g is valid only during the call. It panics if x has the
// wrong width.
func (p *Program[T]) Walk(x *tensor.Dense[T], visit func(l, i0 int, g *tensor.Dense[T])) {
	if x.Cols != p.in {
		panic(fmt.Sprintf("model: input has %d columns, model expects %d", x.Cols, p.in))
	}
	q := &pool[T]{}
	feat := make([]chanVal[T], 0, p.maxW)
	bufA := make([]chanVal[T], p.maxW)
	bufB := make([]chanVal[T], p.maxW)
	outs := make([]chanVal[T], p.out)
	terms := make([]term[T], 0, p.maxW)
	g := tensor.Dense[T]{Cols: p.out, Data: make([]T, p.out*chunk)}
	for i0 := 0; i0 < x.Rows; i0 += chunk {
		c := min(chunk, x.Rows-i0)
		feat = feat[:p.in]
		for i := range p.in {
			b := q.alloc()
			col := q.bufs[b][:c]
			nonneg := true
			for r := range c {
				v := x.Data[(i0+r)*p.in+i]
				col[r] = v
				nonneg = nonneg && v >= 0
			}
			feat[i] = chanVal[T]{buf: b, nonneg: nonneg}
		}
		src := feat
		for l := range p.grades {
			gp := &p.grades[l]
			for _, lp := range gp.hidden {
				dst := bufA[:lp.out]
				if len(src) > 0 && &src[0] == &bufA[0] {
					dst = bufB[:lp.out]
				}
				terms = lp.apply(q, src, dst, c, true, terms)
				q.release(src)
				src = dst
			}
			terms = gp.output.apply(q, src, outs, c, false, terms)
			g.Rows = c
			for j, o := range outs {
				if o.buf < 0 {
					for r := range c {
						g.Data[r*p.out+j] = o.c
					}
				} else {
					for r, v := range q.bufs[o.buf][:c] {
						g.Data[r*p.out+j] = v
					}
				}
			}
			q.release(outs)
			if gp.softmax {
				nn.SoftmaxRows(&g)
			}
			visit(l, i0, &g)
		}
		q.release(src)
	}
}

// Predict returns Σ_l g_l(x) for x (n×InDim) as a new n×OutDim matrix, like
// Model.Predict. It panics if x has the wrong width.
func (p *Program[T]) Predict(x *tensor.Dense[T]) *tensor.Dense[T] {
	out := tensor.New[T](x.Rows, p.out)
	p.Walk(x, func(_ int, i0 int, g *tensor.Dense[T]) {
		o := out.Data[i0*p.out : (i0+g.Rows)*p.out]
		for k, v := range g.Raw() {
			o[k] += v
		}
	})
	return out
}
