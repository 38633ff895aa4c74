package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCLI runs the command line in-process and returns stdout and the error.
func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	out, _, err := runCLIErr(t, args...)
	return out, err
}

func readSummary(t *testing.T, dir string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestTrainWritesSummary checks summary.json's required keys for both
// methods, and that two runs with one seed give bit-identical numbers.
func TestTrainWritesSummary(t *testing.T) {
	small := []string{"--example", "spectral2", "--grades", "[[1,16,16,1],[16,16,16,1]]", "--epochs", "2", "--quiet", "--seed", "5"}
	dirs := []string{t.TempDir(), t.TempDir(), t.TempDir()}
	for i, method := range []string{"mgdl", "mgdl", "sgdl"} {
		args := append([]string{"train", "--method", method, "--out", dirs[i]}, small...)
		if _, err := runCLI(t, args...); err != nil {
			t.Fatalf("%s: %v", method, err)
		}
	}
	a, b, s := readSummary(t, dirs[0]), readSummary(t, dirs[1]), readSummary(t, dirs[2])
	for _, k := range []string{"mgdl_version", "digest", "backend", "config", "grades", "total_seconds"} {
		if _, ok := a[k]; !ok {
			t.Errorf("summary lacks %q", k)
		}
	}
	for _, k := range []string{"method", "dtype", "seed", "data", "grades"} {
		if _, ok := a["config"].(map[string]any)[k]; !ok {
			t.Errorf("summary's config lacks %q", k)
		}
	}
	ga := a["grades"].([]any)
	if len(ga) != 2 || len(s["grades"].([]any)) != 1 || s["config"].(map[string]any)["method"] != "sgdl" {
		t.Fatalf("grades: mgdl %d, sgdl %v", len(ga), s["grades"])
	}
	for i, g := range ga {
		gm := g.(map[string]any)
		for _, k := range []string{"grade", "epochs", "seconds", "train_rse", "val_rse", "test_rse"} {
			if _, ok := gm[k]; !ok {
				t.Errorf("grade entry lacks %q", k)
			}
		}
		gb := b["grades"].([]any)[i].(map[string]any)
		for _, k := range []string{"train_rse", "val_rse", "test_rse", "train_loss"} {
			if gm[k] != gb[k] {
				t.Errorf("grade %d %s: %v then %v with the same seed", i+1, k, gm[k], gb[k])
			}
		}
	}
}

func TestTrainBadUsage(t *testing.T) {
	dir := t.TempDir()
	cases := map[string][]string{
		"no out":         {"train", "--epochs", "1"},
		"bad example":    {"train", "--example", "nope", "--out", dir},
		"bad grades":     {"train", "--grades", "[[1,8,1", "--out", dir},
		"chain mismatch": {"train", "--grades", "[[1,8,1],[9,8,1]]", "--out", dir},
		"bad method":     {"train", "--method", "xgdl", "--out", dir},
		"bad dtype":      {"train", "--dtype", "float16", "--out", dir},
		"bad activation": {"train", "--activation", "gelu", "--out", dir},
		"list length":    {"train", "--grades", "[[1,8,1],[8,8,1]]", "--epochs", "1,2,3", "--out", dir},
		"bad lr":         {"train", "--lr", "-1", "--out", dir},
		"unknown flag":   {"train", "--nope"},
	}
	for name, args := range cases {
		_, err := runCLI(t, args...)
		var ue usageError
		if err == nil || !errors.As(err, &ue) {
			t.Errorf("%s: error %v, want a usage error (exit 2)", name, err)
		}
	}
}

func TestXuRecipeApplied(t *testing.T) {
	dir := t.TempDir()
	out, err := runCLI(t, "train", "--example", "xu1", "--epochs", "1,1,1", "--quiet", "--out", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "[256,128×2,64,1]") {
		t.Errorf("output does not show the recipe's grades:\n%s", out)
	}
	s := readSummary(t, dir)
	g := s["config"].(map[string]any)["grades"].([]any)
	first := g[0].(map[string]any)
	if first["activation"] != "sin" || first["batch_size"].(float64) != 32 {
		t.Errorf("recipe not applied: %v", first)
	}
}
