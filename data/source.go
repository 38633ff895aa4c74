package data

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl/internal/fileio"
	"github.com/mgdl/mgdl/tensor"
)

// SettingError is a data setting that cannot work whatever the data hold:
// an unknown policy, a fraction out of range, an .npy file without its
// targets. Callers can tell it from a problem in the data with errors.As.
type SettingError struct{ Err error }

func (e *SettingError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *SettingError) Unwrap() error { return e.Err }

func settingErrorf(format string, a ...any) error {
	return &SettingError{fmt.Errorf(format, a...)}
}

// Standardize says which side of the data is standardised with the
// training set's mean and standard deviation.
type Standardize string

// Standardisations.
const (
	StandardizeNone    Standardize = "none"
	StandardizeInputs  Standardize = "inputs"
	StandardizeTargets Standardize = "targets"
	StandardizeBoth    Standardize = "both"
)

// ParseStandardize maps none (or ""), inputs, targets or both.
func ParseStandardize(s string) (Standardize, error) {
	switch v := Standardize(strings.ToLower(strings.TrimSpace(s))); v {
	case "", StandardizeNone:
		return StandardizeNone, nil
	case StandardizeInputs, StandardizeTargets, StandardizeBoth:
		return v, nil
	}
	return "", settingErrorf("standardize %q: want none, inputs, targets or both", s)
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Standardize) UnmarshalText(b []byte) error {
	v, err := ParseStandardize(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Inputs reports whether inputs are standardised.
func (s Standardize) Inputs() bool { return s == StandardizeInputs || s == StandardizeBoth }

// Targets reports whether targets are standardised.
func (s Standardize) Targets() bool { return s == StandardizeTargets || s == StandardizeBoth }

// MarshalText implements encoding.TextMarshaler.
func (m Missing) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Missing) UnmarshalText(b []byte) error {
	v, err := ParseMissing(string(b))
	if err != nil {
		return &SettingError{err}
	}
	*m = v
	return nil
}

// MNISTName is the Source.File that names MNIST in the Go module cache.
const MNISTName = "mnist"

// Source says where a run's data come from: a synthetic example (Example,
// drawn from Seed), or a file (File): a CSV/TSV table with a header, an
// .npz with arrays x and y, an .npy of inputs with its targets file, a
// PNG/JPEG image (image regression), a folder of MNIST-style IDX files, or
// "mnist" (MNIST from the Go module cache). It is the "data" of a run's
// configuration (config.json).
//
// Tables and arrays are split at random (Val and Test fractions, SplitSeed);
// MNIST keeps its test set and splits Val off its training set; images use
// the papers' split (train img[::2,::2], validate img[1::2,1::2], test the
// full image); examples have their own fixed splits.
type Source struct {
	// Example names a synthetic example (see Examples) and Seed draws its
	// data (phases, random validation and test points).
	Example string `json:"example,omitempty"`
	Seed    uint64 `json:"seed"`
	// RNG selects the example's random streams: "" (mgdl's PCG streams)
	// or "numpy" (those of the papers' NumPy code, GenerateNumPy).
	RNG string `json:"rng,omitempty"`
	// File is the data file or folder.
	File string `json:"file,omitempty"`
	// Inputs and Targets choose CSV columns (names or 0-based indices;
	// default: the last column is the target, the others inputs) or .npz
	// arrays (default x and y). For an .npy file, Targets holds the targets
	// file.
	Inputs  []string `json:"inputs,omitempty"`
	Targets []string `json:"targets,omitempty"`
	// Missing is the policy for missing CSV values.
	Missing Missing `json:"missing"`
	// Val and Test are the fractions of rows held out (tables, arrays; for
	// MNIST, Val of the training set).
	Val       float64 `json:"val"`
	Test      float64 `json:"test"`
	SplitSeed uint64  `json:"split_seed"`
	// Standardize standardises inputs and/or targets with the training
	// set's statistics (saved with the model, undone on predictions).
	Standardize Standardize `json:"standardize"`
	// LabelNoise, when set, perturbs the training and validation targets
	// (not the test targets) as the papers' MNIST experiment does.
	LabelNoise *LabelNoise `json:"label_noise,omitempty"`
	// DataSHA256 is the SHA-256 of the files the source reads (Files),
	// set by Pin when a run starts: a run resumed, or repeated from its
	// config.json, refuses data files that have changed since.
	DataSHA256 string `json:"data_sha256,omitempty"`
}

// RNGNumPy is the Source.RNG of the papers' NumPy streams.
const RNGNumPy = "numpy"

// ParseRNG maps "pcg" (or "") and "numpy" to a Source.RNG in canonical
// form ("" for pcg).
func ParseRNG(s string) (string, error) {
	switch s {
	case "", "pcg":
		return "", nil
	case RNGNumPy:
		return RNGNumPy, nil
	}
	return "", fmt.Errorf("unknown random streams %q (want pcg or numpy)", s)
}

// Files returns the files (or folder) the source reads: the data file and,
// for an .npy file, its targets file. It is empty for an example.
func (s Source) Files() []string {
	if s.File == "" {
		return nil
	}
	out := []string{s.File}
	if strings.EqualFold(filepath.Ext(s.File), ".npy") && len(s.Targets) == 1 {
		out = append(out, s.Targets[0])
	}
	return out
}

// Pin sets s.DataSHA256 to the digest of the source's files, or, when it
// is set already (a resumed or repeated run), returns an error if the
// files have changed. An example has no files and nothing to pin.
func (s *Source) Pin() error {
	files := s.Files()
	if len(files) == 0 {
		return nil
	}
	h := sha256.New()
	for _, f := range files {
		if strings.EqualFold(f, MNISTName) {
			dir, err := MNISTDir()
			if err != nil {
				return err
			}
			f = dir
		}
		if err := hashPath(h, f); err != nil {
			return fmt.Errorf("data: %w", err)
		}
	}
	sum := hex.EncodeToString(h.Sum(nil))
	switch s.DataSHA256 {
	case "":
		s.DataSHA256 = sum
	case sum:
	default:
		return fmt.Errorf("data: %s changed after the run was configured (its SHA-256 was %.12s…, it is now %.12s…): a run is continued or repeated only on the data it started with; to train on the changed data, start a new run (or delete data_sha256 from the configuration)", strings.Join(files, ", "), s.DataSHA256, sum)
	}
	return nil
}

// hashPath writes the bytes of the regular file at path to h, or, for a
// folder of IDX files, the name and bytes of each of them, sorted by name.
func hashPath(h io.Writer, path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.IsDir() {
		ents, err := os.ReadDir(path)
		if err != nil {
			return err
		}
		for _, e := range ents {
			// The files an IDX folder is read from (LoadMNIST).
			if e.Type().IsRegular() && (strings.HasPrefix(e.Name(), "train-") || strings.HasPrefix(e.Name(), "t10k-")) {
				fmt.Fprintf(h, "%s\x00", e.Name())
				if err := hashPath(h, filepath.Join(path, e.Name())); err != nil {
					return err
				}
			}
		}
		return nil
	}
	f, _, err := fileio.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(h, f)
	return err
}

// DefaultExample is the example of a source that names neither an example
// nor a file.
const DefaultExample = "spectral2"

// DefaultSource returns the defaults a source starts from before a
// configuration sets its fields: data seed 1 and, for files, 15 %
// validation, 15 % test, split seed 1, missing values an error, no
// standardisation. Naming neither an example nor a file means
// DefaultExample.
func DefaultSource() Source {
	return Source{Seed: 1, Val: 0.15, Test: 0.15, SplitSeed: 1, Standardize: StandardizeNone}
}

// IsFile reports whether the data come from a file rather than an example.
func (s Source) IsFile() bool { return s.File != "" }

// MarshalJSON writes only the fields that apply: example, seed and random
// streams for an example, the file settings for a file.
func (s Source) MarshalJSON() ([]byte, error) {
	if !s.IsFile() {
		return json.Marshal(struct {
			Example string      `json:"example"`
			Seed    uint64      `json:"seed"`
			RNG     string      `json:"rng,omitempty"`
			Noise   *LabelNoise `json:"label_noise,omitempty"`
		}{s.Example, s.Seed, s.RNG, s.LabelNoise})
	}
	type file Source // without the method
	f := file(s)
	f.Seed = 0
	return json.Marshal(struct {
		file
		Seed uint64 `json:"seed,omitempty"`
	}{file: f})
}

// Resolve checks s and puts it in its canonical form: the file path made
// absolute (so that the configuration works from any folder), the fields
// that do not apply to the kind of source cleared. It returns the resolved
// source; errors are *SettingError or name a missing example.
func (s Source) Resolve() (Source, error) {
	if s.LabelNoise != nil {
		if err := s.LabelNoise.check(); err != nil {
			return Source{}, err
		}
	}
	if s.IsFile() {
		if s.Example != "" {
			return Source{}, settingErrorf("data: give an example or a file, not both (example %q, file %q)", s.Example, s.File)
		}
		if !strings.EqualFold(s.File, MNISTName) {
			abs, err := filepath.Abs(s.File)
			if err != nil {
				return Source{}, fmt.Errorf("data: %w", err)
			}
			s.File = abs
		} else {
			s.File = MNISTName
		}
		if strings.EqualFold(filepath.Ext(s.File), ".npy") && len(s.Targets) == 1 {
			if abs, err := filepath.Abs(s.Targets[0]); err == nil {
				s.Targets = []string{abs}
			}
		}
		if s.Missing < MissingError || s.Missing > MissingMean {
			return Source{}, settingErrorf("data: missing-value policy %d is not error, drop or mean", int(s.Missing))
		}
		if !(s.Val >= 0 && s.Test >= 0 && s.Val+s.Test < 1) {
			return Source{}, settingErrorf("data: validation fraction %v and test fraction %v must be ≥ 0 with a sum below 1", s.Val, s.Test)
		}
		std, err := ParseStandardize(string(s.Standardize))
		if err != nil {
			return Source{}, err
		}
		s.Standardize = std
		if s.RNG != "" {
			return Source{}, settingErrorf("data: random streams (rng %q) apply to synthetic examples, not to the file %s", s.RNG, s.File)
		}
		s.Seed = 0
		return s, nil
	}
	if s.Example == "" {
		s.Example = DefaultExample
	}
	ex, err := Lookup(s.Example)
	if err != nil {
		return Source{}, &SettingError{err}
	}
	rng, err := ParseRNG(s.RNG)
	if err != nil {
		return Source{}, &SettingError{fmt.Errorf("data: %w", err)}
	}
	if rng == RNGNumPy {
		if err := ex.checkNumPy(s.Seed); err != nil {
			return Source{}, &SettingError{fmt.Errorf("data: %w", err)}
		}
	}
	return Source{Example: ex.Name, Seed: s.Seed, RNG: rng, LabelNoise: s.LabelNoise}, nil
}

// Loaded is a source read whole, in float64.
type Loaded struct {
	Splits Splits[float64]
	// InNames and OutNames name the input and target columns (when known).
	InNames, OutNames []string
	// Image is set for image regression: the image's shape.
	Image *ImageShape
	// Task is "classification" for one-hot class targets (MNIST, digits).
	Task string
	// Name is the example's name or the file's base name.
	Name string
	// Standardize is the source's standardisation, which Standardized
	// applies.
	Standardize Standardize
}

// Load reads the data s names, split as s says. s should be resolved.
func (s Source) Load() (*Loaded, error) {
	l, err := s.load()
	if err != nil || s.LabelNoise == nil {
		return l, err
	}
	l.Splits.Train = s.LabelNoise.Apply(l.Splits.Train)
	l.Splits.Val = s.LabelNoise.Apply(l.Splits.Val)
	return l, nil
}

func (s Source) load() (*Loaded, error) {
	if !s.IsFile() {
		ex, err := Lookup(s.Example)
		if err != nil {
			return nil, &SettingError{err}
		}
		sp, err := GenerateWith[float64](ex, s.Seed, s.RNG)
		if err != nil {
			return nil, &SettingError{err}
		}
		return &Loaded{Splits: sp, Task: ex.Task, Name: ex.Name, Standardize: StandardizeNone}, nil
	}
	c, err := Read(s.File, ReadOptions{Inputs: s.Inputs, Targets: s.Targets, Missing: s.Missing})
	if err != nil {
		return nil, err
	}
	l := &Loaded{InNames: c.InNames, OutNames: c.OutNames, Image: c.Image, Task: c.Task, Name: filepath.Base(s.File), Standardize: s.Standardize}
	switch {
	case c.Pixels != nil:
		l.Splits, err = ImageSplits(c.Pixels)
	case c.MNIST != nil:
		l.Splits.Test = c.MNIST.Test
		var tv Splits[float64]
		tv, err = Split(c.MNIST.Train, s.Val, 0, s.SplitSeed)
		l.Splits.Train, l.Splits.Val = tv.Train, tv.Val
	default:
		l.Splits, err = Split(c.Set, s.Val, s.Test, s.SplitSeed)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", s.File, err)
	}
	if err := l.Splits.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", s.File, err)
	}
	return l, nil
}

