package model

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
)

// randomModel returns a dense model with the given activation and some
// zero and unit weights, to exercise the Program's shortcuts.
func randomModel(act nn.Activation, widths [][]int, rng *rand.Rand) *Model[float64] {
	m := &Model[float64]{}
	for _, w := range widths {
		g := nn.NewMLP[float64](w, act)
		g.Init(nn.Xavier, rng)
		for i := range g.Params() {
			switch rng.IntN(4) {
			case 0:
				g.Params()[i] = 0
			case 1:
				g.Params()[i] = 1
			}
		}
		m.Grades = append(m.Grades, g)
	}
	return m
}

// refOutputs is the slow, obvious reference for GradeOutputs: every grade
// run row by row in float64 with scalar loops, features chained by hand.
func refOutputs[T tensor.Float](m *Model[T], x *tensor.Dense[T]) [][]float64 {
	k := m.OutDim()
	outs := make([][]float64, len(m.Grades))
	for l := range outs {
		outs[l] = make([]float64, x.Rows*k)
	}
	for i := range x.Rows {
		feat := make([]float64, x.Cols)
		for j, v := range x.Row(i) {
			feat[j] = float64(v)
		}
		for l, g := range m.Grades {
			h := feat
			var hidden []float64
			for li, L := range g.Layers {
				z := make([]float64, L.Out)
				for c := range L.Out {
					s := float64(L.B[c])
					for r := range L.In {
						s += h[r] * float64(L.W.At(r, c))
					}
					if li < len(g.Layers)-1 {
						s = g.Act.Scalar(s)
					}
					z[c] = s
				}
				if li == len(g.Layers)-2 {
					hidden = z
				}
				h = z
			}
			if g.Softmax {
				mx := math.Inf(-1)
				for _, v := range h {
					mx = max(mx, v)
				}
				var sum float64
				for c, v := range h {
					h[c] = math.Exp(v - mx)
					sum += h[c]
				}
				for c := range h {
					h[c] /= sum
				}
			}
			copy(outs[l][i*k:], h)
			if hidden != nil {
				feat = hidden
			}
		}
	}
	return outs
}

// TestWalkMatchesReference checks both evaluators behind Walk — the
// compiled Program (narrow models) and the grades' GEMM forward (wide
// ones, over several row blocks) — against the scalar reference, for every
// activation and for row counts around the chunk sizes.
func TestWalkMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	cases := []struct {
		name   string
		widths [][]int
		narrow bool
	}{
		{"narrow", [][]int{{2, 6, 5, 2}, {5, 7, 2}, {7, 2}, {7, 3, 3, 4, 2}}, true},
		{"wide", [][]int{{2, 80, 2}, {80, 70, 70, 2}, {70, 2}}, false},
	}
	for _, c := range cases {
		for _, act := range []nn.Activation{nn.ReLU, nn.Tanh, nn.Sin, nn.Identity} {
			m := randomModel(act, c.widths, rng)
			m.Grades[0].Softmax = act == nn.Tanh // a classifier's first grade
			if m.Narrow() != c.narrow {
				t.Fatalf("%s: Narrow() = %v", c.name, m.Narrow())
			}
			for _, n := range []int{1, 255, 256, 700, 2049} {
				x := tensor.New[float64](n, 2)
				for i := range x.Data {
					x.Data[i] = 2*rng.Float64() - 0.5
				}
				want := refOutputs(m, x)
				seen := make([][]bool, len(m.Grades))
				for l := range seen {
					seen[l] = make([]bool, n)
				}
				m.Walk(x, func(l, i0 int, g *tensor.Dense[float64]) {
					for r := range g.Rows {
						if l > 0 && !seen[l-1][i0+r] {
							t.Fatalf("%s %v n=%d: grade %d row %d came before grade %d", c.name, act, n, l+1, i0+r, l)
						}
						seen[l][i0+r] = true
					}
					for q, v := range g.Raw() {
						w := want[l][i0*2+q]
						if math.Abs(v-w) > 1e-12*(1+math.Abs(w)) {
							t.Fatalf("%s %v n=%d: grade %d row %d: %v, want %v", c.name, act, n, l+1, i0+q/2, v, w)
						}
					}
				})
				for l := range seen {
					for r, ok := range seen[l] {
						if !ok {
							t.Fatalf("%s %v n=%d: grade %d row %d never visited", c.name, act, n, l+1, r)
						}
					}
				}
				staged, pred := m.StagedPredict(x), m.Predict(x)
				for q := range pred.Data {
					var s float64
					for l := range want {
						s += want[l][q]
						if d := math.Abs(staged[l].Data[q] - s); d > 1e-12*(1+math.Abs(s)) {
							t.Fatalf("%s %v n=%d: staged grade %d differs at %d: %v vs %v", c.name, act, n, l+1, q, staged[l].Data[q], s)
						}
					}
					if d := math.Abs(pred.Data[q] - s); d > 1e-12*(1+math.Abs(s)) {
						t.Fatalf("%s %v n=%d: Predict differs at %d: %v vs %v", c.name, act, n, q, pred.Data[q], s)
					}
				}
			}
		}
	}
}

