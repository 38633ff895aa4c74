// Command compare times mgdl against PyTorch on the same workloads, in one
// invocation, and prints the ratios mgdl / PyTorch (bench/README.md):
//
//	go run ./bench/compare            # from the repository root
//	bench/compare.sh --rounds 3       # the same
//
// The workloads are one full-batch training step of the MLP
// 1→256→256→256→1 (ReLU, MSE, Adam, N=4096) and one MGDL grade epoch at the
// papers' size (grade [256,256,256,1] on 256-wide cached features, N=6000,
// batch 256: 24 Adam steps), each in float64 and float32.
//
// PyTorch runs bench/torch_step.py under --python (Debian: /usr/bin/python3
// with python3-torch). It first tries every thread setting (torch threads
// 1, 2 × OpenBLAS/OMP threads 1, 2) and keeps the settings within 25 % of
// the fastest for some workload; every round runs them all and takes, for
// each workload and dtype, the fastest. mgdl runs `mgdl bench --step --json -` (built from this
// tree) for the backends in --backends. Then --rounds rounds alternate the
// two sides, so both see the same machine state; every figure is the best
// time over all runs, each run itself the best of --repeat after a warm-up.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// torchResult is one row of torch_step.py's JSON.
type torchResult struct {
	What         string  `json:"what"`
	DType        string  `json:"dtype"`
	Ms           float64 `json:"ms"`
	TorchThreads int     `json:"torch_threads"`
	BLASThreads  int     `json:"blas_threads"`
}

type torchDoc struct {
	Torch string        `json:"torch"`
	Best  []torchResult `json:"best"`
	Tried []torchResult `json:"tried"`
}

// mgdlDoc is the part of `mgdl bench --json` read here.
type mgdlDoc struct {
	Version  string `json:"version"`
	Go       string `json:"go"`
	Backends []struct {
		Name string `json:"name"`
		Info string `json:"info"`
	} `json:"backends"`
	Step  []mgdlTime `json:"step"`
	Epoch []mgdlTime `json:"epoch"`
}

type mgdlTime struct {
	Backend string  `json:"backend"`
	DType   string  `json:"dtype"`
	Ms      float64 `json:"ms"`
}

// key names one workload: "step" or "epoch", and a dtype.
type key struct{ what, dtype string }

var (
	workloads = []string{"step", "epoch"}
	dtypes    = []string{"float64", "float32"}
)

// Row is one line of the result.
type Row struct {
	What         string             `json:"what"`
	DType        string             `json:"dtype"`
	TorchMs      float64            `json:"torch_ms"`
	TorchThreads int                `json:"torch_threads"`
	BLASThreads  int                `json:"blas_threads"`
	MgdlMs       map[string]float64 `json:"mgdl_ms"`
	Ratio        map[string]float64 `json:"ratio"` // mgdl / torch, best against best
	// RoundRatios are the ratios of each round's figures (the two sides
	// measured minutes apart at most): their spread shows the noise.
	RoundRatios map[string][]float64 `json:"round_ratios"`
}

// Target is one of the performance targets, checked per dtype.
type Target struct {
	Name    string  `json:"name"`
	What    string  `json:"what"`
	Backend string  `json:"backend"`
	DType   string  `json:"dtype"`
	Max     float64 `json:"max_ratio"` // met when ratio ≤ Max (< Max when Strict)
	Strict  bool    `json:"strict"`
	Ratio   float64 `json:"ratio"`
	Met     bool    `json:"met"`
}

// Result is what --json writes.
type Result struct {
	Date     string   `json:"date"`
	Command  string   `json:"command"`
	Torch    string   `json:"torch"`
	Mgdl     string   `json:"mgdl"`
	Go       string   `json:"go"`
	Backends []string `json:"backend_info"`
	Rounds   int      `json:"rounds"`
	Repeat   int      `json:"repeat"`
	Rows     []Row    `json:"rows"`
	Targets  []Target `json:"targets"`
}

func main() {
	python := flag.String("python", "/usr/bin/python3", "the Python that has torch")
	rounds := flag.Int("rounds", 2, "rounds alternating PyTorch and mgdl")
	repeat := flag.Int("repeat", 5, "timed runs per figure in each round (best kept), after a warm-up")
	search := flag.Int("search-repeat", 2, "timed runs per figure when trying PyTorch's thread settings")
	backends := flag.String("backends", "go,openblas", "mgdl backends to time")
	mgdlBin := flag.String("mgdl", "", "mgdl binary to run (default: build ./cmd/mgdl of this tree)")
	jsonOut := flag.String("json", "", "also write the result as JSON to this file")
	flag.Parse()
	if err := run(*python, *rounds, *repeat, *search, *backends, *mgdlBin, *jsonOut); err != nil {
		fmt.Fprintln(os.Stderr, "compare:", err)
		os.Exit(1)
	}
}

