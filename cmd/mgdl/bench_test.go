package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mgdl/mgdl/tensor"
)

// TestBenchQuick runs mgdl bench --quick in-process and checks that every
// available backend has a training line with four positive numbers and a
// GFLOP/s figure for every GEMM case, and that the JSON agrees.
func TestBenchQuick(t *testing.T) {
	js := filepath.Join(t.TempDir(), "bench.json")
	out, err := runCLI(t, "bench", "--quick", "--repeat", "1", "--json", js)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", out)
	want := []string{"go", "gonum"}
	if _, err := tensor.LookupBackend("openblas"); err == nil {
		want = append(want, "openblas")
	} else if !strings.Contains(out, "openblas  unavailable") {
		t.Errorf("openblas does not load (%v) and the output does not say so", err)
	}
	num := `[0-9]+\.[0-9]`
	for _, be := range want {
		line := regexp.MustCompile(`(?m)^ *` + be + `(  +` + num + `){4}$`)
		if !line.MatchString(out) {
			t.Errorf("no training line with 4 numbers for backend %s", be)
		}
	}
	gemmLine := regexp.MustCompile(`(?m)^ *[0-9]+(×[0-9]+|²) +\S+(  +` + num + `){` + strconv.Itoa(2*len(want)) + `}$`)
	if n := len(gemmLine.FindAllString(out, -1)); n != len(gemmCases(true)) {
		t.Errorf("%d GEMM lines with %d numbers, want %d", n, 2*len(want), len(gemmCases(true)))
	}

	b, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Backends) != len(want) || len(rep.Step) != 2*len(want) || len(rep.Epoch) != 2*len(want) ||
		len(rep.GEMM) != 2*len(want)*len(gemmCases(true)) {
		t.Errorf("JSON has %d backends, %d steps, %d epochs, %d GEMM figures", len(rep.Backends), len(rep.Step), len(rep.Epoch), len(rep.GEMM))
	}
	for _, e := range append(rep.Step, rep.Epoch...) {
		if !(e.Ms > 0) {
			t.Errorf("%+v: time not positive", e)
		}
	}
	for _, g := range rep.GEMM {
		if !(g.GFLOPS > 0) {
			t.Errorf("%+v: GFLOP/s not positive", g)
		}
	}
}

// TestBenchStepJSON checks the machine-readable form bench/compare reads:
// --step --json - prints only JSON on stdout.
func TestBenchStepJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("times the training step and epoch")
	}
	out, err := runCLI(t, "bench", "--step", "--quick", "--repeat", "1", "--backends", "go", "--json", "-")
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v in:\n%s", err, out)
	}
	if len(rep.GEMM) != 0 || len(rep.Step) != 2 || len(rep.Epoch) != 2 || rep.Step[0].Backend != "go" {
		t.Errorf("got %+v", rep)
	}
}

func TestBenchBadBackend(t *testing.T) {
	if _, err := runCLI(t, "bench", "--backends", "nope"); err == nil {
		t.Error("no error for --backends nope")
	}
	if _, err := runCLI(t, "bench", "--repeat", "0"); err == nil {
		t.Error("no error for --repeat 0")
	}
}
