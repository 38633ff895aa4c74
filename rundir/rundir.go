package rundir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/mgdl/mgdl/experiment"
	"github.com/mgdl/mgdl/internal/atomicfile"
	"github.com/mgdl/mgdl/internal/jsonfmt"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/tensor"
)

// File names in a run folder.
const (
	// ConfigFile is the run's configuration (experiment.Config, with its
	// digest): what --config and --resume read.
	ConfigFile = "config.json"
	// SummaryFile holds the per-grade results (Summary), rewritten after
	// every grade and at the end.
	SummaryFile = "summary.json"
	// MetricsFile is the JSON-lines metrics log (MetricsRecord).
	MetricsFile = "metrics.jsonl"
	// ModelFile is the model after the last finished grade (modelfile).
	ModelFile = "model.safetensors"
	// StagedFile holds, for 1-D problems, the target and the prediction
	// after each grade (Staged).
	StagedFile = "staged.json"
	// ImagesDir holds target.png and grade1.png, grade2.png, … for image
	// regression runs: the reconstruction after each grade.
	ImagesDir = "images"
	// ReconstructionFile is an image run's reconstruction by the model so
	// far, rewritten after every grade.
	ReconstructionFile = "reconstruction.png"
	// NormsFile holds residual norms of a constructed or verified model
	// (see NormsRecord).
	NormsFile = "norms.json"
	// VerifyFile holds the verification report of a model: the JSON of
	// verify.Report ("initial", "grades" and "levels" are read), or what
	// mgdl verify --report writes ({"checks": [{"points", "report"}]}).
	VerifyFile = "verify.json"
	// ConstructFile is what mgdl construct writes next to its model: its
	// "checks" (as in VerifyFile) and "levels" (with "sup") are read.
	ConstructFile = "report.json"
	// ReportFile and PlotsDir are the report and its figures (mgdl report).
	ReportFile = "report.html"
	PlotsDir   = "plots"
	// lockFile is the lock file of systems without flock (see lock_other.go);
	// elsewhere the folder itself is locked.
	lockFile = ".lock"
)

// Dir is a run folder that this process writes. It holds the folder's
// lock from Create or Resume until Close, so that no other process writes
// the folder meanwhile.
type Dir struct {
	path string
	lock *lock
}

// Path returns the folder's path.
func (d *Dir) Path() string { return d.path }

// File returns the path of the named file in the folder.
func (d *Dir) File(name string) string { return filepath.Join(d.path, name) }

// Close releases the folder's lock. The Dir must not be written after.
func (d *Dir) Close() error {
	if d == nil {
		return nil
	}
	return d.lock.release()
}

// CreateOptions control Create.
type CreateOptions struct {
	// Replace lets Create discard an existing run folder at the path: a
	// new, empty folder takes its place whole, atomically where the file
	// system can swap folders (Linux), else by two renames.
	Replace bool
	// Inputs are the files the run reads: Replace refuses a folder that
	// holds one of them.
	Inputs []string
}

// ErrNotRun is wrapped by Resume's error for a path that is no run folder.
var ErrNotRun = errors.New("not a run folder")

// ErrExists is wrapped by Create's error when the path holds files and
// Replace was not asked for.
var ErrExists = errors.New("the folder already holds files")

// Create makes path a new, empty run folder and locks it. The path must
// not exist, or be an empty folder; a folder holding a run is refused
// unless opt.Replace is set, and a folder that holds files but no run is
// always refused (so that a mistyped --out never empties a folder).
func Create(path string, opt CreateOptions) (*Dir, error) {
	path = filepath.Clean(path)
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("cannot create output folder: %w", err)
		}
		if err := os.Mkdir(path, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("cannot create output folder: %w", err)
		}
	case err != nil:
		return nil, fmt.Errorf("cannot create output folder: %w", err)
	case !st.IsDir():
		return nil, fmt.Errorf("cannot create output folder: %s exists and is not a folder", path)
	}
	names, err := entries(path)
	if err != nil {
		return nil, err
	}
	if len(names) > 0 {
		// Say so first if another process writes it (locking a folder
		// writes nothing into it).
		lk, err := acquire(path)
		if err != nil {
			return nil, err
		}
		lk.release()
		if err := checkReplace(path, names, opt); err != nil {
			return nil, err
		}
		return replace(path)
	}
	lk, err := acquire(path)
	if err != nil {
		return nil, err
	}
	// Another process may have created the folder and written to it
	// between the check and the lock.
	if names, err := entries(path); err != nil || len(names) > 0 {
		lk.release()
		if err != nil {
			return nil, err
		}
		return nil, existsError(path, names, false)
	}
	return &Dir{path: path, lock: lk}, nil
}