// repoRoot finds the directory holding go.mod, from the working directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		up := filepath.Dir(dir)
		if up == dir {
			return "", fmt.Errorf("no go.mod above the working directory: run from the mgdl repository")
		}
		dir = up
	}
}

func run(python string, rounds, repeat, search int, backends, mgdlBin, jsonOut string) error {
	root, err := repoRoot()
	if err != nil {
		return err
	}
	script := filepath.Join(root, "bench", "torch_step.py")
	if mgdlBin == "" {
		tmp, err := os.MkdirTemp("", "mgdl-compare")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		mgdlBin = filepath.Join(tmp, "mgdl")
		logf("building %s", mgdlBin)
		b := exec.Command("go", "build", "-o", mgdlBin, "./cmd/mgdl")
		b.Dir, b.Stdout, b.Stderr = root, os.Stderr, os.Stderr
		if err := b.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/mgdl: %w", err)
		}
	}

	// PyTorch's thread settings.
	logf("PyTorch: trying thread settings (torch 1,2 × BLAS 1,2), best of %d", search)
	var td torchDoc
	if err := runJSON(&td, python, script, "--repeat", fmt.Sprint(search), "--json", "-"); err != nil {
		return fmt.Errorf("%s %s: %w (is PyTorch installed? see bench/README.md)", python, script, err)
	}
	// The candidate settings: those within searchSlack of the best for some
	// workload in the search. Every round runs all of them and keeps, per
	// workload, the fastest; the times of the search itself are not used, so
	// that both sides are sampled alike.
	type setting struct{ t, b int }
	const searchSlack = 1.25
	fastest := map[key]float64{}
	for _, r := range td.Tried {
		k := key{r.What, r.DType}
		if f, ok := fastest[k]; !ok || r.Ms < f {
			fastest[k] = r.Ms
		}
	}
	var candidates []setting
	for _, r := range td.Tried {
		s := setting{r.TorchThreads, r.BLASThreads}
		if r.Ms <= searchSlack*fastest[key{r.What, r.DType}] && !slices.Contains(candidates, s) {
			candidates = append(candidates, s)
		}
	}
	if len(candidates) == 0 {
		return fmt.Errorf("%s: no PyTorch timings", script)
	}
	logf("PyTorch settings kept for the rounds (torch+BLAS threads): %v", candidates)
	torchBest := map[key]torchResult{}
	for _, w := range workloads {
		for _, d := range dtypes {
			torchBest[key{w, d}] = torchResult{What: w, DType: d, Ms: math.Inf(1)}
		}
	}

	mgdlBest := map[string]map[key]float64{}
	var md mgdlDoc
	// this round's figures, for the per-round ratios
	torchRound := map[key]float64{}
	mgdlRound := map[string]map[key]float64{}
	roundRatios := map[string]map[key][]float64{}
	runTorch := func() error {
		clear(torchRound)
		for _, s := range candidates {
			var d torchDoc
			err := runJSON(&d, python, script, "--repeat", fmt.Sprint(repeat), "--json", "-",
				"--torch-threads", fmt.Sprint(s.t), "--blas-threads", fmt.Sprint(s.b))
			if err != nil {
				return err
			}
			for _, r := range d.Best {
				k := key{r.What, r.DType}
				logf("  PyTorch %d+%d threads %-5s %s %8.1f ms", s.t, s.b, r.What, r.DType, r.Ms)
				if f, ok := torchRound[k]; !ok || r.Ms < f {
					torchRound[k] = r.Ms
				}
				if r.Ms < torchBest[k].Ms {
					torchBest[k] = r
				}
			}
		}
		return nil
	}
	runMgdl := func() error {
		if err := runJSON(&md, mgdlBin, "bench", "--step", "--json", "-", "--repeat", fmt.Sprint(repeat), "--backends", backends); err != nil {
			return err
		}
		for _, list := range []struct {
			what string
			ts   []mgdlTime
		}{{"step", md.Step}, {"epoch", md.Epoch}} {
			for _, t := range list.ts {
				m := mgdlBest[t.Backend]
				if m == nil {
					m = map[key]float64{}
					mgdlBest[t.Backend] = m
				}
				k := key{list.what, t.DType}
				if mgdlRound[t.Backend] == nil {
					mgdlRound[t.Backend] = map[key]float64{}
				}
				mgdlRound[t.Backend][k] = t.Ms
				if old, ok := m[k]; !ok || t.Ms < old {
					m[k] = t.Ms
				}
			}
		}
		return nil
	}
	for r := range rounds {
		logf("round %d of %d", r+1, rounds)
		first, second := runTorch, runMgdl
		if r%2 == 1 {
			first, second = second, first
		}
		if err := first(); err != nil {
			return err
		}
		if err := second(); err != nil {
			return err
		}
		for be, m := range mgdlRound {
			if roundRatios[be] == nil {
				roundRatios[be] = map[key][]float64{}
			}
			for k, v := range m {
				roundRatios[be][k] = append(roundRatios[be][k], v/torchRound[k])
			}
		}
	}

	res := &Result{
		Date:    time.Now().UTC().Format("2006-01-02 15:04 UTC"),
		Command: "go run ./bench/compare " + strings.Join(os.Args[1:], " "),
		Torch:   td.Torch, Mgdl: md.Version, Go: md.Go, Rounds: rounds, Repeat: repeat,
	}
	var names []string
	for _, b := range md.Backends {
		names = append(names, b.Name)
		res.Backends = append(res.Backends, b.Name+": "+b.Info)
	}
	for _, w := range workloads {
		for _, d := range dtypes {
			k := key{w, d}
			tr := torchBest[k]
			row := Row{What: w, DType: d, TorchMs: tr.Ms, TorchThreads: tr.TorchThreads, BLASThreads: tr.BLASThreads,
				MgdlMs: map[string]float64{}, Ratio: map[string]float64{}, RoundRatios: map[string][]float64{}}
			for _, n := range names {
				row.MgdlMs[n] = mgdlBest[n][k]
				row.Ratio[n] = mgdlBest[n][k] / tr.Ms
				row.RoundRatios[n] = roundRatios[n][k]
			}
			res.Rows = append(res.Rows, row)
		}
	}
	res.Targets = targets(res.Rows, names)
	printResult(os.Stdout, res, names)
	if jsonOut != "" {
		b, err := json.MarshalIndent(res, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(jsonOut, append(b, '\n'), 0o644)
	}
	return nil
}

