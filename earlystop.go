package mgdl

import (
	"fmt"
	"math"
	"strings"
)

// StopRule names an early-stopping rule.
type StopRule string

// Early-stopping rules.
const (
	StopNone     StopRule = ""         // train the full epoch budget
	StopPlateau  StopRule = "plateau"  // the reference image code's rule
	StopPatience StopRule = "patience" // stop after Patience epochs without improvement
)

// ParseStopRule maps "none" (or ""), "plateau" and "patience" to a rule.
func ParseStopRule(s string) (StopRule, error) {
	switch r := StopRule(strings.ToLower(strings.TrimSpace(s))); r {
	case "none", StopNone:
		return StopNone, nil
	case StopPlateau, StopPatience:
		return r, nil
	}
	return "", fmt.Errorf("early stopping rule %q (want none, plateau or patience)", s)
}

// String returns the rule's name ("none" for StopNone).
func (r StopRule) String() string {
	if r == StopNone {
		return "none"
	}
	return string(r)
}

// MarshalText implements encoding.TextMarshaler ("none" for StopNone).
func (r StopRule) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (r *StopRule) UnmarshalText(b []byte) error {
	v, err := ParseStopRule(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// StopReason says why a grade's training ended (GradeResult.StopReason).
type StopReason string

// Stop reasons.
const (
	StoppedBudget   StopReason = "budget"   // all epochs ran
	StoppedPlateau  StopReason = "plateau"  // early stopping, plateau rule
	StoppedPatience StopReason = "patience" // early stopping, patience rule
	StoppedDiverged StopReason = "diverged" // NaN/Inf or exploding loss; best state restored
)

// Early reports whether the grade stopped before its epoch budget.
func (r StopReason) Early() bool { return r != "" && r != StoppedBudget }

// EarlyStop configures early stopping on the validation loss. Every rule
// records the validation loss every Every epochs, keeps a copy of the best
// state, and restores it when the grade stops.
type EarlyStop struct {
	// Rule is StopNone, StopPlateau or StopPatience.
	Rule StopRule `json:"rule"`
	// Every is the recording interval in epochs (default 10).
	Every int `json:"every,omitempty"`
	// Plateau rule: every Window epochs (default 200) average the last
	// Records records (default 20) and stop when that average changed by
	// less than Tol (default 1e-4) relative to the previous average.
	Window  int     `json:"window,omitempty"`
	Records int     `json:"records,omitempty"`
	Tol     float64 `json:"tol,omitempty"`
	// Patience rule: stop when the best validation loss has not improved by
	// the relative margin MinDelta (default 0) for Patience epochs
	// (default 100).
	Patience int     `json:"patience,omitempty"`
	MinDelta float64 `json:"min_delta,omitempty"`
}

// withDefaults fills the zero fields of e with the documented defaults.
func (e EarlyStop) withDefaults() EarlyStop {
	if e.Every == 0 {
		e.Every = 10
	}
	if e.Window == 0 {
		e.Window = 200
	}
	if e.Records == 0 {
		e.Records = 20
	}
	if e.Tol == 0 {
		e.Tol = 1e-4
	}
	if e.Patience == 0 {
		e.Patience = 100
	}
	return e
}

func (e EarlyStop) validate() error {
	switch e.Rule {
	case StopNone, StopPlateau, StopPatience:
	default:
		return fmt.Errorf("early stopping rule %q (want plateau, patience or none)", string(e.Rule))
	}
	if e.Every < 0 || e.Window < 0 || e.Records < 0 || e.Patience < 0 {
		return fmt.Errorf("early stopping settings must not be negative: %+v", e)
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"tol", e.Tol}, {"min delta", e.MinDelta}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return fmt.Errorf("early stopping %s %v must be a finite number ≥ 0", f.name, f.v)
		}
	}
	return nil
}

// stopper decides when a grade stops from the monitored loss, which the
// trainer records every Every epochs. Each rule keeps its own state, so the
// epoch loop stays short.
type stopper interface {
	// record takes the monitored loss at epoch (1-based) and returns the
	// reason to stop, or "" to go on.
	record(epoch int, loss float64) StopReason
}

// stopper returns the rule's stopper (with the defaults filled in); start
// is the monitored loss before the first epoch.
func (e EarlyStop) stopper(start float64) stopper {
	e = e.withDefaults()
	switch e.Rule {
	case StopPlateau:
		return &plateau{window: e.Window, records: e.Records, tol: e.Tol, prevAvg: math.NaN()}
	case StopPatience:
		return &patience{patience: e.Patience, minDelta: e.MinDelta, best: start}
	}
	return never{}
}

// never trains the whole budget.
type never struct{}

func (never) record(int, float64) StopReason { return "" }

// plateau is the rule of the reference image code: every window epochs,
// average the last records records and stop when that average moved by
// less than tol relative to the previous one.
type plateau struct {
	window, records int
	tol             float64
	recs            []float64
	prevAvg         float64
}

func (p *plateau) record(epoch int, loss float64) StopReason {
	p.recs = append(p.recs, loss)
	if epoch%p.window != 0 || len(p.recs) < p.records {
		return ""
	}
	var avg float64
	for _, x := range p.recs[len(p.recs)-p.records:] {
		avg += x
	}
	avg /= float64(p.records)
	stop := math.Abs(avg-p.prevAvg) < p.tol*math.Abs(p.prevAvg)
	p.prevAvg = avg
	if stop {
		return StoppedPlateau
	}
	return ""
}

// patience stops when the best loss has not improved by the relative
// margin minDelta for patience epochs.
type patience struct {
	patience int
	minDelta float64
	best     float64
	last     int // epoch of the last improvement
}

func (p *patience) record(epoch int, loss float64) StopReason {
	if loss < p.best*(1-p.minDelta) {
		p.best, p.last = loss, epoch
		return ""
	}
	if epoch-p.last >= p.patience {
		return StoppedPatience
	}
	return ""
}
