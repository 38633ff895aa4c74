package main

// mgdl construct: build the constructive multigrade scheme (package
// construct) for a library target or a samples file, check it with package
// verify on the coefficient points and on fresh points, and write the model
// and a JSON report.

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/mgdl/mgdl/construct"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/rundir"
	"github.com/mgdl/mgdl/tensor"
	"github.com/mgdl/mgdl/verify"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// pointsOpts choose the evaluation points: a library target on a grid plus
// fresh random points, or a samples file.
type pointsOpts struct {
	target, samples string
	box             string
	inputs, targets string
	points, fresh   int
	holdout         float64
	seed            uint64
}

func (o *pointsOpts) addFlags(f *pflag.FlagSet) {
	f.StringVar(&o.target, "target", "", "library target by name (see --list-targets), or a formula such as 'sin(10*x) + 0.3*x' in x, y, z, w (docs/CONSTRUCTIVE.md)")
	f.StringVar(&o.box, "box", "", "formula targets: the box as lo:hi,lo:hi,... (default the unit cube of the formula's variables)")
	f.StringVar(&o.samples, "samples", "", "samples file instead of --target: CSV/TSV with a header (last column the target), .npz (arrays x and y) or .npy")
	f.StringVar(&o.inputs, "inputs", "", "samples: input columns or array (default every non-target column, or x)")
	f.StringVar(&o.targets, "targets", "", "samples: target column or array (default the last column, or y)")
	f.IntVar(&o.points, "points", 0, "target: grid points per side (default 401, 41, 17, 9 for d = 1..4)")
	f.IntVar(&o.fresh, "fresh", 10000, "target: number of fresh uniform random points to check between the grid points (0: none)")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the fresh points")
}

// pointSet is one evaluation set.
type pointSet struct {
	name string
	x    *tensor.Dense[float64]
	y    []float64
}

// load returns the coefficient (or training) points, the fresh points (nil
// if none) and the target (zero Target for samples).
func (o *pointsOpts) load() (pointSet, *pointSet, construct.Target, error) {
	switch {
	case o.target == "" && o.samples == "":
		return pointSet{}, nil, construct.Target{}, usagef("give --target NAME or --samples FILE")
	case o.target != "" && o.samples != "":
		return pointSet{}, nil, construct.Target{}, usagef("give --target or --samples, not both")
	case o.points < 0 || o.fresh < 0:
		return pointSet{}, nil, construct.Target{}, usagef("--points and --fresh must not be negative")
	case !(o.holdout >= 0 && o.holdout < 1):
		return pointSet{}, nil, construct.Target{}, usagef("--holdout %v: want a fraction in [0, 1)", o.holdout)
	}
	if o.samples != "" {
		r, err := data.Read(o.samples, data.ReadOptions{Inputs: splitList(o.inputs), Targets: splitList(o.targets)})
		if err != nil {
			return pointSet{}, nil, construct.Target{}, asUsage(err)
		}
		if r.Set.X == nil || r.Set.Y == nil || r.Set.Y.Cols != 1 {
			return pointSet{}, nil, construct.Target{}, fmt.Errorf("%s: want a table or arrays of points with one target column", o.samples)
		}
		pts := pointSet{name: "sample points", x: r.Set.X, y: r.Set.Y.Data[:r.Set.Y.Rows]}
		if o.holdout == 0 {
			return pts, nil, construct.Target{}, nil
		}
		n := pts.x.Rows
		k := int(o.holdout * float64(n))
		if k == 0 || k == n {
			return pointSet{}, nil, construct.Target{}, usagef("--holdout %v of %d rows leaves an empty set", o.holdout, n)
		}
		perm := rand.New(rand.NewPCG(o.seed, 0x686f6c64)).Perm(n) // stream "hold"
		take := func(idx []int, name string) pointSet {
			s := pointSet{name: name, x: tensor.New[float64](len(idx), pts.x.Cols), y: make([]float64, len(idx))}
			for i, j := range idx {
				copy(s.x.Row(i), pts.x.Row(j))
				s.y[i] = pts.y[j]
			}
			return s
		}
		fresh := take(perm[:k], "held-out samples")
		return take(perm[k:], "sample points"), &fresh, construct.Target{}, nil
	}
	tg, err := o.parseTarget()
	if err != nil {
		return pointSet{}, nil, construct.Target{}, err
	}
	m := o.points
	if m == 0 {
		m = []int{0, 401, 41, 17, 9}[tg.Dim()]
	}
	if m < 2 {
		return pointSet{}, nil, construct.Target{}, usagef("--points %d: need at least 2 per side", m)
	}
	n := 1
	for range tg.Dim() {
		n *= m
		if n > 5_000_000 {
			return pointSet{}, nil, construct.Target{}, usagef("--points %d: %d^%d points is too many", m, m, tg.Dim())
		}
	}
	x := construct.Grid(tg.Box, m)
	pts := pointSet{name: "grid points", x: x, y: construct.Eval(tg.F, x)}
	if o.fresh == 0 {
		return pts, nil, tg, nil
	}
	// The points, their targets and the model's outputs on them.
	if err := limits.Check(fmt.Sprintf("--fresh %d: %d random points in %d dimensions", o.fresh, o.fresh, tg.Dim()), 8*4, int64(o.fresh), int64(tg.Dim()+1)); err != nil {
		return pointSet{}, nil, construct.Target{}, usageError{err}
	}
	xf := construct.RandomPoints(tg.Box, o.fresh, o.seed)
	return pts, &pointSet{name: "fresh points", x: xf, y: construct.Eval(tg.F, xf)}, tg, nil
}