func existsError(path string, names []string, replace bool) error {
	what := strings.Join(clip(names, 5), ", ")
	if IsRun(path) {
		return &ExistsError{Path: path, Run: true, msg: fmt.Sprintf("%s already holds a run (%s)", path, what)}
	}
	msg := fmt.Sprintf("%s holds files but no run (%s; no %s)", path, what, ConfigFile)
	if replace {
		msg += "; only a run folder is replaced"
	}
	return &ExistsError{Path: path, msg: msg}
}

// ExistsError is Create's error for a folder that holds files: a run
// (Run set; Replace would replace it) or other files (never replaced).
// It wraps ErrExists.
type ExistsError struct {
	Path string
	Run  bool
	// Complete is set when the message says what to do already.
	Complete bool
	msg      string
}

func (e *ExistsError) Error() string { return e.msg }

// Unwrap returns ErrExists.
func (e *ExistsError) Unwrap() error { return ErrExists }

// CheckCreate reports the error Create would give for path now, without
// making or locking anything (another process may still take the folder
// before Create).
func CheckCreate(path string, opt CreateOptions) error {
	path = filepath.Clean(path)
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("cannot create output folder: %w", err)
	case !st.IsDir():
		return fmt.Errorf("cannot create output folder: %s exists and is not a folder", path)
	}
	names, err := entries(path)
	if err != nil || len(names) == 0 {
		return err
	}
	lk, err := acquire(path)
	if err != nil {
		return err
	}
	lk.release()
	return checkReplace(path, names, opt)
}

// checkReplace returns nil if the folder path, holding names, may be
// replaced under opt: it must hold a run (opt.Replace set), nothing but
// the run's own files, and none of the run's inputs.
func checkReplace(path string, names []string, opt CreateOptions) error {
	if !opt.Replace || !IsRun(path) {
		return existsError(path, names, opt.Replace)
	}
	if st, err := os.Lstat(path); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		return &ExistsError{Path: path, Run: true, Complete: true, msg: fmt.Sprintf("%s is a symbolic link to a run; --replace replaces a folder itself, not a link: give the folder it points to, or another --out", path)}
	}
	if other := foreign(names); len(other) > 0 {
		return &ExistsError{Path: path, Run: true, Complete: true, msg: fmt.Sprintf("%s holds a run and files that are not the run's (%s); --replace discards only a run: move them, or give another --out", path, strings.Join(clip(other, 5), ", "))}
	}
	for _, in := range opt.Inputs {
		if in != "" && inside(in, path) {
			return &ExistsError{Path: path, Run: true, Complete: true, msg: fmt.Sprintf("%s is inside %s, which --replace would discard: move it, or give another --out", in, path)}
		}
	}
	return nil
}

// entries lists the folder's entries other than its lock file.
func entries(path string) ([]string, error) {
	ents, err := os.ReadDir(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read output folder: %w", err)
	}
	var names []string
	for _, e := range ents {
		if e.Name() != lockFile && e.Name() != lockFile+".held" {
			names = append(names, e.Name())
		}
	}
	return names, nil
}

// runNames are the entries a run folder may hold (what train, construct,
// verify and report write into it).
var runNames = []string{ConfigFile, SummaryFile, MetricsFile, ModelFile, StagedFile, ImagesDir, ReconstructionFile, NormsFile, VerifyFile, ConstructFile, ReportFile, PlotsDir}

