package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/report"
)

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func loadSummary(t *testing.T, dir string) *mgdl.Summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s mgdl.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

// TestConfigFile checks a YAML experiment config in the papers' notation:
// per-grade settings, a data section, and a flag that overrides the file.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "exp.yaml"), `
# Xu (2023) example 1, shrunk
method: mgdl
data: {example: xu1, seed: 3}
grades:
  - {widths: [1, 16, 16, 1], activation: sin, epochs: 3, lr: 0.1, lr_min: 1e-4}
  - {widths: [16, 8, 1], activation: relu, epochs: 2, lr: 1e-2, lr_min: 1e-4}
batch: 64
seed: 9
`)
	out := filepath.Join(dir, "run")
	if _, err := runCLI(t, "train", "--config", cfg, "--epochs", "1,2", "--out", out, "--quiet"); err != nil {
		t.Fatal(err)
	}
	s := loadSummary(t, out)
	if s.Example != "xu1" || s.Seed != 9 || len(s.Config.Grades) != 2 {
		t.Fatalf("example %q seed %d grades %d: want xu1, 9, 2", s.Example, s.Seed, len(s.Config.Grades))
	}
	g1, g2 := s.Config.Grades[0], s.Config.Grades[1]
	if g1.Activation.String() != "sin" || g2.Activation.String() != "relu" {
		t.Errorf("activations %v %v, want sin relu", g1.Activation, g2.Activation)
	}
	if g1.Epochs != 1 || g2.Epochs != 2 { // --epochs overrides the file
		t.Errorf("epochs %d %d, want 1 2 (from the flag)", g1.Epochs, g2.Epochs)
	}
	if g1.LR.Max != 0.1 || g2.LR.Max != 0.01 || g1.LR.Min != 1e-4 || g1.BatchSize != 64 {
		t.Errorf("lr %v %v batch %d, want 0.1→1e-4, 0.01→1e-4, 64", g1.LR, g2.LR, g1.BatchSize)
	}

	// config.json holds the resolved settings in the papers' notation and
	// repeats the run bit for bit.
	b, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"grades": [[1,16,16,1],[16,8,1]]`, `"epochs": [1,2]`, `"activation": ["sin","relu"]`, `"data_seed": 3`, `"resolved": {`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config.json lacks %s:\n%s", want, b)
		}
	}
	again := filepath.Join(dir, "again")
	if _, err := runCLI(t, "train", "--config", filepath.Join(out, "config.json"), "--out", again, "--quiet"); err != nil {
		t.Fatal(err)
	}
	s2 := loadSummary(t, again)
	for l := range s.Grades {
		if s.Grades[l].TrainRSE != s2.Grades[l].TrainRSE {
			t.Errorf("grade %d: train RSE %v from config.json, %v originally", l+1, s2.Grades[l].TrainRSE, s.Grades[l].TrainRSE)
		}
	}

	// The metrics log: epochs, one record per grade, and the end.
	f, err := os.Open(filepath.Join(out, "metrics.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	count := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r report.MetricsRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("metrics line %q: %v", sc.Text(), err)
		}
		count[r.Event]++
		if r.Event == "grade" && (r.Result == nil || r.Result.Grade != r.Grade) {
			t.Errorf("grade record without its result: %s", sc.Text())
		}
	}
	if count["epoch"] != 3 || count["grade"] != 2 || count["end"] != 1 {
		t.Errorf("metrics log has %v, want 3 epoch, 2 grade, 1 end records", count)
	}
}

