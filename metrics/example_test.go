package metrics_test

import (
	"fmt"

	"github.com/mgdl/mgdl/metrics"
)

// RSE divides by the energy of y, not by its variance.
func ExampleRSE() {
	y := []float64{1, 2, 3}
	p := []float64{1, 2, 2}
	fmt.Printf("%.4f\n", metrics.RSE(y, p)) // 1/14
	// Output: 0.0714
}
