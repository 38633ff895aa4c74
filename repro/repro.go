// Package repro holds the papers' experiments as named, runnable
// comparisons: for each published comparison of MGDL against SGDL, the
// configurations of its three runs (MGDL, SGDL, and SGDL with early
// stopping) at two budgets (quick, a few minutes on 2 cores, and paper, the
// published epochs, batch and schedule), the published figures, and the
// comparison of a finished set of runs with them (Compare).
//
// Running the configurations is the caller's business (mgdl reproduce
// trains them as mgdl train does, into run folders).
package repro

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/experiment"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
)

// Budget is how long an experiment trains.
type Budget string

// Budgets.
const (
	// Quick trains a few minutes on 2 cores: the same architectures and
	// recipes with fewer epochs (and, for images, a 128 × 128 photograph).
	Quick Budget = "quick"
	// Paper trains the published epochs, batch and schedule.
	Paper Budget = "paper"
)

// ParseBudget maps "quick" and "paper" to a Budget.
func ParseBudget(s string) (Budget, error) {
	switch b := Budget(strings.ToLower(strings.TrimSpace(s))); b {
	case Quick, Paper:
		return b, nil
	}
	return "", fmt.Errorf("budget %q: want quick or paper", s)
}

// Variant is one of an experiment's runs.
type Variant string

// Variants, in the order they run.
const (
	MGDL Variant = "mgdl"
	SGDL Variant = "sgdl"
	// SGDLES is SGDL with early stopping on the validation loss (the
	// patience rule); the state with the best validation loss is kept.
	SGDLES Variant = "sgdl-es"
)

// Variants lists the variants in the order they run.
var Variants = []Variant{MGDL, SGDL, SGDLES}

// Metric is the figure an experiment is judged by.
type Metric string

// Metrics.
const (
	RSE  Metric = "rse"  // relative squared error: lower is better
	PSNR Metric = "psnr" // peak signal-to-noise ratio in dB: higher is better
)

// Better reports whether figure a is better than b under m.
func (m Metric) Better(a, b float64) bool {
	if m == PSNR {
		return a > b
	}
	return a < b
}

// Published are an experiment's published figures (NaN or nil where the
// paper gives none).
type Published struct {
	// MGDLTest and MGDLTrain hold the figure after each grade.
	MGDLTest, MGDLTrain []float64
	// SGDLTest and SGDLTrain are the SGDL network's figures.
	SGDLTest, SGDLTrain float64
	// Seconds are the published training times (0: not given).
	MGDLSeconds, SGDLSeconds float64
	// Source says where the figures come from.
	Source string
}

// Experiment is one published comparison.
type Experiment struct {
	// Name is how mgdl reproduce names it.
	Name string
	// Title says what it is, with the paper and section.
	Title string
	// Metric is the figure the comparison is judged by.
	Metric Metric
	// Published are the paper's figures.
	Published Published
	// Differs says plainly how this setup differs from the paper's (data,
	// recipe), when it does.
	Differs string
	// Image names the built-in photograph (package examples) the
	// experiment trains on at each budget; empty for other data.
	Image map[Budget]string
	// config builds the configuration of a variant at a budget; data is
	// the data source (for images: the photograph's path).
	config func(b Budget, v Variant, src data.Source) experiment.Config
	source func(b Budget) data.Source
}

// Source returns the data source of the experiment at budget b. For an
// image experiment, File holds the photograph's built-in name (Image[b]):
// the caller writes the photograph somewhere and sets File to its path.
func (e *Experiment) Source(b Budget) data.Source { return e.source(b) }

// Config returns the configuration of variant v at budget b on the data
// src (Source(b), with an image's File set to its path).
func (e *Experiment) Config(b Budget, v Variant, src data.Source) experiment.Config {
	return e.config(b, v, src)
}

// All lists the experiments in the order of the papers.
func All() []*Experiment { return slices.Clone(registry) }

// Lookup returns the experiment named name.
func Lookup(name string) (*Experiment, error) {
	for _, e := range registry {
		if e.Name == name {
			return e, nil
		}
	}
	names := make([]string, len(registry))
	for i, e := range registry {
		names[i] = e.Name
	}
	return nil, fmt.Errorf("no experiment %q (want one of %s)", name, strings.Join(names, ", "))
}

var nan = math.NaN()

