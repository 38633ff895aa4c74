package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/rundir"
	"github.com/mgdl/mgdl/tensor"
)

// params returns every parameter of the model in run folder dir, as bits,
// and the number of grades.
func params(t *testing.T, dir string) ([]uint64, int) {
	t.Helper()
	f, err := rundir.OpenModel(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []uint64
	if f.Meta.DType == "float32" {
		for _, g := range modelfile.Model[float32](f).Grades {
			for _, v := range g.Params() {
				out = append(out, uint64(math.Float32bits(v)))
			}
		}
		return out, len(f.Meta.Grades)
	}
	for _, g := range modelfile.Model[float64](f).Grades {
		for _, v := range g.Params() {
			out = append(out, math.Float64bits(v))
		}
	}
	return out, len(f.Meta.Grades)
}

// sameParams reports whether the models of two run folders have the same
// grades with bit-identical parameters.
func sameParams(t *testing.T, a, b string) bool {
	t.Helper()
	pa, na := params(t, a)
	pb, nb := params(t, b)
	return na == nb && slices.Equal(pa, pb)
}

// sameModelFile reports whether two run folders hold byte-identical model
// files.
func sameModelFile(t *testing.T, a, b string) bool {
	t.Helper()
	x, err := os.ReadFile(filepath.Join(a, rundir.ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(filepath.Join(b, rundir.ModelFile))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Equal(x, y)
}

// truncateCheckpoint rewrites dir's model file as the checkpoint after
// its first grades grades, as a run killed during grade grades+1 leaves it.
func truncateCheckpoint(t *testing.T, dir string, grades int) {
	t.Helper()
	path := filepath.Join(dir, rundir.ModelFile)
	f, err := modelfile.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var results []json.RawMessage
	if err := json.Unmarshal(f.Meta.Metrics, &results); err != nil {
		t.Fatal(err)
	}
	meta := f.Meta
	meta.Metrics, _ = json.Marshal(results[:grades])
	var b []byte
	if meta.DType == "float32" {
		m := modelfile.Model[float32](f)
		m.Grades = m.Grades[:grades]
		b, err = modelfile.Encode(m, meta)
	} else {
		m := modelfile.Model[float64](f)
		m.Grades = m.Grades[:grades]
		b, err = modelfile.Encode(m, meta)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSourcesReproduceAndResume trains from every kind of data source
// (synthetic example, CSV, NPY with a targets file, NPZ, image, MNIST when
// its module is present), then checks that train --config RUN/config.json
// --out NEW gives bit-identical tensors, and that --resume from the
// checkpoint after grade 1 ends with the same model as the uninterrupted
// run.
func TestSourcesReproduceAndResume(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "table.csv")
	writeTable(t, csv, 300)
	tb, err := data.LoadCSV(csv, data.CSVOptions{Inputs: []string{"a", "b"}, Targets: []string{"y"}})
	if err != nil {
		t.Fatal(err)
	}
	npz := filepath.Join(dir, "arrays.npz")
	writeNPZ(t, npz, map[string]*tensor.Dense[float64]{"x": tb.Data.X, "y": tb.Data.Y})
	xnpy, ynpy := filepath.Join(dir, "x.npy"), filepath.Join(dir, "y.npy")
	for p, m := range map[string]*tensor.Dense[float64]{xnpy: tb.Data.X, ynpy: tb.Data.Y} {
		var b bytes.Buffer
		data.EncodeNPY(&b, []int{m.Rows, m.Cols}, m.Raw())
		writeFile(t, p, b.String())
	}
	small := []string{"--epochs", "3", "--batch", "64", "--quiet"}
	cases := []struct {
		name string
		args []string
	}{
		{"example", []string{"--example", "xu1", "--grades", "[[1,16,16,1],[16,16,16,1]]"}},
		{"csv", []string{"--data", csv, "--inputs", "a,b", "--standardize", "both", "--grades", "[[2,16,16,1],[16,16,1]]", "--dtype", "float32"}},
		{"npy", []string{"--data", xnpy, "--targets", ynpy, "--grades", "[[2,16,16,1],[16,16,1]]"}},
		{"npz", []string{"--data", npz, "--val", "0.2", "--split-seed", "4", "--grades", "[[2,16,16,1],[16,16,1]]"}},
		{"image", []string{"--data", camera, "--grades", "[[2,16,16,1],[16,16,16,1]]"}},
		{"mnist", []string{"--data", "mnist", "--grades", "[[784,16,10],[16,16,10]]", "--epochs", "1", "--batch", "512"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.name == "mnist" {
				if _, err := data.MNISTDir(); err != nil {
					t.Skipf("MNIST module not in the module cache (%v); .ci/run downloads it", err)
				}
			}
			run := filepath.Join(t.TempDir(), "run")
			if _, err := runCLI(t, append(append([]string{"train", "--out", run}, small...), c.args...)...); err != nil {
				t.Fatal(err)
			}
			// --config RUN/config.json from another working directory.
			again := filepath.Join(t.TempDir(), "again")
			t.Chdir(t.TempDir())
			if _, err := runCLI(t, "train", "--config", filepath.Join(run, rundir.ConfigFile), "--out", again, "--quiet"); err != nil {
				t.Fatal(err)
			}
			if !sameParams(t, run, again) {
				t.Error("--config RUN/config.json trained other tensors")
			}
			if !sameModelFile(t, run, again) {
				t.Error("--config RUN/config.json wrote another model file (byte for byte)")
			}
			if a, b := loadSummary(t, run), loadSummary(t, again); a.Digest != b.Digest || a.Final().TrainRSE != b.Final().TrainRSE {
				t.Errorf("digests %s / %s, final train RSE %v / %v", a.Digest, b.Digest, a.Final().TrainRSE, b.Final().TrainRSE)
			}
			// --resume from the checkpoint after grade 1.
			truncateCheckpoint(t, again, 1)
			if _, n := params(t, again); n != 1 {
				t.Fatalf("checkpoint holds %d grades", n)
			}
			if _, err := runCLI(t, "train", "--resume", again, "--quiet"); err != nil {
				t.Fatal(err)
			}
			if !sameParams(t, run, again) || !sameModelFile(t, run, again) {
				t.Error("the resumed run ended with another model than the uninterrupted one")
			}
			if s := loadSummary(t, again); len(s.Grades) != 2 || s.Running || s.Error != "" {
				t.Errorf("resumed summary: %d grades, running %v, error %q", len(s.Grades), s.Running, s.Error)
			}
		})
	}
}

// TestRunFolderIdentity: a folder that holds a run is refused without
// --resume or --replace, --replace replaces it whole, and --resume refuses
// a config.json edited after the start or a model trained under another
// configuration.
func TestRunFolderIdentity(t *testing.T) {
	dir := t.TempDir()
	small := []string{"--example", "xu1", "--grades", "[[1,8,8,1],[8,8,8,1]]", "--epochs", "1", "--quiet"}
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	for _, run := range []string{a, b} {
		if _, err := runCLI(t, append([]string{"train", "--out", run}, small...)...); err != nil {
			t.Fatal(err)
		}
	}
	var ue usageError
	_, err := runCLI(t, append([]string{"train", "--out", a, "--seed", "2"}, small...)...)
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "already holds a run (") || !strings.Contains(err.Error(), "give --resume") {
		t.Errorf("training into a run folder: %v, want a usage error naming --resume and --replace", err)
	}
	if s := loadSummary(t, a); s.Config.Seed != 1 {
		t.Error("the refused run changed the folder")
	}
	notRun := filepath.Join(dir, "notes")
	writeFile(t, filepath.Join(dir, "notes.txt"), "x")
	os.Mkdir(notRun, 0o755)
	writeFile(t, filepath.Join(notRun, "keep.txt"), "mine")
	if _, err := runCLI(t, append([]string{"train", "--out", notRun, "--replace"}, small...)...); !errors.As(err, &ue) || !strings.Contains(err.Error(), "holds files but no run") {
		t.Errorf("--replace on a folder that holds no run: %v", err)
	}
	if _, err := os.Stat(filepath.Join(notRun, "keep.txt")); err != nil {
		t.Error("--replace touched a folder that holds no run")
	}
	if _, err := runCLI(t, append([]string{"train", "--out", a, "--seed", "2", "--replace"}, small...)...); err != nil {
		t.Fatal(err)
	}
	if s := loadSummary(t, a); s.Config.Seed != 2 {
		t.Errorf("--replace: seed %d in the folder, want 2", s.Config.Seed)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".a.") {
			t.Errorf("--replace left %s behind", e.Name())
		}
	}

	// An edited config.json.
	cp := filepath.Join(a, rundir.ConfigFile)
	orig, _ := os.ReadFile(cp)
	writeFile(t, cp, strings.Replace(string(orig), `"seed": 2`, `"seed": 3`, 1))
	if _, err := runCLI(t, "train", "--resume", a, "--quiet"); err == nil || !strings.Contains(err.Error(), "was changed after the run started") {
		t.Errorf("--resume after editing config.json: %v", err)
	}
	writeFile(t, cp, string(orig))
	// A model from another run.
	mb, _ := os.ReadFile(filepath.Join(b, rundir.ModelFile))
	writeFile(t, filepath.Join(a, rundir.ModelFile), string(mb))
	if _, err := runCLI(t, "train", "--resume", a, "--quiet"); err == nil || !strings.Contains(err.Error(), "was trained under another configuration") {
		t.Errorf("--resume with another run's model: %v", err)
	}
	// Other settings with --resume.
	if _, err := runCLI(t, "train", "--resume", a, "--epochs", "9"); !errors.As(err, &ue) {
		t.Errorf("--resume with --epochs: %v", err)
	}
}

// TestConcurrentTrains starts two processes training into one new folder
// at once: one is refused with a clear error, and the folder holds the
// other's run, consistent (config, model and summary of one digest).
func TestConcurrentTrains(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two training processes")
	}
	bin := mgdlBinary(t)
	for round := range 3 {
		run := filepath.Join(t.TempDir(), "run")
		type result struct {
			code   int
			stderr string
		}
		var wg sync.WaitGroup
		res := make([]result, 2)
		for i := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cmd := exec.Command(bin, "train", "--example", "xu1", "--grades", "[[1,16,16,1],[16,16,16,1]]", "--epochs", "20",
					"--seed", []string{"1", "2"}[i], "--out", run, "--progress", "none")
				var e bytes.Buffer
				cmd.Stderr = &e
				err := cmd.Run()
				res[i].stderr = e.String()
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					res[i].code = ee.ExitCode()
				} else if err != nil {
					res[i].code = -1
				}
			}()
		}
		wg.Wait()
		winner := -1
		for i, r := range res {
			switch {
			case r.code == 0:
				if winner >= 0 {
					t.Fatalf("round %d: both processes trained into one folder", round)
				}
				winner = i
			case !strings.Contains(r.stderr, "holds its lock") && !strings.Contains(r.stderr, "already holds a run"):
				t.Errorf("round %d: the refused process said %q (exit %d)", round, r.stderr, r.code)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: neither process trained: %+v", round, res)
		}
		s := loadSummary(t, run)
		f, err := rundir.OpenModel(run)
		if err != nil {
			t.Fatal(err)
		}
		cb, _ := os.ReadFile(filepath.Join(run, rundir.ConfigFile))
		if s.Config.Seed != uint64(winner+1) || f.Meta.ConfigDigest != s.Digest || !bytes.Contains(cb, []byte(s.Digest)) || len(s.Grades) != 2 {
			t.Errorf("round %d: the folder mixes runs: summary seed %d (winner %d), model digest %.8s, summary digest %.8s", round, s.Config.Seed, winner+1, f.Meta.ConfigDigest, s.Digest)
		}
	}
}

// TestModelRecordsDigest: the model file names the configuration it was
// trained under, and is little-endian safetensors with it in the header.
func TestModelRecordsDigest(t *testing.T) {
	run := filepath.Join(t.TempDir(), "run")
	if _, err := runCLI(t, "train", "--example", "xu1", "--grades", "[[1,8,8,1]]", "--epochs", "1", "--out", run, "--quiet"); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(run, rundir.ModelFile))
	n := binary.LittleEndian.Uint64(b)
	s := loadSummary(t, run)
	if !bytes.Contains(b[8:8+n], []byte(s.Digest)) {
		t.Error("the model header does not hold the configuration digest")
	}
}
