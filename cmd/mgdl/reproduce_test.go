package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mgdl/mgdl/internal/testenv"
	"github.com/mgdl/mgdl/repro"
)

// runCLIErr is runCLI that also returns stderr.
func runCLIErr(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(args)
	err = root.ExecuteContext(context.Background())
	return out.String(), errb.String(), err
}

func readResults(t *testing.T, dir string) []repro.Result {
	t.Helper()
	rs, err := readComparison(dir)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func TestReproduceList(t *testing.T) {
	out, err := runCLI(t, "reproduce", "--list")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range repro.All() {
		if !strings.Contains(out, e.Name+" ") {
			t.Errorf("--list does not name %s:\n%s", e.Name, out)
		}
	}
	if !strings.Contains(out, "24.18 dB / 21.83 dB") || !strings.Contains(out, "0.0785 / 0.111") {
		t.Errorf("--list lacks published figures:\n%s", out)
	}
}

// A reproduce folder is trained once: running the command again reads the
// finished runs back, continues an unfinished one, and refuses runs of
// another configuration unless --replace.
func TestReproduceAgain(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rp")
	args := []string{"reproduce", "xu1", "--max-epochs", "1", "--progress", "none", "--out", dir}
	if _, _, err := runCLIErr(t, args...); err != nil {
		t.Fatal(err)
	}
	rs := readResults(t, dir)
	if len(rs) != 1 || rs[0].Experiment != "xu1" || rs[0].Direction == repro.Incomplete {
		t.Fatalf("comparison after one run: %+v", rs)
	}
	for _, v := range repro.Variants {
		f := rs[0].Runs[v]
		if !f.Done || len(f.Epochs) == 0 || f.Epochs[0] != 1 {
			t.Errorf("%s: %+v, want a finished run of 1 epoch per grade", v, f)
		}
	}
	for _, f := range []string{comparisonMD, "xu1/report.html", "xu1/mgdl/model.safetensors", "xu1/sgdl-es/summary.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	md, _ := os.ReadFile(filepath.Join(dir, comparisonMD))
	if !strings.Contains(string(md), "| MGDL grade 3 | 1 |") || !strings.Contains(string(md), "0.292") {
		t.Errorf("comparison.md:\n%s", md)
	}

	// Again: all three read back.
	_, stderr, err := runCLIErr(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(stderr, "finished already"); n != 3 {
		t.Errorf("second run read back %d runs, want 3:\n%s", n, stderr)
	}
	if again := readResults(t, dir); again[0].Runs[repro.MGDL].Test[2] != rs[0].Runs[repro.MGDL].Test[2] {
		t.Errorf("read back %v, first %v", again[0].Runs[repro.MGDL].Test, rs[0].Runs[repro.MGDL].Test)
	}

	// A run left unfinished (its summary still says running) is resumed.
	sp := filepath.Join(dir, "xu1", "sgdl", "summary.json")
	b, _ := os.ReadFile(sp)
	var sum map[string]any
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	sum["running"] = true
	b, _ = json.Marshal(sum)
	if err := os.WriteFile(sp, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, stderr, err = runCLIErr(t, append(args, "--progress", "plain")...)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(stderr, "finished already") != 2 || !strings.Contains(stderr, "had finished: nothing left to train") {
		t.Errorf("an unfinished run was not resumed:\n%s", stderr)
	}

	// Another cap is another configuration.
	other := []string{"reproduce", "xu1", "--max-epochs", "2", "--progress", "none", "--out", dir}
	if code, stderr := exitCode(t, other...); code != 1 || !strings.Contains(stderr, "holds a run of another configuration") {
		t.Errorf("another configuration in the folder: exit %d, want 1; stderr:\n%s", code, stderr)
	}
	if _, _, err := runCLIErr(t, append(other, "--replace")...); err != nil {
		t.Fatal(err)
	}
	if rs := readResults(t, dir); rs[0].Runs[repro.MGDL].Epochs[0] != 2 {
		t.Errorf("after --replace: %+v", rs[0].Runs[repro.MGDL])
	}
}

// directionCaps are the epoch caps of TestReproduceDirections: small
// enough that all experiments together train in about ten minutes on 2
// cores, large enough that MGDL's lead is well clear of the run-to-run
// spread (docs/EXPERIMENTS.md has the figures). 0: the quick budget as is.
var directionCaps = map[string]int{
	"spectral1": 60, "spectral2": 60, "spectral3": 60, "spectral4": 60,
	"manifold-q0": 40, "manifold-q4": 40,
	"image-gray": 0, "image-colour": 60,
	"mnist-noise": -1, // not run: at the quick budget SGDL is ahead (docs/EXPERIMENTS.md)
	"xu1":         0, "xu2": 0, "xu3": 0,
}

// TestReproduceDirections runs every experiment at a capped quick budget
// and requires the published direction: MGDL's final test figure better
// than SGDL's and than SGDL's with early stopping.
func TestReproduceDirections(t *testing.T) {
	testenv.Long(t, "every experiment at a capped quick budget, about ten minutes")
	dir := t.TempDir()
	for _, e := range repro.All() {
		n, ok := directionCaps[e.Name]
		if !ok {
			t.Errorf("%s has no cap in directionCaps", e.Name)
			continue
		}
		if n < 0 {
			t.Logf("%s not run: its direction does not reproduce at small budgets (docs/EXPERIMENTS.md)", e.Name)
			continue
		}
		start := time.Now()
		_, stderr, err := runCLIErr(t, "reproduce", e.Name, "--max-epochs", strconv.Itoa(n), "--no-report", "--progress", "none", "--out", dir)
		if err != nil {
			t.Fatalf("%s: %v\n%s", e.Name, err, stderr)
		}
		var r *repro.Result
		for _, x := range readResults(t, dir) {
			if x.Experiment == e.Name {
				r = &x
			}
		}
		if r == nil || r.Direction == repro.Incomplete {
			t.Fatalf("%s: no complete result", e.Name)
		}
		t.Logf("%-12s cap %4d: %s: MGDL %.4g, SGDL %.4g, SGDL-ES %.4g (%s) in %.0f s", e.Name, n, r.Direction,
			r.Runs[repro.MGDL].Final(), r.Runs[repro.SGDL].Final(), r.Runs[repro.SGDLES].Final(), e.Metric, time.Since(start).Seconds())
		want := repro.Reproduced
		if e.Name == "spectral4" {
			// Neither method moves from RSE 1 at this budget
			// (docs/EXPERIMENTS.md): a tie, never SGDL ahead.
			want = repro.Tie
		}
		if r.Direction != want {
			t.Errorf("%s: the direction is %q, want %q: MGDL %.4g, SGDL %.4g, SGDL with early stopping %.4g (%s)", e.Name, r.Direction, want,
				r.Runs[repro.MGDL].Final(), r.Runs[repro.SGDL].Final(), r.Runs[repro.SGDLES].Final(), e.Metric)
		}
	}
}