// spectralish is the configuration builder of the 1-D spectral and 2-D
// manifold experiments: grades [in,256,256,1],[256,256,256,1]…, minibatches
// of batch, MGDL at the schedule lr, SGDL at sgdlLR; the quick budget trains
// both methods at quickLR.
func spectralish(in, grades, quick, paper, batch int, lr, sgdlLR, quickLR optim.Schedule) func(b Budget, v Variant, src data.Source) experiment.Config {
	return func(b Budget, v Variant, src data.Source) experiment.Config {
		epochs := paper
		if b == Quick {
			epochs, lr, sgdlLR = quick, quickLR, quickLR
		}
		w := [][]int{{in, 256, 256, 1}}
		for range grades - 1 {
			w = append(w, []int{256, 256, 256, 1})
		}
		g := experiment.Uniform(w)
		for l := range g {
			g[l].Epochs, g[l].BatchSize, g[l].LR = epochs, batch, lr
		}
		return build(v, src, g, sgdlLR, epochs)
	}
}

// build makes the configuration of variant v from the MGDL grades g: MGDL
// trains g; SGDL trains their hidden layers as one network for sgdlEpochs
// epochs at the schedule sgdlLR (with early stopping for SGDLES).
func build(v Variant, src data.Source, g []mgdl.GradeSpec, sgdlLR optim.Schedule, sgdlEpochs int) experiment.Config {
	c := experiment.Default()
	c.Data = src
	c.Seed = 1
	c.Task = mgdl.Regression
	c.Grades = g
	if v == MGDL {
		return c
	}
	c.Method = experiment.SGDL
	c.SGDLEpochs = sgdlEpochs
	for l := range c.Grades {
		c.Grades[l].LR = sgdlLR
		c.Grades[l].EarlyStop = mgdl.EarlyStop{}
	}
	if v == SGDLES {
		c.Grades[0].EarlyStop = mgdl.EarlyStop{Rule: mgdl.StopPatience, Every: 10, Patience: max(100, sgdlEpochs/5)}
	}
	return c
}

// image is the configuration builder of image regression (Fang & Xu's
// image code): full-batch Adam, 4 grades of layers hidden layers of width
// h, constant learning rates lrs; SGDL 4·layers hidden layers at sgdlLR.
func image(h, layers, out int, lrs [4]float64, sgdlLR float64, quick, paper int) func(b Budget, v Variant, src data.Source) experiment.Config {
	return func(b Budget, v Variant, src data.Source) experiment.Config {
		epochs := paper
		if b == Quick {
			epochs = quick
		}
		var w [][]int
		for l := range 4 {
			in := h
			if l == 0 {
				in = 2
			}
			ws := []int{in}
			for range layers {
				ws = append(ws, h)
			}
			w = append(w, append(ws, out))
		}
		g := experiment.Uniform(w)
		for l, lr := range lrs {
			g[l].Epochs, g[l].BatchSize, g[l].LR = epochs, 0, optim.Constant(lr)
		}
		return build(v, src, g, optim.Constant(sgdlLR), epochs)
	}
}

