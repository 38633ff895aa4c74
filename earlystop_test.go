package mgdl

import (
	"context"
	"math"
	"testing"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/optim"
)

// TestStoppers drives each rule with a hand-made sequence of monitored
// losses, recorded every 10 epochs, and checks the epoch it stops at.
func TestStoppers(t *testing.T) {
	flat := func(n int, v float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	falling := func(n int) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = 1 / float64(i+1)
		}
		return out
	}
	for _, c := range []struct {
		name   string
		es     EarlyStop
		start  float64
		losses []float64 // one per record
		stop   int       // epoch of the stop (0: never)
		reason StopReason
	}{
		{"none", EarlyStop{}, 1, flat(50, 1), 0, ""},
		// Plateau: averages at epochs 200 (NaN before: no stop), 400 (equal: stop).
		{"plateau on a flat loss", EarlyStop{Rule: StopPlateau}, 1, flat(50, 1), 400, StoppedPlateau},
		{"plateau on a falling loss", EarlyStop{Rule: StopPlateau}, 1, falling(100), 0, ""},
		// Window 50, 5 records of 1/k: averages 0.457, 0.146, 0.078 at epochs 50, 100, 150; the last
		// change (0.068) is the first below half the previous average.
		{"plateau, small window", EarlyStop{Rule: StopPlateau, Window: 50, Records: 5, Tol: 0.5}, 1, falling(100), 150, StoppedPlateau},
		// Patience 100: no improvement on the start from epoch 10 on → stop at 100.
		{"patience, never better than the start", EarlyStop{Rule: StopPatience}, 0.5, flat(50, 1), 100, StoppedPatience},
		{"patience on a falling loss", EarlyStop{Rule: StopPatience}, 2, falling(50), 0, ""},
		// Improves until epoch 50 (record 5), then flat: stops 100 epochs later.
		{"patience after a minimum", EarlyStop{Rule: StopPatience}, 2, append(falling(5), flat(40, 1)...), 150, StoppedPatience},
		// A margin of 60 % from the start 2: 1 is not below 0.8, 0.5 (epoch 20) is; then
		// 1/3, 1/4, 1/5 are not below 0.2, so it stops 30 epochs after epoch 20.
		{"patience with a margin", EarlyStop{Rule: StopPatience, MinDelta: 0.6, Patience: 30}, 2, falling(20), 50, StoppedPatience},
	} {
		s := c.es.stopper(c.start)
		got, why := 0, StopReason("")
		for i, v := range c.losses {
			if r := s.record(10*(i+1), v); r != "" {
				got, why = 10*(i+1), r
				break
			}
		}
		if got != c.stop || why != c.reason {
			t.Errorf("%s: stopped at epoch %d (%q), want %d (%q)", c.name, got, why, c.stop, c.reason)
		}
	}
}

func TestStopRuleText(t *testing.T) {
	for _, s := range []string{"none", "", "plateau", "Patience"} {
		r, err := ParseStopRule(s)
		if err != nil {
			t.Errorf("%q: %v", s, err)
		}
		b, _ := r.MarshalText()
		var back StopRule
		if err := back.UnmarshalText(b); err != nil || back != r {
			t.Errorf("%q: %s round-trips to %q (%v)", s, b, back, err)
		}
	}
	if _, err := ParseStopRule("early"); err == nil {
		t.Error("an unknown rule was accepted")
	}
	for _, es := range []EarlyStop{{Tol: math.NaN()}, {MinDelta: math.Inf(1)}, {Every: -1}, {Rule: "soon"}} {
		if es.validate() == nil {
			t.Errorf("%+v was accepted", es)
		}
	}
}

// TestEventRSEs: the progress events carry the figures users read. The
// validation RSE at the last epoch is the grade's validation RSE; with full
// batches an epoch's training RSE is that of the state before its step, so
// a one-epoch grade's is the RSE a zero-epoch grade ends with; classifiers
// get RSEs too.
func TestEventRSEs(t *testing.T) {
	s := smallSpectral(t, 1)
	spec := GradeSpec{Widths: []int{1, 16, 16, 1}, Epochs: 30, BatchSize: 500, LR: optim.Constant(1e-3)}
	var last Event
	_, res, err := Train(context.Background(), Config{Grades: []GradeSpec{spec}, Seed: 2}, s, func(e Event) {
		if !e.Done {
			last = e
			if e.Epoch < 10 && !math.IsNaN(e.ValRSE) || e.Epoch >= 10 && math.IsNaN(e.ValRSE) {
				t.Errorf("epoch %d: val RSE %v (recorded every 10 epochs)", e.Epoch, e.ValRSE)
			}
			if !(e.TrainRSE > 0 && e.TrainRSE < 2) {
				t.Errorf("epoch %d: train RSE %v", e.Epoch, e.TrainRSE)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(last.ValRSE - *res[0].ValRSE); d > 1e-12 {
		t.Errorf("last event's val RSE %v, the grade's %v", last.ValRSE, *res[0].ValRSE)
	}
	full := GradeSpec{Widths: []int{1, 16, 16, 1}, Epochs: 1, LR: optim.Constant(1e-3)}
	var first Event
	Train(context.Background(), Config{Grades: []GradeSpec{full}, Seed: 3}, s, func(e Event) {
		if !e.Done {
			first = e
		}
	})
	full.Epochs = 0
	_, zero, _ := Train(context.Background(), Config{Grades: []GradeSpec{full}, Seed: 3}, s, nil)
	if d := math.Abs(first.TrainRSE-zero[0].TrainRSE) / zero[0].TrainRSE; d > 1e-12 {
		t.Errorf("full batch: epoch 1's train RSE %v, the initial state's %v", first.TrainRSE, zero[0].TrainRSE)
	}
	// Classification: grade 1 is softmax with cross-entropy, its RSE that of the probabilities.
	d := digitsSplits(t)
	cls := Config{Task: Classification, Seed: 1, Grades: []GradeSpec{{Widths: []int{64, 32, 10}, Epochs: 10, BatchSize: 64, LR: optim.Constant(1e-3)}}}
	var ce Event
	_, cres, err := Train(context.Background(), cls, d, func(e Event) {
		if !e.Done {
			ce = e
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !(ce.TrainRSE > 0 && ce.TrainRSE < 1.5) || math.Abs(ce.ValRSE-*cres[0].ValRSE) > 1e-12 {
		t.Errorf("classifier: train RSE %v, val RSE %v vs the grade's %v", ce.TrainRSE, ce.ValRSE, *cres[0].ValRSE)
	}
}

// TestGrowDefaultTemplate: without a template, growth adds copies of the
// last grade (of grade 1, made square on its features).
func TestGrowDefaultTemplate(t *testing.T) {
	s := noisySine(200, 0.05, 7)
	first := GradeSpec{Widths: []int{1, 16, 16, 1}, Epochs: 20, BatchSize: 50, LR: optim.Constant(1e-2)}
	m, _, err := Train(context.Background(), Config{Grades: []GradeSpec{first}, Seed: 1, Grow: &Grow{MaxGrades: 3, MinImprove: 0}}, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	for l, g := range m.Grades[1:] {
		if g.Widths[0] != 16 || len(g.Widths) != 4 {
			t.Errorf("grade %d has widths %v, want [16,16,16,1]", l+2, g.Widths)
		}
	}
}

func digitsSplits(t testing.TB) data.Splits[float64] {
	t.Helper()
	e, err := data.Lookup("digits")
	if err != nil {
		t.Fatal(err)
	}
	return data.Generate[float64](e, 1)
}