// TestConfigFileJSONAndErrors checks the JSON form and the messages for
// bad files (usage errors, exit code 2).
func TestConfigFileJSONAndErrors(t *testing.T) {
	dir := t.TempDir()
	js := writeFile(t, filepath.Join(dir, "exp.json"), `{"example": "xu2", "grades": [[1,8,8,1],[8,8,8,1]], "epochs": [1, 1], "lr": {"max": 0.01, "min": 0.001}, "batch": 0}`)
	out := filepath.Join(dir, "run")
	if _, err := runCLI(t, "train", "--config", js, "--out", out, "--quiet"); err != nil {
		t.Fatal(err)
	}
	if s := loadSummary(t, out); s.Example != "xu2" || s.Config.Grades[1].LR.Min != 0.001 || s.Config.Grades[0].BatchSize != 0 {
		t.Errorf("from JSON: example %q, grade 2 lr %v, batch %d", s.Example, s.Config.Grades[1].LR, s.Config.Grades[0].BatchSize)
	}
	for name, tc := range map[string]struct{ file, want string }{
		"unknown key":  {"epochz: 3\n", `unknown setting "epochz"`},
		"bad yaml":     {"grades: [[1,2\n", "exp.yaml"},
		"grade keys":   {"grades:\n  - {widths: [1,8,1], epochs: 2}\n  - {widths: [8,8,1]}\n", "every grade or none"},
		"shared batch": {"grades:\n  - {widths: [1,8,8,1], batch: 2}\n  - {widths: [8,8,1], batch: 3}\n", "batch differs between grades"},
		"bad value":    {"batch: many\n", "batch"},
	} {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "exp.yaml"), tc.file)
			_, err := runCLI(t, "train", "--config", p, "--out", t.TempDir(), "--quiet")
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v (usage error: %v), want one mentioning %q", err, errors.As(err, &ue), tc.want)
			}
		})
	}
	if _, err := runCLI(t, "train", "--config", filepath.Join(dir, "missing.yaml"), "--out", out); err == nil {
		t.Error("a missing config file was accepted")
	}
}

// TestExampleConfigs checks that every config under examples/ names only
// known settings and resolves to a valid run: each is trained with a
// budget of one epoch per grade.
func TestExampleConfigs(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	files, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.yaml"))
	jsonFiles, _ := filepath.Glob(filepath.Join("..", "..", "examples", "*.json"))
	files = append(files, jsonFiles...)
	if len(files) == 0 {
		t.Fatal("no example configs under examples/")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			settings, err := readConfigFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var grades [][]int
			if err := json.Unmarshal([]byte(settings["grades"]), &grades); err != nil {
				t.Fatalf("grades %q: %v", settings["grades"], err)
			}
			out := t.TempDir()
			if _, err := runCLI(t, "train", "--config", f, "--epochs", "1", "--sgdl-epochs", "1", "--dtype", "float32", "--out", out, "--quiet"); err != nil {
				t.Fatal(err)
			}
			s := loadSummary(t, out)
			want := len(grades)
			if s.Method == "sgdl" {
				want = 1
			}
			if len(s.Config.Grades) != want {
				t.Errorf("%d grades resolved, want %d", len(s.Config.Grades), want)
			}
		})
	}
}