var registry = []*Experiment{
	spectral(1, Published{MGDLTest: nil, SGDLTest: nan, SGDLTrain: nan}),
	spectral(2, Published{
		MGDLTrain: []float64{0.671, 0.0712, 2.01e-4, 1.47e-6}, MGDLTest: []float64{nan, nan, nan, 6.54e-6},
		SGDLTrain: 5.78e-3, SGDLTest: nan, MGDLSeconds: 27629, SGDLSeconds: 32054,
		Source: "Fang & Xu (NeurIPS 2024), Table 1",
	}),
	spectral(3, Published{SGDLTest: nan, SGDLTrain: nan}),
	spectral(4, Published{SGDLTest: nan, SGDLTrain: nan}),
	manifold(0, Published{MGDLTest: []float64{nan, nan, nan, 2.11e-4}, SGDLTest: 0.543, SGDLTrain: nan,
		Source: "Fang & Xu (NeurIPS 2024) §3.2, setting 1"}),
	manifold(4, Published{SGDLTest: nan, SGDLTrain: nan}),
	{
		Name:   "image-gray",
		Title:  "image regression, grayscale photograph (Fang & Xu §3.3): pixel value from (row, column) in [0,1)², trained on img[::2, ::2], tested on the whole image",
		Metric: PSNR,
		Published: Published{SGDLTest: nan, SGDLTrain: nan,
			Source: "no grayscale figures are published; the recipe (grades [2,128,128,1], [128,128,128,1] ×3, constant lr 1e-3, 10,000 full-batch epochs) is that of the authors' grayscale image-regression code (Ronglong-Fang/Why-MGDL-outperforms-SGDL); SGDL: 8 hidden layers of 128 at 1e-3"},
		Differs: "the photograph is scikit-image's camera (CC0), not the papers'; quick budget: its 128 × 128 reduction",
		Image:   map[Budget]string{Quick: "camera128.png", Paper: "camera.png"},
		config:  image(128, 2, 1, [4]float64{1e-3, 1e-3, 1e-3, 1e-3}, 1e-3, 300, 10000),
		source:  imageSource,
	},
	{
		Name:   "image-colour",
		Title:  "image regression, colour photograph (Fang & Xu §3.3 and the 2025 follow-up): RGB from (row, column) in [0,1)², trained on img[::2, ::2], tested on the whole image",
		Metric: PSNR,
		Published: Published{MGDLTest: []float64{20.411, nan, nan, 24.184}, MGDLTrain: []float64{20.455, nan, nan, 28.595}, SGDLTest: 21.833, SGDLTrain: 21.939, MGDLSeconds: 0, SGDLSeconds: 76.6,
			Source: "the cat photograph of the authors' colour-image code (Ronglong-Fang/AddressingSpectralBiasviaMGDL, Regression_on_colored_Images/*/Cat, analysis_results.ipynb), whose recipe this is; the other two photographs: sea MGDL 24.33 dB vs SGDL 20.39 dB, building 21.97 dB vs 19.09 dB (the ≈19.1 dB SGDL figure is the building's)"},
		Differs: "the photograph is scikit-image's astronaut (public domain), not the papers'; quick budget: its 128 × 128 reduction",
		Image:   map[Budget]string{Quick: "astronaut128.png", Paper: "astronaut.png"},
		config:  image(256, 3, 3, [4]float64{1e-3, 1e-3, 5e-4, 5e-4}, 5e-3, 200, 10000),
		source:  imageSource,
	},
	{
		Name:   "mnist-noise",
		Title:  "MNIST regression with label noise ỹ = y + y·β sin(2πκ‖x‖₂), β = 1, κ = 5 (Fang & Xu §3.4): test RSE against the clean one-hot labels",
		Metric: RSE,
		Published: Published{MGDLTest: []float64{0.12085, 0.07978, 0.07849}, MGDLTrain: []float64{0.6768, 0.6476, 0.6433}, SGDLTest: 0.1106, SGDLTrain: 0.91297,
			Source: "Fang & Xu (NeurIPS 2024) §3.4; per grade from the authors' notebook Regression_on_MNIST_data/MGDL/Guidance_MGDL_On_MNIST.ipynb (train RSE against the noisy labels)"},
		Differs: "validation is 25 % of the training images drawn by mgdl's split (the authors use scikit-learn's train_test_split with random_state 0); the authors' analysis may report the state of best validation loss, mgdl reports the last",
		config:  mnistConfig,
		source: func(Budget) data.Source {
			s := data.DefaultSource()
			s.File, s.Val, s.Test = data.MNISTName, 0.25, 0
			s.LabelNoise = &data.LabelNoise{Beta: 1, Kappa: 5}
			return s
		},
	},
	xu(1, Published{MGDLTest: []float64{0.29231, 1.5533e-5, 1.1191e-5}, MGDLTrain: []float64{0.29120, 1.9102e-5, 1.0733e-5}, SGDLTest: nan, SGDLTrain: nan, MGDLSeconds: 24.05,
		Source: "Xu (2023), the authors' notebook (Yuesheng2024Xu/MGDL, SyntheticDataRegression/MGDL/User_Guide.ipynb)"}),
	xu(2, Published{SGDLTest: nan, SGDLTrain: nan}),
	xu(3, Published{SGDLTest: nan, SGDLTrain: nan}),
}

func imageSource(b Budget) data.Source {
	s := data.DefaultSource()
	s.Val, s.Test = 0, 0
	return s
}

