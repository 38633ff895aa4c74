package rundir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/experiment"
	"github.com/mgdl/mgdl/internal/atomicfile"
	"github.com/mgdl/mgdl/internal/buildinfo"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/tensor"
)

// Recorder writes what a training run produces into its folder: the
// metrics log as it trains; after every finished grade the model
// (checkpoint), the summary and, for image regression, the reconstruction;
// at the end the summary, the staged 1-D predictions and the per-grade
// images. With a nil Dir it writes nothing and only builds the summary.
//
// Event and Grade are the trainer's Progress and OnGrade hooks.
type Recorder[T tensor.Float] struct {
	dir      *Dir
	sum      Summary
	meta     modelfile.Meta
	loaded   *data.Loaded
	norm     *data.Normalization
	log      *metricsLog
	start    time.Time
	prior    float64 // seconds of the grades restored from a checkpoint
	restored int     // their number: the first results in sum.Grades
}

// NewRecorder starts recording a run of cfg (resolved, with the data l as
// loaded and standardised by norm) on the named backend. With a
// checkpoint ck (a resumed run), its grades' results come first and the
// metrics log is appended to.
func NewRecorder[T tensor.Float](dir *Dir, cfg experiment.Config, l *data.Loaded, norm *data.Normalization, backend string, ck *modelfile.File) (*Recorder[T], error) {
	digest, err := cfg.ComputeDigest()
	if err != nil {
		return nil, err
	}
	cj, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding the configuration: %w", err)
	}
	r := &Recorder[T]{
		dir: dir, loaded: l, norm: norm, start: time.Now(),
		sum:  Summary{Version: buildinfo.Version, Digest: digest, Backend: backend, Config: cfg, Running: true},
		meta: modelfile.Meta{Method: string(cfg.Method), Seed: cfg.Seed, Normalization: norm, Config: cj, ConfigDigest: digest, Inputs: l.InNames, Targets: l.OutNames, Image: l.Image},
	}
	if ck != nil && len(ck.Meta.Metrics) > 0 {
		if err := json.Unmarshal(ck.Meta.Metrics, &r.sum.Grades); err != nil {
			return nil, fmt.Errorf("resume: %s: metrics: %v", ModelFile, err)
		}
		r.sum.Grades = r.sum.Grades[:min(len(r.sum.Grades), len(ck.Meta.Grades))]
		r.restored = len(r.sum.Grades)
		// The model holds no timings; the earlier session's summary does.
		if dir != nil {
			if old, err := ReadSummary(dir.Path()); err == nil && old.Digest == digest {
				for l := range r.sum.Grades {
					if l < len(old.Grades) && old.Grades[l].Grade == r.sum.Grades[l].Grade {
						r.sum.Grades[l].Seconds = old.Grades[l].Seconds
					}
				}
			}
		}
		for _, g := range r.sum.Grades {
			r.prior += g.Seconds
		}
	}
	if dir != nil {
		if r.log, err = openMetricsLog(dir.File(MetricsFile), ck != nil); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Restored returns the results of the grades restored from the checkpoint.
func (r *Recorder[T]) Restored() []mgdl.GradeResult { return r.sum.Grades[:r.restored:r.restored] }

// Event is the trainer's progress hook: it writes the metrics log.
func (r *Recorder[T]) Event(e mgdl.Event) { r.log.event(e, string(r.sum.Config.Method)) }

// Grade is the trainer's OnGrade hook: it writes the model so far, the
// summary and, for an image, the reconstruction. The model is written
// first: a grade is finished once it is in the model file. The model file
// holds the results without their timings (summary.json has them), so that
// identical runs write byte-identical model files.
func (r *Recorder[T]) Grade(m *model.Model[T], res mgdl.GradeResult) error {
	r.sum.Grades = append(r.sum.Grades, res)
	if r.dir == nil {
		return nil
	}
	// The model file records the results without their timings, so that
	// two identical runs write identical model files.
	untimed := slices.Clone(r.sum.Grades)
	for l := range untimed {
		untimed[l].Seconds = 0
	}
	mj, err := json.Marshal(untimed)
	if err != nil {
		return fmt.Errorf("encoding the metrics of grade %d: %w", res.Grade, err)
	}
	r.meta.Metrics = mj
	if err := WriteModel(r.dir, m, r.meta); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	r.sum.TotalSeconds = r.elapsed()
	if err := r.dir.WriteSummary(&r.sum); err != nil {
		return err
	}
	if s := r.loaded.Image; s != nil {
		return writeImage(r.dir.File(ReconstructionFile), predictImage(m, *s, r.norm))
	}
	return nil
}

func (r *Recorder[T]) elapsed() float64 { return r.prior + time.Since(r.start).Seconds() }

// Finish ends the recording after the trainer returned results (this
// session's, rejected grades included) and runErr: it writes the final
// summary, the end of the metrics log, staged.json for 1-D problems and
// the per-grade images of an image run, s being the splits the model was
// trained on. It returns the summary; errors writing the extra files are
// returned as warnings, an error writing the summary as err.
func (r *Recorder[T]) Finish(m *model.Model[T], s data.Splits[T], results []mgdl.GradeResult, runErr error) (sum *Summary, warnings []error, err error) {
	r.sum.Grades = append(r.Restored(), results...)
	r.sum.TotalSeconds = r.elapsed()
	r.sum.Running = false
	if runErr != nil {
		r.sum.Error = runErr.Error()
	}
	if r.dir == nil {
		return &r.sum, nil, nil
	}
	if err := r.log.close(runErr); err != nil {
		warnings = append(warnings, err)
	}
	if err := r.dir.WriteSummary(&r.sum); err != nil {
		return &r.sum, warnings, err
	}
	if m == nil || len(m.Grades) == 0 {
		return &r.sum, warnings, nil
	}
	if st := NewStaged1D(m, "train", s.Train.X, s.Train.Y); st != nil {
		if err := st.WriteFile(r.dir.File(StagedFile)); err != nil {
			warnings = append(warnings, err)
		}
	}
	if r.loaded.Image != nil {
		if err := r.writeStagedImages(m); err != nil {
			warnings = append(warnings, err)
		}
	}
	return &r.sum, warnings, nil
}

// writeStagedImages writes images/target.png and the reconstruction after
// each grade, grade1.png, grade2.png, …
func (r *Recorder[T]) writeStagedImages(m *model.Model[T]) error {
	shape := *r.loaded.Image
	out := r.dir.File(ImagesDir)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if t := r.loaded.Splits.Test.Y; t != nil && t.Rows == shape.Height*shape.Width { // the full image
		if err := writeImage(filepath.Join(out, "target.png"), data.ToImage(shape, t)); err != nil {
			return err
		}
	}
	x := data.Coords[T](shape)
	if r.norm != nil {
		data.Apply(r.norm.Inputs, x)
	}
	for l, p := range m.StagedPredict(x) {
		if r.norm != nil {
			data.Invert(r.norm.Targets, p)
		}
		if err := writeImage(filepath.Join(out, fmt.Sprintf("grade%d.png", l+1)), data.ToImage(shape, p)); err != nil {
			return err
		}
	}
	return nil
}

// predictImage predicts every pixel of an image of shape s with m, whose
// inputs and outputs are standardised by norm (nil for none).
func predictImage[T tensor.Float](m *model.Model[T], s data.ImageShape, norm *data.Normalization) image.Image {
	x := data.Coords[T](s)
	if norm != nil {
		data.Apply(norm.Inputs, x)
	}
	y := m.Predict(x)
	if norm != nil {
		data.Invert(norm.Targets, y)
	}
	return data.ToImage(s, y)
}

// writeImage encodes img by path's extension (PNG, or JPEG for .jpg and
// .jpeg) and writes it atomically.
func writeImage(path string, img image.Image) error {
	var b bytes.Buffer
	if err := data.EncodeImage(&b, path, img); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, b.Bytes())
}

