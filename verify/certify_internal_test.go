package verify

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mgdl/mgdl/formula"
	"github.com/mgdl/mgdl/interval"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
)

// randomModel returns a model of grades of the given activation with
// random weights (some exactly zero) reading d inputs.
func randomModel(rng *rand.Rand, d, grades int, act nn.Activation) *model.Model[float64] {
	m := &model.Model[float64]{}
	in := d
	for range grades {
		w := 2 + rng.IntN(14) // wider than exactTerms: both sum paths
		g := nn.NewMLP[float64]([]int{in, w, w, 1}, act)
		for _, L := range g.Layers {
			for i := range L.W.Data {
				if rng.IntN(4) > 0 {
					L.W.Data[i] = rng.NormFloat64()
				}
			}
			for i := range L.B {
				L.B[i] = rng.NormFloat64() / 2
			}
		}
		m.Grades = append(m.Grades, g)
		in = w
	}
	return m
}

// TestEnclosuresHoldAtPoints: on random boxes, the enclosures the proof
// uses (every grade's output in natural and affine mode, and the residual
// after each grade from the summed first-order forms) contain the values
// the model computes at random points of the box.
func TestEnclosuresHoldAtPoints(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	fs := []*formula.Formula{
		formula.MustParse("sin(3*x) - abs(x - 0.3)"),
		formula.MustParse("sin(3*x) + 0.5*x*y - abs(y - 0.3)"),
		formula.MustParse("sin(3*x) + 0.5*x*y - abs(y - z)"),
	}
	for trial := range 120 {
		d := 1 + trial%3
		f := fs[d-1]
		act := []nn.Activation{nn.ReLU, nn.ReLU, nn.Tanh, nn.Sin}[trial%4]
		m := randomModel(rng, d, 3, act)
		c := &certRun{f: f, d: d, net: compileNet(m)}
		ev := newEvaluator(c.net)
		nat := newEvaluator(c.net)
		for range 8 {
			x := make([]interval.I, d)
			for i := range x {
				lo := rng.Float64()*2 - 1
				x[i] = interval.I{Lo: lo, Hi: lo + math.Pow(2, -float64(rng.IntN(12)))}
			}
			mv := c.newMV(x)
			mv.setBox(ev, x)
			nat.setBox(x)
			var acc resAcc
			var res []interval.I
			for l := range m.Grades {
				mv.add(ev, &acc, int32(l))
				res = append(res, mv.residual(f.Range(x), &acc))
			}
			pts := tensor.New[float64](20, d)
			for i := range pts.Rows {
				for j := range d {
					pts.Row(i)[j] = x[j].Lo + rng.Float64()*(x[j].Hi-x[j].Lo)
				}
			}
			outs := m.GradeOutputs(pts)
			for i := range pts.Rows {
				p := pts.Row(i)
				e, mag := f.Eval(p), math.Abs(f.Eval(p))
				for l := range m.Grades {
					g := outs[l].Data[i]
					where := fmt.Sprintf("trial %d (%v, d=%d) box %v grade %d at %v", trial, act, d, x, l+1, p)
					if G := ev.gradeI(l); !G.Contains(g) {
						t.Fatalf("%s: affine enclosure %v misses %v", where, G, g)
					}
					if G := nat.gradeI(l); !G.Contains(g) {
						t.Fatalf("%s: natural enclosure %v misses %v", where, G, g)
					}
					e -= g
					mag += math.Abs(g)
					slack := 8 * 0x1p-53 * mag
					if r := res[l].Widen(slack); !r.Contains(e) {
						t.Fatalf("%s: residual enclosure %v misses %v", where, res[l], e)
					}
				}
			}
		}
	}
}
