package main

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mgdl/mgdl/report"
	"github.com/mgdl/mgdl/rundir"
	"github.com/spf13/cobra"
)

func newReportCmd() *cobra.Command {
	var out, title string
	var noFiles bool
	cmd := &cobra.Command{
		Use:   "report RUN_DIR [RUN_DIR...]",
		Short: "Write a self-contained report.html (config, per-grade table, plots, timings) for one or more runs",
		Long: `report reads run folders written by 'mgdl train' or 'mgdl demo --out' and
writes one self-contained report.html: the configuration, a per-grade table
(train/validation/test RSE, time), and plots: RSE per grade (MGDL against
SGDL), training loss per grade, for 1-D problems the target and prediction
after each grade and the residual's spectrum after each grade, residual
norms for constructed models, and reconstructed images for image runs.
Images are inline, so the file can be mailed or opened offline; every plot
is also written as PNG and SVG under plots/.

Give one run folder, a folder holding run folders (as 'mgdl demo --out'
writes: mgdl/ and sgdl/), or several run folders to put side by side.`,
		Example: `  mgdl train --example spectral2 --epochs 300 --lr 1e-4 --out runs/mgdl
  mgdl report runs/mgdl                        # writes runs/mgdl/report.html
  mgdl demo --out runs/demo && mgdl report runs/demo
  mgdl report runs/mgdl runs/sgdl --out runs/compare`,
		Args: usageArgs(cobra.MinimumNArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			if out == "" {
				if len(args) > 1 {
					return usagef("several run folders: say where the report goes with --out DIR")
				}
				out = args[0]
			}
			if rundir.IsRun(out) && !slices.ContainsFunc(args, func(a string) bool { return filepath.Clean(a) == filepath.Clean(out) }) {
				return usagef("--out %s holds another run; its report is written by 'mgdl report %s': give a folder of its own", out, out)
			}
			runs, err := rundir.ReadRuns(args...)
			if err != nil {
				return err
			}
			path, err := report.Write(out, runs, report.Options{Title: title, NoFiles: noFiles})
			if err != nil {
				return err
			}
			labels := make([]string, len(runs))
			for i, r := range runs {
				labels[i] = r.Label()
				for _, w := range r.Warnings {
					fmt.Fprintf(cmd.ErrOrStderr(), "mgdl: warning: %s: %s\n", r.Dir, w)
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%s)\n", path, strings.Join(labels, ", "))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&out, "out", "", "folder for report.html and plots/ (default: the run folder, when there is one)")
	f.StringVar(&title, "title", "", "report title (default: the methods and the example)")
	f.BoolVar(&noFiles, "no-plot-files", false, "write only report.html, not plots/*.png and *.svg")
	return cmd
}

// usageArgs wraps a positional-argument check so that its errors are usage
// errors (exit code 2).
func usageArgs(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := check(cmd, args); err != nil {
			return usageError{err}
		}
		return nil
	}
}