// foreign returns the entries names (of a run folder) that are not a
// run's own: a user's files, a nested run.
func foreign(names []string) []string {
	var out []string
	for _, n := range names {
		if !slices.Contains(runNames, n) && !strings.HasPrefix(n, ".") {
			out = append(out, n)
		}
	}
	return out
}

// IsRunFile reports whether path names one of a run's own files inside
// a folder that holds a run (its model, config.json, an image under
// images/, a plot, ...): commands that write files refuse such a path, so
// that an output never replaces a record of a run.
func IsRunFile(path string) bool {
	dir, name := filepath.Split(filepath.Clean(path))
	dir = filepath.Clean(dir)
	if IsRun(dir) && slices.Contains(runNames, name) {
		return true
	}
	if sub := filepath.Base(dir); sub == ImagesDir || sub == PlotsDir {
		return IsRun(filepath.Dir(dir))
	}
	return false
}

// inside reports whether file is path or lies under it.
func inside(file, path string) bool {
	a, err1 := filepath.Abs(file)
	b, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(b, a)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func clip(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(slices.Clone(s[:n]), fmt.Sprintf("… %d more", len(s)-n))
}

// IsRun reports whether path is a folder holding a run's files: a
// configuration, a summary or a model.
func IsRun(path string) bool {
	for _, f := range []string{ConfigFile, SummaryFile, ModelFile} {
		if _, err := os.Stat(filepath.Join(path, f)); err == nil {
			return true
		}
	}
	return false
}

// replace puts a new, locked, empty folder in the place of the run folder
// at path and removes the old one, which must not be locked by another
// process.
func replace(path string) (*Dir, error) {
	old, err := acquire(path)
	if err != nil {
		return nil, err
	}
	defer old.release()
	staging, err := sibling(path, "new")
	if err != nil {
		return nil, err
	}
	if err := os.Mkdir(staging, 0o755); err != nil {
		return nil, fmt.Errorf("cannot replace %s: %w", path, err)
	}
	lk, err := acquire(staging)
	if err != nil {
		os.RemoveAll(staging)
		return nil, err
	}
	swapped, err := exchange(staging, path)
	if err != nil {
		lk.release()
		os.RemoveAll(staging)
		return nil, fmt.Errorf("cannot replace %s: %w", path, err)
	}
	trash := staging // after the exchange the old run lies there
	if !swapped {
		if trash, err = sibling(path, "old"); err != nil {
			lk.release()
			os.RemoveAll(staging)
			return nil, err
		}
		if err := os.Rename(path, trash); err != nil {
			lk.release()
			os.RemoveAll(staging)
			return nil, fmt.Errorf("cannot replace %s: %w", path, err)
		}
		if err := os.Rename(staging, path); err != nil {
			os.Rename(trash, path) // put the old run back
			lk.release()
			os.RemoveAll(staging)
			return nil, fmt.Errorf("cannot replace %s: %w", path, err)
		}
		lk.moved(path)
	}
	atomicfile.SyncDir(filepath.Dir(path))
	if err := os.RemoveAll(trash); err != nil {
		lk.release()
		return nil, fmt.Errorf("replaced %s, but cannot remove the old run at %s: %w", path, trash, err)
	}
	return &Dir{path: path, lock: lk}, nil
}

// sibling returns an unused hidden name next to path.
func sibling(path, what string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+"."+what+"-"+hex.EncodeToString(b[:])), nil
}

// Resume opens the run folder at path to continue it: it locks the folder,
// reads its configuration and checks that config.json is the one the run
// started with (its digest) and that the model, if a grade has finished,
// was trained under it. It returns the configuration and the checkpoint
// (nil when no grade had finished).
func Resume(path string) (*Dir, experiment.Config, *modelfile.File, error) {
	path = filepath.Clean(path)
	st, err := os.Stat(path)
	if err != nil || !st.IsDir() {
		return nil, experiment.Config{}, nil, fmt.Errorf("%s: %w: no such folder", path, ErrNotRun)
	}
	if _, err := os.Stat(filepath.Join(path, ConfigFile)); err != nil {
		return nil, experiment.Config{}, nil, fmt.Errorf("%s: %w: no %s there", path, ErrNotRun, ConfigFile)
	}
	lk, err := acquire(path)
	if err != nil {
		return nil, experiment.Config{}, nil, err
	}
	d := &Dir{path: path, lock: lk}
	cfg, ck, err := d.check()
	if err != nil {
		d.Close()
		return nil, experiment.Config{}, nil, err
	}
	// A kill during a write can leave temporary files behind.
	if tmp, _ := filepath.Glob(filepath.Join(path, ".*.tmp*")); len(tmp) > 0 {
		for _, t := range tmp {
			os.Remove(t)
		}
	}
	return d, cfg, ck, nil
}

