package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/mgdl/mgdl"
)

// Progress of a run is shown on stderr:
//
//   - a one-line progress bar per grade when stderr is a terminal (epoch,
//     loss, train and validation RSE, rate, ETA; the grade's
//     train/validation/test RSE when it ends);
//   - plain lines otherwise (CI logs): one every plainEvery and one per
//     finished grade.
//
// --progress chooses the display (auto, bar, plain, none); --quiet is none.
// The run folder's metrics log (rundir) records every run whatever is
// shown.

const (
	plainEvery = 5 * time.Second
	barEvery   = 100 * time.Millisecond
	barWidth   = 24
)

// progressMode is how progress is shown on stderr.
type progressMode int

const (
	progressAuto progressMode = iota
	progressBar
	progressPlain
	progressNone
)

func parseProgressMode(s string) (progressMode, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return progressAuto, nil
	case "bar":
		return progressBar, nil
	case "plain":
		return progressPlain, nil
	case "none":
		return progressNone, nil
	}
	return 0, fmt.Errorf("--progress %q: want auto, bar, plain or none", s)
}

// isTerminal reports whether w is a character device such as a terminal.
// TERM=dumb counts as not a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress draws training progress for one run. Its methods run on the
// training goroutine.
type progress struct {
	w      io.Writer
	mode   progressMode // progressBar, progressPlain or progressNone
	method string
	now    func() time.Time

	gradeStart time.Time // when the current grade's first event arrived
	grade      int
	last       time.Time // last line or redraw
	barOpen    bool      // a bar line is on screen without its newline
}

// newProgress returns a progress display for method on w. Mode auto becomes
// bar on a terminal and plain otherwise.
func newProgress(w io.Writer, mode progressMode, method string) *progress {
	if mode == progressAuto {
		mode = progressPlain
		if isTerminal(w) {
			mode = progressBar
		}
	}
	return &progress{w: w, mode: mode, method: method, now: time.Now}
}

// event handles one training event.
func (p *progress) event(e mgdl.Event) {
	if p.mode == progressNone {
		return
	}
	now := p.now()
	if e.Grade != p.grade {
		p.grade, p.gradeStart, p.last = e.Grade, now, now
	}
	if e.Done {
		p.clearBar()
		fmt.Fprintln(p.w, p.doneLine(e))
		p.last = now
		return
	}
	switch p.mode {
	case progressBar:
		if now.Sub(p.last) < barEvery && e.Epoch != e.Epochs {
			return
		}
		p.last = now
		fmt.Fprintf(p.w, "\r%s\x1b[K", p.barLine(e, now))
		p.barOpen = true
	case progressPlain:
		if now.Sub(p.last) < plainEvery && e.Epoch != 1 {
			return
		}
		p.last = now
		fmt.Fprintln(p.w, p.plainLine(e, now))
	}
}

// close ends an open bar line (after an interrupt, say).
func (p *progress) close() { p.clearBar() }

// note prints a line about the run (unless progress is off).
func (p *progress) note(s string) {
	if p.mode == progressNone {
		return
	}
	p.clearBar()
	fmt.Fprintln(p.w, p.method+": "+s)
}

// warn prints a warning, whatever the mode.
func (p *progress) warn(err error) {
	p.clearBar()
	fmt.Fprintln(p.w, "mgdl: warning:", err)
}

func (p *progress) clearBar() {
	if p.barOpen {
		fmt.Fprint(p.w, "\r\x1b[K")
		p.barOpen = false
	}
}

// rate returns epochs per second in the current grade and the estimated
// time left (negative when unknown).
func (p *progress) rate(e mgdl.Event, now time.Time) (float64, time.Duration) {
	el := now.Sub(p.gradeStart).Seconds()
	if el <= 0 || e.Epoch <= 0 {
		return 0, -1
	}
	r := float64(e.Epoch) / el
	return r, time.Duration(float64(e.Epochs-e.Epoch) / r * float64(time.Second))
}

func (p *progress) plainLine(e mgdl.Event, now time.Time) string {
	r, eta := p.rate(e, now)
	return fmt.Sprintf("%s grade %d/%d epoch %d/%d (%s) loss %.4g%s lr %.3g | %s, ETA %s",
		p.method, e.Grade, e.Grades, e.Epoch, e.Epochs, percent(e), e.Loss, rseString(e), e.LR, rateString(r), etaString(eta))
}

func (p *progress) barLine(e mgdl.Event, now time.Time) string {
	r, eta := p.rate(e, now)
	fill := 0
	if e.Epochs > 0 {
		fill = min(barWidth, e.Epoch*barWidth/e.Epochs)
	}
	bar := strings.Repeat("█", fill) + strings.Repeat("░", barWidth-fill)
	return fmt.Sprintf("%s grade %d/%d %s %s epoch %d/%d loss %.4g%s | %s ETA %s",
		p.method, e.Grade, e.Grades, bar, percent(e), e.Epoch, e.Epochs, e.Loss, rseString(e), rateString(r), etaString(eta))
}

func (p *progress) doneLine(e mgdl.Event) string {
	r := e.Result
	if r == nil {
		return fmt.Sprintf("%s grade %d/%d done", p.method, e.Grade, e.Grades)
	}
	s := fmt.Sprintf("%s grade %d/%d done: %d epochs, train RSE %.4g", p.method, e.Grade, e.Grades, r.Epochs, r.TrainRSE)
	if r.ValRSE != nil {
		s += fmt.Sprintf(", val RSE %.4g", *r.ValRSE)
	}
	if r.TestRSE != nil {
		s += fmt.Sprintf(", test RSE %.4g", *r.TestRSE)
	}
	if r.StopReason.Early() {
		s += ", stopped: " + string(r.StopReason)
	}
	if r.Refit {
		s += ", output layer refitted"
	}
	if r.Rejected {
		s += ", rejected"
	}
	return s + fmt.Sprintf(", %.1f s", r.Seconds)
}

// rseString shows the epoch's training RSE and the last validation RSE
// the trainer measured, those that are known.
func rseString(e mgdl.Event) string {
	var s string
	if v := e.TrainRSE; v >= 0 && !math.IsInf(v, 0) {
		s += fmt.Sprintf(" train RSE %.4g", v)
	}
	if v := e.ValRSE; v >= 0 && !math.IsInf(v, 0) {
		s += fmt.Sprintf(" val RSE %.4g", v)
	}
	return s
}

func percent(e mgdl.Event) string {
	if e.Epochs <= 0 {
		return "100%"
	}
	return fmt.Sprintf("%d%%", e.Epoch*100/e.Epochs)
}

func rateString(r float64) string {
	switch {
	case r <= 0:
		return "- epochs/s"
	case r >= 10:
		return fmt.Sprintf("%.0f epochs/s", r)
	default:
		return fmt.Sprintf("%.2g epochs/s", r)
	}
}

// etaString writes d as 1h02m03s, 2m03s or 3s ("?" when unknown).
func etaString(d time.Duration) string {
	if d < 0 {
		return "?"
	}
	s := int(math.Round(d.Seconds()))
	switch {
	case s >= 3600:
		return fmt.Sprintf("%dh%02dm%02ds", s/3600, s/60%60, s%60)
	case s >= 60:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	default:
		return fmt.Sprintf("%ds", s)
	}
}
