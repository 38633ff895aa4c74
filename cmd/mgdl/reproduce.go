package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/examples"
	"github.com/mgdl/mgdl/experiment"
	"github.com/mgdl/mgdl/internal/atomicfile"
	"github.com/mgdl/mgdl/internal/jsonfmt"
	"github.com/mgdl/mgdl/report"
	"github.com/mgdl/mgdl/repro"
	"github.com/mgdl/mgdl/rundir"
	"github.com/spf13/cobra"
)

// Files of a reproduce folder.
const (
	comparisonMD   = "comparison.md"
	comparisonJSON = "comparison.json"
)

func newReproduceCmd() *cobra.Command {
	var oo outputOpts
	var budget string
	var list, noReport bool
	var maxEpochs int
	cmd := &cobra.Command{
		Use:   "reproduce [EXPERIMENT...]",
		Short: "Run the papers' experiments (MGDL, SGDL, SGDL with early stopping) and compare them with the published figures",
		Long: `reproduce runs named experiments of the MGDL papers, each as three runs:
MGDL, SGDL (the same hidden layers trained end to end, for as many epochs as
one grade), and SGDL with early stopping on the validation loss. With no
names it runs every experiment (mgdl reproduce --list names them).

--budget quick (the default) trains a few minutes per experiment on 2 cores:
the papers' architectures and recipes with fewer epochs (and 128 × 128
photographs for image regression); --budget paper trains the published
epochs, batch and schedule (hours to days).

Each run is an ordinary run folder, --out DIR/EXPERIMENT/{mgdl,sgdl,sgdl-es}.
A finished run is kept and read back, an unfinished one (an interrupted
sitting) continues after its last finished grade, so running the same
command again goes on where it stopped. After every experiment reproduce
writes DIR/EXPERIMENT/report.html (as mgdl report does) and DIR/comparison.md
and comparison.json: the measured figures per grade beside the published
ones, and whether MGDL's final test figure beats both SGDL runs' (the
published direction).

MNIST (mnist-noise) is read from the Go module cache; when it is not there,
a run of every experiment skips it with a warning (naming it fails).`,
		Example: `  mgdl reproduce --list
  mgdl reproduce xu1 --out runs/reproduce
  mgdl reproduce spectral2 manifold-q0 --out runs/reproduce
  mgdl reproduce --out runs/reproduce                  # every experiment, quick budget
  mgdl reproduce spectral2 --budget paper --out runs/paper`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if list {
				if len(args) > 0 || oo.out != "" {
					return usagef("--list prints the experiments; it takes no names and no --out")
				}
				printExperiments(cmd.OutOrStdout())
				return nil
			}
			if maxEpochs < 0 {
				return usagef("--max-epochs %d: want a number of epochs ≥ 1 (or 0 for no cap)", maxEpochs)
			}
			b, err := repro.ParseBudget(budget)
			if err != nil {
				return usageError{err}
			}
			if oo.out == "" {
				return usagef("--out DIR is required (the folder for the experiments' run folders and the comparison)")
			}
			exps := repro.All()
			named := len(args) > 0
			if named {
				exps = exps[:0]
				for _, a := range args {
					e, err := repro.Lookup(a)
					if err != nil {
						return usageError{err}
					}
					if !slices.Contains(exps, e) {
						exps = append(exps, e)
					}
				}
			}
			if rundir.IsRun(oo.out) {
				return usagef("--out %s is a run folder; reproduce writes a folder of experiments: give another --out", oo.out)
			}
			if err := os.MkdirAll(oo.out, 0o755); err != nil {
				return err
			}
			results, err := readComparison(oo.out)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			var failed []string
			for _, e := range exps {
				res, err := reproduceOne(ctx, cmd, &oo, e, b, maxEpochs, !noReport)
				if err != nil {
					if !named && errors.Is(err, errNoData) {
						fmt.Fprintf(cmd.ErrOrStderr(), "mgdl: warning: %s skipped: %v\n", e.Name, err)
						continue
					}
					if errors.Is(err, context.Canceled) {
						return err
					}
					fmt.Fprintf(cmd.ErrOrStderr(), "mgdl: %s: %v\n", e.Name, err)
					failed = append(failed, e.Name)
				}
				if res != nil {
					results = mergeResult(results, *res)
					if err := writeComparison(oo.out, results); err != nil {
						return err
					}
				}
			}
			if len(results) > 0 {
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", filepath.Join(oo.out, comparisonMD))
			}
			if len(failed) > 0 {
				return fmt.Errorf("%d of %d experiments did not finish: %s (the messages above say why; run the same command again to go on)", len(failed), len(exps), strings.Join(failed, ", "))
			}
			return nil
		},
	}
	f := cmd.Flags()
	oo.addFlags(f, "the folder for the experiments (required); each run goes in OUT/EXPERIMENT/VARIANT")
	f.StringVar(&budget, "budget", string(repro.Quick), "quick (minutes per experiment) or paper (the published epochs)")
	f.BoolVar(&list, "list", false, "list the experiments and their published figures")
	f.BoolVar(&noReport, "no-report", false, "do not write OUT/EXPERIMENT/report.html")
	f.IntVar(&maxEpochs, "max-epochs", 0, "cap every grade's epochs (and SGDL's) at this number: a smoke test of the budget's setup (0: no cap)")
	return cmd
}

