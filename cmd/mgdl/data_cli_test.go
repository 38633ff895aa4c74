package main

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/rundir"
	"github.com/mgdl/mgdl/tensor"
)

const camera = "../../data/testdata/camera64.png"

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// mgdlBinary builds the command once per test run into a temporary folder.
func mgdlBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mgdl-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "mgdl")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// exitCode runs the binary and returns its exit code and stderr.
func exitCode(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(mgdlBinary(t), args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, stderr.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), stderr.String()
	}
	t.Fatal(err)
	return 0, ""
}

// writeTable writes a CSV of n rows: inputs a, b and target y = sin(3a) + b².
func writeTable(t *testing.T, path string, n int) {
	t.Helper()
	rng := rand.New(rand.NewPCG(5, 5))
	var b strings.Builder
	b.WriteString("id,a,b,y\n")
	for i := range n {
		a, c := rng.Float64()*4-2, rng.Float64()*2
		fmt.Fprintf(&b, "r%d,%g,%g,%g\n", i, a, c, math.Sin(3*a)+c*c)
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeNPZ writes arrays as numpy.savez does.
func writeNPZ(t *testing.T, path string, arrays map[string]*tensor.Dense[float64]) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, m := range arrays {
		w, _ := zw.Create(name + ".npy")
		data.EncodeNPY(w, []int{m.Rows, m.Cols}, m.Raw())
	}
	zw.Close()
	os.WriteFile(path, buf.Bytes(), 0o644)
}

// TestTableTrainPredictEval: a CSV table trains with standardisation; the
// saved model's predictions through predict (CSV and NPY) equal the
// model's own, in original units; eval reports per-grade metrics.
func TestTableTrainPredictEval(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "train.csv")
	writeTable(t, csv, 400)
	for _, dtype := range []string{"float64", "float32"} {
		t.Run(dtype, func(t *testing.T) {
			run := filepath.Join(dir, "run-"+dtype)
			_, err := runCLI(t, "train", "--data", csv, "--inputs", "a,b", "--targets", "y", "--standardize", "both",
				"--grades", "[[2,16,16,1],[16,16,1]]", "--epochs", "30", "--batch", "64", "--dtype", dtype, "--out", run, "--progress", "none")
			if err != nil {
				t.Fatal(err)
			}
			f, err := modelfile.ReadFile(filepath.Join(run, rundir.ModelFile))
			if err != nil {
				t.Fatal(err)
			}
			if f.Meta.DType != dtype || !slices.Equal(f.Meta.Inputs, []string{"a", "b"}) || f.Meta.Normalization == nil || f.Meta.Normalization.Targets == nil {
				t.Fatalf("meta %+v", f.Meta)
			}
			// predict → CSV, against the model computed here.
			out := filepath.Join(dir, "pred-"+dtype+".csv")
			if _, err := runCLI(t, "predict", "--model", run, "--input", csv, "--out", out, "--per-grade"); err != nil {
				t.Fatal(err)
			}
			tb, err := data.LoadCSV(out, data.CSVOptions{NoTargets: true})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(tb.InputNames, []string{"y.grade1", "y.grade2"}) || tb.Data.X.Rows != 400 {
				t.Fatalf("columns %v rows %d", tb.InputNames, tb.Data.X.Rows)
			}
			src, _ := data.LoadCSV(csv, data.CSVOptions{Inputs: []string{"a", "b"}, Targets: []string{"y"}})
			var want []float64
			if dtype == "float32" {
				for _, v := range stagedOutputs[float32](f, src.Data.X, true)[1].Raw() {
					want = append(want, float64(v))
				}
			} else {
				want = stagedOutputs[float64](f, src.Data.X, true)[1].Raw()
			}
			for i, w := range want {
				got := tb.Data.X.At(i, 1)
				if dtype == "float32" {
					got = float64(float32(got)) // CSV holds float32's shortest form
				}
				if got != w {
					t.Fatalf("row %d: predict wrote %v, the model gives %v", i, got, w)
				}
			}
			// predict → NPY from an .npz input.
			npz := filepath.Join(dir, "x.npz")
			writeNPZ(t, npz, map[string]*tensor.Dense[float64]{"x": src.Data.X, "y": src.Data.Y})
			npy := filepath.Join(dir, "pred.npy")
			if _, err := runCLI(t, "predict", "--model", run, "--input", npz, "--out", npy); err != nil {
				t.Fatal(err)
			}
			a, err := data.LoadNPY(npy)
			if err != nil || !slices.Equal(a.Shape, []int{400, 1}) {
				t.Fatalf("%v %v", a, err)
			}
			for i, w := range want {
				if a.Data[i] != w {
					t.Fatalf("npy row %d: %v vs %v", i, a.Data[i], w)
				}
			}
			// eval on the CSV and on the .npz give the same metrics.
			o1, err := runCLI(t, "eval", "--model", run, "--data", csv, "--json")
			if err != nil {
				t.Fatal(err)
			}
			o2, err := runCLI(t, "eval", "--model", run, "--data", npz, "--json")
			if err != nil || o1 != o2 || !strings.Contains(o1, `"rse"`) || strings.Count(o1, `"grade"`) != 2 {
				t.Fatalf("eval:\n%s\n%s\n%v", o1, o2, err)
			}
		})
	}
}

