package nn

import (
	"math"

	"github.com/mgdl/mgdl/tensor"
)

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

// SoftmaxCrossEntropy takes class probabilities prob (m×k, rows of a softmax,
// as returned by an MLP with Softmax set) and targets y (m×k, one-hot or any
// rows summing to 1). It returns the mean cross-entropy -Σ y·log(prob)/m and,
// when grad is not nil, writes the gradient with respect to the logits,
// (prob - y)/m, into grad. Probabilities are clamped at 1e-300 inside the log.
func SoftmaxCrossEntropy[T tensor.Float](prob, y, grad *tensor.Dense[T]) float64 {
	tensor.SameShape("SoftmaxCrossEntropy", prob, y)
	p, t := prob.Raw(), y.Raw()
	m := prob.Rows
	if m == 0 {
		return 0
	}
	inv := 1 / T(m)
	var s float64
	for i, v := range p {
		if t[i] != 0 {
			s -= float64(t[i]) * math.Log(max(float64(v), 1e-300))
		}
	}
	if grad != nil {
		tensor.SameShape("SoftmaxCrossEntropy grad", prob, grad)
		g := grad.Raw()[:len(p)]
		for i, v := range p {
			g[i] = (v - t[i]) * inv
		}
	}
	return s / float64(m)
}

// SoftmaxRows replaces every row of z by its softmax (max-shifted), as
// Forward does for an MLP with Softmax set.
func SoftmaxRows[T tensor.Float](z *tensor.Dense[T]) {
	cols := z.Cols
	d := z.Raw()
	for r := 0; r < len(d); r += cols {
		row := d[r : r+cols : r+cols]
		mx := row[0]
		for _, v := range row {
			mx = max(mx, v)
		}
		var sum float64
		for j, v := range row {
			e := math.Exp(float64(v - mx))
			row[j] = T(e)
			sum += e
		}
		inv := T(1 / sum)
		for j := range row {
			row[j] *= inv
		}
	}
}
