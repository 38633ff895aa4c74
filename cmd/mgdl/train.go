package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/experiment"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/rundir"
	"github.com/mgdl/mgdl/tensor"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// outputOpts are the flags of train and demo that say where a run goes and
// how it is shown; they are not part of the run's configuration.
type outputOpts struct {
	out      string
	replace  bool
	quiet    bool
	progress string // auto, bar, plain, none (progress.go)
}

func (o *outputOpts) addFlags(f *pflag.FlagSet, outHelp string) {
	f.StringVar(&o.out, "out", "", outHelp)
	f.BoolVar(&o.replace, "replace", false, "discard the run already in --out and start again (without it such a folder is refused)")
	f.BoolVar(&o.quiet, "quiet", false, "print no progress")
	f.StringVar(&o.progress, "progress", "auto", "progress on stderr: auto (a bar on a terminal, plain lines otherwise), bar, plain, none")
}

// display returns the progress display of a run of method on w.
func (o *outputOpts) display(w io.Writer, method string) (*progress, error) {
	mode, err := parseProgressMode(o.progress)
	if err != nil {
		return nil, usageError{err}
	}
	if o.quiet {
		mode = progressNone
	}
	return newProgress(w, mode, method), nil
}

func newTrainCmd() *cobra.Command {
	var rf runFlags
	var oo outputOpts
	var resume string
	cmd := &cobra.Command{
		Use:   "train",
		Short: "Train an MGDL or SGDL model on a synthetic example or a data file; writes a run folder",
		Long: `train fits an MGDL model (grade by grade) or its SGDL baseline to a synthetic
example (--example) or a data file (--data) and writes a run folder (--out):
config.json (the whole configuration, which --config repeats), summary.json
(the per-grade results), metrics.jsonl, model.safetensors after every grade,
and the staged predictions and images the report draws.

The configuration starts from the example's published recipe (or a default
architecture for the data), or from --config FILE; every flag given changes
one setting of it. --resume DIR continues a run after its last finished grade,
with the settings of DIR/config.json. A folder that already holds a run is
refused unless --resume or --replace is given.`,
		Example: `  mgdl train --example spectral2 --method mgdl --epochs 300 --lr 1e-4 --out runs/mgdl
  mgdl train --example spectral2 --method sgdl --epochs 300 --lr 1e-4 --out runs/sgdl
  mgdl train --example xu1 --out runs/xu1            # the paper's recipe for xu1
  mgdl train --example spectral2 --grades '[[1,128,128,1],[128,128,128,1]]' --epochs 50,80 --out runs/small
  mgdl train --config runs/xu1/config.json --out runs/xu1-again   # the same run, bit for bit
  mgdl train --resume runs/mgdl                      # continue after the last finished grade`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			if resume != "" {
				if extra := rf.given(); len(extra) > 0 {
					return usagef("--resume takes every setting from %s/%s; do not give %v", resume, rundir.ConfigFile, extra)
				}
				if oo.out != "" && filepath.Clean(oo.out) != filepath.Clean(resume) {
					return usagef("--resume %s writes to that folder; --out %s differs", resume, oo.out)
				}
				if oo.replace {
					return usagef("--resume continues the run in %s; --replace would discard it: give one of them", resume)
				}
				dir, cfg, ck, err := rundir.Resume(resume)
				if errors.Is(err, rundir.ErrNotRun) {
					return usageError{fmt.Errorf("--resume %w", err)}
				}
				if err != nil {
					return err
				}
				defer dir.Close()
				sum, err := trainOne(ctx, cmd.ErrOrStderr(), &oo, cfg, nil, func() (*rundir.Dir, error) { return dir, nil }, ck)
				return finishTrain(cmd, sum, interrupted(err, dir.Path(), true), dir.File(rundir.SummaryFile))
			}
			if oo.out == "" {
				return usagef("--out DIR is required (the run folder)")
			}
			cfg, err := rf.base(experiment.Default())
			if err != nil {
				return err
			}
			if err := rf.applyRun(&cfg); err != nil {
				return err
			}
			var dir *rundir.Dir
			create := func() (*rundir.Dir, error) {
				var err error
				dir, err = rundir.Create(oo.out, rundir.CreateOptions{Replace: oo.replace, Inputs: cfg.Data.Files()})
				return dir, outError(err, true)
			}
			sum, err := trainOne(ctx, cmd.ErrOrStderr(), &oo, cfg, &rf, create, nil)
			defer dir.Close()
			path := ""
			if dir != nil {
				path = dir.File(rundir.SummaryFile)
				err = interrupted(err, dir.Path(), true)
			}
			return finishTrain(cmd, sum, err, path)
		},
	}
	f := cmd.Flags()
	rf.addFlags(f, true, experiment.DefaultGrade())
	oo.addFlags(f, "the run folder (required); it must not hold a run already, unless --replace")
	f.StringVar(&resume, "resume", "", "continue the run in this folder from its last finished grade; its config.json gives every setting")
	return cmd
}

