package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/experiment"
	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/rundir"
	"github.com/spf13/cobra"
)

// demoGrade is the demo's budget for every grade: 400 epochs with the rate
// decaying from 1e-3 to 1e-4 (2 to 6 minutes for both runs on 2 cores).
func demoGrade() experiment.Config {
	c := experiment.Default()
	c.Data = data.Source{Example: "spectral2", Seed: 1}
	c.Grades = experiment.Paper("spectral2")
	for l := range c.Grades {
		c.Grades[l].Epochs = 400
		c.Grades[l].LR = optim.ExpDecay(1e-3, 1e-4)
	}
	return c
}

func newDemoCmd() *cobra.Command {
	var rf runFlags
	var oo outputOpts
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run MGDL and SGDL side by side on spectral setting 2 (a few minutes)",
		Long: `demo trains MGDL (4 grades) and SGDL (the same hidden layers in one network)
on the papers' spectral-bias setting 2, a sum of 20 sines of frequency 10..200
with decaying amplitudes, and prints per-grade train and test RSE, seconds,
and the ratio of SGDL's test RSE to MGDL's. The default budget, 400 epochs per
grade, takes 2 to 6 minutes on 2 cores, depending on the machine; --epochs 100
gives a quicker, rougher look, more epochs the papers' accuracy.
With --out DIR both runs are kept, as DIR/mgdl and DIR/sgdl, for 'mgdl report'.`,
		Example: `  mgdl demo
  mgdl demo --epochs 300 --lr 1e-4 --out runs/demo   # the calibration setting of the docs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			base, err := rf.base(demoGrade())
			if err != nil {
				return err
			}
			if err := rf.applyRun(&base); err != nil {
				return err
			}
			src, err := base.Data.Resolve()
			if err != nil {
				return asUsage(err)
			}
			base.Data = src
			loaded, err := src.Load()
			if err != nil {
				return err
			}
			// Resolved here for the banner; each run resolves its copy again
			// (which changes nothing).
			if err := base.Resolve(loaded); err != nil {
				return asUsage(err)
			}
			if err := rf.applyGrades(&base); err != nil {
				return err
			}
			if oo.out != "" {
				// Refuse before minutes of training, not after the first run.
				for _, m := range []string{"mgdl", "sgdl"} {
					if err := rundir.CheckCreate(filepath.Join(oo.out, m), rundir.CreateOptions{Replace: oo.replace}); err != nil {
						return outError(err, false)
					}
				}
			}
			w := cmd.OutOrStdout()
			if ex, err := data.Lookup(src.Example); err == nil {
				fmt.Fprintf(w, "MGDL vs SGDL on %s\n  %s\n", ex.Name, ex.Description)
			} else {
				fmt.Fprintf(w, "MGDL vs SGDL on %s\n", filepath.Base(src.File))
			}
			fmt.Fprintf(w, "  MGDL: %d grades of %s epochs, then SGDL: %d epochs (the progress on stderr gives the time left per grade)\n\n",
				len(base.Grades), gradeEpochs(base), base.Trainer().Grades[0].Epochs)
			if oo.out != "" {
				if err := os.MkdirAll(oo.out, 0o755); err != nil {
					return fmt.Errorf("cannot create output folder: %w", err)
				}
			}
			var sums [2]*rundir.Summary
			for i, method := range []experiment.Method{experiment.MGDL, experiment.SGDL} {
				cfg := base
				cfg.Method, cfg.Grades = method, slices.Clone(base.Grades)
				var dir *rundir.Dir
				create := func() (*rundir.Dir, error) {
					if oo.out == "" {
						return nil, nil
					}
					var err error
					dir, err = rundir.Create(filepath.Join(oo.out, string(method)), rundir.CreateOptions{Replace: oo.replace})
					return dir, outError(err, false)
				}
				s, err := trainLoaded(cmd.Context(), cmd.ErrOrStderr(), &oo, cfg, loaded, &rf, create, nil)
				if dir != nil {
					err = interrupted(err, dir.Path(), false)
				}
				dir.Close()
				if s != nil {
					sums[i] = s
					printTable(w, s)
					fmt.Fprintf(w, "  total %.1f s\n\n", s.TotalSeconds)
				}
				if err != nil {
					return err
				}
			}
			m, s := sums[0].Final().TestRSE, sums[1].Final().TestRSE
			if m == nil || s == nil {
				return nil
			}
			ratio := *s / *m
			fmt.Fprintf(w, "test RSE: MGDL %.4g, SGDL %.4g; SGDL/MGDL = %.3g", *m, *s, ratio)
			if ratio > 1 && !math.IsInf(ratio, 0) {
				fmt.Fprintf(w, " (MGDL better)\n")
			} else {
				fmt.Fprintf(w, "\n")
			}
			if oo.out != "" {
				fmt.Fprintf(w, "wrote %s and %s; see them with: mgdl report %s\n", filepath.Join(oo.out, "mgdl"), filepath.Join(oo.out, "sgdl"), oo.out)
			}
			return nil
		},
	}
	f := cmd.Flags()
	rf.addFlags(f, false, demoGrade().Grades[0])
	oo.addFlags(f, "also keep both runs, as run folders mgdl/ and sgdl/ under this folder")
	return cmd
}

// gradeEpochs writes the grades' epoch budgets: one number when they agree.
func gradeEpochs(c experiment.Config) string {
	var e []string
	same := true
	for _, g := range c.Grades {
		e = append(e, strconv.Itoa(g.Epochs))
		same = same && g.Epochs == c.Grades[0].Epochs
	}
	if same && len(e) > 0 {
		return e[0]
	}
	return strings.Join(e, ", ")
}
