package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mgdl/mgdl/modelfile"
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
	f, err := modelfile.ReadFile(filepath.Join(dir, modelName))
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
	if r.Stopped != "tol" || len(r.Checks) != 1 || r.Checks[0].Report.Values != 441 || !r.Checks[0].Report.Pointwise() || r.Checks[0].Report.Final.Linf > 1e-2 {
		t.Errorf("samples: stopped %q, checks %+v", r.Stopped, r.Checks)
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
