package rundir

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/png" // decode per-grade images
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/internal/fileio"
	"github.com/mgdl/mgdl/limits"
)

// verifyRecord is the part of verify.Report's JSON the report reads.
type verifyRecord struct {
	Initial struct{ L1, L2, Linf float64 } `json:"initial"`
	Grades  []VerifyGrade                  `json:"grades"`
	Levels  []levelRecord                  `json:"levels"`
}

type levelRecord struct {
	Sup float64 `json:"sup"`
}

// checksRecord is the wrapper mgdl construct and mgdl verify --report
// write: one verification per point set, and (construct) the levels.
type checksRecord struct {
	Checks []struct {
		Points string        `json:"points"`
		Report *verifyRecord `json:"report"`
	} `json:"checks"`
	Levels []levelRecord `json:"levels"`
}

// readVerify reads a verification file in either form. It returns the
// first point set's report and its name ("" for a bare report), or nil
// when the file holds neither.
func readVerify(path string) (*verifyRecord, string, error) {
	b, err := readSmall(filepath.Dir(path), filepath.Base(path))
	if err != nil {
		return nil, "", err
	}
	var c checksRecord
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, "", fmt.Errorf("%s: %v", filepath.Base(path), err)
	}
	if len(c.Checks) > 0 && c.Checks[0].Report != nil {
		v := c.Checks[0].Report
		if len(v.Levels) == 0 {
			v.Levels = c.Levels
		}
		return v, c.Checks[0].Points, nil
	}
	var v verifyRecord
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, "", fmt.Errorf("%s: %v", filepath.Base(path), err)
	}
	if len(v.Grades) == 0 {
		return nil, "", nil
	}
	return &v, "", nil
}

// VerifyGrade is one grade of a verification report.
type VerifyGrade struct {
	Grade       int     `json:"grade"`
	Nontrivial  bool    `json:"nontrivial"`
	MaxIncrease float64 `json:"max_increase"`
	Violations  int     `json:"violations"`
	SignFlips   int     `json:"sign_flips"`
	L1          float64 `json:"l1"`
	L2          float64 `json:"l2"`
	Linf        float64 `json:"linf"`
}

// MetricsRecord is one line of metrics.jsonl. Event is "epoch" (one epoch
// of a grade; long grades are sampled), "grade" (a finished grade, with its
// Result) or "end" (the run ended, with Error if it stopped early). T is
// seconds since the run started.
type MetricsRecord struct {
	Event  string  `json:"event"`
	T      float64 `json:"t"`
	Method string  `json:"method,omitempty"`
	Grade  int     `json:"grade,omitempty"`
	Grades int     `json:"grades,omitempty"`
	Epoch  int     `json:"epoch,omitempty"`
	Epochs int     `json:"epochs,omitempty"`
	Loss   float64 `json:"loss,omitempty"`
	LR     float64 `json:"lr,omitempty"`
	// TrainRSE is the training RSE over the epoch's minibatches
	// (mgdl.Event.TrainRSE).
	TrainRSE *float64 `json:"train_rse,omitempty"`
	// ValLoss and ValRSE are the last validation loss and RSE the trainer
	// recorded (absent before the first record and without a validation
	// set).
	ValLoss *float64          `json:"val_loss,omitempty"`
	ValRSE  *float64          `json:"val_rse,omitempty"`
	Result  *mgdl.GradeResult `json:"result,omitempty"`
	Error   string            `json:"error,omitempty"`
}

// NormsRecord is the JSON form of Norms (norms.json).
type NormsRecord struct {
	L1         []float64 `json:"l1"`
	L2         []float64 `json:"l2"`
	LInf       []float64 `json:"linf"`
	FromGrade0 bool      `json:"from_grade0,omitempty"`
	LevelSup   []float64 `json:"level_sup,omitempty"`
}

// Image is one picture of an image-regression run.
type Image struct {
	Title string
	Image image.Image
}

// Run is what a run folder holds, read back: by mgdl report, or anyone.
// Only Summary is required (a constructed model has a made-up one).
type Run struct {
	Dir string
	// Method is "mgdl", "sgdl" or, for a constructed model, "constructed".
	Method  string
	Summary *Summary
	// Config is config.json as written (nil if absent).
	Config json.RawMessage
	// Epochs are the "epoch" records of metrics.jsonl in order.
	Epochs []MetricsRecord
	// Staged holds 1-D target and predictions per grade (nil if absent).
	Staged *Staged
	// Norms of a constructed or verified model (nil if absent).
	Norms *Norms
	// Verify holds the per-grade checks of verify.json or a construction's
	// report.json (nil if absent); VerifyPoints names the point set.
	Verify       []VerifyGrade
	VerifyPoints string
	// Images: the target and the reconstruction after each grade.
	Images []Image
	// Warnings lists files that were present but unreadable.
	Warnings []string

	label string
}