// TestTrainThenReport runs train for both methods, then report on both
// (side by side) and on one, and inspect on the model.
func TestTrainThenReport(t *testing.T) {
	dir := t.TempDir()
	small := []string{"--example", "xu1", "--grades", "[[1,16,16,1],[16,16,16,1]]", "--epochs", "2", "--quiet"}
	for _, m := range []string{"mgdl", "sgdl"} {
		if _, err := runCLI(t, append([]string{"train", "--method", m, "--out", filepath.Join(dir, m)}, small...)...); err != nil {
			t.Fatal(err)
		}
	}
	st, err := report.ReadStaged(filepath.Join(dir, "mgdl", "staged.json"))
	if err != nil || len(st.Pred) != 2 || len(st.X) != report.MaxStagedPoints {
		t.Fatalf("staged.json: %v", err)
	}
	out, err := runCLI(t, "report", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "report.html (MGDL, SGDL)") {
		t.Errorf("report printed %q", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MGDL vs SGDL on xu1", `id="fig-fit-mgdl"`, `id="fig-spectrum-sgdl"`, `id="fig-loss"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if _, err := runCLI(t, "report", filepath.Join(dir, "mgdl")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "mgdl", "plots", "rse.svg")); err != nil {
		t.Error(err)
	}
	var ue usageError
	if _, err := runCLI(t, "report", filepath.Join(dir, "mgdl"), filepath.Join(dir, "sgdl")); !errors.As(err, &ue) {
		t.Errorf("two runs without --out: %v, want a usage error", err)
	}
	if _, err := runCLI(t, "report"); !errors.As(err, &ue) {
		t.Errorf("no run folder: %v, want a usage error", err)
	}
	if _, err := runCLI(t, "report", t.TempDir()); err == nil || errors.As(err, &ue) {
		t.Errorf("empty folder: %v, want a run error", err)
	}

	if _, err := os.Stat(filepath.Join(dir, "mgdl", modelFileName)); err != nil {
		t.Skipf("train wrote no model file (%v): inspect not tested", err)
	}
	out, err = runCLI(t, "inspect", filepath.Join(dir, "mgdl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"method         mgdl", "[1,16×2,1]", "[16,16×2,1]", "2 grades, 882 parameters"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	out, err = runCLI(t, "inspect", "--json", filepath.Join(dir, "mgdl", modelFileName))
	if err != nil || !json.Valid([]byte(out)) {
		t.Errorf("inspect --json: %v\n%s", err, out)
	}
}

// TestImageRunReport trains on a small image and checks that the
// reconstruction after each grade reaches the report.
func TestImageRunReport(t *testing.T) {
	img := filepath.Join("..", "..", "data", "testdata", "camera64.png")
	if _, err := os.Stat(img); err != nil {
		t.Skipf("no test image: %v", err)
	}
	dir := t.TempDir()
	if _, err := runCLI(t, "train", "--data", img, "--grades", "[[2,16,16,1],[16,16,16,1]]", "--epochs", "2", "--out", dir, "--quiet"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"target.png", "grade1.png", "grade2.png"} {
		if _, err := os.Stat(filepath.Join(dir, report.ImagesDir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := runCLI(t, "report", dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "report.html"))
	if err != nil || !strings.Contains(string(b), `id="fig-images-mgdl"`) {
		t.Errorf("report.html has no image figure (%v)", err)
	}
}

func TestVersion(t *testing.T) {
	out, err := runCLI(t, "version")
	if err != nil || !strings.HasPrefix(out, "mgdl "+mgdl.Version+"\n") || !strings.Contains(out, "backend") {
		t.Errorf("version: %v\n%s", err, out)
	}
	out, err = runCLI(t, "version", "--short")
	if err != nil || out != mgdl.Version+"\n" {
		t.Errorf("version --short: %v %q", err, out)
	}
}

// TestDemoConfigAndReport runs demo from a config file with a tiny budget,
// then the report on its folder: MGDL and SGDL side by side.
func TestDemoConfigAndReport(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "demo.yaml"), "grades: [[1,8,8,1],[8,8,8,1]]\nepochs: 1\nlr: 1e-3\n")
	out := filepath.Join(dir, "demo")
	text, err := runCLI(t, "demo", "--config", cfg, "--out", out, "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "SGDL/MGDL") {
		t.Errorf("demo printed %q", text)
	}
	for _, m := range []string{"mgdl", "sgdl"} {
		for _, f := range []string{"summary.json", "config.json", "metrics.jsonl", "staged.json"} {
			if _, err := os.Stat(filepath.Join(out, m, f)); err != nil {
				t.Error(err)
			}
		}
	}
	if s := loadSummary(t, filepath.Join(out, "mgdl")); len(s.Grades) != 2 || s.Grades[0].Epochs != 1 {
		t.Errorf("demo ignored the config: %d grades, %d epochs", len(s.Grades), s.Grades[0].Epochs)
	}
	if _, err := runCLI(t, "report", out); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(out, "report.html"))
	if err != nil || !strings.Contains(string(b), "MGDL vs SGDL on spectral2") {
		t.Errorf("report.html: %v", err)
	}
}