// finishTrain prints a run's table and the summary's path, and returns the
// run's error.
func finishTrain(cmd *cobra.Command, sum *rundir.Summary, err error, path string) error {
	if sum != nil {
		printTable(cmd.OutOrStdout(), sum)
		if path != "" {
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", path)
		}
	}
	return err
}

// trainOne resolves cfg against its data, applies the per-grade flags of rf
// (nil for none), checks the configuration with the trainer and only then
// makes the run folder (create; it may return nil for no folder), writes
// config.json and trains, restoring the grades of checkpoint ck first. It
// returns the summary (nil if training never started) and the run's error.
func trainOne(ctx context.Context, log io.Writer, oo *outputOpts, cfg experiment.Config, rf *runFlags, create func() (*rundir.Dir, error), ck *modelfile.File) (*rundir.Summary, error) {
	src, err := cfg.Data.Resolve()
	if err != nil {
		return nil, asUsage(err)
	}
	loaded, err := src.Load()
	if err != nil {
		return nil, asUsage(err)
	}
	// Pinned once the files have been read as data (a bad file is
	// reported as such, not hashed).
	if err := src.Pin(); err != nil {
		return nil, err
	}
	cfg.Data = src
	return trainLoaded(ctx, log, oo, cfg, loaded, rf, create, ck)
}

// trainLoaded is trainOne on data already loaded from cfg.Data.
func trainLoaded(ctx context.Context, log io.Writer, oo *outputOpts, cfg experiment.Config, loaded *data.Loaded, rf *runFlags, create func() (*rundir.Dir, error), ck *modelfile.File) (*rundir.Summary, error) {
	want := cfg.Digest
	if err := cfg.Resolve(loaded); err != nil {
		return nil, asUsage(err)
	}
	if rf != nil {
		if err := rf.applyGrades(&cfg); err != nil {
			return nil, err
		}
	}
	if rf == nil && want != "" {
		// A resumed configuration was resolved when the run started.
		if d, err := cfg.ComputeDigest(); err != nil || d != want {
			return nil, fmt.Errorf("resume: the configuration resolves to another digest (%.12s…, want %.12s…); was it written by another mgdl version?", d, want)
		}
	}
	disp, err := oo.display(log, string(cfg.Method))
	if err != nil {
		return nil, err
	}
	if cfg.DType == "float32" {
		return trainTyped[float32](ctx, disp, cfg, loaded, create, ck)
	}
	return trainTyped[float64](ctx, disp, cfg, loaded, create, ck)
}

