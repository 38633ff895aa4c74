package report

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	_ "image/png" // decode per-grade images
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl"
)

// File names in a run folder.
const (
	SummaryFile = "summary.json"
	ConfigFile  = "config.json"
	MetricsFile = "metrics.jsonl"
	// ImagesDir holds target.png and grade1.png, grade2.png, … for image
	// regression runs: the reconstruction after each grade.
	ImagesDir = "images"
	// NormsFile holds residual norms of a constructed or verified model
	// (see NormsRecord).
	NormsFile = "norms.json"
)

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
	// ValLoss is the last validation loss the trainer recorded (absent
	// before the first record and without a validation set).
	ValLoss *float64          `json:"val_loss,omitempty"`
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

// Run is what a run folder holds. Only Summary is required.
type Run struct {
	Dir     string
	Summary *mgdl.Summary
	// Config is config.json as written (nil if absent).
	Config json.RawMessage
	// Epochs are the "epoch" records of metrics.jsonl in order.
	Epochs []MetricsRecord
	// Staged holds 1-D target and predictions per grade (nil if absent).
	Staged *Staged
	// Norms of a constructed or verified model (nil if absent).
	Norms *Norms
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
	return strings.ToUpper(r.Summary.Method)
}

// Key is Label in lower case, safe in file names.
func (r *Run) Key() string {
	return strings.Trim(regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(r.Label()), "-"), "-")
}

// EpochsByGrade returns the epoch records split by grade (index l holds
// grade l+1).
func (r *Run) EpochsByGrade() [][]MetricsRecord {
	var out [][]MetricsRecord
	for _, e := range r.Epochs {
		if e.Grade < 1 {
			continue
		}
		for len(out) < e.Grade {
			out = append(out, nil)
		}
		out[e.Grade-1] = append(out[e.Grade-1], e)
	}
	return out
}

// Load reads a run folder.
func Load(dir string) (*Run, error) {
	r := &Run{Dir: dir}
	b, err := os.ReadFile(filepath.Join(dir, SummaryFile))
	if err != nil {
		return nil, fmt.Errorf("%s is not a run folder: %w", dir, err)
	}
	r.Summary = &mgdl.Summary{}
	if err := json.Unmarshal(b, r.Summary); err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, SummaryFile), err)
	}
	warn := func(err error) { r.Warnings = append(r.Warnings, err.Error()) }
	missing := func(err error) bool { return errors.Is(err, fs.ErrNotExist) }

	if b, err := os.ReadFile(filepath.Join(dir, ConfigFile)); err == nil {
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
	if b, err := os.ReadFile(filepath.Join(dir, NormsFile)); err == nil {
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
	f, err := os.Open(path)
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
	for _, g := range sortedGrades(byGrade) {
		names, titles = append(names, byGrade[g]), append(titles, fmt.Sprintf("after grade %d", g))
	}
	for i, n := range names {
		f, err := os.Open(filepath.Join(dir, n))
		if err != nil {
			return err
		}
		im, _, err := image.Decode(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s/%s: %v", ImagesDir, n, err)
		}
		r.Images = append(r.Images, Image{Title: titles[i], Image: im})
	}
	return nil
}

// LoadRuns reads the run folders dirs. A single folder that is not a run
// but holds run folders (as mgdl demo --out writes: mgdl/ and sgdl/) gives
// those. MGDL runs come first. When two runs share a method, they are
// labelled by their folder names.
func LoadRuns(dirs ...string) ([]*Run, error) {
	if len(dirs) == 1 {
		if _, err := os.Stat(filepath.Join(dirs[0], SummaryFile)); err != nil {
			ents, rerr := os.ReadDir(dirs[0])
			if rerr != nil {
				return nil, fmt.Errorf("%s: %w", dirs[0], rerr)
			}
			var sub []string
			for _, e := range ents {
				if _, err := os.Stat(filepath.Join(dirs[0], e.Name(), SummaryFile)); e.IsDir() && err == nil {
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
		r, err := Load(d)
		if err != nil {
			return nil, err
		}
		runs = append(runs, r)
	}
	sort.SliceStable(runs, func(i, j int) bool { return runs[i].Summary.Method == "mgdl" && runs[j].Summary.Method != "mgdl" })
	seen := map[string]int{}
	for _, r := range runs {
		seen[r.Summary.Method]++
	}
	for _, r := range runs {
		if seen[r.Summary.Method] > 1 || r.Summary.Method == "" {
			r.label = fmt.Sprintf("%s (%s)", strings.ToUpper(r.Summary.Method), filepath.Base(r.Dir))
		}
	}
	return runs, nil
}
