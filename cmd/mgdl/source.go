package main

// Data sources for train, eval and predict: CSV/TSV tables, NumPy .npy and
// .npz arrays, PNG/JPEG images (image regression), and MNIST-style IDX
// folders. A source is loaded once in float64 and converted to the run's
// dtype.

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/tensor"
	"github.com/spf13/pflag"
)

// sourceOpts are the data-source flags of train (and, in part, eval).
type sourceOpts struct {
	data            string  // --data
	inputs, targets string  // --inputs, --targets
	missing         string  // --missing
	val, test       float64 // --val, --test
	splitSeed       uint64  // --split-seed
	standardize     string  // --standardize
	resume          string  // --resume
	loaded          *source // set by load
}

func (s *sourceOpts) addFlags(f *pflag.FlagSet) {
	f.StringVar(&s.data, "data", "", `data file instead of --example: a CSV/TSV table with a header, a .npz with arrays x and y, a .npy of inputs (with --targets FILE.npy), a PNG/JPEG image (image regression), a folder of MNIST-style IDX files, or "mnist" (from the Go module cache)`)
	f.StringVar(&s.inputs, "inputs", "", "input columns (CSV: names or 0-based indices, comma-separated; default every non-target column) or array name (.npz: default x)")
	f.StringVar(&s.targets, "targets", "", "target columns (CSV: names or 0-based indices; default the last column), array name (.npz: default y), or targets file (.npy)")
	f.StringVar(&s.missing, "missing", "error", "missing values in CSV (empty, NA, NaN, null, ?): error, drop (the row) or mean (of the column)")
	f.Float64Var(&s.val, "val", 0.15, "fraction of the rows held out for validation (tables and arrays; MNIST: of the training set; images use the papers' split: train img[::2,::2], validate img[1::2,1::2], test the full image)")
	f.Float64Var(&s.test, "test", 0.15, "fraction of the rows held out for testing (tables and arrays; MNIST uses its test set)")
	f.Uint64Var(&s.splitSeed, "split-seed", 1, "seed of the train/validation/test split")
	f.StringVar(&s.standardize, "standardize", "none", "standardise with the training set's mean and standard deviation: none, inputs, targets, both (saved with the model, applied by predict and eval; training metrics are then in standardised units, eval's in the original ones)")
	f.StringVar(&s.resume, "resume", "", "continue the run in this folder from its last finished grade (model.safetensors); its config.json gives every setting")
}

// source is a loaded data set: the splits in float64 and what the model
// file should record about them.
type source struct {
	splits            data.Splits[float64]
	inNames, outNames []string
	image             *data.ImageShape
	task              string // "classification" for MNIST
}

// load reads the source named by --data (once).
func (s *sourceOpts) load() (*source, error) {
	if s.loaded != nil {
		return s.loaded, nil
	}
	if _, _, err := s.norm(); err != nil {
		return nil, err
	}
	missing, err := data.ParseMissing(s.missing)
	if err != nil {
		return nil, usageError{fmt.Errorf("--missing: %v", err)}
	}
	d, err := readSource(s.data, s.inputs, s.targets, missing, nil)
	if err != nil {
		return nil, err
	}
	src := &source{inNames: d.inNames, outNames: d.outNames, image: d.image, task: d.task}
	switch {
	case d.image != nil:
		src.splits, err = data.ImageSplits(d.pixels)
	case d.mnist != nil:
		src.splits.Test = d.mnist.Test
		var tv data.Splits[float64]
		tv, err = data.Split(d.mnist.Train, s.val, 0, s.splitSeed)
		src.splits.Train, src.splits.Val = tv.Train, tv.Val
	default:
		src.splits, err = data.Split(d.set, s.val, s.test, s.splitSeed)
	}
	if err != nil {
		return nil, usageError{fmt.Errorf("--data %s: %v", s.data, err)}
	}
	if err := src.splits.Validate(); err != nil {
		return nil, fmt.Errorf("--data %s: %v", s.data, err)
	}
	s.loaded = src
	return src, nil
}

// norm parses --standardize.
func (s *sourceOpts) norm() (inputs, targets bool, err error) {
	switch s.standardize {
	case "none", "":
	case "inputs":
		inputs = true
	case "targets":
		targets = true
	case "both":
		inputs, targets = true, true
	default:
		return false, false, usagef("--standardize %q: want none, inputs, targets or both", s.standardize)
	}
	return inputs, targets, nil
}

// example returns a stand-in for a synthetic example that describes the
// loaded data: its widths, a default architecture and its task.
func (s *sourceOpts) example() (data.Example, error) {
	src, err := s.load()
	if err != nil {
		return data.Example{}, err
	}
	in, out := src.splits.Train.X.Cols, src.splits.Train.Y.Cols
	h := 128
	if src.image != nil && src.image.Channels == 3 {
		h = 256
	}
	g := [][]int{{in, h, h, out}, {h, h, h, out}, {h, h, h, out}}
	if src.image != nil { // the papers: 4 grades (2×128 gray, 3×256 colour)
		g = append(g, []int{h, h, h, out})
		if h == 256 {
			for i := range g {
				g[i] = append(g[i][:len(g[i])-1], 256, out)
			}
		}
	}
	return data.Example{
		Name:        "data:" + filepath.Base(s.data),
		Description: "data from " + s.data,
		InDim:       in, OutDim: out, Grades: g, Task: src.task,
	}, nil
}