// Standardized returns l's splits in dtype T, standardised as l.Standardize
// says with the training set's statistics, and that normalisation (nil for
// none). It returns an error when a statistic or a value is not finite in
// T (values beyond float32's range, ±3.4e38, in a float32 run).
func Standardized[T tensor.Float](l *Loaded) (Splits[T], *Normalization, error) {
	norm := FitNormalization(l.Splits, l.Standardize.Inputs(), l.Standardize.Targets())
	if norm != nil {
		if err := norm.Check(l.Splits.Train.X.Cols, l.Splits.Train.Y.Cols); err != nil {
			return Splits[T]{}, nil, fmt.Errorf("%s: %v", l.Name, err)
		}
	}
	s := ConvertSplits[T](Normalize(norm, l.Splits))
	for _, d := range []struct {
		name string
		set  Dataset[T]
	}{{"training", s.Train}, {"validation", s.Val}, {"test", s.Test}} {
		for _, m := range []*tensor.Dense[T]{d.set.X, d.set.Y} {
			if m == nil {
				continue
			}
			for i, v := range m.Raw() {
				if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
					what := "inputs"
					if m == d.set.Y {
						what = "targets"
					}
					return Splits[T]{}, nil, fmt.Errorf("%s: the %s set's %s, row %d, column %d, become %v in %s: the values are beyond its range (standardise them, or train in float64)", l.Name, d.name, what, i/m.Cols, i%m.Cols, f, tensor.DType[T]())
				}
			}
		}
	}
	return s, norm, nil
}