// parseTarget resolves --target (a library name or a formula) and --box.
func (o *pointsOpts) parseTarget() (construct.Target, error) {
	var box *construct.Box
	if o.box != "" {
		b, err := construct.ParseBox(o.box)
		if err != nil {
			return construct.Target{}, usagef("--box: %v", err)
		}
		box = &b
	}
	tg, err := construct.ParseTarget(o.target, box)
	if err != nil {
		return construct.Target{}, usagef("--target: %v", err)
	}
	return tg, nil
}

// constructConfig is what a constructed model file records in Meta.Config.
type constructConfig struct {
	Target    string                 `json:"target,omitempty"`
	Box       *construct.Box         `json:"box,omitempty"`
	Certified bool                   `json:"certified,omitempty"`
	Cert      *construct.CertOptions `json:"cert_options,omitempty"`
	Samples   string                 `json:"samples,omitempty"`
	Points    int                    `json:"points"`
	Options   construct.Options      `json:"options"`
	LevelEnds []int                  `json:"level_ends"`
}

// constructReport is report.json.
type constructReport struct {
	Target      string            `json:"target,omitempty"`
	Certified   bool              `json:"certified,omitempty"`
	Description string            `json:"description,omitempty"`
	Samples     string            `json:"samples,omitempty"`
	Options     construct.Options `json:"options"`
	Stopped     string            `json:"stopped"`
	LimitNote   string            `json:"limit_note,omitempty"`
	Sup0        float64           `json:"sup0"`
	RMS0        float64           `json:"rms0"`
	Levels      []construct.Level `json:"levels"`
	NumGrades   int               `json:"num_grades"`
	Params      int               `json:"params"`
	BuildSec    float64           `json:"build_seconds"`
	Checks      []namedReport     `json:"checks"`
}

type namedReport struct {
	Points string         `json:"points"`
	Exact  bool           `json:"guarantee_exact"`
	Report *verify.Report `json:"report"`
}

