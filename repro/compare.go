package repro

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl/rundir"
)

// Figures are one run's measured figures: per grade for MGDL, one entry for
// SGDL. They are in the experiment's metric (RSE, or PSNR in dB).
type Figures struct {
	Train, Test []float64
	// Seconds is the run's total training time; Epochs the epochs run
	// (per grade); BestEpoch the epoch whose state early stopping kept
	// (nil: the last; 0: the initial state).
	Seconds   float64
	Epochs    []int
	BestEpoch *int
	// Done is false for a run that has not finished every grade.
	Done bool
}

// Final returns the last test figure (NaN when there is none).
func (f Figures) Final() float64 {
	if len(f.Test) == 0 {
		return math.NaN()
	}
	return f.Test[len(f.Test)-1]
}

// Result compares an experiment's runs with the published figures.
type Result struct {
	Experiment string              `json:"experiment"`
	Title      string              `json:"title"`
	Budget     Budget              `json:"budget"`
	Metric     Metric              `json:"metric"`
	Runs       map[Variant]Figures `json:"runs"`
	Published  Published           `json:"published"`
	Differs    string              `json:"differs,omitempty"`
	// Direction says whether MGDL's final test figure beats both SGDL's
	// and SGDL with early stopping's, the published direction (see
	// Direction).
	Direction Direction `json:"direction"`
	// Dirs are the run folders, by variant.
	Dirs map[Variant]string `json:"dirs"`
}

// Direction is the verdict on an experiment's published direction.
type Direction string

// Verdicts.
const (
	// Reproduced: MGDL's final test figure beats both SGDL runs' by more
	// than the margin (1 % relative for RSEs, 0.1 dB for PSNRs).
	Reproduced Direction = "reproduced"
	// NotReproduced: an SGDL run is better than MGDL by more than the
	// margin.
	NotReproduced Direction = "not reproduced"
	// Tie: the figures are within the margin of each other; neither method
	// learnt enough at this budget to tell them apart.
	Tie Direction = "tie"
	// Incomplete: a run is missing or unfinished.
	Incomplete Direction = "incomplete"
)

// margin reports whether figures a and b are far enough apart for a
// verdict: by more than 1 % relative for RSEs, 0.1 dB for PSNRs.
func (m Metric) margin(a, b float64) bool {
	if m == PSNR {
		return math.Abs(a-b) > 0.1
	}
	return math.Abs(a-b) > 0.01*max(a, b)
}

// Scale converts a run's RSEs to the experiment's metric: for PSNR it is
// the mean square of the training and test targets (MSE = RSE × mean y²,
// PSNR = −10 log10 MSE for values in [0, 1]).
type Scale struct{ TrainMeanSquare, TestMeanSquare float64 }

// Measure reads a run's summary into Figures in metric m.
func Measure(s *rundir.Summary, m Metric, sc Scale) Figures {
	conv := func(rse *float64, ms float64) float64 {
		if rse == nil {
			return math.NaN()
		}
		if m == PSNR {
			return -10 * math.Log10(*rse*ms)
		}
		return *rse
	}
	f := Figures{Seconds: s.TotalSeconds, Done: !s.Running && s.Error == "" && len(s.Grades) == s.Config.Trainer().MaxGrades()}
	for _, g := range s.Grades {
		tr := g.TrainRSE
		f.Train = append(f.Train, conv(&tr, sc.TrainMeanSquare))
		f.Test = append(f.Test, conv(g.TestRSE, sc.TestMeanSquare))
		f.Epochs = append(f.Epochs, g.Epochs)
		if g.BestEpoch != nil {
			be := *g.BestEpoch
			f.BestEpoch = &be
		}
	}
	return f
}

// Compare puts the measured figures of e's runs (by variant; a missing
// variant has not run) beside the published ones.
func Compare(e *Experiment, b Budget, runs map[Variant]Figures, dirs map[Variant]string) Result {
	r := Result{Experiment: e.Name, Title: e.Title, Budget: b, Metric: e.Metric, Runs: runs, Published: e.Published, Differs: e.Differs, Dirs: dirs}
	m, ok1 := runs[MGDL]
	s, ok2 := runs[SGDL]
	es, ok3 := runs[SGDLES]
	r.Direction = Incomplete
	if !(ok1 && ok2 && ok3 && m.Done && s.Done && es.Done) {
		return r
	}
	mg, met := m.Final(), e.Metric
	r.Direction = Reproduced
	for _, sg := range []float64{s.Final(), es.Final()} {
		switch {
		case math.IsNaN(mg) || math.IsNaN(sg):
			return r.with(Incomplete)
		case !met.margin(mg, sg):
			r.Direction = Tie
		case met.Better(sg, mg):
			return r.with(NotReproduced)
		}
	}
	return r
}

