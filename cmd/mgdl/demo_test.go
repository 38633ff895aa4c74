package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mgdl/mgdl/internal/testenv"
)

// TestDemoMGDLBeatsSGDL runs the demo at its default budget (about two
// minutes) and requires MGDL's final test RSE to beat SGDL's.
func TestDemoMGDLBeatsSGDL(t *testing.T) {
	testenv.Long(t, "the full demo, about two minutes")
	dir := t.TempDir()
	out, err := runCLI(t, "demo", "--quiet", "--out", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "SGDL/MGDL =") {
		t.Fatalf("no ratio line in:\n%s", out)
	}
	final := func(method string) (train []float64, test float64) {
		b, err := os.ReadFile(filepath.Join(dir, method, "summary.json"))
		if err != nil {
			t.Fatal(err)
		}
		var s struct {
			Grades []struct {
				TrainRSE float64 `json:"train_rse"`
				TestRSE  float64 `json:"test_rse"`
			} `json:"grades"`
		}
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatal(err)
		}
		for _, g := range s.Grades {
			train = append(train, g.TrainRSE)
		}
		return train, s.Grades[len(s.Grades)-1].TestRSE
	}
	mTrain, m := final("mgdl")
	_, s := final("sgdl")
	t.Logf("test RSE: MGDL %.4g, SGDL %.4g (ratio %.3g); MGDL train RSE per grade %v", m, s, s/m, mTrain)
	if !(m < s) {
		t.Errorf("MGDL test RSE %g does not beat SGDL's %g", m, s)
	}
	for i := 1; i < len(mTrain); i++ {
		if !(mTrain[i] < mTrain[i-1]) {
			t.Errorf("grade %d: train RSE %g not below grade %d's %g", i+1, mTrain[i], i, mTrain[i-1])
		}
	}
}
