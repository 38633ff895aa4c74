package main

import (
	"fmt"

	"github.com/mgdl/mgdl"
	"github.com/spf13/pflag"
)

// controlOpts are the training-control flags: early stopping, least-squares
// refit, zero-initialised outputs and adaptive grade count.
type controlOpts struct {
	earlyStop               string
	esEvery, esWindow       int
	esRecords, esPatience   int
	esTol, esMinDelta       float64
	refit                   bool
	zeroOutput              bool
	ridge                   float64
	growMax                 int
	growTarget, growImprove float64
}

func (c *controlOpts) addFlags(f *pflag.FlagSet) {
	f.StringVar(&c.earlyStop, "early-stop", "none", "early stopping on the validation loss, best state restored: none, plateau (every --es-window epochs compare the mean of the last --es-records records), patience")
	f.IntVar(&c.esEvery, "es-every", 10, "record the validation loss every this many epochs")
	f.IntVar(&c.esWindow, "es-window", 200, "plateau rule: compare averages every this many epochs")
	f.IntVar(&c.esRecords, "es-records", 20, "plateau rule: average of the last this many records")
	f.Float64Var(&c.esTol, "es-tol", 1e-4, "plateau rule: stop when the average changes by less than this fraction")
	f.IntVar(&c.esPatience, "es-patience", 100, "patience rule: stop after this many epochs without improvement")
	f.Float64Var(&c.esMinDelta, "es-min-delta", 0, "patience rule: relative improvement that counts")
	f.BoolVar(&c.refit, "refit", false, "least-squares refit of each grade's output layer after training (the training error can then only fall; see docs/TRAINING.md)")
	f.BoolVar(&c.zeroOutput, "zero-output", false, "start the output layer of grades ≥ 2 at zero")
	f.Float64Var(&c.ridge, "ridge", 0, "relative ridge of the least-squares refit (0: 1e-10)")
	f.IntVar(&c.growMax, "grow", 0, "adaptive grade count: add grades like the last one up to this many in all, while the validation RSE improves (0: off)")
	f.Float64Var(&c.growTarget, "grow-target", 0, "adaptive grade count: stop once the validation RSE is at most this")
	f.Float64Var(&c.growImprove, "grow-min-improve", 0.01, "adaptive grade count: reject a grade that lowers the validation RSE by less than this fraction")
}

// apply writes the control settings into every grade of cfg (and its growth
// template) for the given method.
func (c *controlOpts) apply(cfg *mgdl.Config, method string) error {
	refit := c.refit
	rule := c.earlyStop
	if rule == "none" {
		rule = mgdl.StopNone
	}
	es := mgdl.EarlyStop{Rule: rule, Every: c.esEvery, Window: c.esWindow, Records: c.esRecords, Tol: c.esTol, Patience: c.esPatience, MinDelta: c.esMinDelta}
	for i := range cfg.Grades {
		g := &cfg.Grades[i]
		g.EarlyStop = es
		g.Refit = refit && !(cfg.Task == mgdl.Classification && i == 0)
		g.ZeroOutput = c.zeroOutput && i > 0
	}
	cfg.Ridge = c.ridge
	if c.growMax > 0 {
		if method != "mgdl" {
			return fmt.Errorf("--grow applies to mgdl only")
		}
		t := cfg.Grades[len(cfg.Grades)-1]
		if len(cfg.Grades) == 1 {
			// the first grade reads the input: grow with a square grade on its features
			h := t.Widths[len(t.Widths)-2]
			t.Widths = append([]int{h}, t.Widths[1:]...)
			t.Refit, t.ZeroOutput = refit, c.zeroOutput
		}
		cfg.Grow = &mgdl.Grow{Template: t, MaxGrades: c.growMax, Target: c.growTarget, MinImprove: c.growImprove}
	}
	return nil
}