// errNoData marks an experiment whose data are not on this machine.
var errNoData = errors.New("its data are not on this machine")

// printExperiments prints the table of --list.
func printExperiments(w io.Writer) {
	fmt.Fprintf(w, "%-13s %-6s %s\n", "experiment", "metric", "what (published MGDL final test / SGDL test)")
	for _, e := range repro.All() {
		p := e.Published
		mg, sg := math.NaN(), p.SGDLTest
		if n := len(p.MGDLTest); n > 0 {
			mg = p.MGDLTest[n-1]
		}
		fmt.Fprintf(w, "%-13s %-6s %s (%s / %s)\n", e.Name, e.Metric, e.Title, fmtPub(e.Metric, mg), fmtPub(e.Metric, sg))
	}
}

func fmtPub(m repro.Metric, v float64) string {
	switch {
	case math.IsNaN(v):
		return "not published"
	case m == repro.PSNR:
		return fmt.Sprintf("%.2f dB", v)
	}
	return fmt.Sprintf("%.3g", v)
}

// reproduceOne runs (or reads back, or continues) the three runs of e at
// budget b under oo.out/e.Name and returns their comparison.
func reproduceOne(ctx context.Context, cmd *cobra.Command, oo *outputOpts, e *repro.Experiment, b repro.Budget, maxEpochs int, withReport bool) (*repro.Result, error) {
	root := filepath.Join(oo.out, e.Name)
	src := e.Source(b)
	if name := e.Image[b]; name != "" {
		p, err := writeBuiltinImage(oo.out, name)
		if err != nil {
			return nil, err
		}
		src.File = p
	}
	if src.File == data.MNISTName {
		if _, err := data.MNISTDir(); err != nil {
			return nil, fmt.Errorf("%w: %v", errNoData, err)
		}
	}
	src, err := src.Resolve()
	if err != nil {
		return nil, err
	}
	loaded, err := src.Load()
	if err != nil {
		return nil, err
	}
	if err := src.Pin(); err != nil {
		return nil, err
	}
	scale := repro.Scale{TrainMeanSquare: meanSquare(loaded.Splits.Train), TestMeanSquare: meanSquare(loaded.Splits.Test)}
	runs := map[repro.Variant]repro.Figures{}
	dirs := map[repro.Variant]string{}
	var firstErr error
	for _, v := range repro.Variants {
		path := filepath.Join(root, string(v))
		dirs[v] = path
		fmt.Fprintf(cmd.ErrOrStderr(), "reproduce %s (%s budget): %s → %s\n", e.Name, b, strings.ToUpper(string(v)), path)
		sum, err := reproduceRun(ctx, cmd.ErrOrStderr(), oo, repro.CapEpochs(e.Config(b, v, src), maxEpochs), loaded, path)
		if sum != nil {
			runs[v] = repro.Measure(sum, e.Metric, scale)
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				return nil, interrupted(err, path, false)
			}
			if firstErr == nil {
				firstErr = fmt.Errorf("%s: %w", strings.ToUpper(string(v)), err)
			}
		}
	}
	res := repro.Compare(e, b, runs, dirs)
	if withReport && len(runs) > 0 {
		var dirsDone []string
		for _, v := range repro.Variants {
			if _, ok := runs[v]; ok {
				dirsDone = append(dirsDone, dirs[v])
			}
		}
		rs, err := rundir.ReadRuns(dirsDone...)
		if err == nil {
			_, err = report.Write(root, rs, report.Options{Title: e.Name + " (" + string(b) + " budget): " + e.Title})
		}
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("report: %w", err)
		}
	}
	return &res, firstErr
}

