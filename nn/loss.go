package nn

import "github.com/mgdl/mgdl/tensor"

// MSE returns the squared loss Σ(pred-y)²/(2m) over an m-row batch (summed
// over output columns, as in the papers' code) and, when grad is not nil,
// writes its gradient with respect to pred, (pred-y)/m, into grad. The sum
// is accumulated in float64. All three matrices have the same shape.
func MSE[T tensor.Float](pred, y, grad *tensor.Dense[T]) float64 {
	tensor.SameShape("MSE", pred, y)
	p, t := pred.Raw(), y.Raw()
	t = t[:len(p)]
	m := pred.Rows
	if m == 0 {
		return 0
	}
	inv := 1 / T(m)
	var s float64
	if grad != nil {
		tensor.SameShape("MSE grad", pred, grad)
		g := grad.Raw()[:len(p)]
		for i, v := range p {
			d := v - t[i]
			g[i] = d * inv
			s += float64(d) * float64(d)
		}
	} else {
		for i, v := range p {
			d := float64(v - t[i])
			s += d * d
		}
	}
	return s / (2 * float64(m))
}