// TestImageRegressionCLI trains on a real photograph (a 64×64 crop of
// camera.png, CC0) with the papers' split, writes the reconstruction, and
// reconstructs again through predict and eval.
func TestImageRegressionCLI(t *testing.T) {
	dir := t.TempDir()
	run := filepath.Join(dir, "cam")
	out, err := runCLI(t, "train", "--data", camera, "--grades", "[[2,48,48,1],[48,48,48,1]]", "--epochs", "150", "--lr", "3e-3",
		"--batch", "128", "--out", run, "--progress", "none")
	if err != nil {
		t.Fatal(err, out)
	}
	rec, err := data.LoadImage(filepath.Join(run, rundir.ReconstructionFile))
	if err != nil || rec.Shape != (data.ImageShape{Height: 64, Width: 64, Channels: 1}) {
		t.Fatalf("reconstruction: %+v %v", rec, err)
	}
	js, err := runCLI(t, "eval", "--model", run, "--data", camera, "--json")
	if err != nil || !strings.Contains(js, "psnr_db") {
		t.Fatalf("eval: %s %v", js, err)
	}
	big := filepath.Join(dir, "big.png")
	if _, err := runCLI(t, "predict", "--model", run, "--out", big, "--size", "96x128"); err != nil {
		t.Fatal(err)
	}
	b, err := data.LoadImage(big)
	if err != nil || b.Shape.Height != 96 || b.Shape.Width != 128 {
		t.Fatalf("%+v %v", b, err)
	}
	orig, _ := data.LoadImage(camera)
	var mse float64
	for i, v := range orig.Values.Raw() {
		d := v - rec.Values.Raw()[i]
		mse += d * d
	}
	psnr := -10 * math.Log10(mse/float64(orig.Values.Len()))
	t.Logf("camera 64×64, 2 grades of 2×48, 150 epochs: reconstruction PSNR %.2f dB", psnr)
	if psnr < 15 {
		t.Fatalf("reconstruction PSNR %.2f dB; a constant image gives about 10", psnr)
	}
}

// TestKillAndResume kills a training process with SIGKILL at random
// moments during its grades, checks that whatever checkpoint is left
// loads, resumes with --resume until the run finishes, and compares the
// final model with an uninterrupted run's: they must be bit-identical. It
// does so for a synthetic example, a CSV file (standardised) and an image.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs training processes for several seconds")
	}
	csv := filepath.Join(t.TempDir(), "table.csv")
	writeTable(t, csv, 3000)
	for _, c := range []struct {
		name string
		args []string
	}{
		{"example", []string{"--example", "xu1", "--grades", "[[1,32,32,1],[32,32,32,1],[32,32,32,1]]", "--activation", "relu", "--epochs", "120", "--batch", "128"}},
		{"csv", []string{"--data", csv, "--inputs", "a,b", "--standardize", "both", "--grades", "[[2,32,32,1],[32,32,32,1],[32,32,32,1]]", "--epochs", "100", "--batch", "64"}},
		{"image", []string{"--data", camera, "--grades", "[[2,32,32,1],[32,32,32,1],[32,32,32,1]]", "--epochs", "60", "--batch", "64"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			killAndResume(t, append([]string{"train", "--lr", "1e-3", "--progress", "none"}, c.args...))
		})
	}
}