// metricsLog writes the JSON-lines metrics log. Every record has "event"
// ("epoch", "grade" or "end") and "t" (seconds since the run started).
// Epoch records are kept for every epoch of grades up to maxEpochRecords
// epochs, and for about maxEpochRecords evenly spaced epochs (always the
// first and last) of longer grades, so the log stays small.
type metricsLog struct {
	f     *os.File
	enc   *json.Encoder
	start time.Time
	now   func() time.Time
	err   error
}

const maxEpochRecords = 1000

// openMetricsLog creates the log at path (truncating an old one), or
// appends to it when a run is resumed.
func openMetricsLog(path string, resume bool) (*metricsLog, error) {
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if resume {
		flag = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot write the metrics log: %w", err)
	}
	return &metricsLog{f: f, enc: json.NewEncoder(f), start: time.Now(), now: time.Now}, nil
}

func (m *metricsLog) write(r MetricsRecord) {
	if m == nil || m.err != nil {
		return
	}
	r.T = math.Round(m.now().Sub(m.start).Seconds()*1e3) / 1e3
	m.err = m.enc.Encode(r.finite())
}

func (m *metricsLog) event(e mgdl.Event, method string) {
	if m == nil {
		return
	}
	if e.Done {
		m.write(MetricsRecord{Event: "grade", Method: method, Grade: e.Grade, Grades: e.Grades, Epoch: e.Epoch, Epochs: e.Epochs, Loss: e.Loss, Result: e.Result})
		return
	}
	if e.Epochs > maxEpochRecords {
		every := (e.Epochs + maxEpochRecords - 1) / maxEpochRecords
		if e.Epoch%every != 0 && e.Epoch != e.Epochs && e.Epoch != 1 {
			return
		}
	}
	r := MetricsRecord{Event: "epoch", Method: method, Grade: e.Grade, Grades: e.Grades, Epoch: e.Epoch, Epochs: e.Epochs, Loss: e.Loss, LR: e.LR}
	if v := e.TrainRSE; isFinite(v) {
		r.TrainRSE = &v
	}
	if v := e.ValLoss; isFinite(v) {
		r.ValLoss = &v
	}
	if v := e.ValRSE; isFinite(v) {
		r.ValRSE = &v
	}
	m.write(r)
}

// close writes the end record and closes the file.
func (m *metricsLog) close(runErr error) error {
	if m == nil {
		return nil
	}
	r := MetricsRecord{Event: "end"}
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

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// finite returns r with the numbers JSON cannot hold (a NaN or infinite
// loss after a divergence) left out; the end record says why the run
// stopped.
func (r MetricsRecord) finite() MetricsRecord {
	if !isFinite(r.Loss) {
		r.Loss = 0
	}
	if r.Result != nil && !isFinite(r.Result.TrainLoss) {
		res := *r.Result
		res.TrainLoss = 0
		r.Result = &res
	}
	return r
}