// reproduceRun trains cfg into path, or reads the run already there back
// (finished) or continues it (unfinished). A run there of another
// configuration is refused unless --replace.
func reproduceRun(ctx context.Context, log io.Writer, oo *outputOpts, cfg experiment.Config, loaded *data.Loaded, path string) (*rundir.Summary, error) {
	want := cfg
	if err := want.Resolve(loaded); err != nil {
		return nil, asUsage(err)
	}
	digest, err := want.ComputeDigest()
	if err != nil {
		return nil, err
	}
	if rundir.IsRun(path) && !oo.replace {
		have, err := experiment.ReadFile(filepath.Join(path, rundir.ConfigFile))
		if err != nil {
			return nil, err
		}
		if have.Digest != digest {
			return nil, usagef("%s holds a run of another configuration (another budget, or another mgdl version): give another --out, or --replace to train it again", path)
		}
		if sum, err := rundir.ReadSummary(path); err == nil && !sum.Running && sum.Error == "" && len(sum.Grades) == have.Trainer().MaxGrades() {
			fmt.Fprintf(log, "  finished already: read back\n")
			return sum, nil
		}
		dir, rcfg, ck, err := rundir.Resume(path)
		if err != nil {
			return nil, err
		}
		defer dir.Close()
		return trainOne(ctx, log, oo, rcfg, nil, func() (*rundir.Dir, error) { return dir, nil }, ck)
	}
	var dir *rundir.Dir
	create := func() (*rundir.Dir, error) {
		var err error
		dir, err = rundir.Create(path, rundir.CreateOptions{Replace: oo.replace, Inputs: cfg.Data.Files()})
		return dir, outError(err, false)
	}
	sum, err := trainLoaded(ctx, log, oo, cfg, loaded, nil, create, nil)
	if dir != nil {
		dir.Close()
	}
	return sum, err
}

// writeBuiltinImage writes the built-in photograph name to out/data/name (once)
// and returns its path.
func writeBuiltinImage(out, name string) (string, error) {
	b, err := examples.Image(name)
	if err != nil {
		return "", err
	}
	p := filepath.Join(out, "data", name)
	if have, err := os.ReadFile(p); err == nil && string(have) == string(b) {
		return p, nil
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return p, atomicfile.Write(p, b)
}

func meanSquare(d data.Dataset[float64]) float64 {
	if d.Y == nil || len(d.Y.Data) == 0 {
		return math.NaN()
	}
	var s float64
	for _, v := range d.Y.Data {
		s += v * v
	}
	return s / float64(len(d.Y.Data))
}

// readComparison reads the results already in dir/comparison.json (none
// when it is absent).
func readComparison(dir string) ([]repro.Result, error) {
	b, err := os.ReadFile(filepath.Join(dir, comparisonJSON))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var doc struct {
		Results []json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: %v (delete it and run again)", filepath.Join(dir, comparisonJSON), err)
	}
	// Only the names and budgets are needed again: the figures are read
	// back from the run folders when an experiment runs again, and kept
	// as written otherwise.
	var out []repro.Result
	for _, raw := range doc.Results {
		r, err := repro.DecodeResult(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %v (delete it and run again)", filepath.Join(dir, comparisonJSON), err)
		}
		out = append(out, r)
	}
	return out, nil
}

// mergeResult replaces the result of r's experiment and budget in rs, or
// adds it, keeping the papers' order.
func mergeResult(rs []repro.Result, r repro.Result) []repro.Result {
	rs = slices.DeleteFunc(rs, func(x repro.Result) bool { return x.Experiment == r.Experiment && x.Budget == r.Budget })
	rs = append(rs, r)
	order := map[string]int{}
	for i, e := range repro.All() {
		order[e.Name] = i
	}
	slices.SortStableFunc(rs, func(a, b repro.Result) int {
		if a.Budget != b.Budget {
			return strings.Compare(string(a.Budget), string(b.Budget))
		}
		return order[a.Experiment] - order[b.Experiment]
	})
	return rs
}

// writeComparison writes comparison.md and comparison.json.
func writeComparison(dir string, rs []repro.Result) error {
	var md strings.Builder
	if err := repro.WriteMarkdown(&md, rs); err != nil {
		return err
	}
	if err := atomicfile.Write(filepath.Join(dir, comparisonMD), []byte(md.String())); err != nil {
		return err
	}
	b, err := jsonfmt.Marshal(struct {
		Results []repro.Result `json:"results"`
	}{rs})
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, comparisonJSON), b)
}
