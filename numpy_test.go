package mgdl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"testing"

	"github.com/mgdl/mgdl/data"
)

// authorsSpectral2 returns spectral2 drawn with the NumPy streams, data
// seed 1: the authors' data.
func authorsSpectral2(t *testing.T) data.Splits[float64] {
	t.Helper()
	e, err := data.Lookup("spectral2")
	if err != nil {
		t.Fatal(err)
	}
	s, err := data.GenerateNumPy[float64](e, 1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNumPyStreamsMatchReference trains with RNGNumPy on the NumPy-stream
// spectral2 data and compares every grade's RSEs with those printed by the
// independent NumPy implementation of the recipe:
//
//	/usr/bin/python3 bench/reference/mgdl_numpy.py --example spectral2 \
//	    --grades '[[1,16,16,1],[16,16,16,1]]' --epochs 3 --lr 1e-3 --batch 256 --seed 5
//
// Same draws, same minibatches, same Adam steps: only the summation order
// of the products differs, so the figures agree far beyond the digits a
// different seed would change.
func TestNumPyStreamsMatchReference(t *testing.T) {
	s := authorsSpectral2(t)
	cfg := smallConfig(3, []int{1, 16, 16, 1}, []int{16, 16, 16, 1})
	cfg.Seed, cfg.RNG = 5, RNGNumPy
	_, res, err := Train(context.Background(), cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := [][3]float64{
		{0.9990849145706652, 0.99843440369731, 0.9999956909664616},
		{0.9983471950475713, 0.9959989279455151, 1.0001047894196777},
	}
	for l, w := range want {
		got := [3]float64{res[l].TrainRSE, *res[l].ValRSE, *res[l].TestRSE}
		for k := range w {
			if math.Abs(got[k]-w[k]) > 1e-11*w[k] {
				t.Errorf("grade %d RSE %d: %.16g, NumPy reference %.16g", l+1, k, got[k], w[k])
			}
		}
	}
	// PCG streams draw differently: the same config must not give the
	// reference's figures (else the test could not tell the streams apart).
	cfg.RNG = ""
	_, res, err = Train(context.Background(), cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res[0].TrainRSE-want[0][0]) < 1e-9 {
		t.Errorf("PCG streams gave the NumPy reference's RSE %.16g", res[0].TrainRSE)
	}
}

func TestNumPySeedRange(t *testing.T) {
	cfg := smallConfig(10, []int{1, 8, 1})
	cfg.RNG = RNGNumPy
	cfg.Seed = 1<<32 - 5
	if err := cfg.Validate(1, 1); err == nil {
		t.Error("seed 2^32-5 with 10 epochs passes NumPy's seed range, but Validate accepted it")
	}
	cfg.Seed = 1<<64 - 1 // must not wrap around
	if err := cfg.Validate(1, 1); err == nil {
		t.Error("seed 2^64-1 was accepted with rng numpy")
	}
	cfg.Seed = 1<<32 - 12
	if err := cfg.Validate(1, 1); err != nil {
		t.Errorf("seed 2^32-12 with 10 epochs: %v", err)
	}
	cfg.RNG = "mt"
	if err := cfg.Validate(1, 1); err == nil {
		t.Error(`rng "mt" was accepted`)
	}
}

// TestNumPyRestoreContinuesIdentically: a run restored after grade 1
// ends with the same figures as an uninterrupted one under RNGNumPy too
// (every grade reseeds NumPy's streams from the seed alone).
func TestNumPyRestoreContinuesIdentically(t *testing.T) {
	s := smallSpectral(t, 2)
	cfg := smallConfig(2, []int{1, 16, 16, 1}, []int{16, 16, 16, 1})
	cfg.RNG = RNGNumPy
	_, full, err := Train(context.Background(), cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	first := cfg
	first.Grades = cfg.Grades[:1]
	m, _, err := Train(context.Background(), first, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(cfg, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Restore(m); err != nil {
		t.Fatal(err)
	}
	rest, err := tr.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rest[0].TrainRSE != full[1].TrainRSE || *rest[0].TestRSE != *full[1].TestRSE {
		t.Errorf("restored grade 2: train %v test %v, uninterrupted %v %v", rest[0].TrainRSE, *rest[0].TestRSE, full[1].TrainRSE, *full[1].TestRSE)
	}
}

// referenceCmd is bench/reference/README.md's check command, after the
// interpreter.
var referenceCmd = []string{"bench/reference/mgdl_numpy.py", "--example", "spectral2",
	"--grades", "[[1,16,16,1],[16,16,16,1]]", "--epochs", "3", "--lr", "1e-3", "--batch", "256", "--seed", "5"}

// TestNumPyReferenceScript runs the NumPy reference implementation (when
// an interpreter with NumPy is installed) and checks that it still prints
// the figures TestNumPyStreamsMatchReference pins, and that mgdl with
// RNGNumPy matches them on a second seed too.
func TestNumPyReferenceScript(t *testing.T) {
	py := ""
	for _, c := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(c, "-c", "import numpy").Run() == nil {
			py = c
			break
		}
	}
	if py == "" {
		t.Skip("no python3 with NumPy (Debian: python3-numpy); the pinned figures of TestNumPyStreamsMatchReference still apply")
	}
	s := authorsSpectral2(t)
	for _, seed := range []string{"5", "11"} {
		args := append([]string(nil), referenceCmd...)
		args[len(args)-1] = seed
		out, err := exec.Command(py, args...).Output()
		if err != nil {
			t.Fatalf("%s %v: %v", py, args, err)
		}
		var ref []map[string]float64
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			var m map[string]float64
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("reference output %q: %v", sc.Text(), err)
			}
			ref = append(ref, m)
		}
		cfg := smallConfig(3, []int{1, 16, 16, 1}, []int{16, 16, 16, 1})
		cfg.RNG = RNGNumPy
		cfg.Seed = map[string]uint64{"5": 5, "11": 11}[seed]
		_, res, err := Train(context.Background(), cfg, s, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(ref) != len(res) {
			t.Fatalf("seed %s: reference printed %d grades, mgdl trained %d", seed, len(ref), len(res))
		}
		for l, r := range res {
			for k, got := range map[string]float64{"train_rse": r.TrainRSE, "val_rse": *r.ValRSE, "test_rse": *r.TestRSE} {
				if w := ref[l][k]; math.Abs(got-w) > 1e-11*w {
					t.Errorf("seed %s grade %d %s: mgdl %.16g, NumPy reference %.16g", seed, l+1, k, got, w)
				}
			}
		}
	}
}
