package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/internal/atomicfile"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/tensor"
	"github.com/spf13/cobra"
)

// The workloads of mgdl bench. They are those of bench/torch_step.py, which
// times the same ones in PyTorch (bench/README.md).
var (
	benchStepWidths  = []int{1, 256, 256, 256, 1} // reference MLP, full batch
	benchStepN       = 4096
	benchEpochWidths = []int{256, 256, 256, 1} // one grade on cached features
	benchEpochN      = 6000
	benchEpochBatch  = 256
	benchLR          = 1e-4
)

type benchOpts struct {
	quick    bool
	repeat   int
	jsonPath string
	backends string
	stepOnly bool // hidden: only the training step and the grade epoch
	// openblasRest is how long to wait after OpenBLAS products before timing
	// another backend: idle OpenBLAS threads keep polling the cores (with
	// sched_yield) for 2^28 cycles, about 70 ms, after a product.
	openblasRest time.Duration
}

// benchReport is what --json writes.
type benchReport struct {
	Version     string            `json:"version"`
	Go          string            `json:"go"`
	Platform    string            `json:"platform"`
	CPUs        int               `json:"cpus"`
	GOMAXPROCS  int               `json:"gomaxprocs"`
	Repeat      int               `json:"repeat"`
	Quick       bool              `json:"quick"`
	Backends    []benchBackend    `json:"backends"`
	Unavailable map[string]string `json:"unavailable,omitempty"`
	GEMM        []benchGEMM       `json:"gemm,omitempty"`
	Step        []benchTime       `json:"step"`
	Epoch       []benchTime       `json:"epoch"`
	StepDesc    string            `json:"step_desc"`
	EpochDesc   string            `json:"epoch_desc"`
}

type benchBackend struct {
	Name string `json:"name"`
	Info string `json:"info"`
}

type benchGEMM struct {
	Backend string  `json:"backend"`
	DType   string  `json:"dtype"`
	Shape   string  `json:"shape"`
	Layout  string  `json:"layout"`
	M       int     `json:"m"`
	N       int     `json:"n"`
	K       int     `json:"k"`
	Ms      float64 `json:"ms"`
	GFLOPS  float64 `json:"gflops"`
}

type benchTime struct {
	Backend string  `json:"backend"`
	DType   string  `json:"dtype"`
	Ms      float64 `json:"ms"`
}

