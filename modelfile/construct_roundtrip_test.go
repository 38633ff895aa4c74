package modelfile_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/mgdl/mgdl/construct"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
)

// TestRoundTripConstructed saves a model made by the construct package (many
// narrow grades of variant A) in both dtypes, reads it back and requires
// bit-identical predictions after every grade.
func TestRoundTripConstructed(t *testing.T) {
	box := construct.UnitBox(2)
	x := construct.Grid(box, 21)
	y := make([]float64, x.Rows)
	for i := range y {
		p := x.Row(i)
		y[i] = math.Sin(2*math.Pi*p[0])*math.Cos(2*math.Pi*p[1]) + 0.5*(p[0]-p[1])
	}
	res, err := construct.Build(context.Background(), x, y, construct.Options{Levels: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Model.Grades) < 10 {
		t.Fatalf("only %d grades", len(res.Model.Grades))
	}
	fresh := construct.RandomPoints(box, 500, 3)
	t.Run("float64", func(t *testing.T) { roundTrip(t, res.Model, fresh) })
	m32 := &model.Model[float32]{}
	for _, g := range res.Model.Grades {
		c := nnConvert(g)
		m32.Grades = append(m32.Grades, c)
	}
	t.Run("float32", func(t *testing.T) { roundTrip(t, m32, tensor.Convert[float32](fresh)) })
}

func roundTrip[T tensor.Float](t *testing.T, m *model.Model[T], x *tensor.Dense[T]) {
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := modelfile.WriteFile(path, m, modelfile.Meta{Method: "constructed"}); err != nil {
		t.Fatal(err)
	}
	f, err := modelfile.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Meta.Method != "constructed" || f.Meta.DType != tensor.DType[T]() {
		t.Fatalf("meta %+v", f.Meta)
	}
	back := modelfile.Model[T](f)
	want, got := m.StagedPredict(x), back.StagedPredict(x)
	if len(got) != len(want) {
		t.Fatalf("%d grades back, %d saved", len(got), len(want))
	}
	for l := range want {
		for i, v := range want[l].Raw() {
			if got[l].Data[i] != v {
				t.Fatalf("grade %d value %d: %v after the round trip, %v before", l+1, i, got[l].Data[i], v)
			}
		}
	}
}

// nnConvert copies a float64 grade into a float32 one.
func nnConvert(g *nn.MLP[float64]) *nn.MLP[float32] {
	c := nn.NewMLP[float32](g.Widths, g.Act)
	c.Softmax = g.Softmax
	for i, v := range g.Params() {
		c.Params()[i] = float32(v)
	}
	return c
}