func newConstructCmd() *cobra.Command {
	var (
		po                          pointsOpts
		variant, schedule, out, rep string
		levels, maxGrades, rows     int
		maxRefine                   int
		tol, minCoef                float64
		list, asJSON, replace       bool
		certify                     bool
		cert                        construct.CertOptions
	)
	cmd := &cobra.Command{
		Use:   "construct",
		Short: "Build the constructive multigrade ReLU scheme for a target and verify its guarantees",
		Long: `construct builds the fixed-width multigrade ReLU scheme of docs/CONSTRUCTIVE.md
(this project's realisation of arXiv 2601.16884's theorem, not the authors'
proof) for a library target on a grid, or for samples from a file, and checks
it with the same verifier as 'mgdl verify': on the points the coefficients were
computed on (where the guarantees are exact) and on fresh points between them.`,
		Example: `  mgdl construct --target sin10 --schedule dyadic --levels 6
  mgdl construct --target sin2d --levels 4 --variant B --out runs/sin2d
  mgdl construct --samples data.csv --tol 1e-3 --out runs/samples --json
  mgdl construct --target 'sin(2*pi*x)*cos(2*pi*y) + 0.5*(x-y)' --certify --levels 3
  mgdl construct --list-targets`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			if list {
				for _, t := range construct.Targets() {
					fmt.Fprintf(w, "%-10s d=%d  %-13s %s\n", t.Name, t.Dim(), t.Class, t.Description)
				}
				return nil
			}
			opt := construct.Options{Levels: levels, Tol: tol, MaxGrades: maxGrades, MinCoef: minCoef, MaxRefine: maxRefine}
			var err error
			if opt.Variant, err = construct.ParseVariant(variant); err != nil {
				return usagef("--variant: %v", err)
			}
			if opt.Schedule, err = construct.ParseSchedule(schedule); err != nil {
				return usagef("--schedule: %v", err)
			}
			if levels < 0 || !(tol >= 0) || maxGrades < 0 || !(minCoef >= 0) || maxRefine < 0 || math.IsInf(tol, 0) || math.IsInf(minCoef, 0) {
				return usagef("--levels, --max-grades and --max-refine must not be negative, --tol and --min-coef must be finite numbers ≥ 0")
			}
			if levels == 0 && tol == 0 {
				return usagef("give --levels N or --tol T")
			}
			if err := refuseOverwrite("--report", rep, po.samples, po.targets); err != nil {
				return err
			}
			if certify && po.target == "" {
				return usagef("--certify needs --target (a formula or a library target): samples have no values between the points to bound")
			}
			if !certify && (cert.Rho != 0 || cert.Margin != 0) {
				return usagef("--rho and --margin apply to --certify")
			}
			pts, fresh, tg, err := po.load()
			if err != nil {
				return err
			}
			switch {
			case tg.Name != "":
				opt.Box = tg.Box
			case fresh != nil: // held-out samples: the box of all of them
				all := tensor.New[float64](pts.x.Rows+fresh.x.Rows, pts.x.Cols)
				copy(all.Data, pts.x.Data)
				copy(all.Data[len(pts.x.Data):], fresh.x.Data)
				opt.Box = construct.BoundingBox(all)
			}
			t0 := time.Now()
			var res *construct.Result
			if certify {
				res, err = construct.BuildCertified(cmd.Context(), tg, opt, cert)
			} else {
				res, err = construct.Build(cmd.Context(), pts.x, pts.y, opt)
			}
			if err != nil {
				return err
			}
			name := tg.Name
			if name == "" {
				name = po.target
			}
			r := constructReport{
				Target: name, Description: tg.Description, Certified: certify, Samples: po.samples, Options: res.Options,
				Stopped: res.Stopped, LimitNote: res.LimitNote, Sup0: res.Sup0, RMS0: res.RMS0, Levels: res.Levels,
				NumGrades: len(res.Model.Grades), Params: res.Model.NumParams(), BuildSec: time.Since(t0).Seconds(),
			}
			vopt := verify.Options{LevelEnds: res.LevelEnds()}
			sets := []namedReport{}
			for i, s := range []*pointSet{&pts, fresh} {
				if s == nil {
					continue
				}
				vr, err := verify.Check(res.Model, s.x, tensor.FromSlice(len(s.y), 1, s.y), vopt)
				if err != nil {
					return err
				}
				sets = append(sets, namedReport{Points: s.name, Exact: i == 0 || certify, Report: vr})
			}
			r.Checks = sets
			if out != "" {
				dir, err := rundir.Create(out, rundir.CreateOptions{Replace: replace, Inputs: []string{po.samples, po.targets}})
				if err != nil {
					return outError(err, false)
				}
				defer dir.Close()
				cc := constructConfig{Target: name, Samples: po.samples, Points: pts.x.Rows, Options: res.Options, LevelEnds: res.LevelEnds(), Certified: certify}
				if tg.Name == "" && tg.Formula != nil {
					cc.Box = &tg.Box
				}
				if certify {
					cc.Cert = &cert
				}
				cfg, err := json.Marshal(cc)
				if err != nil {
					return err
				}
				lv, err := json.Marshal(res.Levels)
				if err != nil {
					return err
				}
				meta := modelfile.Meta{Method: "constructed", Config: cfg, Metrics: lv}
				if err := rundir.WriteModel(dir, res.Model, meta); err != nil {
					return err
				}
				if err := dir.WriteJSON(rundir.ConstructFile, r); err != nil {
					return err
				}
			}
			done, err := writeJSON(w, r, rep, asJSON)
			if done || err != nil {
				return err
			}
			return writeConstructTable(w, &r, rows)
		},
	}
	f := cmd.Flags()
	po.addFlags(f)
	f.Float64Var(&po.holdout, "holdout", 0, "samples: fraction of the rows (drawn with --seed) kept out of the coefficients and checked as fresh points")
	f.StringVar(&variant, "variant", "A", "A: one hat per grade (width d+4, d+1 hidden layers); B: one hidden layer per grade; C: one level per grade")
	f.StringVar(&schedule, "schedule", "adaptive", "mesh sizes: adaptive (largest h = 2^-j that halves the sup norm) or dyadic (h_k = 2^-(k+1))")
	f.IntVar(&levels, "levels", 0, "number of levels (at most, with --tol)")
	f.Float64Var(&tol, "tol", 0, "stop once the sup norm on the points is at most this")
	f.IntVar(&maxGrades, "max-grades", 200000, "stop before a level that would exceed this many grades (0: no limit)")
	f.IntVar(&maxRefine, "max-refine", 0, "adaptive: finest mesh tried, h = 2^-N (0: 30, less for large d)")
	f.Float64Var(&minCoef, "min-coef", 0, "drop hats with |coefficient| at most this (0: only exact zeros; dropping keeps the guarantees)")
	f.StringVar(&out, "out", "", "run folder for model.safetensors and report.json (it must not hold a run, unless --replace)")
	f.BoolVar(&replace, "replace", false, "discard the run already in --out")
	f.StringVar(&rep, "report", "", "also write the JSON report to this file")
	f.BoolVar(&asJSON, "json", false, "print the JSON report instead of the table")
	f.IntVar(&rows, "rows", 24, "grades listed per table (0: all)")
	f.BoolVar(&list, "list-targets", false, "list the library targets and exit")
	f.BoolVar(&certify, "certify", false, "certified coefficients: bound the target over each hat's whole support with interval arithmetic, so the guarantees hold at every point of the box, not only at the grid points")
	f.Float64Var(&cert.Rho, "rho", 0, "--certify: refine each bound until it is within this fraction of the sampled extreme (0: 1/16)")
	f.Float64Var(&cert.Margin, "margin", 0, "--certify: coefficients are (1 - margin) times their certified bound (0: 1/8; below 1/2)")
	return cmd
}

