package optim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
)

// Schedule gives the learning rate of epoch i (0-based) of a run of E epochs.
// The zero value of Schedule is invalid; use Constant or ExpDecay.
//
// In JSON a schedule is {"max": 1e-3, "min": 1e-4}, or one number for a
// constant rate.
type Schedule struct {
	// Max is the rate at epoch 0; Min the rate reached at epoch E.
	// Max == Min is a constant rate.
	Max float64 `json:"max"`
	Min float64 `json:"min"`
}

// UnmarshalJSON reads {"max": a, "min": b} (min defaults to max) or a
// number (a constant rate).
func (s *Schedule) UnmarshalJSON(b []byte) error {
	var v float64
	if err := json.Unmarshal(b, &v); err == nil {
		*s = Constant(v)
		return nil
	}
	var m struct {
		Max *float64 `json:"max"`
		Min *float64 `json:"min"`
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&m); err != nil {
		return fmt.Errorf("learning rate: want a number or {\"max\": …, \"min\": …}: %v", err)
	}
	if m.Max == nil {
		return fmt.Errorf("learning rate: no max")
	}
	s.Max, s.Min = *m.Max, *m.Max
	if m.Min != nil {
		s.Min = *m.Min
	}
	return nil
}

// Constant returns a schedule with rate lr at every epoch.
func Constant(lr float64) Schedule { return Schedule{Max: lr, Min: lr} }

// ExpDecay returns the papers' schedule lr_i = max·exp(-γ i) with
// γ = ln(max/min)/E: it decays from max at epoch 0 towards min at epoch E.
func ExpDecay(max, min float64) Schedule { return Schedule{Max: max, Min: min} }

// Validate reports a schedule that cannot be used.
func (s Schedule) Validate() error {
	if !(s.Max > 0) || !(s.Min > 0) || math.IsInf(s.Max, 0) || math.IsInf(s.Min, 0) {
		return fmt.Errorf("learning rates must be positive and finite, got max %g min %g", s.Max, s.Min)
	}
	if s.Min > s.Max {
		return fmt.Errorf("learning rate min %g exceeds max %g", s.Min, s.Max)
	}
	return nil
}

// LR returns the rate of epoch i of epochs.
func (s Schedule) LR(i, epochs int) float64 {
	if s.Max == s.Min || epochs <= 0 {
		return s.Max
	}
	gamma := math.Log(s.Max/s.Min) / float64(epochs)
	return s.Max * math.Exp(-gamma*float64(i))
}

// String describes the schedule.
func (s Schedule) String() string {
	if s.Max == s.Min {
		return fmt.Sprintf("constant %g", s.Max)
	}
	return fmt.Sprintf("exp %g→%g", s.Max, s.Min)
}
