package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/internal/atomicfile"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/report"
	"github.com/mgdl/mgdl/tensor"
)

// Progress of a run goes to three places:
//
//   - a one-line progress bar per grade on stderr when stderr is a terminal
//     (epoch, loss, rate, ETA; the grade's train/validation/test RSE when it
//     ends);
//   - plain lines otherwise (CI logs): one every plainEvery and one per
//     finished grade;
//   - metricsFile in the run folder, a JSON-lines log of every run,
//     whatever --quiet says.
//
// --progress chooses the display (auto, bar, plain, none); --quiet is none.

const (
	metricsFile = report.MetricsFile
	plainEvery  = 5 * time.Second
	barEvery    = 100 * time.Millisecond
	barWidth    = 24
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
	valScale   float64   // validation loss → validation RSE (0: show the loss)
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
		p.method, e.Grade, e.Grades, e.Epoch, e.Epochs, percent(e), e.Loss, valString(e, p.valScale), e.LR, rateString(r), etaString(eta))
}

func (p *progress) barLine(e mgdl.Event, now time.Time) string {
	r, eta := p.rate(e, now)
	fill := 0
	if e.Epochs > 0 {
		fill = min(barWidth, e.Epoch*barWidth/e.Epochs)
	}
	bar := strings.Repeat("█", fill) + strings.Repeat("░", barWidth-fill)
	return fmt.Sprintf("%s grade %d/%d %s %s epoch %d/%d loss %.4g%s | %s ETA %s",
		p.method, e.Grade, e.Grades, bar, percent(e), e.Epoch, e.Epochs, e.Loss, valString(e, p.valScale), rateString(r), etaString(eta))
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
	if r.StopReason != "" && r.StopReason != mgdl.StoppedBudget {
		s += ", stopped: " + r.StopReason
	}
	if r.Refit {
		s += ", output layer refitted"
	}
	if r.Rejected {
		s += ", rejected"
	}
	return s + fmt.Sprintf(", %.1f s", r.Seconds)
}