func writeConstructTable(w io.Writer, r *constructReport, rows int) error {
	name := r.Target
	if name == "" {
		name = r.Samples
	}
	stopped := r.Stopped
	if r.LimitNote != "" {
		stopped += " (" + r.LimitNote + ")"
	}
	kind := "constructed"
	if r.Certified {
		kind = "certified construction of"
	}
	fmt.Fprintf(w, "%s %s: variant %v, %v schedule, %d grades, %d parameters, stopped by %s, %.2fs\n",
		kind, name, r.Options.Variant, r.Options.Schedule, r.NumGrades, r.Params, stopped, r.BuildSec)
	supName := "sup"
	if r.Certified {
		supName = "sup bound"
	}
	fmt.Fprintf(w, "\n  %5s %10s %6s %8s %12s %12s\n", "level", "h", "hats", "grades", supName, "RMS")
	fmt.Fprintf(w, "  %5d %10s %6s %8d %12.4e %12.4e\n", 0, "", "", 0, r.Sup0, r.RMS0)
	for k, l := range r.Levels {
		fmt.Fprintf(w, "  %5d %10s %6d %8d %12.4e %12.4e\n", k+1, fmt.Sprintf("1/%g", 1/l.H), l.Hats, l.GradeEnd, l.Sup, l.RMS)
	}
	if r.Certified {
		fmt.Fprintf(w, "  (sup bound: certified upper bound of max|e| over the whole box; RMS over the grid nodes)\n")
	}
	for _, c := range r.Checks {
		title := c.Points
		if r.Certified {
			title += " (certified construction: the guarantees hold at every point)"
		} else if c.Exact {
			title += " (coefficients computed here: the guarantees are exact)"
		} else {
			title += " (between the coefficient points: no pointwise guarantee)"
		}
		fmt.Fprintln(w)
		if err := c.Report.WriteTable(w, strings.TrimSpace(title), rows); err != nil {
			return err
		}
	}
	return nil
}