// splitsFor returns the loaded splits in dtype T, standardised as
// --standardize says, and the normalisation (nil if none).
func splitsFor[T tensor.Float](s *sourceOpts) (data.Splits[T], *data.Normalization, error) {
	src, err := s.load()
	if err != nil {
		return data.Splits[T]{}, nil, err
	}
	in, tg, _ := s.norm()
	norm := data.FitNormalization(src.splits, in, tg)
	return data.ConvertSplits[T](data.Normalize(norm, src.splits)), norm, nil
}

// readResult is one data file read whole.
type readResult struct {
	set               data.Dataset[float64] // tables and arrays
	pixels            *data.Pixels          // images
	mnist             *data.MNIST           // IDX folders
	inNames, outNames []string
	image             *data.ImageShape
	task              string
}

// readSource reads path as a data set. inputs and targets select columns
// or arrays (see the flags); want, if not nil, gives the input and target
// names a model expects (used when inputs/targets are empty). With
// noTargets only inputs are read (readResult.set.Y is nil).
func readSource(path, inputs, targets string, missing data.Missing, want *wantCols) (*readResult, error) {
	if path == "" {
		return nil, usagef("no data file given")
	}
	if strings.EqualFold(path, "mnist") {
		dir, err := data.MNISTDir()
		if err != nil {
			return nil, err
		}
		path = dir
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	noTargets := want != nil && want.noTargets
	if st.IsDir() {
		m, err := data.LoadMNIST(path)
		if err != nil {
			return nil, err
		}
		r := &readResult{mnist: m, task: "classification"}
		r.set = m.Test
		for j := range m.Train.X.Cols {
			r.inNames = append(r.inNames, "pixel"+strconv.Itoa(j))
		}
		for c := range 10 {
			r.outNames = append(r.outNames, "class"+strconv.Itoa(c))
		}
		return r, nil
	}
	ext := strings.ToLower(filepath.Ext(path))
	switch {
	case data.IsImagePath(path):
		p, err := data.LoadImage(path)
		if err != nil {
			return nil, err
		}
		r := &readResult{pixels: p, image: &p.Shape, inNames: []string{"row", "col"}}
		r.outNames = []string{"value"}
		if p.Shape.Channels == 3 {
			r.outNames = []string{"red", "green", "blue"}
		}
		r.set = data.Dataset[float64]{X: data.Coords[float64](p.Shape), Y: p.Values}
		return r, nil
	case ext == ".npz":
		arrays, err := data.LoadNPZ(path)
		if err != nil {
			return nil, err
		}
		xk, yk := orDefault(inputs, "x"), orDefault(targets, "y")
		get := func(k string) (*tensor.Dense[float64], error) {
			a, ok := arrays[k]
			if !ok {
				return nil, fmt.Errorf("%s: no array %q (it holds: %s); choose with --inputs and --targets", path, k, strings.Join(data.Keys(arrays), ", "))
			}
			return a.Matrix(path + ":" + k)
		}
		r := &readResult{}
		if r.set.X, err = get(xk); err != nil {
			return nil, err
		}
		if !noTargets {
			if r.set.Y, err = get(yk); err != nil {
				return nil, err
			}
		}
		return r, checkRows(r, path+":"+xk, path+":"+yk)
	case ext == ".npy":
		a, err := data.LoadNPY(path)
		if err != nil {
			return nil, err
		}
		r := &readResult{}
		if r.set.X, err = a.Matrix(path); err != nil {
			return nil, err
		}
		if !noTargets {
			if targets == "" {
				return nil, usagef("%s: an .npy file holds the inputs only; give the targets file with --targets FILE.npy (or use an .npz with arrays x and y)", path)
			}
			b, err := data.LoadNPY(targets)
			if err != nil {
				return nil, err
			}
			if r.set.Y, err = b.Matrix(targets); err != nil {
				return nil, err
			}
		}
		return r, checkRows(r, path, targets)
	default:
		opt := data.CSVOptions{Missing: missing, NoTargets: noTargets, Inputs: splitList(inputs), Targets: splitList(targets)}
		if want != nil {
			if len(opt.Inputs) == 0 {
				opt.Inputs = want.inputs
			}
			if len(opt.Targets) == 0 {
				opt.Targets = want.targets
			}
		}
		t, err := data.LoadCSV(path, opt)
		if err != nil {
			return nil, err
		}
		return &readResult{set: t.Data, inNames: t.InputNames, outNames: t.TargetNames}, nil
	}
}

// wantCols is what a saved model knows of its columns.
type wantCols struct {
	inputs, targets []string
	noTargets       bool
}

func checkRows(r *readResult, xn, yn string) error {
	if r.set.Y != nil && r.set.Y.Rows != r.set.X.Rows {
		return fmt.Errorf("%s has %d rows but %s has %d", xn, r.set.X.Rows, yn, r.set.Y.Rows)
	}
	return nil
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func splitList(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// lookupExample returns the synthetic example named by --example or, with
// --data, a stand-in describing the data file.
func (o *trainOpts) lookupExample(changed func(string) bool) (data.Example, error) {
	if o.src.data == "" {
		ex, err := data.Lookup(o.example)
		if err != nil {
			return data.Example{}, usageError{err}
		}
		return ex, nil
	}
	if changed("example") {
		return data.Example{}, usagef("give --example or --data, not both")
	}
	return o.src.example()
}

// trainSplits returns the run's data in dtype T: the synthetic example's,
// or the --data file's (standardised as asked, with the normalisation).
func trainSplits[T tensor.Float](o *trainOpts, ex data.Example) (data.Splits[T], *data.Normalization, error) {
	if o.src.data == "" {
		return data.Generate[T](ex, o.dataSeed), nil, nil
	}
	return splitsFor[T](&o.src)
}
