package mgdl

import (
	"fmt"

	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
)

// predictChunk bounds the rows the trainer pushes through a network at once
// (validation losses, advancing the cached features, the refit), so that a
// network's workspace stays small for large splits.
const predictChunk = 4096

// walkChunk is the row block of Predict and its kin, which run one grade at
// a time over all rows: small enough that a grade's buffers stay in cache.
const walkChunk = 1024

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

// Predict returns Σ_l g_l(x) for x (n×InDim), as a new n×OutDim matrix.
// It panics if x has the wrong width.
func (m *Model[T]) Predict(x *tensor.Dense[T]) *tensor.Dense[T] {
	out := tensor.New[T](x.Rows, m.OutDim())
	m.walk(x, func(_ int, i0 int, g *tensor.Dense[T]) {
		o := out.RowsView(i0, i0+g.Rows).Raw()
		for k, v := range g.Raw() {
			o[k] += v
		}
	})
	return out
}

// StagedPredict returns the prediction after each grade: element l is
// Σ_{j≤l} g_j(x), each a new n×OutDim matrix (scikit-learn's
// staged_predict). The last element equals Predict(x).
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

// GradeOutputs returns each grade's own output g_l(x) (n×OutDim each).
func (m *Model[T]) GradeOutputs(x *tensor.Dense[T]) []*tensor.Dense[T] {
	outs := make([]*tensor.Dense[T], len(m.Grades))
	for l := range outs {
		outs[l] = tensor.New[T](x.Rows, m.OutDim())
	}
	m.walk(x, func(l, i0 int, g *tensor.Dense[T]) {
		copy(outs[l].RowsView(i0, i0+g.Rows).Raw(), g.Raw())
	})
	return outs
}

// walk runs the grades over x one grade at a time (each in row chunks) and
// calls visit with each grade's output for rows [i0, i0+g.Rows). Each grade
// releases its workspace when it is done, so a model with thousands of
// grades holds one grade's buffers and one feature matrix at a time.
func (m *Model[T]) walk(x *tensor.Dense[T], visit func(l, i0 int, g *tensor.Dense[T])) {
	if len(m.Grades) == 0 {
		panic("mgdl: model has no grades")
	}
	if x.Cols != m.InDim() {
		panic(fmt.Sprintf("mgdl: input has %d columns, model expects %d", x.Cols, m.InDim()))
	}
	n := x.Rows
	maxF := 0
	for _, g := range m.Grades[:len(m.Grades)-1] {
		maxF = max(maxF, g.FeatureDim())
	}
	// two feature buffers, used in turn
	slabs := [2][]T{make([]T, n*maxF), make([]T, n*maxF)}
	feat := x
	for l, g := range m.Grades {
		var next *tensor.Dense[T]
		if l < len(m.Grades)-1 {
			next = tensor.FromSlice(n, g.FeatureDim(), slabs[l%2][:n*g.FeatureDim()])
		}
		for i0 := 0; i0 < n; i0 += walkChunk {
			i1 := min(i0+walkChunk, n)
			visit(l, i0, g.Forward(feat.RowsView(i0, i1)))
			if next != nil {
				copy(next.RowsView(i0, i1).Raw(), g.Hidden().Raw())
			}
		}
		g.ReleaseWorkspace()
		feat = next
	}
}

// NumParams returns the number of parameters of all grades.
func (m *Model[T]) NumParams() int {
	s := 0
	for _, g := range m.Grades {
		s += g.NumParams()
	}
	return s
}

// DType returns "float64" or "float32".
func DType[T tensor.Float]() string {
	var z T
	if _, ok := any(z).(float32); ok {
		return "float32"
	}
	return "float64"
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
