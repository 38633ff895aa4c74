package rundir

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/experiment"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
)

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCreate(t *testing.T) {
	base := t.TempDir()
	// A new folder (and its parents) is made and locked.
	p := filepath.Join(base, "a", "run")
	d, err := Create(p, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(p, CreateOptions{}); !errors.Is(err, ErrLocked) {
		t.Errorf("a second Create while the first holds the folder: %v, want ErrLocked", err)
	}
	if _, err := Create(p, CreateOptions{Replace: true}); !errors.Is(err, ErrLocked) {
		t.Errorf("--replace while another process writes: %v, want ErrLocked", err)
	}
	if err := d.WriteConfig(experiment.Default()); err != nil {
		t.Fatal(err)
	}
	d.Close()
	// A run folder is refused, then replaced whole.
	if _, err := Create(p, CreateOptions{}); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "already holds a run") {
		t.Errorf("Create on a run folder: %v", err)
	}
	// A file that is not the run's keeps the folder from being replaced,
	// and so does an input of the new run inside it.
	write(t, filepath.Join(p, "extra.txt"), "old")
	if _, err := Create(p, CreateOptions{Replace: true}); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "files that are not the run's (extra.txt)") {
		t.Errorf("--replace of a run folder holding a user's file: %v", err)
	}
	os.Remove(filepath.Join(p, "extra.txt"))
	write(t, filepath.Join(p, StagedFile), "{}")
	if _, err := Create(p, CreateOptions{Replace: true, Inputs: []string{filepath.Join(p, StagedFile)}}); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "which --replace would discard") {
		t.Errorf("--replace of the folder holding an input: %v", err)
	}
	d, err = Create(p, CreateOptions{Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	if names, _ := entries(p); len(names) != 0 {
		t.Errorf("the replaced folder holds %v", names)
	}
	if ents, _ := os.ReadDir(filepath.Dir(p)); len(ents) != 1 {
		t.Errorf("replacing left %d entries next to the folder", len(ents))
	}
	if _, err := Create(p, CreateOptions{Replace: true}); !errors.Is(err, ErrLocked) {
		t.Errorf("the replacement is not locked: %v", err)
	}
	d.Close()
	// An empty folder is used; a folder of other files never is.
	empty := filepath.Join(base, "empty")
	os.Mkdir(empty, 0o755)
	if d, err := Create(empty, CreateOptions{}); err != nil {
		t.Error(err)
	} else {
		d.Close()
	}
	other := filepath.Join(base, "other")
	os.Mkdir(other, 0o755)
	write(t, filepath.Join(other, "notes.txt"), "mine")
	for _, replace := range []bool{false, true} {
		if _, err := Create(other, CreateOptions{Replace: replace}); !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "holds files but no run") {
			t.Errorf("Create (replace %v) on a folder of other files: %v", replace, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(other, "notes.txt")); err != nil || string(b) != "mine" {
		t.Error("the folder of other files was touched")
	}
	if names, _ := os.ReadDir(other); len(names) != 1 {
		t.Errorf("Create left %d entries in a folder that is not a run", len(names))
	}
	// A file in the way.
	if _, err := Create(filepath.Join(other, "notes.txt"), CreateOptions{}); err == nil || !strings.Contains(err.Error(), "not a folder") {
		t.Errorf("Create on a file: %v", err)
	}
}

// smallRun writes a run folder as train does: config.json, then a model
// of one grade recorded under the configuration's digest.
func smallRun(t *testing.T, dir string) experiment.Config {
	t.Helper()
	cfg := experiment.Default()
	cfg.Data = data.Source{Example: "xu1", Seed: 1}
	cfg.Grades = experiment.Uniform([][]int{{1, 4, 1}, {4, 4, 1}})
	cfg.Task = mgdl.Regression
	d, err := Create(dir, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.WriteConfig(cfg); err != nil {
		t.Fatal(err)
	}
	l, err := cfg.Data.Load()
	if err != nil {
		t.Fatal(err)
	}
	rec, err := NewRecorder[float64](d, cfg, l, nil, "test", nil)
	if err != nil {
		t.Fatal(err)
	}
	m := &model.Model[float64]{Grades: []*nn.MLP[float64]{nn.NewMLP[float64]([]int{1, 4, 1}, nn.ReLU)}}
	if err := rec.Grade(m, mgdl.GradeResult{Grade: 1, Widths: []int{1, 4, 1}, Seconds: 2}); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestResume(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	cfg := smallRun(t, dir)
	d, got, ck, err := Resume(dir)
	if err != nil {
		t.Fatal(err)
	}
	if ck == nil || len(ck.Meta.Grades) != 1 || got.Seed != cfg.Seed || len(got.Grades) != 2 {
		t.Fatalf("resumed %+v with checkpoint %v", got, ck)
	}
	if _, _, _, err := Resume(dir); !errors.Is(err, ErrLocked) {
		t.Errorf("a second Resume: %v, want ErrLocked", err)
	}
	rec, err := NewRecorder[float64](d, got, &data.Loaded{}, nil, "test", ck)
	if err != nil {
		t.Fatal(err)
	}
	if r := rec.Restored(); len(r) != 1 || r[0].Seconds != 2 {
		t.Errorf("restored results %+v", r)
	}
	d.Close()

	// config.json edited after the start.
	cp := filepath.Join(dir, ConfigFile)
	orig, _ := os.ReadFile(cp)
	write(t, cp, strings.Replace(string(orig), `"seed": 1`, `"seed": 5`, 1))
	if _, _, _, err := Resume(dir); err == nil || !strings.Contains(err.Error(), "was changed after the run started") {
		t.Errorf("edited config.json: %v", err)
	}
	// A model trained under another configuration: same edit, new digest.
	var c2 experiment.Config
	c2, _ = experiment.Decode([]byte(strings.Replace(string(orig), `"seed": 1`, `"seed": 5`, 1)))
	b, _ := c2.Encode()
	write(t, cp, string(b))
	if _, _, _, err := Resume(dir); err == nil || !strings.Contains(err.Error(), "was trained under another configuration") {
		t.Errorf("model of another configuration: %v", err)
	}
	// No grade finished: Resume starts over.
	os.Remove(filepath.Join(dir, ModelFile))
	d, _, ck, err = Resume(dir)
	if err != nil || ck != nil {
		t.Errorf("without a model: checkpoint %v, error %v", ck, err)
	}
	d.Close()
	if _, _, _, err := Resume(filepath.Join(dir, "nope")); err == nil || !errors.Is(err, ErrNotRun) {
		t.Errorf("a missing folder: %v", err)
	}
	if _, _, _, err := Resume(t.TempDir()); err == nil || !errors.Is(err, ErrNotRun) {
		t.Errorf("a folder without config.json: %v", err)
	}
}

// TestMetricsLogSampling checks that long grades are logged at about
// maxEpochRecords evenly spaced epochs, first and last included, that
// numbers JSON cannot hold are left out, and that a resumed run appends.
func TestMetricsLogSampling(t *testing.T) {
	path := filepath.Join(t.TempDir(), MetricsFile)
	count := func() (epochs, grades, ends int, last MetricsRecord) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var r MetricsRecord
			if err := json.Unmarshal([]byte(line), &r); err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			switch r.Event {
			case "epoch":
				epochs++
				last = r
			case "grade":
				grades++
			case "end":
				ends++
			}
		}
		return
	}
	m, err := openMetricsLog(path, false)
	if err != nil {
		t.Fatal(err)
	}
	for e := 1; e <= 30000; e++ {
		m.event(mgdl.Event{Grade: 1, Grades: 1, Epoch: e, Epochs: 30000, Loss: 1 / float64(e), TrainRSE: 2 / float64(e), LR: 1e-4, ValLoss: math.NaN(), ValRSE: math.NaN()}, "mgdl")
	}
	m.event(mgdl.Event{Grade: 1, Grades: 1, Epoch: 30000, Epochs: 30000, Done: true, Result: &mgdl.GradeResult{Grade: 1, TrainLoss: math.NaN()}}, "mgdl")
	if err := m.close(nil); err != nil {
		t.Fatal(err)
	}
	epochs, grades, ends, last := count()
	if epochs != 1001 || grades != 1 || ends != 1 || last.Epoch != 30000 || last.ValLoss != nil || last.TrainRSE == nil {
		t.Errorf("%d epoch, %d grade, %d end records, last epoch %d (val loss %v, train RSE %v); want 1001 (1, 30, 60, …, 30000), 1, 1, 30000, none, set", epochs, grades, ends, last.Epoch, last.ValLoss, last.TrainRSE)
	}
	m, err = openMetricsLog(path, true)
	if err != nil {
		t.Fatal(err)
	}
	m.event(mgdl.Event{Grade: 2, Grades: 2, Epoch: 1, Epochs: 10, Loss: 1}, "mgdl")
	if err := m.close(errors.New("stopped")); err != nil {
		t.Fatal(err)
	}
	if epochs, _, ends, _ := count(); epochs != 1002 || ends != 2 {
		t.Errorf("after resuming: %d epoch and %d end records, want 1002 and 2", epochs, ends)
	}
}

func TestOpenModel(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	smallRun(t, dir)
	for _, p := range []string{dir, filepath.Join(dir, ModelFile)} {
		if f, err := OpenModel(p); err != nil || len(f.Meta.Grades) != 1 {
			t.Errorf("OpenModel(%s): %v", p, err)
		}
	}
	if _, err := OpenModel(t.TempDir()); !errors.Is(err, ErrNotRun) {
		t.Errorf("a folder without a model: %v", err)
	}
}
