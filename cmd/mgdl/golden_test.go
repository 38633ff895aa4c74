package main

import (
	"bytes"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mgdl/mgdl"
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
			vl, vr := math.NaN(), math.NaN()
			if e >= 10 {
				vl = 0.02 / float64(g*(1+e/1000))
				vr = 0.5 * vl / 0.02
			}
			loss := 0.5 / float64(g*(1+e/100))
			ev = append(ev, mgdl.Event{Grade: g, Grades: 2, Epoch: e, Epochs: 3000, Loss: loss, TrainRSE: 2 * loss, LR: 1e-3, ValLoss: vl, ValRSE: vr})
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
	for _, want := range []string{"sgdl grade 1/2", "49%", "epoch 1491/3000", "train RSE 0.06667 val RSE 0.25", "100 epochs/s", "ETA 15s", "███████████░░░░░░░░░░░░░"} {
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

func TestRSEString(t *testing.T) {
	for _, c := range []struct {
		e    mgdl.Event
		want string
	}{
		{mgdl.Event{TrainRSE: 0.5, ValRSE: 0.25}, " train RSE 0.5 val RSE 0.25"},
		{mgdl.Event{TrainRSE: 0.5, ValRSE: math.NaN()}, " train RSE 0.5"},
		{mgdl.Event{TrainRSE: math.NaN(), ValRSE: math.Inf(1)}, ""},
	} {
		if got := rseString(c.e); got != c.want {
			t.Errorf("%+v: %q, want %q", c.e, got, c.want)
		}
	}
}