// Label names the run in titles: "MGDL", "SGDL", or the folder's name when
// two runs of a report share a method.
func (r *Run) Label() string {
	if r.label != "" {
		return r.label
	}
	return strings.ToUpper(r.Method)
}

// Key is Label in lower case, safe in file names.
func (r *Run) Key() string {
	return strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(r.Label()), "-"), "-")
}

// EpochsByGrade returns the epoch records split by grade (index l holds
// grade l+1). When a grade's epochs start again (a run resumed after an
// interrupt), only the last attempt is kept.
func (r *Run) EpochsByGrade() [][]MetricsRecord {
	var out [][]MetricsRecord
	for _, e := range r.Epochs {
		if e.Grade < 1 {
			continue
		}
		for len(out) < e.Grade {
			out = append(out, nil)
		}
		g := out[e.Grade-1]
		if n := len(g); n > 0 && e.Epoch <= g[n-1].Epoch {
			g = g[:0] // the grade started again (a resumed run): keep the last attempt
		}
		out[e.Grade-1] = append(g, e)
	}
	return out
}

// Read reads a run folder. Files that are present but unreadable are
// skipped with a warning (Run.Warnings); a folder without a summary or
// residual norms is not a run.
func Read(dir string) (*Run, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is a file, not a run folder (a folder that train or construct wrote)", dir)
	}
	r := &Run{Dir: dir}
	warn := func(err error) { r.Warnings = append(r.Warnings, err.Error()) }
	missing := func(err error) bool { return errors.Is(err, fs.ErrNotExist) }
	s, err := ReadSummary(dir)
	switch {
	case err == nil:
		r.Summary, r.Method = s, s.Method()
	case missing(err) && hasNorms(dir):
		// A constructed model: no training summary, only its norms.
		r.Summary, r.Method = &Summary{}, "constructed"
	default:
		return nil, fmt.Errorf("%s is not a run folder: %w", dir, err)
	}
	for _, name := range []string{VerifyFile, ConstructFile} {
		if r.Norms != nil {
			break
		}
		v, points, err := readVerify(filepath.Join(dir, name))
		if err != nil {
			if !missing(err) {
				warn(err)
			}
			continue
		}
		if v == nil {
			continue
		}
		r.Verify, r.VerifyPoints = v.Grades, points
		n := &Norms{FromGrade0: true, L1: []float64{v.Initial.L1}, L2: []float64{v.Initial.L2}, LInf: []float64{v.Initial.Linf}}
		for _, g := range v.Grades {
			n.L1, n.L2, n.LInf = append(n.L1, g.L1), append(n.L2, g.L2), append(n.LInf, g.Linf)
		}
		for _, l := range v.Levels {
			n.LevelSup = append(n.LevelSup, l.Sup)
		}
		r.Norms = n
	}
	if b, err := readSmall(dir, ConfigFile); err == nil {
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			warn(fmt.Errorf("%s: %v", ConfigFile, err))
		} else {
			r.Config = json.RawMessage(bytes.TrimSpace(b))
		}
	} else if !missing(err) {
		warn(err)
	}
	if err := r.loadMetrics(filepath.Join(dir, MetricsFile)); err != nil && !missing(err) {
		warn(err)
	}
	if s, err := ReadStaged(filepath.Join(dir, StagedFile)); err == nil {
		r.Staged = s
	} else if !missing(err) {
		warn(err)
	}
	if b, err := readSmall(dir, NormsFile); r.Norms != nil {
		// verify.json came first
	} else if err == nil {
		var n NormsRecord
		if err := json.Unmarshal(b, &n); err != nil {
			warn(fmt.Errorf("%s: %v", NormsFile, err))
		} else {
			r.Norms = &Norms{L1: n.L1, L2: n.L2, LInf: n.LInf, FromGrade0: n.FromGrade0, LevelSup: n.LevelSup}
		}
	} else if !missing(err) {
		warn(err)
	}
	if err := r.loadImages(filepath.Join(dir, ImagesDir)); err != nil && !missing(err) {
		warn(err)
	}
	return r, nil
}

