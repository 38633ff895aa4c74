package main

// mgdl verify: check the residuals of any saved model (constructed or
// trained) grade by grade with package verify.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/mgdl/mgdl/construct"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/rundir"
	"github.com/mgdl/mgdl/tensor"
	"github.com/mgdl/mgdl/verify"
	"github.com/spf13/cobra"
)

func newVerifyCmd() *cobra.Command {
	var (
		po                  pointsOpts
		model, example, rep string
		dataSeed            uint64
		dataRNG             string
		rows                int
		tol                 float64
		asJSON              bool
		certify             bool
		maxBoxes            int
		certTime            time.Duration
		rho                 float64
	)
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Check a model's residuals grade by grade: pointwise decrease, sign flips, L^p decay",
		Long: `verify evaluates a saved model (constructed or trained) grade by grade on an
evaluation set and reports, for every grade l, max(|e_l| - |e_{l-1}|), the
number of points where it is positive beyond round-off, sign flips, the L1, L2
and L∞ norms of the residual, whether the grade is nontrivial and whether L1
and L2 fell strictly, and the sup norm per level. The constructive scheme
guarantees these on its coefficient points; training does not.

Points: a library target (--target: a grid and fresh random points), a samples
file (--samples), or a synthetic example (--example: its training set and its
test set). A model saved with standardisation is checked in its own
(standardised) units.`,
		Example: `  mgdl construct --target sin10 --levels 6 --out runs/c && mgdl verify --model runs/c --target sin10
  mgdl train --example spectral2 --epochs 300 --out runs/t && mgdl verify --model runs/t --example spectral2
  mgdl verify --model runs/t/model.safetensors --samples points.csv --json
  mgdl verify --model runs/c --target sin10 --certify`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if model == "" {
				return usagef("--model PATH is required (a model file or a run folder)")
			}
			if tol < 0 {
				return usagef("--tol must not be negative")
			}
			n := 0
			for _, s := range []string{po.target, po.samples, example} {
				if s != "" {
					n++
				}
			}
			if n != 1 {
				return usagef("give exactly one of --target, --samples and --example")
			}
			if err := refuseOverwrite("--report", rep, model, po.samples, po.targets); err != nil {
				return err
			}
			if certify && po.target == "" {
				return usagef("--certify needs --target (a formula or a library target): it bounds the target over boxes")
			}
			if maxBoxes < 0 || certTime < 0 {
				return usagef("--max-boxes and --time must not be negative")
			}
			if !(rho >= 0 && rho <= 1) {
				return usagef("--rho is %v; need 0 ≤ rho ≤ 1", rho)
			}
			f, err := rundir.OpenModel(model)
			if err != nil {
				return err
			}
			m := modelfile.Model[float64](f)
			if certify {
				return runCertify(cmd, model, f.Meta, m, &po, certOpts{tol: tol, maxBoxes: maxBoxes, rho: rho, time: certTime, report: rep, json: asJSON, rows: rows})
			}
			var sets []pointSet
			if example != "" {
				ex, err := data.Lookup(example)
				if err != nil {
					return usageError{err}
				}
				rng, err := data.ParseRNG(dataRNG)
				if err != nil {
					return usagef("--data-rng: %v", err)
				}
				s, err := data.GenerateWith[float64](ex, dataSeed, rng)
				if err != nil {
					return usageError{err}
				}
				sets = append(sets, pointSet{name: "training points", x: s.Train.X, y: s.Train.Y.Raw()})
				if s.Test.Len() > 0 {
					sets = append(sets, pointSet{name: "test points", x: s.Test.X, y: s.Test.Y.Raw()})
				}
			} else {
				pts, fresh, _, err := po.load()
				if err != nil {
					return err
				}
				sets = append(sets, pts)
				if fresh != nil {
					sets = append(sets, *fresh)
				}
			}
			vopt := verify.Options{Tol: tol}
			if f.Meta.Method == "constructed" {
				var cc constructConfig
				if json.Unmarshal(f.Meta.Config, &cc) == nil && len(cc.LevelEnds) > 0 && cc.LevelEnds[len(cc.LevelEnds)-1] <= len(m.Grades) {
					vopt.LevelEnds = cc.LevelEnds
				}
			}
			var reports []namedReport
			for _, s := range sets {
				vr, err := checkSet(m, f.Meta.Normalization, s, vopt)
				if err != nil {
					return err
				}
				reports = append(reports, namedReport{Points: s.name, Report: vr})
			}
			out := struct {
				Model  string        `json:"model"`
				Method string        `json:"method,omitempty"`
				Checks []namedReport `json:"checks"`
			}{model, f.Meta.Method, reports}
			w := cmd.OutOrStdout()
			done, err := writeJSON(w, out, rep, asJSON)
			if done || err != nil {
				return err
			}
			method := f.Meta.Method
			if method == "" {
				method = "unknown method"
			}
			fmt.Fprintf(w, "model %s (%s): %d grades, %d parameters\n", model, method, len(m.Grades), m.NumParams())
			for _, r := range reports {
				fmt.Fprintln(w)
				if err := r.Report.WriteTable(w, r.Points, rows); err != nil {
					return err
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	po.addFlags(f)
	f.StringVar(&model, "model", "", "model file (.safetensors) or run folder holding model.safetensors")
	f.StringVar(&example, "example", "", "synthetic example: check on its training and test sets")
	f.Uint64Var(&dataSeed, "data-seed", 1, "--example: seed of the synthetic data (as in mgdl train)")
	f.StringVar(&dataRNG, "data-rng", "pcg", "--example: random streams of the synthetic data, pcg or numpy (as in mgdl train)")
	f.Float64Var(&tol, "tol", 0, "round-off allowance for violations and sign flips (0: 1e-12·max|y|)")
	f.StringVar(&rep, "report", "", "also write the JSON report to this file")
	f.BoolVar(&asJSON, "json", false, "print the JSON report instead of the table")
	f.IntVar(&rows, "rows", 24, "grades listed per table (0: all)")
	f.BoolVar(&certify, "certify", false, "prove or refute the properties at every point of the target's box (branch and bound with interval arithmetic) instead of checking points")
	f.IntVar(&maxBoxes, "max-boxes", 0, "--certify: budget of boxes for the pointwise proof (0: 50000000)")
	f.Float64Var(&rho, "rho", 0, "--certify: refine each certified sup bound until it is within a factor 1+rho of the largest value seen (0: 1/16)")
	f.DurationVar(&certTime, "time", 10*time.Minute, "--certify: time limit; grades still open then are undecided (0: none)")
	return cmd
}

type certOpts struct {
	tol      float64
	maxBoxes int
	rho      float64
	time     time.Duration
	report   string
	json     bool
	rows     int
}

// runCertify is verify --certify.
func runCertify(cmd *cobra.Command, path string, meta modelfile.Meta, m *model.Model[float64], po *pointsOpts, o certOpts) error {
	tg, err := po.parseTarget()
	if err != nil {
		return err
	}
	if meta.Normalization != nil && (meta.Normalization.Inputs != nil || meta.Normalization.Targets != nil) {
		return fmt.Errorf("%s: the model was trained on standardised data; --certify needs a model that reads and predicts the target's own units", path)
	}
	if m.InDim() != tg.Dim() {
		return fmt.Errorf("%s reads %d inputs but the target has %d variables", path, m.InDim(), tg.Dim())
	}
	if m.OutDim() != 1 {
		return fmt.Errorf("%s has %d outputs; --certify needs one", path, m.OutDim())
	}
	opt := verify.CertifyOptions{Lo: tg.Box.Lo, Hi: tg.Box.Hi, Tol: o.tol, MaxBoxes: o.maxBoxes, Rho: o.rho}
	if n, err := cmd.Flags().GetInt("threads"); err == nil {
		opt.Workers = n // 0: one per core
	}
	if meta.Method == "constructed" {
		var cc constructConfig
		if json.Unmarshal(meta.Config, &cc) == nil && len(cc.LevelEnds) > 0 && cc.LevelEnds[len(cc.LevelEnds)-1] <= len(m.Grades) {
			opt.LevelEnds = cc.LevelEnds
		}
	}
	ctx := cmd.Context()
	if o.time > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.time)
		defer cancel()
	}
	r, err := verify.Certify(ctx, m, tg.Formula, opt)
	if err != nil {
		return err
	}
	name := tg.Name
	if name == "" {
		name = po.target
	}
	out := struct {
		Model   string             `json:"model"`
		Method  string             `json:"method,omitempty"`
		Target  string             `json:"target"`
		Box     construct.Box      `json:"box"`
		Certify *verify.CertReport `json:"certify"`
	}{path, meta.Method, name, tg.Box, r}
	w := cmd.OutOrStdout()
	done, err := writeJSON(w, out, o.report, o.json)
	if done || err != nil {
		return err
	}
	fmt.Fprintf(w, "model %s: %d grades, certified against %s on %v\n\n", path, len(m.Grades), name, tg.Box)
	return r.WriteTable(w, o.rows)
}

// checkSet runs verify.Check on one point set, in the model's units.
func checkSet(m *model.Model[float64], norm *data.Normalization, s pointSet, opt verify.Options) (*verify.Report, error) {
	x := s.x
	y := tensor.FromSlice(len(s.y), 1, append([]float64(nil), s.y...))
	if m.OutDim() != 1 {
		if len(s.y)%m.OutDim() != 0 || len(s.y)/m.OutDim() != x.Rows {
			return nil, fmt.Errorf("%s: %d target values for %d points, but the model has %d outputs", s.name, len(s.y), x.Rows, m.OutDim())
		}
		y = tensor.FromSlice(x.Rows, m.OutDim(), y.Data)
	}
	if x.Cols != m.InDim() {
		return nil, fmt.Errorf("%s have %d coordinates but the model reads %d", s.name, x.Cols, m.InDim())
	}
	if norm != nil {
		if norm.Inputs != nil {
			x = x.Clone()
			data.Apply(norm.Inputs, x)
		}
		if norm.Targets != nil {
			data.Apply(norm.Targets, y)
		}
	}
	r, err := verify.Check(m, x, y, opt)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", s.name, strings.TrimPrefix(err.Error(), "verify: "))
	}
	return r, nil
}
