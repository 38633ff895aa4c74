package main

import "testing"

// TestTargets checks the thresholds: step with OpenBLAS ≤ 0.85×,
// with pure Go ≤ 1.5×, grade epoch strictly faster than PyTorch.
func TestTargets(t *testing.T) {
	rows := []Row{
		{What: "step", DType: "float64", Ratio: map[string]float64{"go": 1.5, "openblas": 0.86}},
		{What: "epoch", DType: "float64", Ratio: map[string]float64{"go": 0.99, "openblas": 1}},
	}
	want := map[[2]string]bool{
		{"step", "go"}: true, {"step", "openblas"}: false,
		{"epoch", "go"}: true, {"epoch", "openblas"}: false,
	}
	ts := targets(rows, []string{"go", "openblas"})
	if len(ts) != len(want) {
		t.Fatalf("%d targets, want %d", len(ts), len(want))
	}
	for _, tg := range ts {
		if got := tg.Met; got != want[[2]string{tg.What, tg.Backend}] {
			t.Errorf("%s %s ratio %.2f: met %v", tg.What, tg.Backend, tg.Ratio, got)
		}
	}
}