func (r *Run) loadMetrics(path string) error {
	f, _, err := fileio.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var m MetricsRecord
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			// A run killed mid-write leaves a partial last line: keep what came before.
			return fmt.Errorf("%s line %d: %v", MetricsFile, line, err)
		}
		if m.Event == "epoch" {
			r.Epochs = append(r.Epochs, m)
		}
	}
	return sc.Err()
}

var gradeImage = regexp.MustCompile(`^grade(\d+)\.png$`)

func (r *Run) loadImages(dir string) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	byGrade := map[int]string{}
	for _, e := range ents {
		if m := gradeImage.FindStringSubmatch(e.Name()); m != nil {
			g, _ := strconv.Atoi(m[1])
			byGrade[g] = e.Name()
		}
	}
	names := []string{}
	titles := []string{}
	if _, err := os.Stat(filepath.Join(dir, "target.png")); err == nil {
		names, titles = append(names, "target.png"), append(titles, "target")
	}
	for _, g := range slices.Sorted(maps.Keys(byGrade)) {
		names, titles = append(names, byGrade[g]), append(titles, fmt.Sprintf("after grade %d", g))
	}
	for i, n := range names {
		f, _, err := fileio.Open(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		var im image.Image
		cfg, _, err := image.DecodeConfig(f)
		if err == nil {
			err = data.CheckImageSize("the image", cfg.Height, cfg.Width)
		}
		if err == nil {
			if _, err = f.Seek(0, 0); err == nil {
				im, _, err = image.Decode(f)
			}
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("%s/%s: %v", ImagesDir, n, err)
		}
		r.Images = append(r.Images, Image{Title: titles[i], Image: im})
	}
	return nil
}

// hasNorms reports whether dir holds norms.json, verify.json or a
// construction's report.json.
func hasNorms(dir string) bool {
	for _, f := range []string{NormsFile, VerifyFile, ConstructFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return true
		}
	}
	return false
}

// hasResults reports whether dir holds what report shows: a summary or residual norms.
func hasResults(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, SummaryFile))
	return err == nil || hasNorms(dir)
}

// ReadRuns reads the run folders dirs. A single folder that is not a run
// but holds run folders (as mgdl demo --out writes: mgdl/ and sgdl/) gives
// those. MGDL runs come first. When two runs share a method, they are
// labelled by their folder names.
func ReadRuns(dirs ...string) ([]*Run, error) {
	for _, d := range dirs {
		if st, err := os.Stat(d); err != nil {
			return nil, err
		} else if !st.IsDir() {
			return nil, fmt.Errorf("%s is a file, not a run folder (a folder that train or construct wrote)", d)
		}
	}
	if len(dirs) == 1 {
		if !hasResults(dirs[0]) {
			ents, rerr := os.ReadDir(dirs[0])
			if rerr != nil {
				return nil, fmt.Errorf("%s: %w", dirs[0], rerr)
			}
			var sub []string
			for _, e := range ents {
				if e.IsDir() && hasResults(filepath.Join(dirs[0], e.Name())) {
					sub = append(sub, filepath.Join(dirs[0], e.Name()))
				}
			}
			if len(sub) == 0 {
				return nil, fmt.Errorf("%s is not a run folder: no %s in it or in its subfolders", dirs[0], SummaryFile)
			}
			dirs = sub
		}
	}
	var runs []*Run
	for _, d := range dirs {
		r, err := Read(d)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Method == "mgdl" && runs[j].Method != "mgdl" })
	seen := map[string]int{}
	for _, r := range runs {
		seen[r.Method]++
	}
	for _, r := range runs {
		if seen[r.Method] > 1 || r.Method == "" {
			r.label = fmt.Sprintf("%s (%s)", strings.ToUpper(r.Method), filepath.Base(r.Dir))
		}
	}
	return runs, nil
}

// Norms are a constructed (or verified) model's residual norms per grade
// and its sup norm per level.
type Norms struct {
	// L1, L2 and LInf are the residual norms after grades 1, 2, …; an
	// optional leading entry for grade 0 (the target itself) is given by
	// FromGrade0.
	L1, L2, LInf []float64
	FromGrade0   bool
	// LevelSup is the sup norm of the residual at the end of each level.
	LevelSup []float64
}

// readSmall reads dir/name, which must be a regular file of at most
// limits.MaxSmallFile bytes.
func readSmall(dir, name string) ([]byte, error) {
	return fileio.ReadFile(filepath.Join(dir, name), limits.MaxSmallFile, "a run folder's "+name)
}
