package mgdl_test

import (
	"context"
	"fmt"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
)

// Train Xu's sin(100x) example grade by grade with the recipe of the
// authors' code (sin activation in grade 1, decaying rates), shrunk to two
// epochs per grade, and read the per-grade results and the staged
// predictions.
func ExampleTrain() {
	ex, _ := data.Lookup("xu1")
	splits := data.Generate[float64](ex, 1)
	cfg := mgdl.Uniform([][]int{{1, 256, 256, 1}, {256, 32, 32, 1}},
		mgdl.GradeSpec{Epochs: 2, BatchSize: 32, LR: optim.ExpDecay(1e-2, 1e-4)}, 7)
	cfg.Grades[0].Activation, cfg.Grades[0].LR = nn.Sin, optim.ExpDecay(1e-1, 1e-4)
	m, results, err := mgdl.Train(context.Background(), cfg, splits, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Printf("grade %d %v: %d epochs, train RSE %.2g, test RSE %.2g\n", r.Grade, model.FormatWidths(r.Widths), r.Epochs, r.TrainRSE, *r.TestRSE)
	}
	staged := m.StagedPredict(splits.Test.X)
	fmt.Println(len(staged), staged[1].Rows, staged[1].Cols)
	// Output:
	// grade 1 [1,256×2,1]: 2 epochs, train RSE 0.01, test RSE 0.01
	// grade 2 [256,32×2,1]: 2 epochs, train RSE 2.2e-05, test RSE 2.4e-05
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
