package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/report"
)

// Golden files live under testdata/. After an intended change to a help
// text or to the progress format, rewrite them with
//
//	go test ./cmd/mgdl -run 'Golden' -update
//
// and review the diff.
var update = flag.Bool("update", false, "rewrite the golden files under cmd/mgdl/testdata")

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (create it with: go test ./cmd/mgdl -run Golden -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the output; if the change is intended, run: go test ./cmd/mgdl -run Golden -update\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// TestGoldenHelp checks the --help text of the program and every command.
func TestGoldenHelp(t *testing.T) {
	cmds := [][]string{{}}
	for _, c := range newRoot().Commands() {
		if c.Hidden || c.Name() == "help" || c.Name() == "completion" {
			continue
		}
		cmds = append(cmds, []string{c.Name()})
	}
	if !*update {
		// A golden file without its command is a command that went away.
		files, _ := filepath.Glob(filepath.Join("testdata", "help", "*.golden"))
		known := map[string]bool{}
		for _, c := range cmds {
			known[helpGoldenName(c)] = true
		}
		for _, f := range files {
			if !known[filepath.Base(f)] {
				t.Errorf("%s has no command; remove it or run with -update", f)
			}
		}
	}
	for _, c := range cmds {
		t.Run(helpGoldenName(c), func(t *testing.T) {
			root := newRoot()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&out)
			root.SetArgs(append(append([]string{}, c...), "--help"))
			if err := root.Execute(); err != nil {
				t.Fatal(err)
			}
			if len(c) > 0 && !strings.Contains(out.String(), "Examples:") {
				t.Errorf("mgdl %s --help has no examples", c[0])
			}
			checkGolden(t, filepath.Join("help", helpGoldenName(c)), out.Bytes())
		})
	}
}

func helpGoldenName(c []string) string {
	if len(c) == 0 {
		return "mgdl.golden"
	}
	return c[0] + ".golden"
}

// fakeClock advances by step on every call.
type fakeClock struct {
	t    time.Time
	step time.Duration
}

func (c *fakeClock) now() time.Time { c.t = c.t.Add(c.step); return c.t }

func val(v float64) *float64 { return &v }

// progressEvents is two grades of 3000 epochs at 100 epochs a second (one
// fake-clock tick per event), the second stopped early by the plateau rule.
func progressEvents() []mgdl.Event {
	var ev []mgdl.Event
	for g := 1; g <= 2; g++ {
		n := 3000
		if g == 2 {
			n = 1700
		}
		for e := 1; e <= n; e++ {
			vl := 0.0
			if e >= 10 {
				vl = 0.02 / float64(g*(1+e/1000))
			}
			ev = append(ev, mgdl.Event{Grade: g, Grades: 2, Epoch: e, Epochs: 3000, Loss: 0.5 / float64(g*(1+e/100)), LR: 1e-3, ValLoss: vl})
		}
		r := &mgdl.GradeResult{Grade: g, Epochs: n, Seconds: float64(n) / 100, TrainRSE: 0.1 / float64(g*g), ValRSE: val(0.12 / float64(g*g)), TestRSE: val(0.13 / float64(g*g)), StopReason: mgdl.StoppedBudget}
		if g == 2 {
			r.StopReason = mgdl.StoppedPlateau
		}
		ev = append(ev, mgdl.Event{Grade: g, Grades: 2, Epoch: n, Epochs: 3000, Done: true, Result: r})
	}
	return ev
}

// TestGoldenPlainProgress checks the lines written when stderr is not a
// terminal (CI logs): one every five seconds and one per grade.
func TestGoldenPlainProgress(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, progressAuto, "mgdl") // a bytes.Buffer is not a terminal
	if p.mode != progressPlain {
		t.Fatalf("mode %v on a buffer, want plain", p.mode)
	}
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), step: 10 * time.Millisecond}
	p.now = clk.now
	for _, e := range progressEvents() {
		p.event(e)
	}
	p.close()
	checkGolden(t, "progress_plain.golden", out.Bytes())
}

