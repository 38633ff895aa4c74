package main

import (
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/spf13/cobra"
)

func newDemoCmd() *cobra.Command {
	o := &trainOpts{}
	var out string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run MGDL and SGDL side by side on spectral setting 2 (about two minutes)",
		Long: `demo trains MGDL (4 grades) and SGDL (the same hidden layers in one network)
on the papers' spectral-bias setting 2, a sum of 20 sines of frequency 10..200
with decaying amplitudes, and prints per-grade train and test RSE, seconds,
and the ratio of SGDL's test RSE to MGDL's. The default budget finishes in
about two minutes on 2 cores; raise --epochs for the papers' accuracy.`,
		Example: `  mgdl demo
  mgdl demo --epochs 300 --lr 1e-4 --out runs/demo   # the calibration setting of the docs`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applyConfigFile(cmd); err != nil {
				return err
			}
			ex, _ := data.Lookup("spectral2")
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "MGDL vs SGDL on %s\n  %s\n\n", ex.Name, ex.Description)
			var sums [2]*mgdl.Summary
			for i, method := range []string{"mgdl", "sgdl"} {
				o.method = method
				cfg, err := o.config(ex, func(string) bool { return true })
				if err != nil {
					return usageError{err}
				}
				if out != "" {
					o.out = filepath.Join(out, method)
					if err := os.MkdirAll(o.out, 0o755); err != nil {
						return err
					}
					if err := writeRunConfig(cmd, o.out, cfg); err != nil {
						return err
					}
				}
				s, err := o.run(cmd.Context(), cfg, ex, cmd.ErrOrStderr())
				if s != nil {
					sums[i] = s
					title := map[string]string{"mgdl": "MGDL", "sgdl": "SGDL"}[method]
					printTable(w, title, s)
					fmt.Fprintf(w, "  total %.1f s\n\n", s.TotalSeconds)
					if out != "" {
						if err := os.MkdirAll(filepath.Join(out, method), 0o755); err != nil {
							return err
						}
						if err := s.WriteJSON(filepath.Join(out, method, "summary.json")); err != nil {
							return err
						}
					}
				}
				if err != nil {
					return err
				}
			}
			m, s := sums[0].Final().TestRSE, sums[1].Final().TestRSE
			ratio := *s / *m
			fmt.Fprintf(w, "test RSE: MGDL %.4g, SGDL %.4g; SGDL/MGDL = %.3g", *m, *s, ratio)
			if ratio > 1 && !math.IsInf(ratio, 0) {
				fmt.Fprintf(w, " (MGDL better)\n")
			} else {
				fmt.Fprintf(w, "\n")
			}
			return nil
		},
	}
	f := cmd.Flags()
	o.addFlags(f)
	f.StringVar(&out, "out", "", "also write mgdl/summary.json and sgdl/summary.json under this folder")
	// The demo budget: 400 epochs per grade, lr decaying 1e-3 → 1e-4.
	for name, v := range map[string]string{"epochs": "400", "lr-min": "1e-4"} {
		f.Lookup(name).DefValue = v
		// Value.Set, not f.Set: the flag stays unchanged, so --config can set it.
		if err := f.Lookup(name).Value.Set(v); err != nil {
			panic(err)
		}
	}
	return cmd
}