// targets checks the targets: the training step with OpenBLAS at
// most 0.85× PyTorch's best, with pure Go at most 1.5×, and the grade epoch
// faster than PyTorch (with each backend).
func targets(rows []Row, names []string) []Target {
	var ts []Target
	for _, row := range rows {
		for _, n := range names {
			t := Target{What: row.What, Backend: n, DType: row.DType, Ratio: row.Ratio[n]}
			switch {
			case row.What == "step" && n == "openblas":
				t.Name, t.Max = "step, OpenBLAS ≤ 0.85× PyTorch", 0.85
			case row.What == "step" && n == "go":
				t.Name, t.Max = "step, pure Go ≤ 1.5× PyTorch", 1.5
			case row.What == "epoch":
				t.Name, t.Max, t.Strict = "grade epoch faster than PyTorch", 1, true
			default:
				continue
			}
			t.Met = t.Ratio <= t.Max && !(t.Strict && t.Ratio == t.Max) && t.Ratio > 0
			ts = append(ts, t)
		}
	}
	return ts
}

func printResult(w io.Writer, res *Result, names []string) {
	fmt.Fprintf(w, "\nmgdl %s (%s) against PyTorch %s, %s, %d CPUs; best over %d rounds of best-of-%d\n",
		res.Mgdl, res.Go, res.Torch, res.Date, runtime.NumCPU(), res.Rounds, res.Repeat)
	for _, b := range res.Backends {
		fmt.Fprintf(w, "  %s\n", b)
	}
	fmt.Fprintln(w, "  step:  one full-batch training step, MLP 1→256→256→256→1, ReLU, MSE, Adam, N=4096")
	fmt.Fprintln(w, "  epoch: one MGDL grade epoch, grade [256,256,256,1] on 256-wide cached features, N=6000, batch 256 (24 Adam steps)")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	hdr := "workload\tdtype\tPyTorch ms\t(threads torch+BLAS)\t"
	for _, n := range names {
		hdr += fmt.Sprintf("mgdl %s ms\t%s/torch\t", n, n)
	}
	fmt.Fprintln(tw, hdr)
	for _, r := range res.Rows {
		fmt.Fprintf(tw, "%s\t%s\t%.1f\t(%d+%d)\t", r.What, r.DType, r.TorchMs, r.TorchThreads, r.BLASThreads)
		for _, n := range names {
			fmt.Fprintf(tw, "%.1f\t%.2f\t", r.MgdlMs[n], r.Ratio[n])
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nRatios per round (mgdl / PyTorch, each side's best in that round):")
	for _, r := range res.Rows {
		fmt.Fprintf(w, "  %-5s %s", r.What, r.DType)
		for _, n := range names {
			fmt.Fprintf(w, "  %s", n)
			for _, x := range r.RoundRatios[n] {
				fmt.Fprintf(w, " %.2f", x)
			}
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "\nTargets (best against best):")
	for _, t := range res.Targets {
		verdict := "met"
		if !t.Met {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "  %-34s %-7s %-8s ratio %.2f  %s\n", t.Name, t.DType, t.Backend, t.Ratio, verdict)
	}
}

// runJSON runs a command and decodes its standard output into v; its
// standard error goes to ours.
func runJSON(v any, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
	}
	if err := json.Unmarshal(out.Bytes(), v); err != nil {
		return fmt.Errorf("%s %s: %w in output %q", name, strings.Join(args, " "), err, out.String())
	}
	return nil
}

func logf(format string, a ...any) { fmt.Fprintf(os.Stderr, format+"\n", a...) }