// ReadOptions choose what Read takes from a file.
type ReadOptions struct {
	// Inputs and Targets choose CSV columns or .npz arrays (see Source);
	// for an .npy file Targets holds the targets file.
	Inputs, Targets []string
	// WantInputs and WantTargets are the column names a saved model was
	// trained on, used when Inputs or Targets is empty (CSV only).
	WantInputs, WantTargets []string
	// Missing is the policy for missing CSV values.
	Missing Missing
	// NoTargets reads the inputs only (prediction).
	NoTargets bool
}

// Contents is a data file read whole.
type Contents struct {
	// Set holds the rows: a table's or arrays' inputs and targets, an
	// image's pixel grid (coordinates and values), MNIST's test set.
	Set Dataset[float64]
	// Pixels is the image of an image file; MNIST the sets of an IDX folder.
	Pixels *Pixels
	MNIST  *MNIST
	// InNames and OutNames name the input and target columns.
	InNames, OutNames []string
	// Image is the shape of an image file.
	Image *ImageShape
	// Task is "classification" for MNIST.
	Task string
	// RowNumbers (a CSV read under the drop policy) gives each row's
	// number among the file's data rows; Dropped counts the rows dropped.
	RowNumbers []int
	Dropped    int
}

// Read reads path by its kind: a folder of MNIST IDX files (or "mnist"),
// a PNG/JPEG image, an .npz or .npy array file, else a CSV/TSV table.
func Read(path string, opt ReadOptions) (*Contents, error) {
	if path == "" {
		return nil, settingErrorf("no data file given")
	}
	if strings.EqualFold(path, MNISTName) {
		dir, err := MNISTDir()
		if err != nil {
			return nil, err
		}
		path = dir
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	if !st.IsDir() && !st.Mode().IsRegular() {
		return nil, fmt.Errorf("data: %w; want a data file (CSV, TSV, .npy, .npz, PNG, JPEG) or a folder of MNIST IDX files", &fileio.NotRegularError{Path: path, Kind: fileio.Kind(st.Mode())})
	}
	if st.IsDir() {
		m, err := LoadMNIST(path)
		if err != nil {
			return nil, err
		}
		c := &Contents{MNIST: m, Set: m.Test, Task: "classification"}
		for j := range m.Train.X.Cols {
			c.InNames = append(c.InNames, "pixel"+strconv.Itoa(j))
		}
		for k := range 10 {
			c.OutNames = append(c.OutNames, "class"+strconv.Itoa(k))
		}
		return c, nil
	}
	switch ext := strings.ToLower(filepath.Ext(path)); {
	case IsImagePath(path):
		p, err := LoadImage(path)
		if err != nil {
			return nil, err
		}
		c := &Contents{Pixels: p, Image: &p.Shape, InNames: []string{"row", "col"}, OutNames: []string{"value"}}
		if p.Shape.Channels == 3 {
			c.OutNames = []string{"red", "green", "blue"}
		}
		c.Set = Dataset[float64]{X: Coords[float64](p.Shape), Y: p.Values}
		return c, nil
	case ext == ".npz":
		return readNPZ(path, opt)
	case ext == ".npy":
		return readNPY(path, opt)
	default:
		csv := CSVOptions{Missing: opt.Missing, NoTargets: opt.NoTargets, Inputs: opt.Inputs, Targets: opt.Targets}
		if len(csv.Inputs) == 0 {
			csv.Inputs = opt.WantInputs
		}
		if len(csv.Targets) == 0 {
			csv.Targets = opt.WantTargets
		}
		t, err := LoadCSV(path, csv)
		if err != nil {
			return nil, err
		}
		return &Contents{Set: t.Data, InNames: t.InputNames, OutNames: t.TargetNames, RowNumbers: t.RowNumbers, Dropped: t.Dropped}, nil
	}
}

func readNPZ(path string, opt ReadOptions) (*Contents, error) {
	arrays, err := LoadNPZ(path)
	if err != nil {
		return nil, err
	}
	one := func(what string, names []string, def string) (string, error) {
		switch len(names) {
		case 0:
			return def, nil
		case 1:
			return names[0], nil
		}
		return "", settingErrorf("%s: an .npz file takes one %s array name, not %d", path, what, len(names))
	}
	xk, err := one("input", opt.Inputs, "x")
	if err != nil {
		return nil, err
	}
	yk, err := one("target", opt.Targets, "y")
	if err != nil {
		return nil, err
	}
	if xk == yk && !opt.NoTargets {
		return nil, settingErrorf("%s: array %q is both the inputs and the targets: a model that reads its target learns nothing", path, xk)
	}
	get := func(k string) (*tensor.Dense[float64], error) {
		a, ok := arrays[k]
		if !ok {
			return nil, fmt.Errorf("%s: no array %q (it holds: %s); choose with --inputs and --targets", path, k, strings.Join(Keys(arrays), ", "))
		}
		return a.Matrix(path + ":" + k)
	}
	c := &Contents{}
	if c.Set.X, err = get(xk); err != nil {
		return nil, err
	}
	if !opt.NoTargets {
		if c.Set.Y, err = get(yk); err != nil {
			return nil, err
		}
	}
	return c, checkRows(c, path+":"+xk, path+":"+yk)
}

func readNPY(path string, opt ReadOptions) (*Contents, error) {
	a, err := LoadNPY(path)
	if err != nil {
		return nil, err
	}
	c := &Contents{}
	if c.Set.X, err = a.Matrix(path); err != nil {
		return nil, err
	}
	if opt.NoTargets {
		return c, nil
	}
	if len(opt.Targets) != 1 {
		return nil, settingErrorf("%s: an .npy file holds the inputs only; give the targets file with --targets FILE.npy (or use an .npz with arrays x and y)", path)
	}
	if fileio.Same(path, opt.Targets[0]) {
		return nil, settingErrorf("%s is both the inputs and the targets file: a model that reads its target learns nothing", opt.Targets[0])
	}
	b, err := LoadNPY(opt.Targets[0])
	if err != nil {
		return nil, err
	}
	if c.Set.Y, err = b.Matrix(opt.Targets[0]); err != nil {
		return nil, err
	}
	return c, checkRows(c, path, opt.Targets[0])
}

func checkRows(c *Contents, xn, yn string) error {
	if c.Set.Y != nil && c.Set.Y.Rows != c.Set.X.Rows {
		return fmt.Errorf("%s has %d rows but %s has %d", xn, c.Set.X.Rows, yn, c.Set.Y.Rows)
	}
	return nil
}

// IsSettingError reports whether err is (or wraps) a *SettingError.
func IsSettingError(err error) bool {
	var s *SettingError
	return errors.As(err, &s)
}
