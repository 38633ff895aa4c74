package repro

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/examples"
	"github.com/mgdl/mgdl/experiment"
	"github.com/mgdl/mgdl/rundir"
)

// source returns e's data source at b, an image written to dir.
func source(t *testing.T, e *Experiment, b Budget, dir string) (data.Source, bool) {
	t.Helper()
	src := e.Source(b)
	if name := e.Image[b]; name != "" {
		img, err := examples.Image(name)
		if err != nil {
			t.Fatal(err)
		}
		src.File = filepath.Join(dir, name)
		if err := os.WriteFile(src.File, img, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if src.File == data.MNISTName {
		if _, err := data.MNISTDir(); err != nil {
			return src, false
		}
	}
	return src, true
}

// Every experiment's three runs at both budgets are configurations the
// trainer accepts on their data, and SGDL is MGDL's hidden layers in one
// network.
func TestEveryExperimentConfigures(t *testing.T) {
	dir := t.TempDir()
	for _, e := range All() {
		for _, b := range []Budget{Quick, Paper} {
			if testing.Short() && e.Name == "mnist-noise" {
				continue
			}
			src, ok := source(t, e, b, dir)
			if !ok {
				t.Logf("%s: MNIST is not in the module cache; skipped", e.Name)
				continue
			}
			src, err := src.Resolve()
			if err != nil {
				t.Fatalf("%s %s: %v", e.Name, b, err)
			}
			loaded, err := src.Load()
			if err != nil {
				t.Fatalf("%s %s: %v", e.Name, b, err)
			}
			splits, _, err := data.Standardized[float64](loaded)
			if err != nil {
				t.Fatal(err)
			}
			var mg experiment.Config
			for _, v := range Variants {
				c := e.Config(b, v, src)
				if err := c.Resolve(loaded); err != nil {
					t.Fatalf("%s %s %s: %v", e.Name, b, v, err)
				}
				if _, err := mgdl.NewTrainer(c.Trainer(), splits); err != nil {
					t.Fatalf("%s %s %s: %v", e.Name, b, v, err)
				}
				if v == MGDL {
					mg = c
					continue
				}
				sg := c.Trainer().Grades
				var hidden []int
				for _, g := range mg.Grades {
					hidden = append(hidden, g.Hidden()...)
				}
				if len(sg) != 1 || !slices.Equal(sg[0].Hidden(), hidden) {
					t.Errorf("%s %s %s: SGDL hidden layers %v, want MGDL's %v", e.Name, b, v, sg[0].Hidden(), hidden)
				}
				if got, want := sg[0].Epochs, slices.MaxFunc(mg.Grades, func(a, b mgdl.GradeSpec) int { return a.Epochs - b.Epochs }).Epochs; got != want {
					t.Errorf("%s %s %s: SGDL trains %d epochs, want %d (the longest grade's)", e.Name, b, v, got, want)
				}
				if es := sg[0].EarlyStop.Rule; (v == SGDLES) != (es == mgdl.StopPatience) {
					t.Errorf("%s %s %s: early stopping %q", e.Name, b, v, es)
				}
			}
		}
	}
}

// The paper budgets train the published epochs.
func TestPaperBudgets(t *testing.T) {
	for _, tc := range []struct {
		name   string
		epochs []int
		batch  int
	}{
		{"spectral2", []int{30000, 30000, 30000, 30000}, 256},
		{"spectral4", []int{30000, 30000, 30000, 30000, 30000}, 256},
		{"manifold-q0", []int{30000, 30000, 30000, 30000}, 512},
		{"image-colour", []int{10000, 10000, 10000, 10000}, 0},
		{"mnist-noise", []int{2000, 2000, 2000}, 0},
		{"xu1", []int{20, 20, 40}, 32},
	} {
		e, err := Lookup(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		c := e.Config(Paper, MGDL, e.Source(Paper))
		var got []int
		for _, g := range c.Grades {
			got = append(got, g.Epochs)
			if g.BatchSize != tc.batch {
				t.Errorf("%s: batch %d, want %d", tc.name, g.BatchSize, tc.batch)
			}
		}
		if !slices.Equal(got, tc.epochs) {
			t.Errorf("%s: epochs %v, want %v", tc.name, got, tc.epochs)
		}
	}
	if _, err := Lookup("spectral9"); err == nil {
		t.Error("Lookup(spectral9) succeeded")
	}
	if _, err := ParseBudget("long"); err == nil {
		t.Error("ParseBudget(long) succeeded")
	}
}

func TestCapEpochs(t *testing.T) {
	e, _ := Lookup("xu1")
	c := CapEpochs(e.Config(Quick, SGDL, e.Source(Quick)), 7)
	if c.SGDLEpochs != 7 || c.Grades[0].Epochs != 7 {
		t.Errorf("capped SGDL: %d epochs, grade 1 %d", c.SGDLEpochs, c.Grades[0].Epochs)
	}
	m := e.Config(Quick, MGDL, e.Source(Quick))
	c = CapEpochs(m, 30)
	if got := []int{c.Grades[0].Epochs, c.Grades[1].Epochs, c.Grades[2].Epochs}; !slices.Equal(got, []int{20, 20, 30}) {
		t.Errorf("capped at 30: %v", got)
	}
	if m.Grades[2].Epochs != 40 {
		t.Error("CapEpochs changed its argument")
	}
}

func summary(method experiment.Method, grades int, test ...float64) *rundir.Summary {
	s := &rundir.Summary{Config: experiment.Config{Method: method}}
	for range grades {
		s.Config.Grades = append(s.Config.Grades, mgdl.GradeSpec{Widths: []int{1, 4, 1}, Epochs: 10})
	}
	for i, v := range test {
		v := v
		s.Grades = append(s.Grades, mgdl.GradeResult{Grade: i + 1, Epochs: 10, TrainRSE: v / 2, TestRSE: &v})
	}
	return s
}

func TestCompare(t *testing.T) {
	spec, _ := Lookup("spectral2")
	img, _ := Lookup("image-colour")
	sc := Scale{TrainMeanSquare: 0.25, TestMeanSquare: 0.25}
	for _, tc := range []struct {
		name       string
		e          *Experiment
		mgdl, sgdl []float64
		es         []float64
		want       Direction
	}{
		{"MGDL lower RSE", spec, []float64{0.5, 0.1, 0.01, 0.001}, []float64{0.5}, []float64{0.4}, Reproduced},
		{"SGDL-ES lower", spec, []float64{0.5, 0.1, 0.01, 0.001}, []float64{0.5}, []float64{0.0005}, NotReproduced},
		{"MGDL unfinished", spec, []float64{0.5, 0.1}, []float64{0.5}, []float64{0.4}, Incomplete},
		{"within 1 %", spec, []float64{1, 1, 1, 0.999}, []float64{0.9995}, []float64{1}, Tie},
		{"PSNR within 0.1 dB", img, []float64{0.5, 0.1, 0.01, 0.0100}, []float64{0.0101}, []float64{0.4}, Tie},
		{"SGDL missing", spec, []float64{0.5, 0.1, 0.01, 0.001}, nil, []float64{0.4}, Incomplete},
		// PSNR: a lower RSE is a higher PSNR, so the same verdicts.
		{"PSNR reproduced", img, []float64{0.5, 0.1, 0.01, 0.001}, []float64{0.5}, []float64{0.4}, Reproduced},
		{"PSNR not", img, []float64{0.5, 0.1, 0.01, 0.001}, []float64{0.0001}, []float64{0.4}, NotReproduced},
	} {
		runs := map[Variant]Figures{MGDL: Measure(summary(experiment.MGDL, 4, tc.mgdl...), tc.e.Metric, sc)}
		if tc.sgdl != nil {
			runs[SGDL] = Measure(summary(experiment.SGDL, 1, tc.sgdl...), tc.e.Metric, sc)
		}
		runs[SGDLES] = Measure(summary(experiment.SGDL, 1, tc.es...), tc.e.Metric, sc)
		r := Compare(tc.e, Quick, runs, nil)
		if got := r.Direction; got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
	// PSNR = -10 log10(RSE · mean y²): RSE 0.04 of targets with mean square
	// 0.25 is an MSE of 0.01, 20 dB.
	f := Measure(summary(experiment.MGDL, 1, 0.04), PSNR, sc)
	if math.Abs(f.Test[0]-20) > 1e-12 || math.Abs(f.Train[0]-(-10*math.Log10(0.02*0.25))) > 1e-12 {
		t.Errorf("PSNR: test %v (want 20), train %v", f.Test[0], f.Train[0])
	}
}

// comparison.json keeps unpublished figures (NaN) as null and reads them
// back as NaN.
func TestResultJSON(t *testing.T) {
	e, _ := Lookup("spectral2")
	r := Compare(e, Paper, map[Variant]Figures{MGDL: {Train: []float64{0.5}, Test: []float64{math.NaN()}, Epochs: []int{3}}}, map[Variant]string{MGDL: "d/mgdl"})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeResult(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.Experiment != "spectral2" || back.Budget != Paper || !math.IsNaN(back.Runs[MGDL].Test[0]) || back.Runs[MGDL].Train[0] != 0.5 ||
		!math.IsNaN(back.Published.SGDLTest) || back.Published.MGDLTrain[3] != 1.47e-6 || back.Dirs[MGDL] != "d/mgdl" {
		t.Errorf("round trip: %s gave %+v", b, back)
	}
	if _, err := DecodeResult([]byte(`{"experiment":"x"}`)); err == nil {
		t.Error("a result without a budget decoded")
	}
}

// The Markdown report is written for every experiment, with no runs and
// no published figures too.
func TestWriteMarkdownEveryExperiment(t *testing.T) {
	var rs []Result
	for _, e := range All() {
		rs = append(rs, Compare(e, Quick, map[Variant]Figures{}, nil))
		rs = append(rs, Compare(e, Paper, map[Variant]Figures{MGDL: {Test: []float64{0.5}, Train: []float64{0.4}, Epochs: []int{1}}}, nil))
	}
	var b strings.Builder
	if err := WriteMarkdown(&b, rs); err != nil {
		t.Fatal(err)
	}
	for _, e := range All() {
		if !strings.Contains(b.String(), "## "+e.Name+" (quick budget)") {
			t.Errorf("no section for %s", e.Name)
		}
	}
}
