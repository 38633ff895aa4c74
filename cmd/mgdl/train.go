package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/tensor"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// trainOpts are the flags shared by train and demo.
type trainOpts struct {
	example, method, dtype, out string
	grades                      string
	activation, epochs          string
	lr, lrMin                   string
	optimizer, init             string
	batch, sgdlEpochs           int
	seed, dataSeed              uint64
	quiet                       bool
	progress                    string // auto, bar, plain, none (progress.go)
	ctl                         controlOpts
	src                         sourceOpts // data source, --resume (source.go, checkpoint.go)
}

func (o *trainOpts) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.grades, "grades", "", `grade widths as JSON, e.g. '[[1,256,256,1],[256,256,256,1]]' (default: the example's)`)
	f.StringVar(&o.activation, "activation", "relu", "hidden activation: relu, sin, tanh, identity; one, or a comma list with one per grade")
	f.StringVar(&o.epochs, "epochs", "100", "epochs per grade: one number, or a comma list with one per grade")
	f.IntVar(&o.batch, "batch", 256, "minibatch size (0 = full batch)")
	f.StringVar(&o.lr, "lr", "1e-3", "learning rate at the first epoch: one, or a comma list per grade")
	f.StringVar(&o.lrMin, "lr-min", "", "learning rate reached at the last epoch (exponential decay); default: equal to --lr (constant)")
	f.StringVar(&o.optimizer, "optimizer", "adam", "optimizer: adam or gd")
	f.StringVar(&o.init, "init", "xavier", "initialisation: xavier (U(-1,1)·sqrt(1/fan_in)) or he")
	f.StringVar(&o.dtype, "dtype", "float64", "float64 or float32")
	f.Uint64Var(&o.seed, "seed", 1, "seed for initialisation and minibatch order")
	f.Uint64Var(&o.dataSeed, "data-seed", 1, "seed for the synthetic data (phases, random validation and test points)")
	f.BoolVar(&o.quiet, "quiet", false, "print no progress")
	o.ctl.addFlags(f)
	f.StringVar(&o.progress, "progress", "auto", "progress on stderr: auto (a bar on a terminal, plain lines otherwise), bar, plain, none")
	addConfigFlag(f)
}

func newTrainCmd() *cobra.Command {
	o := &trainOpts{}
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train an MGDL or SGDL model on a synthetic example",
		Example: `  mgdl train --example spectral2 --method mgdl --epochs 300 --lr 1e-4 --out runs/mgdl
  mgdl train --example spectral2 --method sgdl --epochs 300 --lr 1e-4 --out runs/sgdl
  mgdl train --example xu1 --out runs/xu1            # the paper's recipe for xu1
  mgdl train --example spectral2 --grades '[[1,128,128,1],[128,128,128,1]]' --epochs 50,80 --out runs/small`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.src.prepareResume(cmd); err != nil {
				return err
			}
			if err := applyConfigFile(cmd); err != nil {
				return err
			}
			if o.out == "" {
				return usagef("--out DIR is required")
			}
			ex, err := o.lookupExample(cmd.Flags().Changed)
			if err != nil {
				return err
			}
			cfg, err := o.config(ex, cmd.Flags().Changed)
			if err != nil {
				return usageError{err}
			}
			if err := os.MkdirAll(o.out, 0o755); err != nil {
				return fmt.Errorf("cannot create output folder: %w", err)
			}
			if err := writeRunConfig(cmd, o.out, cfg); err != nil {
				return err
			}
			sum, runErr := o.run(cmd.Context(), cfg, ex, cmd.ErrOrStderr())
			if sum != nil {
				path := filepath.Join(o.out, "summary.json")
				if err := sum.WriteJSON(path); err != nil {
					return err
				}
				printTable(cmd.OutOrStdout(), strings.ToUpper(o.method), sum)
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", path)
			}
			return runErr
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.example, "example", "spectral2", "synthetic example (see 'mgdl examples')")
	f.StringVar(&o.method, "method", "mgdl", "mgdl (grade by grade) or sgdl (all hidden layers in one network, end to end)")
	f.IntVar(&o.sgdlEpochs, "sgdl-epochs", 0, "epochs for --method sgdl (default: the first grade's epochs)")
	f.StringVar(&o.out, "out", "", "output folder for summary.json (required)")
	o.addFlags(f)
	o.src.addFlags(f)
	return cmd
}

