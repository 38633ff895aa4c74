package rundir

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"

	"github.com/mgdl/mgdl/internal/atomicfile"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/tensor"
)

// MaxStagedPoints bounds the points kept in a Staged record.
const MaxStagedPoints = 2000

// Staged holds, for a problem with one input and one output, the target and
// the model's prediction after each grade at up to MaxStagedPoints inputs
// in increasing order: what the 1-D and spectrum plots draw.
type Staged struct {
	// Split names the data the points come from ("train", "test").
	Split string `json:"split"`
	// X are the inputs, increasing; Y the targets at X.
	X []float64 `json:"x"`
	Y []float64 `json:"y"`
	// Pred[l] is the prediction of the grades 1..l+1 at X.
	Pred [][]float64 `json:"pred"`
}

// NewStaged1D evaluates m after each grade at up to MaxStagedPoints rows of
// (x, y) (n×1 each), taken evenly from the rows sorted by x. It returns nil
// when the data do not have one input and one output column or m has no
// grades.
func NewStaged1D[T tensor.Float](m *model.Model[T], split string, x, y *tensor.Dense[T]) *Staged {
	if m == nil || len(m.Grades) == 0 || x == nil || y == nil || x.Cols != 1 || y.Cols != 1 || x.Rows == 0 {
		return nil
	}
	idx := make([]int, x.Rows)
	for i := range idx {
		idx[i] = i
	}
	xs, ys := x.Raw(), y.Raw()
	sort.SliceStable(idx, func(a, b int) bool { return xs[idx[a]] < xs[idx[b]] })
	if len(idx) > MaxStagedPoints {
		step := float64(len(idx)) / MaxStagedPoints
		sub := make([]int, MaxStagedPoints)
		for i := range sub {
			sub[i] = idx[int(float64(i)*step)]
		}
		idx = sub
	}
	xin := tensor.New[T](len(idx), 1)
	s := &Staged{Split: split, X: make([]float64, len(idx)), Y: make([]float64, len(idx))}
	for i, r := range idx {
		xin.Raw()[i] = xs[r]
		s.X[i] = float64(xs[r])
		s.Y[i] = float64(ys[r])
	}
	for _, p := range m.StagedPredict(xin) {
		v := make([]float64, len(idx))
		for i, e := range p.Raw() {
			v[i] = float64(e)
		}
		s.Pred = append(s.Pred, v)
	}
	return s
}

// Validate checks that the lengths agree and there is at least one point.
func (s *Staged) Validate() error {
	if len(s.X) == 0 || len(s.Y) != len(s.X) {
		return fmt.Errorf("staged predictions: %d inputs and %d targets", len(s.X), len(s.Y))
	}
	for l, p := range s.Pred {
		if len(p) != len(s.X) {
			return fmt.Errorf("staged predictions: grade %d has %d values for %d inputs", l+1, len(p), len(s.X))
		}
	}
	return nil
}

// WriteFile writes s as JSON to path (atomically).
func (s *Staged) WriteFile(path string) error {
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding staged predictions: %w", err)
	}
	return atomicfile.Write(path, append(b, '\n'))
}

// ReadStaged reads a Staged record written by WriteFile.
func ReadStaged(path string) (*Staged, error) {
	b, err := readSmall(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return nil, err
	}
	var s Staged
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return &s, nil
}