// TestWalkBlocks runs a wide model over more rows than one block of the
// feature budget holds, so that Walk's block loop runs more than once.
func TestWalkBlocks(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	m := randomModel(nn.ReLU, [][]int{{1, 1100, 1}, {1100, 80, 1}}, rng)
	n := 2*walkBudget/1100 + 77
	x := tensor.New[float64](n, 1)
	for i := range x.Data {
		x.Data[i] = rng.Float64()
	}
	got := m.Predict(x)
	sub := []int{0, 1, walkBudget/1100 - 1, walkBudget / 1100, n - 1}
	xs := tensor.New[float64](len(sub), 1)
	for i, r := range sub {
		xs.Data[i] = x.Data[r]
	}
	want := refOutputs(m, xs)
	for i, r := range sub {
		w := want[0][i] + want[1][i]
		if d := math.Abs(got.Data[r] - w); d > 1e-12*(1+math.Abs(w)) {
			t.Fatalf("row %d: %v, want %v", r, got.Data[r], w)
		}
	}
}

// TestProgramFloat32 checks that float32 models run in float32 through the
// Program.
func TestProgramFloat32(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m32 := &Model[float32]{}
	for _, g := range randomModel(nn.ReLU, [][]int{{2, 6, 5, 2}, {5, 7, 2}}, rng).Grades {
		c := nn.NewMLP[float32](g.Widths, g.Act)
		for i, v := range g.Params() {
			c.Params()[i] = float32(v)
		}
		m32.Grades = append(m32.Grades, c)
	}
	x := tensor.New[float32](300, 2)
	for i := range x.Data {
		x.Data[i] = float32(rng.Float64())
	}
	want := refOutputs(m32, x)
	got := Compile(m32).Predict(x)
	for k := range got.Data {
		w := want[0][k] + want[1][k]
		if math.Abs(float64(got.Data[k])-w) > 1e-5*(1+math.Abs(w)) {
			t.Fatalf("float32: %v vs %v", got.Data[k], w)
		}
	}
}

func TestCheckChain(t *testing.T) {
	m := &Model[float64]{Grades: []*nn.MLP[float64]{nn.NewMLP[float64]([]int{1, 4, 1}, nn.ReLU), nn.NewMLP[float64]([]int{5, 3, 1}, nn.ReLU)}}
	if err := m.CheckChain(); err == nil {
		t.Fatal("a grade reading 5 features after one giving 4 was accepted")
	}
	m.Grades[1] = nn.NewMLP[float64]([]int{4, 3, 2}, nn.ReLU)
	if err := m.CheckChain(); err == nil {
		t.Fatal("grades with 1 and 2 outputs were accepted")
	}
	m.Grades[1] = nn.NewMLP[float64]([]int{4, 3, 1}, nn.ReLU)
	if err := m.CheckChain(); err != nil {
		t.Fatal(err)
	}
	if got, want := m.NumParams(), (1*4+4+4*1+1)+(4*3+3+3*1+1); got != want {
		t.Fatalf("NumParams %d, want %d", got, want)
	}
}

func ExampleFormatWidths() {
	fmt.Println(FormatWidths([]int{1, 256, 256, 256, 256, 1}), FormatWidths([]int{256, 128, 128, 64, 1}))
	// Output: [1,256×4,1] [256,128×2,64,1]
}
