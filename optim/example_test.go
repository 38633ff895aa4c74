package optim_test

import (
	"fmt"

	"github.com/mgdl/mgdl/optim"
)

// The papers' schedule decays from t_max at epoch 0 to t_min at epoch E.
func ExampleExpDecay() {
	s := optim.ExpDecay(1e-2, 1e-4)
	for _, i := range []int{0, 50, 100} {
		fmt.Printf("%.0e ", s.LR(i, 100))
	}
	fmt.Println()
	// Output: 1e-02 1e-03 1e-04
}