func (d *Dir) check() (experiment.Config, *modelfile.File, error) {
	cp := d.File(ConfigFile)
	cfg, err := experiment.ReadFile(cp)
	if err != nil {
		return cfg, nil, err
	}
	digest, err := cfg.ComputeDigest()
	if err != nil {
		return cfg, nil, fmt.Errorf("%s: %w", cp, err)
	}
	if cfg.Digest != digest {
		return cfg, nil, fmt.Errorf("%s was changed after the run started (its digest is %.12s…, its settings give %.12s…); --resume continues only the configuration the run started with; to train the changed one, give --config %s --out NEW", cp, cfg.Digest, digest, cp)
	}
	mp := d.File(ModelFile)
	if _, err := os.Stat(mp); errors.Is(err, fs.ErrNotExist) {
		return cfg, nil, nil
	}
	ck, err := modelfile.ReadFile(mp)
	if err != nil {
		return cfg, nil, fmt.Errorf("resume: %w", err)
	}
	if ck.Meta.ConfigDigest != digest {
		return cfg, nil, fmt.Errorf("resume: %s was trained under another configuration (digest %.12s…) than %s (%.12s…); the folder mixes two runs: start again with --replace", mp, ck.Meta.ConfigDigest, cp, digest)
	}
	if ck.Meta.DType != cfg.DType {
		return cfg, nil, fmt.Errorf("resume: %s is %s but the configuration says %s", mp, ck.Meta.DType, cfg.DType)
	}
	return cfg, ck, nil
}

// WriteConfig writes config.json (with the configuration's digest).
func (d *Dir) WriteConfig(cfg experiment.Config) error {
	b, err := cfg.Encode()
	if err != nil {
		return err
	}
	return atomicfile.Write(d.File(ConfigFile), b)
}

// ModelPath returns path, or the model file in it when path is a folder.
func ModelPath(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return filepath.Join(path, ModelFile)
	}
	return path
}

// OpenModel reads a model file, or the model.safetensors of a run folder.
func OpenModel(path string) (*modelfile.File, error) {
	p := ModelPath(path)
	if p != path {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: %w: no %s in it (no grade has finished there, or it is not a run folder)", path, ErrNotRun, ModelFile)
		}
	}
	return modelfile.ReadFile(p)
}

// WriteReport writes a report into dir (a run folder, or any folder): the
// page as report.html and each of plots (by file name) under plots/. It
// returns the page's path.
func WriteReport(dir string, html []byte, plots map[string][]byte) (string, error) {
	if len(plots) > 0 {
		if err := os.MkdirAll(filepath.Join(dir, PlotsDir), 0o755); err != nil {
			return "", fmt.Errorf("report: %w", err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(plots)) {
		if name != filepath.Base(name) {
			return "", fmt.Errorf("report: plot name %q is not a file name", name)
		}
		if err := atomicfile.Write(filepath.Join(dir, PlotsDir, name), plots[name]); err != nil {
			return "", err
		}
	}
	path := filepath.Join(dir, ReportFile)
	return path, atomicfile.Write(path, html)
}

// WriteModel writes the folder's model file.
func WriteModel[T tensor.Float](d *Dir, m *model.Model[T], meta modelfile.Meta) error {
	return modelfile.WriteFile(d.File(ModelFile), m, meta)
}

// WriteJSON writes v as indented JSON to the named file of the folder
// (NormsFile, VerifyFile, ConstructFile, ...).
func (d *Dir) WriteJSON(name string, v any) error {
	b, err := jsonfmt.Marshal(v)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	return atomicfile.Write(d.File(name), b)
}
