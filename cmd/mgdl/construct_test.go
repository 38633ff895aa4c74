package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mgdl/mgdl/construct"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/rundir"
	"github.com/mgdl/mgdl/tensor"
	"github.com/mgdl/mgdl/verify"
)

func TestConstructCLI(t *testing.T) {
	dir := t.TempDir()
	out, err := runCLI(t, "construct", "--target", "sin10", "--schedule", "dyadic", "--levels", "6", "--fresh", "2000", "--out", dir, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r constructReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	// docs/CONSTRUCTIVE.md's table: 205 grades, sup 0.0766 after level 6.
	last := r.Levels[len(r.Levels)-1]
	if r.NumGrades != 205 || last.GradeEnd != 205 || last.Sup < 0.0766 || last.Sup > 0.0767 {
		t.Errorf("grades %d, last level %+v", r.NumGrades, last)
	}
	if len(r.Checks) != 2 || !r.Checks[0].Exact || r.Checks[0].Report.Violations != 0 || r.Checks[0].Report.SignFlips != 0 || r.Checks[1].Report.Values != 2000 {
		t.Errorf("checks %+v", r.Checks)
	}
	f, err := modelfile.ReadFile(filepath.Join(dir, rundir.ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	if f.Meta.Method != "constructed" || len(f.Meta.Grades) != 205 || f.Meta.Grades[0].Widths[1] != 5 {
		t.Errorf("model file meta %+v", f.Meta.Grades[:1])
	}
	if _, err := os.Stat(filepath.Join(dir, "report.json")); err != nil {
		t.Error(err)
	}
	table, err := runCLI(t, "construct", "--target", "sin2d", "--levels", "2", "--variant", "c", "--fresh", "0")
	if err != nil || !strings.Contains(table, "pointwise |e_l| <= |e_{l-1}|: yes") || !strings.Contains(table, "variant C") {
		t.Errorf("table: %v\n%s", err, table)
	}
	list, err := runCLI(t, "construct", "--list-targets")
	if err != nil || !strings.Contains(list, "sqrt-cusp") || !strings.Contains(list, "discontinuous") {
		t.Errorf("list: %v\n%s", err, list)
	}
}

func TestConstructSamplesCLI(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.csv")
	var b strings.Builder
	b.WriteString("x,y,f\n")
	for i := range 21 {
		for j := range 21 {
			x, y := float64(i)/20, float64(j)/20
			b.WriteString(strings.Join([]string{ftoa(x), ftoa(y), ftoa(x*x - y + 0.5*x*y)}, ",") + "\n")
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "construct", "--samples", path, "--tol", "1e-2", "--variant", "B", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r constructReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	held, err := runCLI(t, "construct", "--samples", path, "--levels", "3", "--holdout", "0.2", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var h constructReport
	if err := json.Unmarshal([]byte(held), &h); err != nil {
		t.Fatal(err)
	}
	if len(h.Checks) != 2 || h.Checks[0].Report.Values != 353 || h.Checks[1].Points != "held-out samples" || h.Checks[1].Report.Values != 88 || !h.Checks[0].Report.Pointwise() {
		t.Errorf("holdout: %+v", h.Checks)
	}
	if r.Stopped != "tol" || len(r.Checks) != 1 || r.Checks[0].Report.Values != 441 || !r.Checks[0].Report.Pointwise() || r.Checks[0].Report.Final.Linf > 1e-2 {
		t.Errorf("samples: stopped %q, checks %+v", r.Stopped, r.Checks)
	}
}

// TestConstructNPZCLI builds from arrays x (n×2) and y in an .npz file.
func TestConstructNPZCLI(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.npz")
	x := construct.Grid(construct.UnitBox(2), 15)
	y := construct.Eval(func(p []float64) float64 { return math.Abs(p[0]-0.4) - p[1]*p[1] }, x)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, m := range map[string]*tensor.Dense[float64]{"x": x, "y": tensor.FromSlice(len(y), 1, y)} {
		w, err := zw.Create(name + ".npy")
		if err != nil {
			t.Fatal(err)
		}
		if err := data.EncodeNPY(w, []int{m.Rows, m.Cols}, m.Raw()); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "construct", "--samples", path, "--levels", "3", "--variant", "A", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r constructReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Levels) != 3 || r.Checks[0].Report.Values != 225 || !r.Checks[0].Report.Pointwise() || r.Checks[0].Report.MaxLevelRatio > 0.5 {
		t.Errorf("npz: %+v", r.Checks[0].Report)
	}
}

func ftoa(v float64) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestConstructUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"construct", "--levels", "3"},
		{"construct", "--target", "sin10"},
		{"construct", "--target", "sin10", "--samples", "x.csv", "--levels", "2"},
		{"construct", "--target", "nope", "--levels", "2"},
		{"construct", "--target", "sin10", "--levels", "2", "--variant", "D"},
		{"construct", "--target", "sin10", "--levels", "2", "--schedule", "fixed"},
		{"construct", "--target", "sin10", "--levels", "2", "--points", "1"},
		{"construct", "--target", "sin10", "--levels", "2", "--holdout", "1"},
		{"verify", "--target", "sin10"},
		{"verify", "--model", "m", "--target", "sin10", "--example", "xu1"},
	} {
		_, err := runCLI(t, args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: error %v, want a usage error", args, err)
		}
	}
	if _, err := runCLI(t, "construct", "--samples", filepath.Join(t.TempDir(), "missing.csv"), "--levels", "2"); err == nil {
		t.Error("missing samples file accepted")
	}
}

// TestCertifyCLI: a certified construction of a formula target, proved by
// verify --certify; the sample-mode model of the same formula refuted with
// a counterexample.
func TestCertifyCLI(t *testing.T) {
	dir := t.TempDir()
	cdir, sdir := filepath.Join(dir, "c"), filepath.Join(dir, "s")
	const target = "sin(10*x) + 0.3*x"
	out, err := runCLI(t, "construct", "--target", target, "--certify", "--levels", "3", "--fresh", "5000", "--out", cdir, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var r constructReport
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v in %s", err, out)
	}
	if !r.Certified || len(r.Levels) != 3 || !r.Levels[0].Certified || r.Checks[1].Report.Violations != 0 || r.Checks[1].Report.SignFlips != 0 {
		t.Errorf("certified construction: %+v", r)
	}
	vout, err := runCLI(t, "verify", "--model", cdir, "--target", target, "--certify", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Certify verify.CertReport `json:"certify"`
	}
	if err := json.Unmarshal([]byte(vout), &v); err != nil {
		t.Fatal(err)
	}
	if !v.Certify.ProvedAll() || v.Certify.MaxRatioUpper > 0.5 || len(v.Certify.Levels) != 3 {
		t.Errorf("verify --certify of the certified model: %d of %d proved, max ratio %v", v.Certify.Proved, len(v.Certify.Grades), v.Certify.MaxRatioUpper)
	}
	if _, err := runCLI(t, "construct", "--target", target, "--schedule", "dyadic", "--levels", "4", "--points", "101", "--fresh", "0", "--out", sdir); err != nil {
		t.Fatal(err)
	}
	table, err := runCLI(t, "verify", "--model", sdir, "--target", target, "--certify")
	if err != nil || !strings.Contains(table, "refuted") {
		t.Errorf("verify --certify of the sample-mode model: %v\n%s", err, table)
	}
	for _, args := range [][]string{
		{"construct", "--target", "sin(10*x", "--levels", "2"},
		{"construct", "--target", "foo(x)", "--levels", "2"},
		{"construct", "--target", "x*y", "--box", "0:1", "--levels", "2"},
		{"construct", "--target", "x", "--box", "1:0", "--levels", "2"},
		{"construct", "--samples", "x.csv", "--certify", "--levels", "2"},
		{"construct", "--target", "x", "--rho", "0.1", "--levels", "2"},
		{"verify", "--model", cdir, "--samples", "x.csv", "--certify"},
		{"verify", "--model", cdir, "--target", "x", "--certify", "--max-boxes", "-1"},
		{"verify", "--model", cdir, "--target", "x", "--certify", "--rho", "2"},
		{"verify", "--model", cdir, "--target", "x", "--certify", "--rho", "-0.5"},
		{"verify", "--model", cdir, "--target", "x", "--certify", "--rho", "NaN"},
	} {
		_, err := runCLI(t, args...)
		var ue usageError
		if !errors.As(err, &ue) {
			t.Errorf("%v: error %v, want a usage error", args, err)
		}
	}
	if _, err := runCLI(t, "verify", "--model", cdir, "--target", "x*y", "--certify"); err == nil || !strings.Contains(err.Error(), "variables") {
		t.Errorf("a 2-D target for a 1-D model: %v", err)
	}
}
