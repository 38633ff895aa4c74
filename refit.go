package mgdl

import (
	"fmt"

	"github.com/mgdl/mgdl/metrics"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
	"gonum.org/v1/gonum/mat"
)

// defaultRidge is the relative ridge of least-squares refits.
const defaultRidge = 1e-10

// refit replaces the output layer of net by the least-squares fit of the
// cached training residual R on the grade's last hidden features H:
//
//	min_{W,b} ||R - H·W - 1·bᵀ||² + λ||W||²,  λ = ridge · max(trace(HᵀH)/h, n)
//
// solved in float64 from the normal equations by Cholesky (the ridge grows
// ×1000 if the factorisation fails). Because W = 0, b = 0 is feasible, the
// refit grade never raises the training residual beyond round-off. It
// returns the training RSE the trained output layer gave.
func (t *Trainer[T]) refit(net *nn.MLP[T]) (float64, error) {
	tr := t.train
	out := &net.Layers[len(net.Layers)-1]
	h, k := out.In, out.Out
	p := h + 1
	G := tensor.New[float64](p, p)
	B := tensor.New[float64](p, k)
	rows := min(predictChunk, tr.F.Rows)
	A := tensor.New[float64](rows, p)
	Rc := tensor.New[float64](rows, k)
	var sse float64
	for i0 := 0; i0 < tr.F.Rows; i0 += predictChunk {
		i1 := min(i0+predictChunk, tr.F.Rows)
		m := i1 - i0
		o := net.Forward(tr.F.RowsView(i0, i1))
		H := net.Hidden()
		R := tr.R.RowsView(i0, i1)
		sse += metrics.SSE(R.Raw(), o.Raw())
		a, rc := A.RowsView(0, m), Rc.RowsView(0, m)
		for i := 0; i < m; i++ {
			row := a.Row(i)
			for j, v := range H.Row(i) {
				row[j] = float64(v)
			}
			row[h] = 1
			for j, v := range R.Row(i) {
				rc.Row(i)[j] = float64(v)
			}
		}
		tensor.Mul(true, false, 1, a, a, 1, G)
		tensor.Mul(true, false, 1, a, rc, 1, B)
	}
	before := sse / tr.energy
	var trace float64
	for j := 0; j < h; j++ {
		trace += G.At(j, j)
	}
	ridge := t.cfg.Ridge
	if ridge == 0 {
		ridge = defaultRidge
	}
	// The ridge is relative to the mean feature energy, or to n when the
	// features are all (nearly) zero, e.g. dead ReLUs.
	lambda := ridge * max(trace/float64(max(h, 1)), G.At(h, h))
	var W mat.Dense
	for try := 0; ; try++ {
		sym := mat.NewSymDense(p, nil)
		for i := 0; i < p; i++ {
			for j := i; j < p; j++ {
				sym.SetSym(i, j, G.At(i, j))
			}
			if i < h {
				sym.SetSym(i, i, G.At(i, i)+lambda)
			}
		}
		var chol mat.Cholesky
		if chol.Factorize(sym) {
			if err := chol.SolveTo(&W, mat.NewDense(p, k, B.Data)); err == nil {
				break
			}
		}
		if try == 10 {
			return before, fmt.Errorf("least-squares refit: the normal equations stay singular (ridge %g)", lambda)
		}
		lambda *= 1e3
	}
	for j := 0; j < h; j++ {
		for c := 0; c < k; c++ {
			out.W.Set(j, c, T(W.At(j, c)))
		}
	}
	for c := 0; c < k; c++ {
		out.B[c] = T(W.At(h, c))
	}
	return before, nil
}