// config builds the run's configuration from the flags. Where the example
// has a published recipe and a flag was not given, the recipe's value is
// used.
func (o *trainOpts) config(ex data.Example, changed func(string) bool) (mgdl.Config, error) {
	var widths [][]int // never unmarshal into ex.Grades: it is shared
	if o.grades == "" {
		for _, w := range ex.Grades {
			widths = append(widths, slices.Clone(w))
		}
	} else {
		if err := json.Unmarshal([]byte(o.grades), &widths); err != nil {
			return mgdl.Config{}, fmt.Errorf("--grades: %v (want JSON such as [[1,256,256,1],[256,256,256,1]])", err)
		}
	}
	n := len(widths)
	if n == 0 {
		return mgdl.Config{}, fmt.Errorf("--grades: no grades")
	}
	acts, epochs := o.activation, o.epochs
	lr, lrMin, batch := o.lr, o.lrMin, o.batch
	if r := ex.Recipe; r != nil && o.grades == "" {
		if !changed("activation") {
			acts = strings.Join(r.Activations, ",")
		}
		if !changed("epochs") {
			epochs = joinInts(r.Epochs)
		}
		if !changed("batch") {
			batch = r.BatchSize
		}
		if !changed("lr") {
			lr = joinFloats(r.LRMax)
			if !changed("lr-min") {
				lrMin = joinFloats(r.LRMin)
			}
		}
	}
	actList, err := perGrade("activation", acts, n, nn.ParseActivation)
	if err != nil {
		return mgdl.Config{}, err
	}
	epochList, err := perGrade("epochs", epochs, n, func(s string) (int, error) { return strconv.Atoi(s) })
	if err != nil {
		return mgdl.Config{}, err
	}
	parseF := func(s string) (float64, error) { return strconv.ParseFloat(s, 64) }
	lrList, err := perGrade("lr", lr, n, parseF)
	if err != nil {
		return mgdl.Config{}, err
	}
	lrMinList := lrList
	if lrMin != "" {
		if lrMinList, err = perGrade("lr-min", lrMin, n, parseF); err != nil {
			return mgdl.Config{}, err
		}
	}
	opt, err := optim.ParseKind(o.optimizer)
	if err != nil {
		return mgdl.Config{}, err
	}
	init, err := nn.ParseInit(o.init)
	if err != nil {
		return mgdl.Config{}, err
	}
	if o.dtype != "float64" && o.dtype != "float32" {
		return mgdl.Config{}, fmt.Errorf("--dtype %q: want float64 or float32", o.dtype)
	}
	if batch < 0 {
		return mgdl.Config{}, fmt.Errorf("--batch %d: must be 0 (full batch) or positive", batch)
	}
	cfg := mgdl.Config{Seed: o.seed}
	if ex.Task == "classification" {
		cfg.Task = mgdl.Classification
	}
	for l, w := range widths {
		cfg.Grades = append(cfg.Grades, mgdl.GradeSpec{
			Widths: w, Activation: actList[l], Init: init, Epochs: epochList[l], BatchSize: batch,
			LR: optim.ExpDecay(lrList[l], lrMinList[l]), Optimizer: opt,
		})
	}
	if err := cfg.Validate(ex.InDim, ex.OutDim); err != nil {
		return mgdl.Config{}, err
	}
	switch o.method {
	case "mgdl":
	case "sgdl":
		e := o.sgdlEpochs
		if e == 0 {
			e = epochList[0]
		}
		cfg = cfg.SGDL(e)
	default:
		return mgdl.Config{}, fmt.Errorf("--method %q: want mgdl or sgdl", o.method)
	}
	if err := o.ctl.apply(&cfg, o.method); err != nil {
		return mgdl.Config{}, err
	}
	if err := cfg.Validate(ex.InDim, ex.OutDim); err != nil {
		return mgdl.Config{}, err
	}
	return cfg, nil
}

