package experiment

import (
	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
)

// Paper returns the MGDL grades the papers use for a synthetic example,
// with their training recipe where the authors' code gives one (Xu's
// examples, digits), else DefaultGrade's settings. It returns nil for an
// unknown example.
func Paper(example string) []mgdl.GradeSpec {
	mk := paper[example]
	if mk == nil {
		return nil
	}
	return mk()
}

// deep is the spectral papers' architecture: a first grade [in,256,256,1]
// and n-1 grades [256,256,256,1].
func deep(in, n int) []mgdl.GradeSpec {
	w := [][]int{{in, 256, 256, 1}}
	for range n - 1 {
		w = append(w, []int{256, 256, 256, 1})
	}
	return Uniform(w)
}

// xu is the recipe of Xu (2023)'s code for examples 1-3: sin, relu, relu;
// 20, 20, 40 epochs; batch 32; exponential decay from 1e-1, 1e-2, 1e-2 to
// 1e-4.
func xu() []mgdl.GradeSpec {
	g := Uniform([][]int{{1, 256, 256, 1}, {256, 128, 128, 64, 1}, {64, 64, 32, 32, 1}})
	acts := []nn.Activation{nn.Sin, nn.ReLU, nn.ReLU}
	epochs := []int{20, 20, 40}
	lrs := []float64{1e-1, 1e-2, 1e-2}
	for l := range g {
		g[l].Activation, g[l].Epochs, g[l].BatchSize = acts[l], epochs[l], 32
		g[l].LR = optim.ExpDecay(lrs[l], 1e-4)
	}
	return g
}

var paper = map[string]func() []mgdl.GradeSpec{
	"spectral1":   func() []mgdl.GradeSpec { return deep(1, 4) },
	"spectral2":   func() []mgdl.GradeSpec { return deep(1, 4) },
	"spectral3":   func() []mgdl.GradeSpec { return deep(1, 4) },
	"spectral4":   func() []mgdl.GradeSpec { return deep(1, 5) },
	"manifold-q0": func() []mgdl.GradeSpec { return deep(2, 4) },
	"manifold-q4": func() []mgdl.GradeSpec { return deep(2, 4) },
	"xu1":         xu,
	"xu2":         xu,
	"xu3":         xu,
	"digits": func() []mgdl.GradeSpec {
		g := Uniform([][]int{{64, 128, 10}, {128, 128, 10}, {128, 128, 10}})
		for l := range g {
			g[l].BatchSize, g[l].LR = 64, optim.ExpDecay(1e-3, 1e-4)
		}
		return g
	},
}

// DefaultWidths is the architecture a data file gets when no grades are
// given: three grades of two hidden layers of 128; for images the papers'
// four grades, two hidden layers of 128 for gray images and three of 256
// for colour ones.
func DefaultWidths(l *data.Loaded) [][]int {
	in, out := l.Splits.Train.X.Cols, l.Splits.Train.Y.Cols
	h, layers, grades := 128, 2, 3
	if l.Image != nil {
		grades = 4
		if l.Image.Channels == 3 {
			h, layers = 256, 3
		}
	}
	var w [][]int
	for g := range grades {
		first := h
		if g == 0 {
			first = in
		}
		ws := []int{first}
		for range layers {
			ws = append(ws, h)
		}
		w = append(w, append(ws, out))
	}
	return w
}