// TestProgressBar checks the terminal display: one line redrawn in place
// (carriage return, clear to end of line), replaced by a summary line when
// a grade ends.
func TestProgressBar(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, progressBar, "sgdl")
	clk := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), step: 10 * time.Millisecond}
	p.now = clk.now
	ev := progressEvents()
	for _, e := range ev[:1500] {
		p.event(e)
	}
	s := out.String()
	if strings.Contains(s, "\n") {
		t.Errorf("the bar wrote a newline mid-grade: %q", s)
	}
	redraws := strings.Count(s, "\r")
	if redraws < 100 || redraws > 200 { // 15 s of fake time, a redraw every 0.1 s
		t.Errorf("%d redraws in 15 s, want about 150", redraws)
	}
	last := s[strings.LastIndex(s, "\r")+1:]
	for _, want := range []string{"sgdl grade 1/2", "49%", "epoch 1491/3000", "val loss 0.01", "100 epochs/s", "ETA 15s", "███████████░░░░░░░░░░░░░"} {
		if !strings.Contains(last, want) {
			t.Errorf("bar %q lacks %q", last, want)
		}
	}
	out.Reset()
	for _, e := range ev[1500:3001] {
		p.event(e)
	}
	s = out.String()
	if !strings.HasSuffix(s, "\r\x1b[Ksgdl grade 1/2 done: 3000 epochs, train RSE 0.1, val RSE 0.12, test RSE 0.13, 30.0 s\n") {
		t.Errorf("grade end: %q", s[max(0, len(s)-200):])
	}
	// An interrupt mid-grade leaves a clean line.
	out.Reset()
	for _, e := range ev[3001:3400] {
		p.event(e)
	}
	p.close()
	if s := out.String(); !strings.HasSuffix(s, "\r\x1b[K") {
		t.Errorf("close left %q", s)
	}
	// --quiet and --progress none print nothing.
	out.Reset()
	q := newProgress(&out, progressNone, "mgdl")
	for _, e := range ev[:10] {
		q.event(e)
	}
	if out.Len() != 0 {
		t.Errorf("progress none wrote %q", out.String())
	}
}

func TestEtaString(t *testing.T) {
	for d, want := range map[time.Duration]string{-1: "?", 0: "0s", 59 * time.Second: "59s", 61 * time.Second: "1m01s", 3723 * time.Second: "1h02m03s"} {
		if got := etaString(d); got != want {
			t.Errorf("etaString(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestMetricsLogSampling checks that long grades are logged at about
// maxEpochRecords evenly spaced epochs, first and last included, and that
// a resumed run appends.
func TestMetricsLogSampling(t *testing.T) {
	dir := t.TempDir()
	count := func() (epochs, grades, ends int, last report.MetricsRecord) {
		b, err := os.ReadFile(filepath.Join(dir, metricsFile))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var r report.MetricsRecord
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
	m, err := openMetricsLog(dir, "mgdl", false)
	if err != nil {
		t.Fatal(err)
	}
	for e := 1; e <= 30000; e++ {
		m.event(mgdl.Event{Grade: 1, Grades: 1, Epoch: e, Epochs: 30000, Loss: 1 / float64(e), LR: 1e-4, ValLoss: math.NaN()})
	}
	m.event(mgdl.Event{Grade: 1, Grades: 1, Epoch: 30000, Epochs: 30000, Done: true, Result: &mgdl.GradeResult{Grade: 1, TrainLoss: math.NaN()}})
	if err := m.close(nil); err != nil {
		t.Fatal(err)
	}
	epochs, grades, ends, last := count()
	if epochs != 1001 || grades != 1 || ends != 1 || last.Epoch != 30000 || last.ValLoss != nil {
		t.Errorf("%d epoch, %d grade, %d end records, last epoch %d (val loss %v); want 1001 (1, 30, 60, …, 30000), 1, 1, 30000, none", epochs, grades, ends, last.Epoch, last.ValLoss)
	}
	m, err = openMetricsLog(dir, "mgdl", true)
	if err != nil {
		t.Fatal(err)
	}
	m.event(mgdl.Event{Grade: 2, Grades: 2, Epoch: 1, Epochs: 10, Loss: 1})
	if err := m.close(errors.New("stopped")); err != nil {
		t.Fatal(err)
	}
	if epochs, _, ends, _ := count(); epochs != 1002 || ends != 2 {
		t.Errorf("after resuming: %d epoch and %d end records, want 1002 and 2", epochs, ends)
	}
}

func TestValString(t *testing.T) {
	e := mgdl.Event{ValLoss: 0.01}
	if got := valString(e, 0); got != " val loss 0.01" {
		t.Errorf("no scale: %q", got)
	}
	if got := valString(e, 50); got != " val RSE 0.5" {
		t.Errorf("scale 50: %q", got)
	}
	if got := valString(mgdl.Event{ValLoss: math.NaN()}, 50); got != "" {
		t.Errorf("NaN: %q", got)
	}
}
