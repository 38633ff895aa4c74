package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/mgdl/mgdl/verify"
)

type verifyOut struct {
	Method string `json:"method"`
	Checks []struct {
		Points string         `json:"points"`
		Report *verify.Report `json:"report"`
	} `json:"checks"`
}

func TestVerifyConstructedCLI(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCLI(t, "construct", "--target", "kinks", "--levels", "5", "--variant", "B", "--fresh", "0", "--out", dir); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "verify", "--model", dir, "--target", "kinks", "--fresh", "3000", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var v verifyOut
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if v.Method != "constructed" || len(v.Checks) != 2 || v.Checks[1].Points != "fresh points" {
		t.Fatalf("%+v", v)
	}
	g := v.Checks[0].Report
	if !g.Pointwise() || !g.StrictDecay() || len(g.Levels) != 5 || g.MaxLevelRatio > 0.5 {
		t.Errorf("grid: violations %d flips %d levels %d ratio %v", g.Violations, g.SignFlips, len(g.Levels), g.MaxLevelRatio)
	}
	// Variant B, d = 1: one of the two grades of each hat is trivial (and
	// on this piecewise-linear target some hats carry round-off-sized
	// coefficients, below the tolerance).
	if g.Nontrivial == 0 || 2*g.Nontrivial > g.NumGrades {
		t.Errorf("%d of %d grades nontrivial", g.Nontrivial, g.NumGrades)
	}
	table, err := runCLI(t, "verify", "--model", dir, "--target", "kinks", "--points", "101")
	if err != nil || !strings.Contains(table, "fresh points") || !strings.Contains(table, "(constructed)") {
		t.Errorf("%v\n%s", err, table)
	}
}

// TestVerifyTrainedCLI runs verify on a (briefly) trained MGDL model: the
// check runs, and training gives no pointwise guarantee.
func TestVerifyTrainedCLI(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCLI(t, "train", "--example", "xu1", "--grades", "[[1,16,16,1],[16,16,16,1],[16,16,16,1]]", "--activation", "relu",
		"--epochs", "3", "--batch", "256", "--lr", "1e-3", "--quiet", "--out", dir); err != nil {
		t.Fatal(err)
	}
	out, err := runCLI(t, "verify", "--model", dir, "--example", "xu1", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var v verifyOut
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Checks) != 2 || v.Checks[0].Points != "training points" || v.Checks[0].Report.NumGrades != 3 || v.Checks[0].Report.Values != 5000 {
		t.Fatalf("%+v", v)
	}
	if v.Checks[0].Report.Pointwise() {
		t.Errorf("a trained model kept the pointwise property on every training point: %+v", v.Checks[0].Report.Grades)
	}
}
