package tensor_test

import (
	"fmt"

	"github.com/mgdl/mgdl/tensor"
)

// C = Aᵀ·B without forming Aᵀ: the layout of a weight gradient Xᵀ·dY.
func ExampleMul() {
	a := tensor.FromSlice(2, 3, []float64{1, 2, 3, 4, 5, 6}) // 2×3, used as its 3×2 transpose
	b := tensor.FromSlice(2, 1, []float64{1, -1})
	c := tensor.New[float64](3, 1)
	tensor.Mul(true, false, 1, a, b, 0, c)
	fmt.Println(c.Data)
	// Output: [-3 -3 -3]
}