// valString shows the last recorded validation RSE (or loss, when the
// scale is unknown), if there is one.
func valString(e mgdl.Event, scale float64) string {
	v := e.ValLoss
	if !(v > 0) || math.IsInf(v, 0) {
		return ""
	}
	if scale > 0 {
		return fmt.Sprintf(" val RSE %.4g", v*scale)
	}
	return fmt.Sprintf(" val loss %.4g", v)
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

// metricsLog writes the JSON-lines metrics log. Every record has "event"
// ("epoch", "grade" or "end") and "t" (seconds since the run started).
// Epoch records are kept for every epoch of grades up to maxEpochRecords
// epochs, and for about maxEpochRecords evenly spaced epochs (always the
// last) of longer grades, so the log stays small.
type metricsLog struct {
	f      *os.File
	enc    *json.Encoder
	start  time.Time
	now    func() time.Time
	method string
	err    error
	// valScale turns validation losses into RSEs (see valRSEScale).
	valScale float64
}

const maxEpochRecords = 1000

// openMetricsLog creates dir/metrics.jsonl (truncating an old one), or
// appends to it when a run is resumed.
func openMetricsLog(dir, method string, resume bool) (*metricsLog, error) {
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if resume {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(filepath.Join(dir, metricsFile), flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot write the metrics log: %w", err)
	}
	return &metricsLog{f: f, enc: json.NewEncoder(f), start: time.Now(), now: time.Now, method: method}, nil
}

func (m *metricsLog) write(r report.MetricsRecord) {
	if m == nil || m.err != nil {
		return
	}
	r.T = math.Round(m.now().Sub(m.start).Seconds()*1e3) / 1e3
	r.Method = m.method
	// JSON has no NaN or Inf: such losses (no epoch run, divergence) are
	// left out; the end record says why the run stopped.
	if math.IsNaN(r.Loss) || math.IsInf(r.Loss, 0) {
		r.Loss = 0
	}
	if r.Result != nil && (math.IsNaN(r.Result.TrainLoss) || math.IsInf(r.Result.TrainLoss, 0)) {
		res := *r.Result
		res.TrainLoss = 0
		r.Result = &res
	}
	m.err = m.enc.Encode(r)
}

func (m *metricsLog) event(e mgdl.Event) {
	if m == nil {
		return
	}
	if e.Done {
		m.write(report.MetricsRecord{Event: "grade", Grade: e.Grade, Grades: e.Grades, Epoch: e.Epoch, Epochs: e.Epochs, Loss: e.Loss, Result: e.Result})
		return
	}
	if e.Epochs > maxEpochRecords {
		every := (e.Epochs + maxEpochRecords - 1) / maxEpochRecords
		if e.Epoch%every != 0 && e.Epoch != e.Epochs && e.Epoch != 1 {
			return
		}
	}
	r := report.MetricsRecord{Event: "epoch", Grade: e.Grade, Grades: e.Grades, Epoch: e.Epoch, Epochs: e.Epochs, Loss: e.Loss, LR: e.LR}
	if v := e.ValLoss; v > 0 && !math.IsInf(v, 0) {
		r.ValLoss = &v
		if m.valScale > 0 {
			rse := v * m.valScale
			r.ValRSE = &rse
		}
	}
	m.write(r)
}

// close writes the end record and closes the file.
func (m *metricsLog) close(runErr error) error {
	if m == nil {
		return nil
	}
	r := report.MetricsRecord{Event: "end"}
	if runErr != nil {
		r.Error = runErr.Error()
	}
	m.write(r)
	if err := m.f.Close(); err != nil && m.err == nil {
		m.err = err
	}
	if m.err != nil {
		return fmt.Errorf("writing %s: %w", m.f.Name(), m.err)
	}
	return nil
}

// runRecorder ties together what a run reports while it trains: the
// progress display on stderr, the metrics log and, at the end, the staged
// predictions in the run folder (when there is one).
type runRecorder struct {
	prog *progress
	log  *metricsLog
	dir  string
	opts *trainOpts
	// valScale turns the trainer's validation loss into the validation
	// RSE of the summed model (0: unknown, e.g. for classification).
	valScale float64
}

// valRSEScale returns 2m/Σy² of the validation set: the validation loss
// Σ(e-g)²/(2m) the trainer records times this is the validation RSE after
// the grade. It is 0 without a validation set and for classification,
// whose grade-1 loss is cross-entropy.
func valRSEScale[T tensor.Float](s data.Splits[T], cfg mgdl.Config) float64 {
	if s.Val.Len() == 0 || cfg.Task == mgdl.Classification {
		return 0
	}
	var e float64
	for _, v := range s.Val.Y.Raw() {
		e += float64(v) * float64(v)
	}
	if e == 0 {
		return 0
	}
	return 2 * float64(s.Val.Len()) / e
}

// newRunRecorder starts recording a run of o to w (stderr) and o.out.
func newRunRecorder(o *trainOpts, w io.Writer) (*runRecorder, error) {
	mode, err := parseProgressMode(o.progress)
	if err != nil {
		return nil, usageError{err}
	}
	if o.quiet {
		mode = progressNone
	}
	r := &runRecorder{prog: newProgress(w, mode, o.method), dir: o.out, opts: o}
	if o.out != "" {
		if r.log, err = openMetricsLog(o.out, o.method, o.src.resume != ""); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// event is the trainer's progress callback.
func (r *runRecorder) event(e mgdl.Event) {
	r.prog.valScale, r.log.valScale = r.valScale, r.valScale
	r.prog.event(e)
	r.log.event(e)
}

// finish closes the display and the log and writes staged.json for models
// with one input and one output. Failures here do not fail the run: they
// are printed as warnings.
func finishRecording[T tensor.Float](r *runRecorder, m *model.Model[T], s data.Splits[T], runErr error) {
	r.prog.close()
	warn := func(err error) { fmt.Fprintln(os.Stderr, "mgdl: warning:", err) }
	if err := r.log.close(runErr); err != nil {
		warn(err)
	}
	if r.dir == "" || m == nil || len(m.Grades) == 0 {
		return
	}
	if st := report.NewStaged1D(m, "train", s.Train.X, s.Train.Y); st != nil {
		if err := st.WriteFile(filepath.Join(r.dir, report.StagedFile)); err != nil {
			warn(err)
		}
	}
	if src := r.opts.src.loaded; src != nil && src.image != nil {
		if err := writeStagedImages(r.dir, m, &r.opts.src); err != nil {
			warn(err)
		}
	}
}

// writeStagedImages writes, for an image-regression run, the target image
// and the image the model gives after each grade into dir/images (see
// report.ImagesDir): target.png, grade1.png, grade2.png, …
func writeStagedImages[T tensor.Float](dir string, m *model.Model[T], so *sourceOpts) error {
	src := so.loaded
	shape := *src.image
	in, tg, err := so.norm()
	if err != nil {
		return err
	}
	norm := data.FitNormalization(src.splits, in, tg)
	x := data.Coords[T](shape)
	if norm != nil && norm.Inputs != nil {
		data.Apply(norm.Inputs, x)
	}
	out := filepath.Join(dir, report.ImagesDir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	write := func(name string, im image.Image) error {
		var b bytes.Buffer
		if err := png.Encode(&b, im); err != nil {
			return err
		}
		return atomicfile.Write(filepath.Join(out, name), b.Bytes())
	}
	if t := src.splits.Test.Y; t != nil && t.Rows == shape.Height*shape.Width { // the full image
		if err := write("target.png", data.ToImage(shape, t)); err != nil {
			return err
		}
	}
	for l, p := range m.StagedPredict(x) {
		if norm != nil && norm.Targets != nil {
			data.Invert(norm.Targets, p)
		}
		if err := write(fmt.Sprintf("grade%d.png", l+1), data.ToImage(shape, p)); err != nil {
			return err
		}
	}
	return nil
}