func trainTyped[T tensor.Float](ctx context.Context, disp *progress, cfg experiment.Config, loaded *data.Loaded, create func() (*rundir.Dir, error), ck *modelfile.File) (*rundir.Summary, error) {
	splits, norm, err := data.Standardized[T](loaded)
	if err != nil {
		return nil, err
	}
	tr, err := mgdl.NewTrainer(cfg.Trainer(), splits)
	if err != nil {
		return nil, asUsage(err)
	}
	if _, err := cfg.ComputeDigest(); err != nil {
		return nil, usageError{err}
	}
	var restored *model.Model[T]
	if ck != nil {
		restored = modelfile.Model[T](ck)
		if err := tr.Restore(restored); err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
	}
	dir, err := create()
	if err != nil {
		return nil, asUsage(err)
	}
	if dir != nil && ck == nil {
		if err := dir.WriteConfig(cfg); err != nil {
			return nil, err
		}
	}
	rec, err := rundir.NewRecorder[T](dir, cfg, loaded, norm, tensor.CurrentBackend().Info(), ck)
	if err != nil {
		return nil, err
	}
	if ck != nil {
		if n := len(restored.Grades); n >= cfg.Trainer().MaxGrades() {
			disp.note(fmt.Sprintf("all %d grades in %s had finished: nothing left to train", n, dir.Path()))
		} else {
			disp.note(fmt.Sprintf("resuming %s after grade %d", dir.Path(), n))
		}
	}
	tr.Progress = func(e mgdl.Event) {
		disp.event(e)
		rec.Event(e)
	}
	tr.OnGrade = rec.Grade
	res, runErr := tr.Run(ctx)
	disp.close()
	sum, warnings, err := rec.Finish(tr.Model(), splits, res, runErr)
	for _, w := range warnings {
		disp.warn(w)
	}
	switch {
	case err != nil && runErr == nil:
		runErr = err
	case err != nil:
		// The run's own error (a checkpoint that could not be written,
		// say) comes first; the summary's is reported beside it.
		disp.warn(fmt.Errorf("also: %w", err))
	}
	return sum, runErr
}

// interruptedError is a run stopped by a signal: its message says where
// the finished grades are and how to go on; it unwraps to the trainer's
// error (context.Canceled: exit code 130).
type interruptedError struct {
	err       error
	dir       string
	resumable bool
}

func (e interruptedError) Error() string {
	what := strings.TrimSuffix(e.err.Error(), ": "+context.Canceled.Error())
	s := "stopped: " + what + "; the finished grades are kept in " + e.dir
	if e.resumable {
		s += "; go on with: mgdl train --resume " + e.dir
	}
	return s
}

func (e interruptedError) Unwrap() error { return e.err }

// interrupted wraps err as an interruptedError when a signal stopped the
// run in dir.
func interrupted(err error, dir string, resumable bool) error {
	if err == nil || !errors.Is(err, context.Canceled) {
		return err
	}
	return interruptedError{err: err, dir: dir, resumable: resumable}
}

// outError turns Create's refusal of an --out folder into a usage error
// that says what to do; resumable says whether the command has --resume.
func outError(err error, resumable bool) error {
	var ee *rundir.ExistsError
	if !errors.As(err, &ee) {
		return err
	}
	if ee.Complete {
		return usageError{err}
	}
	hint := "give another --out"
	switch {
	case ee.Run && resumable:
		hint = fmt.Sprintf("give --resume %s to continue it, --replace to discard it and start again, or another --out", ee.Path)
	case ee.Run:
		hint = "give --replace to discard it and start again, or another --out"
	}
	return usageError{fmt.Errorf("%w: %s", err, hint)}
}

// asUsage marks configuration and setting errors, and an --out folder
// that holds a run, as usage errors (exit code 2); data problems stay run
// errors (exit code 1).
func asUsage(err error) error {
	var ce *mgdl.ConfigError
	if errors.As(err, &ce) || data.IsSettingError(err) || errors.Is(err, rundir.ErrExists) {
		return usageError{err}
	}
	return err
}

// printTable prints the per-grade results.
func printTable(w io.Writer, s *rundir.Summary) {
	fmt.Fprintf(w, "%s (%s, %s)\n", s.Title(), s.Config.DType, s.Backend)
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
		if r.StopReason.Early() {
			notes = append(notes, "stopped: "+string(r.StopReason))
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
	if s.Config.Data.Standardize.Targets() {
		fmt.Fprintln(w, "  (RSEs of the standardised targets, as trained; mgdl eval gives them in the data's units)")
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