func (r Result) with(d Direction) Result {
	r.Direction = d
	return r
}

// fmtFig formats a figure in metric m ("–" for NaN).
func fmtFig(m Metric, v float64) string {
	switch {
	case math.IsNaN(v):
		return "–"
	case m == PSNR:
		return strconv.FormatFloat(v, 'f', 2, 64) + " dB"
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

func at(v []float64, i int) float64 {
	if i >= 0 && i < len(v) {
		return v[i]
	}
	return math.NaN()
}

// WriteMarkdown writes the results as one Markdown report: per experiment,
// MGDL's figures after each grade and SGDL's beside the published ones,
// the times, and whether the published direction reproduced.
func WriteMarkdown(w io.Writer, results []Result) error {
	var b strings.Builder
	b.WriteString("# mgdl reproduce: measured against published\n\n")
	b.WriteString("| experiment | budget | MGDL test (final) | SGDL test | SGDL test, early stopping | direction (MGDL better) | published MGDL / SGDL (paper budget) |\n|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		m, s, es := r.Runs[MGDL], r.Runs[SGDL], r.Runs[SGDLES]
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s / %s |\n", r.Experiment, r.Budget,
			fmtFig(r.Metric, m.Final()), fmtFig(r.Metric, s.Final()), fmtFig(r.Metric, es.Final()), verdict(r.Direction),
			fmtFig(r.Metric, at(r.Published.MGDLTest, len(r.Published.MGDLTest)-1)), fmtFig(r.Metric, r.Published.SGDLTest))
	}
	for _, r := range results {
		fmt.Fprintf(&b, "\n## %s (%s budget)\n\n%s.\n\n", r.Experiment, r.Budget, r.Title)
		if r.Differs != "" {
			fmt.Fprintf(&b, "Differs from the paper: %s.\n\n", r.Differs)
		}
		what := "RSE"
		if r.Metric == PSNR {
			what = "PSNR"
		}
		fmt.Fprintf(&b, "| | epochs | train %s | test %s | published train (paper budget) | published test (paper budget) |\n|---|---|---|---|---|---|\n", what, what)
		m := r.Runs[MGDL]
		n := max(len(m.Test), len(r.Published.MGDLTest), len(r.Published.MGDLTrain))
		for i := range n {
			ep := "–"
			if i < len(m.Epochs) {
				ep = strconv.Itoa(m.Epochs[i])
			}
			fmt.Fprintf(&b, "| MGDL grade %d | %s | %s | %s | %s | %s |\n", i+1, ep, fmtFig(r.Metric, at(m.Train, i)), fmtFig(r.Metric, at(m.Test, i)),
				fmtFig(r.Metric, at(r.Published.MGDLTrain, i)), fmtFig(r.Metric, at(r.Published.MGDLTest, i)))
		}
		for _, v := range []Variant{SGDL, SGDLES} {
			f, ok := r.Runs[v]
			ep := "–"
			if ok && len(f.Epochs) > 0 {
				ep = strconv.Itoa(f.Epochs[0])
				if f.BestEpoch != nil {
					ep += fmt.Sprintf(" (state of epoch %d kept)", *f.BestEpoch)
				}
			}
			pt, pr := r.Published.SGDLTest, r.Published.SGDLTrain
			if v == SGDLES {
				pt, pr = math.NaN(), math.NaN()
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", strings.ToUpper(string(v)), ep, fmtFig(r.Metric, at(f.Train, 0)), fmtFig(r.Metric, at(f.Test, 0)),
				fmtFig(r.Metric, pr), fmtFig(r.Metric, pt))
		}
		b.WriteString("\n")
		for _, v := range Variants {
			f, ok := r.Runs[v]
			if !ok {
				fmt.Fprintf(&b, "- %s: not run.\n", strings.ToUpper(string(v)))
				continue
			}
			state := ""
			if !f.Done {
				state = " (unfinished)"
			}
			fmt.Fprintf(&b, "- %s: %.1f s%s, run folder %s\n", strings.ToUpper(string(v)), f.Seconds, state, r.Dirs[v])
		}
		if r.Published.MGDLSeconds > 0 || r.Published.SGDLSeconds > 0 {
			fmt.Fprintf(&b, "- published times: MGDL %s, SGDL %s\n", secs(r.Published.MGDLSeconds), secs(r.Published.SGDLSeconds))
		}
		if r.Published.Source != "" {
			fmt.Fprintf(&b, "- published figures: %s\n", r.Published.Source)
		}
		fmt.Fprintf(&b, "- direction: %s\n", verdict(r.Direction))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func secs(s float64) string {
	if s == 0 {
		return "–"
	}
	return strconv.FormatFloat(s, 'f', 0, 64) + " s"
}

func verdict(d Direction) string {
	switch d {
	case NotReproduced:
		return "NOT reproduced"
	case Tie:
		return "tie (within 1 % / 0.1 dB)"
	}
	return string(d)
}

// num is v for JSON: null for NaN (JSON has no NaN).
func num(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func nums(v []float64) []*float64 {
	out := make([]*float64, len(v))
	for i, x := range v {
		out[i] = num(x)
	}
	return out
}

// figuresJSON and publishedJSON are the JSON forms of Figures and
// Published: NaN figures as null.
type figuresJSON struct {
	Train     []*float64 `json:"train"`
	Test      []*float64 `json:"test"`
	Seconds   float64    `json:"seconds"`
	Epochs    []int      `json:"epochs"`
	BestEpoch *int       `json:"best_epoch,omitempty"`
	Done      bool       `json:"done"`
}

type publishedJSON struct {
	MGDLTest    []*float64 `json:"mgdl_test"`
	MGDLTrain   []*float64 `json:"mgdl_train"`
	SGDLTest    *float64   `json:"sgdl_test"`
	SGDLTrain   *float64   `json:"sgdl_train"`
	MGDLSeconds float64    `json:"mgdl_seconds,omitempty"`
	SGDLSeconds float64    `json:"sgdl_seconds,omitempty"`
	Source      string     `json:"source,omitempty"`
}

// MarshalJSON writes NaN figures as null.
func (f Figures) MarshalJSON() ([]byte, error) {
	return json.Marshal(figuresJSON{nums(f.Train), nums(f.Test), f.Seconds, f.Epochs, f.BestEpoch, f.Done})
}

// MarshalJSON writes NaN figures as null.
func (p Published) MarshalJSON() ([]byte, error) {
	return json.Marshal(publishedJSON{nums(p.MGDLTest), nums(p.MGDLTrain), num(p.SGDLTest), num(p.SGDLTrain), p.MGDLSeconds, p.SGDLSeconds, p.Source})
}

func unnums(v []*float64) []float64 {
	if v == nil {
		return nil
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = unnum(x)
	}
	return out
}

func unnum(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// UnmarshalJSON reads what MarshalJSON writes (null as NaN).
func (f *Figures) UnmarshalJSON(b []byte) error {
	var v figuresJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Figures{Train: unnums(v.Train), Test: unnums(v.Test), Seconds: v.Seconds, Epochs: v.Epochs, BestEpoch: v.BestEpoch, Done: v.Done}
	return nil
}

// UnmarshalJSON reads what MarshalJSON writes (null as NaN).
func (p *Published) UnmarshalJSON(b []byte) error {
	var v publishedJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Published{MGDLTest: unnums(v.MGDLTest), MGDLTrain: unnums(v.MGDLTrain), SGDLTest: unnum(v.SGDLTest), SGDLTrain: unnum(v.SGDLTrain),
		MGDLSeconds: v.MGDLSeconds, SGDLSeconds: v.SGDLSeconds, Source: v.Source}
	return nil
}

// DecodeResult reads one result of comparison.json.
func DecodeResult(b []byte) (Result, error) {
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, err
	}
	if _, err := ParseBudget(string(r.Budget)); err != nil || r.Experiment == "" {
		return Result{}, fmt.Errorf("a result without an experiment name or budget")
	}
	return r, nil
}
