package model

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
)

// Model is a sum of grades. Grade 1 reads the input; grade l+1 reads the
// last hidden layer of grade l; the prediction is Σ_l grade l's output.
// A Model is not safe for concurrent use: grades own their workspaces while
// they run.
type Model[T tensor.Float] struct {
	Grades []*nn.MLP[T]
}

// InDim returns the input width (0 for a model with no grades).
func (m *Model[T]) InDim() int {
	if len(m.Grades) == 0 {
		return 0
	}
	return m.Grades[0].InDim()
}

// OutDim returns the output width (0 for a model with no grades).
func (m *Model[T]) OutDim() int {
	if len(m.Grades) == 0 {
		return 0
	}
	return m.Grades[0].OutDim()
}

// CheckChain returns an error unless every grade reads the features of the
// one before it and all grades have the same output width.
func (m *Model[T]) CheckChain() error {
	for l := 1; l < len(m.Grades); l++ {
		prev, g := m.Grades[l-1], m.Grades[l]
		if g.InDim() != prev.FeatureDim() {
			return fmt.Errorf("grade %d reads %d features but grade %d gives %d", l+1, g.InDim(), l, prev.FeatureDim())
		}
		if g.OutDim() != prev.OutDim() {
			return fmt.Errorf("grade %d has %d outputs but grade %d has %d", l+1, g.OutDim(), l, prev.OutDim())
		}
	}
	return nil
}

// NumParams returns the number of parameters of all grades.
func (m *Model[T]) NumParams() int {
	s := 0
	for _, g := range m.Grades {
		s += g.NumParams()
	}
	return s
}

// Predict returns Σ_l g_l(x) for x (n×InDim), as a new n×OutDim matrix.
// It panics if m has no grades or x has the wrong width.
func (m *Model[T]) Predict(x *tensor.Dense[T]) *tensor.Dense[T] {
	out := tensor.New[T](x.Rows, m.OutDim())
	m.Walk(x, func(_ int, i0 int, g *tensor.Dense[T]) {
		o := out.RowsView(i0, i0+g.Rows).Raw()
		for k, v := range g.Raw() {
			o[k] += v
		}
	})
	return out
}

// GradeOutputs returns each grade's own output g_l(x) (n×OutDim each).
func (m *Model[T]) GradeOutputs(x *tensor.Dense[T]) []*tensor.Dense[T] {
	outs := make([]*tensor.Dense[T], len(m.Grades))
	for l := range outs {
		outs[l] = tensor.New[T](x.Rows, m.OutDim())
	}
	m.Walk(x, func(l, i0 int, g *tensor.Dense[T]) {
		copy(outs[l].RowsView(i0, i0+g.Rows).Raw(), g.Raw())
	})
	return outs
}

// StagedPredict returns the prediction after each grade: element l is
// Σ_{j≤l} g_j(x), each a new n×OutDim matrix (scikit-learn's
// staged_predict). The last element equals Predict(x) up to summation order.
func (m *Model[T]) StagedPredict(x *tensor.Dense[T]) []*tensor.Dense[T] {
	outs := m.GradeOutputs(x)
	for l := 1; l < len(outs); l++ {
		p, c := outs[l-1].Raw(), outs[l].Raw()
		for k := range c {
			c[k] += p[k]
		}
	}
	return outs
}

// Classify returns, for each row of x, the index of the largest component
// of the prediction (the class, for one-hot classification models).
func (m *Model[T]) Classify(x *tensor.Dense[T]) []int {
	p := m.Predict(x)
	out := make([]int, p.Rows)
	for i := range out {
		row := p.Row(i)
		for j, v := range row {
			if v > row[out[i]] {
				out[i] = j
			}
		}
	}
	return out
}

// walkChunk is the row block of one Forward call in Walk: small enough that
// a grade's buffers stay in cache.
const walkChunk = 1024

// walkBudget bounds, in elements, the two feature buffers Walk passes from
// grade to grade (n×width each, for a block of n rows): 2·4M float64 values
// are 64 MiB, whatever the number of rows.
const walkBudget = 4 << 20

// Walk evaluates m on x (n×InDim) and calls visit(l, i0, g) once for every
// grade l and block of rows [i0, i0+g.Rows) with that grade's own output g
// (g.Rows×OutDim), valid only during the call. For every row, grades come
// in order (grade l before grade l+1); beyond that a visitor must not rely
// on the order of the calls.
//
// It is the one walk over the grades behind Predict, GradeOutputs and
// StagedPredict. Models whose layers are all at most SmallWidth wide
// (constructed models: thousands of narrow grades) run through a compiled
// Program; others through each grade's own Forward (GEMM), walkChunk rows at
// a time, over blocks of rows whose features fit walkBudget. Each grade
// releases its workspace after a block, so memory stays bounded by one
// grade's buffers and two feature blocks, however many grades and rows
// there are. It panics if m has no grades or x has the wrong width.
func (m *Model[T]) Walk(x *tensor.Dense[T], visit func(l, i0 int, g *tensor.Dense[T])) {
	if len(m.Grades) == 0 {
		panic("model: model has no grades")
	}
	if x.Cols != m.InDim() {
		panic(fmt.Sprintf("model: input has %d columns, model expects %d", x.Cols, m.InDim()))
	}
	if m.Narrow() {
		Compile(m).Walk(x, visit)
		return
	}
	maxF := 1
	for _, g := range m.Grades[:len(m.Grades)-1] {
		maxF = max(maxF, g.FeatureDim())
	}
	block := max(walkChunk, walkBudget/maxF/walkChunk*walkChunk)
	block = min(block, x.Rows)
	// two feature buffers, used in turn
	slabs := [2][]T{make([]T, block*maxF), make([]T, block*maxF)}
	for b0 := 0; b0 < x.Rows; b0 += block {
		b1 := min(b0+block, x.Rows)
		n := b1 - b0
		feat := x.RowsView(b0, b1)
		for l, g := range m.Grades {
			var next *tensor.Dense[T]
			if l < len(m.Grades)-1 {
				next = tensor.FromSlice(n, g.FeatureDim(), slabs[l%2][:n*g.FeatureDim()])
			}
			for i0 := 0; i0 < n; i0 += walkChunk {
				i1 := min(i0+walkChunk, n)
				visit(l, b0+i0, g.Forward(feat.RowsView(i0, i1)))
				if next != nil {
					copy(next.RowsView(i0, i1).Raw(), g.Hidden().Raw())
				}
			}
			g.ReleaseWorkspace()
			feat = next
		}
	}
}

// Narrow reports whether every layer of m is at most SmallWidth wide, so
// that Walk runs it through a compiled Program, ProgramChunk rows at a time.
func (m *Model[T]) Narrow() bool {
	for _, g := range m.Grades {
		for _, w := range g.Widths {
			if w > SmallWidth {
				return false
			}
		}
	}
	return true
}

// FormatWidths writes a grade's widths compactly, repeated hidden widths
// collapsed: [1,256,256,256,256,1] becomes [1,256×4,1].
func FormatWidths(w []int) string {
	var parts []string
	for i := 0; i < len(w); {
		j := i
		for j+1 < len(w) && w[j+1] == w[i] && i > 0 && j+1 < len(w)-1 {
			j++
		}
		if j > i {
			parts = append(parts, fmt.Sprintf("%d×%d", w[i], j-i+1))
		} else {
			parts = append(parts, strconv.Itoa(w[i]))
		}
		i = j + 1
	}
	return "[" + strings.Join(parts, ",") + "]"
}