// perGrade parses a comma list with one entry, or one per grade.
func perGrade[V any](flag, s string, n int, parse func(string) (V, error)) ([]V, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 1 && len(parts) != n {
		return nil, fmt.Errorf("--%s %q: give one value or %d (one per grade)", flag, s, n)
	}
	out := make([]V, n)
	for i := range out {
		p := strings.TrimSpace(parts[min(i, len(parts)-1)])
		v, err := parse(p)
		if err != nil {
			return nil, fmt.Errorf("--%s: %v", flag, err)
		}
		out[i] = v
	}
	return out, nil
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func joinFloats(v []float64) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return strings.Join(s, ",")
}

// run generates the example's data in the chosen dtype and trains cfg.
func (o *trainOpts) run(ctx context.Context, cfg mgdl.Config, ex data.Example, log io.Writer) (*mgdl.Summary, error) {
	if o.quiet {
		log = io.Discard
	}
	if o.dtype == "float32" {
		return runTyped[float32](ctx, cfg, ex, o, log)
	}
	return runTyped[float64](ctx, cfg, ex, o, log)
}

func runTyped[T tensor.Float](ctx context.Context, cfg mgdl.Config, ex data.Example, o *trainOpts, log io.Writer) (*mgdl.Summary, error) {
	splits, norm, err := trainSplits[T](o, ex)
	if err != nil {
		return nil, err
	}
	tr, err := mgdl.NewTrainer(cfg, splits)
	if err != nil {
		return nil, err
	}
	restored, err := attachCheckpoints(o, tr, cfg, ex, norm)
	if err != nil {
		return nil, err
	}
	rec, err := newRunRecorder(o, log)
	if err != nil {
		return nil, err
	}
	rec.valScale = valRSEScale(splits, cfg)
	tr.Progress = rec.event
	start := time.Now()
	res, runErr := tr.Run(ctx)
	res = append(restored, res...)
	finishRecording(rec, tr.Model(), splits, runErr)
	sum := &mgdl.Summary{
		Method: o.method, DType: tensor.DType[T](), Seed: cfg.Seed, Example: ex.Name,
		Backend: tensor.CurrentBackend().Info(), Version: mgdl.Version, Config: cfg,
		Grades: res, TotalSeconds: time.Since(start).Seconds(),
	}
	if runErr != nil {
		sum.Error = runErr.Error()
	}
	return sum, runErr
}

// printTable prints the per-grade results.
func printTable(w io.Writer, title string, s *mgdl.Summary) {
	fmt.Fprintf(w, "%s (%s, %s)\n", title, s.DType, s.Backend)
	cls := s.Config.Task == mgdl.Classification
	fmt.Fprintf(w, "  %-6s %-22s %7s %11s %11s %11s %9s", "grade", "widths", "epochs", "train RSE", "val RSE", "test RSE", "seconds")
	if cls {
		fmt.Fprintf(w, " %9s %9s", "val acc", "test acc")
	}
	fmt.Fprintln(w)
	for _, r := range s.Grades {
		fmt.Fprintf(w, "  %-6d %-22s %7d %11.4g %11s %11s %9.2f", r.Grade, model.FormatWidths(r.Widths), r.Epochs, r.TrainRSE, opt(r.ValRSE), opt(r.TestRSE), r.Seconds)
		if cls {
			fmt.Fprintf(w, " %9s %9s", opt(r.ValAcc), opt(r.TestAcc))
		}
		var notes []string
		if r.StopReason != "" && r.StopReason != mgdl.StoppedBudget {
			notes = append(notes, "stopped: "+r.StopReason)
		}
		if r.BestEpoch != nil {
			notes = append(notes, fmt.Sprintf("best epoch %d", *r.BestEpoch))
		}
		if r.Rejected {
			notes = append(notes, "rejected (not kept)")
		}
		if len(notes) > 0 {
			fmt.Fprintf(w, "  (%s)", strings.Join(notes, ", "))
		}
		fmt.Fprintln(w)
	}
	if s.Error != "" {
		fmt.Fprintf(w, "  stopped early: %s\n", s.Error)
	}
}

func opt(v *float64) string {
	if v == nil {
		return "-"
	}
	return strconv.FormatFloat(*v, 'g', 4, 64)
}
