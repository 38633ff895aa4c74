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
	"github.com/mgdl/mgdl/experiment"
	"github.com/mgdl/mgdl/rundir"
)

func writeFile(t *testing.T, path, text string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func loadSummary(t *testing.T, dir string) *rundir.Summary {
	t.Helper()
	s, err := rundir.ReadSummary(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConfigFile checks a YAML experiment config written by hand:
// per-grade settings, grade_defaults, a data section, and flags that
// override the file; config.json then holds the resolved configuration and
// repeats the run bit for bit.
func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	cfg := writeFile(t, filepath.Join(dir, "exp.yaml"), `
# Xu (2023) example 1, shrunk
method: mgdl
data: {example: xu1, seed: 3}
grade_defaults: {batch_size: 64, lr: {max: 1e-2, min: 1e-4}}
grades:
  - {widths: [1, 16, 16, 1], activation: sin, epochs: 3, lr: {max: 0.1, min: 1e-4}}
  - {widths: [16, 8, 1], epochs: 2}
seed: 9
`)
	out := filepath.Join(dir, "run")
	if _, err := runCLI(t, "train", "--config", cfg, "--epochs", "1,2", "--out", out, "--quiet"); err != nil {
		t.Fatal(err)
	}
	s := loadSummary(t, out)
	c := s.Config
	if c.Data.Example != "xu1" || c.Data.Seed != 3 || c.Seed != 9 || len(c.Grades) != 2 {
		t.Fatalf("data %+v seed %d grades %d: want xu1 seed 3, seed 9, 2 grades", c.Data, c.Seed, len(c.Grades))
	}
	g1, g2 := c.Grades[0], c.Grades[1]
	if g1.Activation.String() != "sin" || g2.Activation.String() != "relu" {
		t.Errorf("activations %v %v, want sin relu (the default)", g1.Activation, g2.Activation)
	}
	if g1.Epochs != 1 || g2.Epochs != 2 { // --epochs overrides the file
		t.Errorf("epochs %d %d, want 1 2 (from the flag)", g1.Epochs, g2.Epochs)
	}
	if g1.LR.Max != 0.1 || g2.LR.Max != 0.01 || g1.LR.Min != 1e-4 || g1.BatchSize != 64 || g2.BatchSize != 64 {
		t.Errorf("lr %v %v batch %d %d, want 0.1→1e-4, 0.01→1e-4 (grade_defaults), 64", g1.LR, g2.LR, g1.BatchSize, g2.BatchSize)
	}

	// config.json is the resolved configuration with its digest, widths on
	// one line, and it repeats the run bit for bit.
	b, err := os.ReadFile(filepath.Join(out, rundir.ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"widths": [1, 16, 16, 1]`, `"epochs": 1,`, `"batch_size": 64`, `"digest": "` + s.Digest + `"`, `"example": "xu1"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("config.json lacks %s:\n%s", want, b)
		}
	}
	again := filepath.Join(dir, "again")
	if _, err := runCLI(t, "train", "--config", filepath.Join(out, rundir.ConfigFile), "--out", again, "--quiet"); err != nil {
		t.Fatal(err)
	}
	if s2 := loadSummary(t, again); s2.Digest != s.Digest {
		t.Errorf("config.json gives digest %s, the run had %s", s2.Digest, s.Digest)
	}
	if !sameParams(t, out, again) {
		t.Error("the run repeated from config.json has other parameters")
	}

	// The metrics log: epochs, one record per grade, and the end.
	f, err := os.Open(filepath.Join(out, rundir.MetricsFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	count := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r rundir.MetricsRecord
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("metrics line %q: %v", sc.Text(), err)
		}
		count[r.Event]++
		if r.Event == "grade" && (r.Result == nil || r.Result.Grade != r.Grade) {
			t.Errorf("grade record without its result: %s", sc.Text())
		}
		if r.Event == "epoch" && (r.TrainRSE == nil || (r.Epoch == r.Epochs) != (r.ValRSE != nil)) {
			t.Errorf("epoch record without its train RSE, or a validation RSE not at the grade's last epoch (the record interval is 10): %s", sc.Text())
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
	js := writeFile(t, filepath.Join(dir, "exp.json"), `{"data": {"example": "xu2"}, "grades": [[1,8,8,1],[8,8,8,1]], "grade_defaults": {"epochs": 1, "lr": {"max": 0.01, "min": 0.001}, "batch_size": 0}}`)
	out := filepath.Join(dir, "run")
	if _, err := runCLI(t, "train", "--config", js, "--out", out, "--quiet"); err != nil {
		t.Fatal(err)
	}
	if c := loadSummary(t, out).Config; c.Data.Example != "xu2" || c.Grades[1].LR.Min != 0.001 || c.Grades[0].BatchSize != 0 {
		t.Errorf("from JSON: %+v, grade 2 lr %v, batch %d", c.Data, c.Grades[1].LR, c.Grades[0].BatchSize)
	}
	for name, tc := range map[string]struct{ file, want string }{
		"unknown key":       {"epochz: 3\n", `unknown setting "epochz"`},
		"old flat key":      {"epochs: 3\n", `unknown setting "epochs" (it belongs in grade_defaults or each grade)`},
		"unknown grade key": {"grades:\n  - {widths: [1,8,1], epoch: 2}\n", `unknown setting "grades[0].epoch"`},
		"bad yaml":          {"grades: [[1,2\n", "exp.yaml"},
		"duplicate key":     {"seed: 1\nseed: 2\n", "already defined"},
		"bad value":         {"grade_defaults: {batch_size: many}\ngrades: [[1,8,1]]\n", "batch_size"},
		"no widths":         {"grades:\n  - {epochs: 2}\n", "grades[0]: no widths"},
		"not a mapping":     {"- 1\n- 2\n", "want a mapping"},
		"bad method":        {"method: xgdl\n", "xgdl"},
	} {
		t.Run(name, func(t *testing.T) {
			p := writeFile(t, filepath.Join(t.TempDir(), "exp.yaml"), tc.file)
			_, err := runCLI(t, "train", "--config", p, "--out", filepath.Join(t.TempDir(), "run"), "--quiet")
			var ue usageError
			if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v (usage error: %v), want one mentioning %q", err, errors.As(err, &ue), tc.want)
			}
		})
	}
	if _, err := runCLI(t, "train", "--config", filepath.Join(dir, "missing.yaml"), "--out", filepath.Join(dir, "new")); err == nil {
		t.Error("a missing config file was accepted")
	}
}

// TestExampleConfigs checks that every config under examples/ decodes and
// resolves to a run the trainer accepts: each is trained with a budget of
// one epoch per grade.
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
			c, err := experiment.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "run")
			if _, err := runCLI(t, "train", "--config", f, "--epochs", "1", "--sgdl-epochs", "1", "--dtype", "float32", "--out", out, "--quiet"); err != nil {
				t.Fatal(err)
			}
			s := loadSummary(t, out)
			want := len(c.Grades)
			if c.Method == experiment.SGDL {
				want = 1
			}
			if len(s.Grades) != want || len(s.Config.Grades) != len(c.Grades) {
				t.Errorf("%d grades trained and %d configured, want %d and %d", len(s.Grades), len(s.Config.Grades), want, len(c.Grades))
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
	st, err := rundir.ReadStaged(filepath.Join(dir, "mgdl", rundir.StagedFile))
	if err != nil || len(st.Pred) != 2 || len(st.X) != rundir.MaxStagedPoints {
		t.Fatalf("staged.json: %v", err)
	}
	out, err := runCLI(t, "report", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "report.html (MGDL, SGDL)") {
		t.Errorf("report printed %q", out)
	}
	b, err := os.ReadFile(filepath.Join(dir, rundir.ReportFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MGDL vs SGDL on xu1", `id="fig-fit-mgdl"`, `id="fig-spectrum-sgdl"`, `id="fig-loss"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
	if !strings.Contains(string(b), "[1,16×4,1]") {
		t.Error("the SGDL run's table does not show its one network [1,16×4,1]")
	}
	if _, err := runCLI(t, "report", filepath.Join(dir, "mgdl")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "mgdl", rundir.PlotsDir, "rse.svg")); err != nil {
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

	out, err = runCLI(t, "inspect", filepath.Join(dir, "mgdl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"method         mgdl", "[1,16×2,1]", "[16,16×2,1]", "2 grades, 882 parameters"} {
		if !strings.Contains(out, want) {
			t.Errorf("inspect output lacks %q:\n%s", want, out)
		}
	}
	out, err = runCLI(t, "inspect", "--json", filepath.Join(dir, "mgdl", rundir.ModelFile))
	if err != nil || !json.Valid([]byte(out)) {
		t.Errorf("inspect --json: %v\n%s", err, out)
	}
}

// TestImageRunReport trains on a small image and checks that the
// reconstruction after each grade reaches the report.
func TestImageRunReport(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	if _, err := runCLI(t, "train", "--data", camera, "--grades", "[[2,16,16,1],[16,16,16,1]]", "--epochs", "2", "--out", dir, "--quiet"); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"target.png", "grade1.png", "grade2.png"} {
		if _, err := os.Stat(filepath.Join(dir, rundir.ImagesDir, f)); err != nil {
			t.Error(err)
		}
	}
	if _, err := runCLI(t, "report", dir); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, rundir.ReportFile))
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
	cfg := writeFile(t, filepath.Join(dir, "demo.yaml"), "grades: [[1,8,8,1],[8,8,8,1]]\ngrade_defaults: {epochs: 1, lr: 1e-3}\n")
	out := filepath.Join(dir, "demo")
	text, err := runCLI(t, "demo", "--config", cfg, "--out", out, "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "SGDL/MGDL") {
		t.Errorf("demo printed %q", text)
	}
	for _, m := range []string{"mgdl", "sgdl"} {
		for _, f := range []string{rundir.SummaryFile, rundir.ConfigFile, rundir.MetricsFile, rundir.StagedFile, rundir.ModelFile} {
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
	b, err := os.ReadFile(filepath.Join(out, rundir.ReportFile))
	if err != nil || !strings.Contains(string(b), "MGDL vs SGDL on spectral2") {
		t.Errorf("report.html: %v", err)
	}
	// A second demo into the same folder is refused; --replace replaces both runs.
	var ue usageError
	text, err = runCLI(t, "demo", "--config", cfg, "--out", out, "--quiet")
	if !errors.As(err, &ue) || !errors.Is(err, rundir.ErrExists) || strings.Contains(err.Error(), "--resume") || text != "" {
		t.Errorf("demo into a used folder: %v (printed %q), want a usage error before anything is printed, without --resume advice", err, text)
	}
	if _, err := runCLI(t, "demo", "--config", cfg, "--out", out, "--quiet", "--replace", "--seed", "2"); err != nil {
		t.Fatal(err)
	}
	if s := loadSummary(t, filepath.Join(out, "sgdl")); s.Config.Seed != 2 {
		t.Errorf("--replace kept the old run (seed %d)", s.Config.Seed)
	}
}