func mnistConfig(b Budget, v Variant, src data.Source) experiment.Config {
	// Full batch; the learning rates of the authors' published run (its
	// file name): MGDL 1e-4 to 1e-5, SGDL 1e-3 to 1e-4. In the quick
	// budget's 200 epochs MGDL at 1e-4 barely moves (100 epochs: test RSE
	// 0.73, each grade adding to the training error), so it decays from
	// 1e-3 to 1e-4 there, as the authors' main_run.py has it.
	epochs, lr := 2000, optim.ExpDecay(1e-4, 1e-5)
	if b == Quick {
		epochs, lr = 200, optim.ExpDecay(1e-3, 1e-4)
	}
	g := experiment.Uniform([][]int{{784, 128, 128, 10}, {128, 128, 128, 10}, {128, 128, 128, 10}})
	for l := range g {
		g[l].Epochs, g[l].BatchSize, g[l].LR = epochs, 0, lr
	}
	if v == MGDL {
		return build(v, src, g, optim.Schedule{}, 0)
	}
	// The authors' SGDL network is [784, 128×6, 10]: the MGDL grades'
	// hidden layers in one network.
	return build(v, src, g, optim.ExpDecay(1e-3, 1e-4), epochs)
}

func spectral(k int, p Published) *Experiment {
	grades := 4
	if k == 4 {
		grades = 5
	}
	return &Experiment{
		Name:      fmt.Sprintf("spectral%d", k),
		Title:     fmt.Sprintf("1-D spectral-bias data, setting %d (Fang & Xu, NeurIPS 2024, §3.1)", k),
		Metric:    RSE,
		Published: p,
		// Table 1 of the paper: batch 256, MGDL at a constant 1e-4, SGDL
		// decaying from 5e-4 to 1e-4. In 300 epochs a constant 1e-4 leaves
		// setting 4 where it starts (test RSE 1.000 for both methods), so
		// the quick budget decays from 1e-3 to 1e-4, the demo's schedule.
		config: spectralish(1, grades, 300, 30000, 256, optim.Constant(1e-4), optim.ExpDecay(5e-4, 1e-4), optim.ExpDecay(1e-3, 1e-4)),
		source: func(Budget) data.Source {
			s := data.DefaultSource()
			s.Example = fmt.Sprintf("spectral%d", k)
			return s
		},
	}
}

func manifold(q int, p Published) *Experiment {
	return &Experiment{
		Name:      fmt.Sprintf("manifold-q%d", q),
		Title:     fmt.Sprintf("manifold data, q = %d (Fang & Xu, NeurIPS 2024, §3.2)", q),
		Metric:    RSE,
		Published: p,
		// The authors' manifold code: batch 512, both methods decaying from
		// 1e-3 to 1e-4.
		config: spectralish(2, 4, 150, 30000, 512, optim.ExpDecay(1e-3, 1e-4), optim.ExpDecay(1e-3, 1e-4), optim.ExpDecay(1e-3, 1e-4)),
		source: func(Budget) data.Source {
			s := data.DefaultSource()
			s.Example = fmt.Sprintf("manifold-q%d", q)
			return s
		},
	}
}

func xu(k int, p Published) *Experiment {
	return &Experiment{
		Name:      fmt.Sprintf("xu%d", k),
		Title:     fmt.Sprintf("Xu (2023) example %d", k),
		Metric:    RSE,
		Published: p,
		Differs:   "no SGDL figures are published (the authors' SGDL notebook stops with an error); SGDL is their SGDL code's network, the grades' hidden layers [1,256,256,128,128,64,64,32,32,1] in one ReLU network, batch 32, Adam from 1e-3 to 1e-4, for 40 epochs (the longest grade's)",
		config: func(b Budget, v Variant, src data.Source) experiment.Config {
			g := experiment.Paper(src.Example)
			c := build(v, src, g, optim.ExpDecay(1e-3, 1e-4), 40)
			if v != MGDL {
				c.Grades[0].Activation = nn.ReLU
			}
			return c
		},
		source: func(Budget) data.Source {
			s := data.DefaultSource()
			s.Example = fmt.Sprintf("xu%d", k)
			return s
		},
	}
}

// CapEpochs returns c with every grade's epochs, and SGDL's, at most n
// (n = 0: c unchanged): the budget's setup with a shorter training.
func CapEpochs(c experiment.Config, n int) experiment.Config {
	if n <= 0 {
		return c
	}
	c.Grades = slices.Clone(c.Grades)
	for l := range c.Grades {
		c.Grades[l].Epochs = min(c.Grades[l].Epochs, n)
	}
	if c.SGDLEpochs > 0 {
		c.SGDLEpochs = min(c.SGDLEpochs, n)
	}
	return c
}
