package main

// The flags of train and demo that set a run's configuration. A run starts
// from experiment.Default() or from a --config file (or, with --resume,
// from the run folder's config.json, with no flags); every flag given on
// the command line then overrides one field of that typed configuration.
// Flags not given change nothing, so the defaults shown in --help are the
// configuration's own.

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/experiment"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
	"github.com/spf13/pflag"
)

// runFlags are the run-setting flags of one command.
type runFlags struct {
	fs *pflag.FlagSet

	config                 string
	method, dtype, example string
	seed, dataSeed         uint64
	rng, dataRNG           string
	data, inputs, targets  string
	missing, standardize   string
	val, test              float64
	splitSeed              uint64
	grades                 string
	sgdlEpochs             int
	ridge                  float64
	grow                   int
	growTarget, growMin    float64

	epochs, lr, lrMin, activation string
	batch                         int
	init, optimizer               string
	earlyStop                     string
	esEvery, esWindow, esRecords  int
	esPatience                    int
	esTol, esMinDelta             float64
	refit, zeroOutput             bool
}

// addFlags registers the flags on f. With data set it adds the data-source
// flags (--example, --data, ...) and --method (train); demo has neither.
// Defaults shown are those of experiment.Default and DefaultGrade (g).
func (o *runFlags) addFlags(f *pflag.FlagSet, withData bool, g mgdl.GradeSpec) {
	o.fs = f
	d, src := experiment.Default(), data.DefaultSource()
	f.StringVar(&o.config, "config", "", "experiment config file (YAML or JSON, docs/CLI.md; a run folder's config.json repeats that run); flags given here override it")
	if withData {
		f.StringVar(&o.method, "method", string(d.Method), "mgdl (grade by grade) or sgdl (all hidden layers in one network, end to end)")
		f.IntVar(&o.sgdlEpochs, "sgdl-epochs", 0, "epochs of the SGDL network (default: the first grade's epochs)")
		f.StringVar(&o.example, "example", data.DefaultExample, "synthetic example (see 'mgdl examples'), when no --data is given")
		f.StringVar(&o.data, "data", "", `data file instead of --example: a CSV/TSV table with a header, a .npz with arrays x and y, a .npy of inputs (with --targets FILE.npy), a PNG/JPEG image (image regression), a folder of MNIST-style IDX files, or "mnist" (from the Go module cache)`)
		f.StringVar(&o.inputs, "inputs", "", "input columns (CSV: names or 0-based indices, comma-separated; default every non-target column) or array name (.npz: default x)")
		f.StringVar(&o.targets, "targets", "", "target columns (CSV: names or 0-based indices; default the last column), array name (.npz: default y), or targets file (.npy)")
		f.StringVar(&o.missing, "missing", src.Missing.String(), "missing values in CSV (empty, NA, NaN, null, ?): error, drop (the row) or mean (of the column)")
		f.Float64Var(&o.val, "val", src.Val, "fraction of the rows held out for validation (tables and arrays; MNIST: of the training set; images use the papers' split: train img[::2,::2], validate img[1::2,1::2], test the full image)")
		f.Float64Var(&o.test, "test", src.Test, "fraction of the rows held out for testing (tables and arrays; MNIST uses its test set)")
		f.Uint64Var(&o.splitSeed, "split-seed", src.SplitSeed, "seed of the train/validation/test split")
		f.StringVar(&o.standardize, "standardize", string(src.Standardize), "standardise with the training set's mean and standard deviation: none, inputs, targets, both (saved with the model, applied by predict and eval; training metrics are then in standardised units, eval's in the original ones)")
	}
	f.Uint64Var(&o.dataSeed, "data-seed", src.Seed, "seed for the synthetic data (phases, random validation and test points)")
	f.StringVar(&o.dataRNG, "data-rng", "pcg", "random streams of the synthetic data: pcg (mgdl's) or numpy (the papers' NumPy code: with --data-seed 1 the authors' data; docs/EXPERIMENTS.md)")
	f.StringVar(&o.dtype, "dtype", d.DType, "float64 or float32")
	f.Uint64Var(&o.seed, "seed", d.Seed, "seed for initialisation and minibatch order")
	f.StringVar(&o.rng, "rng", "pcg", "random streams of initialisation and minibatch order: pcg (mgdl's) or numpy (as the papers' NumPy code draws them from --seed; docs/EXPERIMENTS.md)")
	f.StringVar(&o.grades, "grades", "", `grade widths as JSON, e.g. '[[1,256,256,1],[256,256,256,1]]' (default: the example's, or a default architecture for the data)`)
	f.StringVar(&o.epochs, "epochs", strconv.Itoa(g.Epochs), "epochs per grade: one number, or a comma list with one per grade (an example's recipe may set others)")
	f.StringVar(&o.lr, "lr", formatFloat(g.LR.Max), "learning rate at the first epoch: one, or a comma list per grade")
	f.StringVar(&o.lrMin, "lr-min", formatFloat(g.LR.Min), "learning rate reached at the last epoch (exponential decay); --lr alone sets a constant rate")
	f.StringVar(&o.activation, "activation", g.Activation.String(), "hidden activation: relu, sin, tanh, identity; one, or a comma list with one per grade")
	f.IntVar(&o.batch, "batch", g.BatchSize, "minibatch size (0 = full batch)")
	f.StringVar(&o.init, "init", g.Init.String(), "initialisation: xavier (U(-1,1)·sqrt(1/fan_in)) or he")
	f.StringVar(&o.optimizer, "optimizer", g.Optimizer.String(), "optimizer: adam or gd")
	f.StringVar(&o.earlyStop, "early-stop", g.EarlyStop.Rule.String(), "early stopping on the validation loss, best state restored: none, plateau (every --es-window epochs compare the mean of the last --es-records records), patience")
	f.IntVar(&o.esEvery, "es-every", 10, "record the validation loss every this many epochs")
	f.IntVar(&o.esWindow, "es-window", 200, "plateau rule: compare averages every this many epochs")
	f.IntVar(&o.esRecords, "es-records", 20, "plateau rule: average of the last this many records")
	f.Float64Var(&o.esTol, "es-tol", 1e-4, "plateau rule: stop when the average changes by less than this fraction")
	f.IntVar(&o.esPatience, "es-patience", 100, "patience rule: stop after this many epochs without improvement")
	f.Float64Var(&o.esMinDelta, "es-min-delta", 0, "patience rule: relative improvement that counts")
	f.BoolVar(&o.refit, "refit", false, "least-squares refit of each grade's output layer after training (the training error can then only fall; see docs/TRAINING.md)")
	f.BoolVar(&o.zeroOutput, "zero-output", false, "start the output layer of grades ≥ 2 at zero")
	f.Float64Var(&o.ridge, "ridge", 0, "relative ridge of the least-squares refit (0: 1e-10)")
	f.IntVar(&o.grow, "grow", 0, "adaptive grade count: add grades like the last one up to this many in all, while the validation RSE improves (0: off)")
	f.Float64Var(&o.growTarget, "grow-target", 0, "adaptive grade count: stop once the validation RSE is at most this")
	f.Float64Var(&o.growMin, "grow-min-improve", 0.01, "adaptive grade count: reject a grade that lowers the validation RSE by less than this fraction")
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func (o *runFlags) set(name string) bool { return o.fs.Changed(name) }

// given lists the run-setting flags given on the command line.
func (o *runFlags) given() []string {
	var out []string
	o.fs.Visit(func(fl *pflag.Flag) {
		if o.isRunFlag(fl.Name) {
			out = append(out, "--"+fl.Name)
		}
	})
	return out
}

// isRunFlag reports whether name is one of runFlags' flags.
func (o *runFlags) isRunFlag(name string) bool {
	switch name {
	case "out", "quiet", "progress", "resume", "replace", "help", "backend", "threads":
		return false
	}
	return o.fs.Lookup(name) != nil
}

// base returns the configuration the flags start from: the --config file,
// or the given default.
func (o *runFlags) base(def experiment.Config) (experiment.Config, error) {
	if o.config == "" {
		return def, nil
	}
	c, err := experiment.ReadFile(o.config)
	if err != nil {
		return experiment.Config{}, usageError{err}
	}
	return c, nil
}

// applyRun sets the whole-run fields the flags give: method, dtype,
// seeds, the data source and the grades' widths.
func (o *runFlags) applyRun(c *experiment.Config) error {
	var err error
	if o.set("method") {
		if c.Method, err = experiment.ParseMethod(o.method); err != nil {
			return usagef("--method: %v", err)
		}
	}
	if o.set("sgdl-epochs") {
		c.SGDLEpochs = o.sgdlEpochs
	}
	if o.set("dtype") {
		c.DType = o.dtype
	}
	if o.set("seed") {
		c.Seed = o.seed
	}
	if o.set("rng") {
		if c.RNG, err = mgdl.ParseRNG(o.rng); err != nil {
			return usagef("--rng: %v", err)
		}
	}
	if o.set("example") && o.set("data") {
		return usagef("give --example or --data, not both")
	}
	if o.set("example") {
		seed := c.Data.Seed
		if c.Data.IsFile() {
			seed = data.DefaultSource().Seed
		}
		c.Data = data.Source{Example: o.example, Seed: seed}
	}
	if o.set("data") {
		src := data.DefaultSource()
		if c.Data.IsFile() {
			src = c.Data // keep the file settings of --config
		}
		src.Example, src.File = "", o.data
		src.DataSHA256 = "" // another file: pinned anew
		c.Data = src
	}
	if o.set("data-seed") {
		c.Data.Seed = o.dataSeed
	}
	if o.set("data-rng") {
		if c.Data.RNG, err = data.ParseRNG(o.dataRNG); err != nil {
			return usagef("--data-rng: %v", err)
		}
	}
	fileOnly := []string{"inputs", "targets", "missing", "val", "test", "split-seed", "standardize"}
	for _, name := range fileOnly {
		if o.set(name) && !c.Data.IsFile() {
			return usagef("--%s applies to data files (--data); the synthetic example %s has fixed splits", name, orDefault(c.Data.Example, data.DefaultExample))
		}
	}
	if o.set("inputs") {
		c.Data.Inputs = splitList(o.inputs)
	}
	if o.set("targets") {
		c.Data.Targets = splitList(o.targets)
		c.Data.DataSHA256 = "" // for .npy, another targets file
	}
	if o.set("missing") {
		if c.Data.Missing, err = data.ParseMissing(o.missing); err != nil {
			return usagef("--missing: %v", err)
		}
	}
	if o.set("val") {
		c.Data.Val = o.val
	}
	if o.set("test") {
		c.Data.Test = o.test
	}
	if o.set("split-seed") {
		c.Data.SplitSeed = o.splitSeed
	}
	if o.set("standardize") {
		if c.Data.Standardize, err = data.ParseStandardize(o.standardize); err != nil {
			return usagef("--%v", err)
		}
	}
	if o.set("grades") {
		var widths [][]int
		if err := json.Unmarshal([]byte(o.grades), &widths); err != nil {
			return usagef("--grades: %v (want JSON such as [[1,256,256,1],[256,256,256,1]])", err)
		}
		if len(widths) == 0 {
			return usagef("--grades: no grades")
		}
		c.SetWidths(widths)
	}
	if o.set("ridge") {
		c.Ridge = o.ridge
	}
	if o.set("grow") || o.set("grow-target") || o.set("grow-min-improve") {
		g := mgdl.Grow{MinImprove: o.growMin}
		if c.Grow != nil {
			g = *c.Grow
		}
		if o.set("grow") {
			g.MaxGrades = o.grow
		}
		if o.set("grow-target") {
			g.Target = o.growTarget
		}
		if o.set("grow-min-improve") {
			g.MinImprove = o.growMin
		}
		c.Grow = &g
		if g.MaxGrades == 0 {
			c.Grow = nil
		}
	}
	return nil
}

// applyGrades sets the per-grade fields the flags give on every grade of
// c (whose grades are resolved).
func (o *runFlags) applyGrades(c *experiment.Config) error {
	n := len(c.Grades)
	if err := perGrade(o, "epochs", o.epochs, n, strconv.Atoi, func(g *mgdl.GradeSpec, v int) { g.Epochs = v }, c); err != nil {
		return err
	}
	if err := perGrade(o, "activation", o.activation, n, nn.ParseActivation, func(g *mgdl.GradeSpec, v nn.Activation) { g.Activation = v }, c); err != nil {
		return err
	}
	parseF := func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
	if err := perGrade(o, "lr", o.lr, n, parseF, func(g *mgdl.GradeSpec, v float64) {
		g.LR.Max = v
		if !o.set("lr-min") {
			g.LR.Min = v
		}
	}, c); err != nil {
		return err
	}
	if err := perGrade(o, "lr-min", o.lrMin, n, parseF, func(g *mgdl.GradeSpec, v float64) { g.LR.Min = v }, c); err != nil {
		return err
	}
	var err error
	var init nn.Init
	if o.set("init") {
		if init, err = nn.ParseInit(o.init); err != nil {
			return usagef("--init: %v", err)
		}
	}
	var opt optim.Kind
	if o.set("optimizer") {
		if opt, err = optim.ParseKind(o.optimizer); err != nil {
			return usagef("--optimizer: %v", err)
		}
	}
	var rule mgdl.StopRule
	if o.set("early-stop") {
		if rule, err = mgdl.ParseStopRule(o.earlyStop); err != nil {
			return usagef("--early-stop: %v", err)
		}
	}
	if o.set("batch") && o.batch < 0 {
		return usagef("--batch %d: must be 0 (full batch) or positive", o.batch)
	}
	for l := range c.Grades {
		g := &c.Grades[l]
		if o.set("batch") {
			g.BatchSize = o.batch
		}
		if o.set("init") {
			g.Init = init
		}
		if o.set("optimizer") {
			g.Optimizer = opt
		}
		es := &g.EarlyStop
		if o.set("early-stop") {
			es.Rule = rule
		}
		for _, s := range []struct {
			name string
			dst  *int
			v    int
		}{{"es-every", &es.Every, o.esEvery}, {"es-window", &es.Window, o.esWindow}, {"es-records", &es.Records, o.esRecords}, {"es-patience", &es.Patience, o.esPatience}} {
			if o.set(s.name) {
				*s.dst = s.v
			}
		}
		if o.set("es-tol") {
			es.Tol = o.esTol
		}
		if o.set("es-min-delta") {
			es.MinDelta = o.esMinDelta
		}
		if o.set("refit") {
			g.Refit = o.refit
		}
		if o.set("zero-output") {
			g.ZeroOutput = o.zeroOutput
		}
	}
	return nil
}

// perGrade applies a flag that takes one value, or a comma list with one
// per grade, to every grade of c.
func perGrade[V any](o *runFlags, flag, s string, n int, parse func(string) (V, error), apply func(*mgdl.GradeSpec, V), c *experiment.Config) error {
	if !o.set(flag) {
		return nil
	}
	parts := strings.Split(s, ",")
	if len(parts) != 1 && len(parts) != n {
		return usagef("--%s %q: give one value or %d (one per grade)", flag, s, n)
	}
	for l := range c.Grades {
		part := strings.TrimSpace(parts[min(l, len(parts)-1)])
		v, err := parse(part)
		if err != nil {
			var ne *strconv.NumError
			if errors.As(err, &ne) {
				kind := "a number"
				if _, isInt := any(v).(int); isInt {
					kind = "a whole number (written with digits only)"
				}
				why := "is not " + kind
				if ne.Err == strconv.ErrRange {
					why = "is out of range"
				}
				return usagef("--%s %q: %q %s", flag, s, part, why)
			}
			return usagef("--%s: %v", flag, err)
		}
		apply(&c.Grades[l], v)
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	parts := strings.Split(s, ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}