func killAndResume(t *testing.T, args []string) {
	bin := mgdlBinary(t)
	dir := t.TempDir()
	ref := filepath.Join(dir, "ref")
	start := time.Now()
	if out, err := exec.Command(bin, append(args, "--out", ref)...).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	total := time.Since(start)
	want, _ := params(t, ref)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("uninterrupted run %v; kill times drawn with seed %d", total, seed)
	ckpt := func(run string) int {
		if _, err := os.Stat(filepath.Join(run, rundir.ModelFile)); err != nil {
			return 0
		}
		_, n := params(t, run) // must load
		return n
	}
	// start runs the command; kill, if set, SIGKILLs it once waitFor says
	// so plus a random delay below maxDelay. It reports whether the
	// process was killed.
	start1 := func(cmd *exec.Cmd, waitFor func() bool, maxDelay time.Duration) (killed bool) {
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		for !waitFor() {
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("run failed: %v\n%s", err, out.String())
				}
				return false
			case <-time.After(2 * time.Millisecond):
			}
		}
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run failed: %v\n%s", err, out.String())
			}
			return false
		case <-time.After(time.Duration(rng.Float64() * float64(maxDelay))):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			return true
		}
	}
	// First kill: during grade 2 or 3, so that resuming restores grades.
	run := ""
	for attempt := 0; ; attempt++ {
		if attempt == 5 {
			t.Fatal("the run kept finishing before the kill")
		}
		run = filepath.Join(dir, fmt.Sprint("run", attempt))
		hasCkpt := func() bool { _, err := os.Stat(filepath.Join(run, rundir.ModelFile)); return err == nil }
		if start1(exec.Command(bin, append(args, "--out", run)...), hasCkpt, total/2) {
			break
		}
	}
	grades := ckpt(run)
	t.Logf("killed during grade %d: the checkpoint holds %d grades", grades+1, grades)
	if grades < 1 {
		t.Fatal("no checkpoint after grade 1")
	}
	// Up to two more kills of resumed runs, then a resume to the end.
	for kills := 1; ; kills++ {
		resume := exec.Command(bin, "train", "--resume", run, "--progress", "none")
		if kills == 3 {
			start1(resume, func() bool { return false }, 0)
			break
		}
		if !start1(resume, func() bool { return true }, total*time.Duration(3-grades)/3) {
			break
		}
		grades = ckpt(run)
		t.Logf("killed a resumed run: the checkpoint holds %d grades", grades)
	}
	got, n := params(t, run)
	if n != 3 || !slices.Equal(got, want) {
		t.Fatalf("resumed model (%d grades) differs from the uninterrupted run's", n)
	}
}

// TestInterruptKeepsGrades sends SIGINT or SIGTERM once a grade has
// finished: the process exits with code 130 and the checkpoint holds the
// finished grades.
func TestInterruptKeepsGrades(t *testing.T) {
	if testing.Short() {
		t.Skip("runs training processes")
	}
	bin := mgdlBinary(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			run := filepath.Join(t.TempDir(), "run")
			cmd := exec.Command(bin, "train", "--example", "xu1", "--grades", "[[1,32,32,1],[32,32,32,1],[32,32,32,1]]", "--activation", "relu",
				"--epochs", "300", "--batch", "128", "--progress", "none", "--out", run)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(60 * time.Second)
			for {
				if _, err := os.Stat(filepath.Join(run, rundir.ModelFile)); err == nil || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 130 {
				t.Fatalf("exit: %v", err)
			}
			if _, n := params(t, run); n < 1 {
				t.Fatal("no grade kept")
			}
		})
	}
}