func newBenchCmd() *cobra.Command {
	o := &benchOpts{openblasRest: 80 * time.Millisecond}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Time the matrix backends: GEMM GFLOP/s, a training step and a grade epoch",
		Long: `bench times, in one run, every available matrix backend (go, openblas when
it loads, gonum) for float64 and float32:

  - GEMM GFLOP/s at the MLP shapes (batch 256, 1024, 4096 × width 64, 256,
    512; the layouts of the forward pass X·W and of the backward pass Xᵀ·dY
    and dY·Wᵀ) and at 2048²;
  - one training step of the reference MLP 1→256→256→256→1 (ReLU, MSE,
    Adam, full batch N=4096), in ms;
  - one MGDL grade epoch at the papers' size: grade [256,256,256,1] on
    256-wide cached features, N=6000, batch 256 (24 Adam steps), in ms.

Every figure is the best of --repeat runs after a warm-up; the backends take
turns, so they see the same machine state. Timings on a shared machine are
noisy: compare figures of one run. bench/compare.sh sets them against
PyTorch. --threads applies to every backend.`,
		Example: `  mgdl bench
  mgdl bench --quick
  mgdl bench --repeat 10 --json bench.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseOverwrite("--json", o.jsonPath); err != nil {
				return err
			}
			if o.repeat < 1 {
				return usagef("--repeat %d: must be at least 1", o.repeat)
			}
			threads := 0
			if f := cmd.Flag("threads"); f != nil {
				fmt.Sscan(f.Value.String(), &threads)
			}
			return runBench(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o, threads)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.quick, "quick", false, "fewer shapes and repeats (a few seconds)")
	f.IntVar(&o.repeat, "repeat", 5, "timed runs per figure, after a warm-up; the best is kept")
	f.StringVar(&o.jsonPath, "json", "", "also write the figures as JSON to this file (- for stdout, the table then goes to stderr)")
	f.StringVar(&o.backends, "backends", "", "comma-separated backends to time (default: go, openblas if it loads, gonum)")
	f.BoolVar(&o.stepOnly, "step", false, "time only the training step and the grade epoch")
	_ = f.MarkHidden("step")
	return cmd
}

// benchBackends returns the backends to time, and why the ones asked for
// (or, by default, openblas) are unavailable.
func benchBackends(list string) ([]tensor.Backend, map[string]string, error) {
	names := []string{"go", "openblas", "gonum"}
	explicit := strings.TrimSpace(list) != ""
	if explicit {
		names = nil
		for _, n := range strings.Split(list, ",") {
			if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
				names = append(names, n)
			}
		}
	}
	var bes []tensor.Backend
	unavailable := map[string]string{}
	seen := map[string]bool{}
	for _, n := range names {
		be, err := tensor.LookupBackend(n)
		if err != nil {
			if explicit && !strings.Contains(err.Error(), "unavailable") {
				return nil, nil, usagef("--backends: %v", err)
			}
			unavailable[n] = err.Error()
			continue
		}
		if seen[be.Name()] {
			continue
		}
		seen[be.Name()] = true
		bes = append(bes, be)
	}
	if len(bes) == 0 {
		return nil, nil, usagef("--backends %q: no backend available", list)
	}
	return bes, unavailable, nil
}

// benchSwitcher makes backends current in turn and lets the previous one's
// threads go quiet first.
type benchSwitcher struct {
	cur  tensor.Backend
	rest time.Duration
}

func (s *benchSwitcher) use(be tensor.Backend) {
	if s.cur == be {
		return
	}
	if s.cur != nil {
		if c, ok := s.cur.(interface{ Close() }); ok {
			c.Close() // park the pure-Go workers
		}
		if s.cur.Name() == "openblas" {
			time.Sleep(s.rest)
		}
	}
	tensor.SetBackend(be)
	s.cur = be
}

func runBench(ctx context.Context, stdout, stderr io.Writer, o *benchOpts, threads int) error {
	bes, unavailable, err := benchBackends(o.backends)
	if err != nil {
		return err
	}
	prev := tensor.CurrentBackend()
	defer tensor.SetBackend(prev)
	if threads > 0 {
		for _, be := range bes {
			tensor.SetBackendThreads(be, threads)
		}
	}
	repeat := o.repeat
	w := stdout
	if o.jsonPath == "-" {
		w = stderr
	}
	rep := &benchReport{
		Version: mgdl.Version, Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH,
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), Repeat: repeat, Quick: o.quick,
		Unavailable: unavailable,
		StepDesc: fmt.Sprintf("one full-batch training step, MLP %s (ReLU, MSE, Adam), N=%d",
			benchJoin(benchStepWidths, "→"), benchStepN),
		EpochDesc: fmt.Sprintf("one MGDL grade epoch, grade [%s] on %d-wide cached features, N=%d, batch %d (%d Adam steps)",
			benchJoin(benchEpochWidths, ","), benchEpochWidths[0], benchEpochN, benchEpochBatch, (benchEpochN+benchEpochBatch-1)/benchEpochBatch),
	}
	fmt.Fprintf(w, "mgdl %s, %s %s, %d CPUs (GOMAXPROCS %d); best of %d after a warm-up\n",
		mgdl.Version, rep.Go, rep.Platform, rep.CPUs, rep.GOMAXPROCS, repeat)
	for _, be := range bes {
		rep.Backends = append(rep.Backends, benchBackend{Name: be.Name(), Info: be.Info()})
		fmt.Fprintf(w, "  %-9s %s\n", be.Name(), be.Info())
	}
	for _, n := range sortedKeys(unavailable) {
		fmt.Fprintf(w, "  %-9s unavailable: %s\n", n, unavailable[n])
	}
	sw := &benchSwitcher{rest: o.openblasRest}
	if o.quick {
		sw.rest = 20 * time.Millisecond
	}
	defer sw.use(prev)

	if !o.stepOnly {
		g, err := benchGEMMs(ctx, sw, bes, o.quick, repeat)
		if err != nil {
			return err
		}
		rep.GEMM = g
		printGEMM(w, bes, g)
	}
	if rep.Step, rep.Epoch, err = benchTraining(ctx, sw, bes, o.quick, repeat); err != nil {
		return err
	}
	printTraining(w, rep)

	if o.jsonPath == "" {
		return nil
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if o.jsonPath == "-" {
		_, err = stdout.Write(b)
		return err
	}
	return atomicfile.Write(o.jsonPath, b)
}

func benchJoin(ws []int, sep string) string {
	s := make([]string, len(ws))
	for i, v := range ws {
		s[i] = fmt.Sprint(v)
	}
	return strings.Join(s, sep)
}

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// gemmCase is one product of the GEMM table.
type gemmCase struct {
	shape, layout string
	tA, tB        bool
	m, n, k       int
}

func gemmCases(quick bool) []gemmCase {
	batches, widths, square := []int{256, 1024, 4096}, []int{64, 256, 512}, 2048
	if quick {
		batches, widths, square = []int{256}, []int{64, 256}, 512
	}
	var cs []gemmCase
	for _, b := range batches {
		for _, wd := range widths {
			shape := fmt.Sprintf("%d×%d", b, wd)
			cs = append(cs,
				gemmCase{shape, "X·W", false, false, b, wd, wd},
				gemmCase{shape, "Xᵀ·dY", true, false, wd, wd, b},
				gemmCase{shape, "dY·Wᵀ", false, true, b, wd, wd},
			)
		}
	}
	return append(cs, gemmCase{fmt.Sprintf("%d²", square), "A·B", false, false, square, square, square})
}

// benchGEMMs times every case for every backend and both dtypes. For each
// case and dtype the backends take turns (who goes first rotates), each
// timing a warm-up and then repeat samples back to back, so all backends
// see the machine within a second of each other. A sample repeats the
// product for at least minSample and counts the mean; a backend stops
// sampling a case after budget, with at least one sample.
func benchGEMMs(ctx context.Context, sw *benchSwitcher, bes []tensor.Backend, quick bool, repeat int) ([]benchGEMM, error) {
	minSample, budget := 2*time.Millisecond, 500*time.Millisecond
	if quick {
		minSample, budget = 300*time.Microsecond, 100*time.Millisecond
	}
	var out []benchGEMM
	for ci, c := range gemmCases(quick) {
		for di, dt := range []string{"float64", "float32"} {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var run func()
			if dt == "float64" {
				run = gemmRunner[float64](c)
			} else {
				run = gemmRunner[float32](c)
			}
			best := make([]time.Duration, len(bes))
			for i := range bes {
				bi := (i + 2*ci + di) % len(bes) // rotate who goes first
				sw.use(bes[bi])
				t0 := time.Now()
				run() // warm-up
				for r := 0; r < repeat && (r == 0 || time.Since(t0) < budget); r++ {
					if d := sampleMean(run, minSample); best[bi] == 0 || d < best[bi] {
						best[bi] = d
					}
				}
			}
			flop := 2 * float64(c.m) * float64(c.n) * float64(c.k)
			for i, be := range bes {
				out = append(out, benchGEMM{Backend: be.Name(), DType: dt, Shape: c.shape, Layout: c.layout,
					M: c.m, N: c.n, K: c.k, Ms: ms(best[i]), GFLOPS: flop / best[i].Seconds() / 1e9})
			}
		}
	}
	return out, nil
}

// sampleMean runs f until min has passed (at least once) and returns the mean
// time of one run.
func sampleMean(f func(), min time.Duration) time.Duration {
	t0 := time.Now()
	n := 0
	for {
		f()
		n++
		if d := time.Since(t0); d >= min {
			return d / time.Duration(n)
		}
	}
}

func gemmRunner[T tensor.Float](c gemmCase) func() {
	rng := rand.New(rand.NewPCG(1, 2))
	fill := func(r, cl int) *tensor.Dense[T] {
		d := tensor.New[T](r, cl)
		for i := range d.Data {
			d.Data[i] = T(2*rng.Float64() - 1)
		}
		return d
	}
	ar, ac := c.m, c.k
	if c.tA {
		ar, ac = ac, ar
	}
	br, bc := c.k, c.n
	if c.tB {
		br, bc = bc, br
	}
	a, b, out := fill(ar, ac), fill(br, bc), tensor.New[T](c.m, c.n)
	return func() { tensor.Mul(c.tA, c.tB, 1, a, b, 0, out) }
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }

// trainCase is one (backend, dtype) of the training timings.
type trainCase struct {
	be          tensor.Backend
	dtype       string
	step, epoch func()
	bestStep    time.Duration
	bestEpoch   time.Duration
}

// benchTraining times the training step and the grade epoch. Round 0 warms
// up; then, in every round, every backend (in rotating order) runs one timed
// step and one timed epoch per dtype.
func benchTraining(ctx context.Context, sw *benchSwitcher, bes []tensor.Backend, quick bool, repeat int) (step, epoch []benchTime, err error) {
	var cases []*trainCase
	for _, be := range bes {
		for _, dt := range []string{"float64", "float32"} {
			c := &trainCase{be: be, dtype: dt}
			if dt == "float64" {
				c.step, c.epoch = trainRunners[float64]()
			} else {
				c.step, c.epoch = trainRunners[float32]()
			}
			cases = append(cases, c)
		}
	}
	rounds := repeat
	if quick {
		rounds = min(repeat, 2)
	}
	timeIt := func(f func(), best *time.Duration) {
		t0 := time.Now()
		f()
		if d := time.Since(t0); *best == 0 || d < *best {
			*best = d
		}
	}
	for r := 0; r <= rounds; r++ {
		for i := range bes {
			bi := (i + r) % len(bes)
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			sw.use(bes[bi])
			if r > 0 {
				// the first product after a switch starts the workers
				cases[2*bi].step()
			}
			for _, c := range cases[2*bi : 2*bi+2] {
				if r == 0 { // warm-up: buffers, workers, caches
					c.step()
					c.epoch()
					continue
				}
				timeIt(c.step, &c.bestStep)
				timeIt(c.epoch, &c.bestEpoch)
			}
		}
	}
	for _, c := range cases {
		step = append(step, benchTime{Backend: c.be.Name(), DType: c.dtype, Ms: ms(c.bestStep)})
		epoch = append(epoch, benchTime{Backend: c.be.Name(), DType: c.dtype, Ms: ms(c.bestEpoch)})
	}
	return step, epoch, nil
}

// trainRunners returns one full-batch step of the reference MLP and one
// grade epoch, each on its own network, optimizer and data.
func trainRunners[T tensor.Float]() (step, epoch func()) {
	rng := rand.New(rand.NewPCG(1, 1))
	uniform := func(r, c int) *tensor.Dense[T] {
		d := tensor.New[T](r, c)
		for i := range d.Data {
			d.Data[i] = T(rng.Float64())
		}
		return d
	}
	sx, sy := uniform(benchStepN, benchStepWidths[0]), uniform(benchStepN, 1)
	snet := nn.NewMLP[T](benchStepWidths, nn.ReLU)
	snet.Init(nn.Xavier, rng)
	ss := mgdl.NewStepper(snet, optim.KindAdam, 1)

	// Cached features are ReLU outputs of the grades before: nonnegative.
	ex, ey := uniform(benchEpochN, benchEpochWidths[0]), uniform(benchEpochN, 1)
	enet := nn.NewMLP[T](benchEpochWidths, nn.ReLU)
	enet.Init(nn.Xavier, rng)
	es := mgdl.NewStepper(enet, optim.KindAdam, 2)
	return func() { ss.Step(sx, sy, benchLR) }, func() { es.Epoch(ex, ey, benchEpochBatch, benchLR) }
}

func printGEMM(w io.Writer, bes []tensor.Backend, g []benchGEMM) {
	fmt.Fprintf(w, "\nGEMM, GFLOP/s (X is batch×width, W width×width)\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	var hdr strings.Builder
	hdr.WriteString("shape\tlayout\t")
	for _, dt := range []string{"f64", "f32"} {
		for _, be := range bes {
			fmt.Fprintf(&hdr, "%s %s\t", be.Name(), dt)
		}
	}
	fmt.Fprintln(tw, hdr.String())
	// g holds, per case, float64 then float32, each with one entry per backend.
	nb := len(bes)
	for i := 0; i+2*nb <= len(g); i += 2 * nb {
		fmt.Fprintf(tw, "%s\t%s\t", g[i].Shape, g[i].Layout)
		for _, e := range g[i : i+2*nb] {
			fmt.Fprintf(tw, "%.1f\t", e.GFLOPS)
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}

func printTraining(w io.Writer, rep *benchReport) {
	fmt.Fprintf(w, "\nTraining, ms\n  step:  %s\n  epoch: %s\n", rep.StepDesc, rep.EpochDesc)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backend\tstep f64\tstep f32\tepoch f64\tepoch f32\t")
	for i := 0; i+1 < len(rep.Step); i += 2 {
		fmt.Fprintf(tw, "%s\t%.1f\t%.1f\t%.1f\t%.1f\t\n", rep.Step[i].Backend,
			rep.Step[i].Ms, rep.Step[i+1].Ms, rep.Epoch[i].Ms, rep.Epoch[i+1].Ms)
	}
	tw.Flush()
}
