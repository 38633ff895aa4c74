package mgdl_test

import (
	"context"
	"fmt"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/optim"
)

// Train two grades on Xu's sin(100x) example and read the per-grade results
// and the staged predictions.
func ExampleTrain() {
	ex, _ := data.Lookup("xu1")
	splits := data.Generate[float64](ex, 1)
	cfg := mgdl.Uniform([][]int{{1, 32, 32, 1}, {32, 32, 32, 1}},
		mgdl.GradeSpec{Epochs: 5, BatchSize: 256, LR: optim.Constant(1e-3)}, 7)
	m, results, err := mgdl.Train(context.Background(), cfg, splits, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Printf("grade %d %v: %d epochs, RSE below 1.1: %v\n", r.Grade, model.FormatWidths(r.Widths), r.Epochs, r.TrainRSE < 1.1)
	}
	staged := m.StagedPredict(splits.Test.X)
	fmt.Println(len(staged), staged[1].Rows, staged[1].Cols)
	// Output:
	// grade 1 [1,32×2,1]: 5 epochs, RSE below 1.1: true
	// grade 2 [32,32×2,1]: 5 epochs, RSE below 1.1: true
	// 2 1000 1
}

// The SGDL baseline stacks all hidden layers of the grades in one network.
func ExampleConfig_SGDL() {
	cfg := mgdl.Uniform([][]int{{1, 256, 256, 1}, {256, 256, 256, 1}, {256, 256, 256, 1}, {256, 256, 256, 1}},
		mgdl.GradeSpec{Epochs: 300, BatchSize: 256, LR: optim.Constant(1e-4)}, 1)
	s := cfg.SGDL(300)
	fmt.Println(model.FormatWidths(s.Grades[0].Widths), s.Grades[0].Epochs)
	// Output: [1,256×8,1] 300
}
