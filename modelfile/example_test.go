package modelfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/nn"
)

// Example writes a two-grade model and reads it back.
func Example() {
	m := &model.Model[float64]{Grades: []*nn.MLP[float64]{
		nn.NewMLP[float64]([]int{2, 4, 1}, nn.ReLU), // grade 1: 2 inputs, 4 hidden, 1 output
		nn.NewMLP[float64]([]int{4, 3, 1}, nn.ReLU), // grade 2 reads grade 1's 4 features
	}}
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "model.safetensors")
	if err := modelfile.WriteFile(path, m, modelfile.Meta{Method: "constructed", Seed: 7}); err != nil {
		fmt.Println(err)
		return
	}
	f, err := modelfile.ReadFile(path)
	if err != nil {
		fmt.Println(err)
		return
	}
	back := modelfile.Model[float64](f)
	fmt.Println(f.Meta.Format, f.Meta.FormatVersion, f.Meta.DType, f.Meta.Method, len(back.Grades), back.NumParams())
	for _, g := range f.Meta.Grades {
		fmt.Println(g.Widths, g.Activation)
	}
	// Output:
	// mgdl-model 2 float64 constructed 2 36
	// [2 4 1] relu
	// [4 3 1] relu
}
