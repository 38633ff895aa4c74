package main

import (
	"bytes"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/internal/atomicfile"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/rundir"
	"github.com/mgdl/mgdl/tensor"
	"github.com/spf13/cobra"
)

type predictOpts struct {
	model, input, out string
	inputs, missing   string
	perGrade          bool
	size              string
}

func newPredictCmd() *cobra.Command {
	o := &predictOpts{}
	cmd := &cobra.Command{
		Use:   "predict",
		Short: "Predict with a saved model: input file in, predictions file out (CSV, NPY or image)",
		Long: `predict reads a model file (or a run folder holding model.safetensors), reads
inputs from a CSV/TSV table, an .npy array (n×d) or an .npz (array x), applies
the input standardisation saved with the model, and writes the predictions in
the targets' original units: CSV (one column per output, named after the
training targets), .npy (n×k), or, for an image-regression model, a PNG or
JPEG image. --per-grade adds the prediction after every grade (CSV columns
NAME.grade1, ...; .npy shape (grades, n, k)).

For an image-regression model --input may be left out: the image is
reconstructed at the size it was trained on (or at --size HxW).`,
		Example: `  mgdl predict --model runs/tab --input new.csv --out pred.csv
  mgdl predict --model runs/tab/model.safetensors --input x.npy --out pred.npy --per-grade
  mgdl predict --model runs/camera --out camera-rec.png --size 1024x1024`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required("--model", o.model, "--out", o.out); err != nil {
				return err
			}
			f, err := rundir.OpenModel(o.model)
			if err != nil {
				return err
			}
			if f.Meta.DType == "float32" {
				return predictTyped[float32](cmd, o, f)
			}
			return predictTyped[float64](cmd, o, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.model, "model", "", "model file, or a run folder holding model.safetensors (required)")
	fl.StringVar(&o.input, "input", "", "inputs: CSV/TSV with a header, .npy (n×d), .npz (array x, or --inputs), or an image (its pixel grid)")
	fl.StringVar(&o.out, "out", "", "predictions file: .csv, .tsv, .npy, or .png/.jpg for image models (required)")
	fl.StringVar(&o.inputs, "inputs", "", "input columns or array (default: the columns the model was trained on, else every column)")
	fl.StringVar(&o.missing, "missing", "error", "missing values in CSV inputs: error, drop or mean")
	fl.BoolVar(&o.perGrade, "per-grade", false, "also write the prediction after every grade")
	fl.StringVar(&o.size, "size", "", "image models without --input: reconstruct at HxW pixels (default: the training image's size)")
	return cmd
}

// modelInputs reads the inputs for f from path (or, for an image model
// without a path, the pixel grid), checked against the model's width.
// With targets it reads the targets too (for eval).
func modelInputs(f *modelfile.File, path, inputs, targets, missing string, withTargets bool) (*data.Contents, error) {
	pol, err := data.ParseMissing(missing)
	if err != nil {
		return nil, usageError{fmt.Errorf("--missing: %v", err)}
	}
	opt := data.ReadOptions{Inputs: splitList(inputs), Targets: splitList(targets), Missing: pol, NoTargets: !withTargets}
	if mi := f.Meta.Inputs; len(opt.Inputs) == len(mi) && len(mi) > 1 && !slices.Equal(opt.Inputs, mi) {
		a, b := slices.Sorted(slices.Values(opt.Inputs)), slices.Sorted(slices.Values(mi))
		if slices.Equal(a, b) {
			return nil, usagef("--inputs %s: the model reads %s in that order; give them in that order (or leave --inputs out)", inputs, strings.Join(mi, ","))
		}
	}
	if len(opt.Inputs) == 0 {
		opt.WantInputs = f.Meta.Inputs
	}
	if len(opt.Targets) == 0 && withTargets {
		opt.WantTargets = f.Meta.Targets
	}
	r, err := data.Read(path, opt)
	if err != nil {
		return nil, asUsage(err)
	}
	if r.Image != nil && f.Meta.Image == nil {
		return nil, fmt.Errorf("%s is an image, but the model was trained on a table%s: give a table of its inputs", path, inputNames(f))
	}
	if r.MNIST != nil && f.Meta.Image != nil {
		return nil, fmt.Errorf("%s holds MNIST images, but the model fits one image (pixel coordinates in, values out)", path)
	}
	in := f.Meta.Grades[0].Widths[0]
	out := f.Meta.Grades[0].Widths[len(f.Meta.Grades[0].Widths)-1]
	if r.Set.X.Cols != in {
		return nil, fmt.Errorf("%s: the inputs have %d columns but the model expects %d%s", path, r.Set.X.Cols, in, inputNames(f))
	}
	if withTargets && r.Set.Y.Cols != out {
		return nil, fmt.Errorf("%s: the targets have %d columns but the model has %d outputs", path, r.Set.Y.Cols, out)
	}
	return r, nil
}

// inputNames lists the model's input columns for messages: " (a, b)".
func inputNames(f *modelfile.File) string {
	if len(f.Meta.Inputs) == 0 {
		return ""
	}
	return " (" + strings.Join(clipNames(f.Meta.Inputs), ", ") + ")"
}

func clipNames(s []string) []string {
	if len(s) <= 8 {
		return s
	}
	return append(append([]string(nil), s[:8]...), fmt.Sprintf("… %d more", len(s)-8))
}

// stagedOutputs runs the model on x (original units, float64) and returns
// the prediction after every grade, in the targets' original units.
// With perGrade unset it returns the final prediction only.
func stagedOutputs[T tensor.Float](f *modelfile.File, x *tensor.Dense[float64], perGrade bool) []*tensor.Dense[T] {
	m := modelfile.Model[T](f)
	xt := tensor.Convert[T](x)
	norm := f.Meta.Normalization
	if norm != nil {
		data.Apply(norm.Inputs, xt)
	}
	var outs []*tensor.Dense[T]
	if perGrade {
		outs = m.StagedPredict(xt) // compiled for many narrow (constructed) grades
	} else {
		outs = []*tensor.Dense[T]{m.Predict(xt)}
	}
	if norm != nil {
		for _, o := range outs {
			data.Invert(norm.Targets, o)
		}
	}
	return outs
}

func predictTyped[T tensor.Float](cmd *cobra.Command, o *predictOpts, f *modelfile.File) error {
	ext := strings.ToLower(filepath.Ext(o.out))
	switch ext {
	case ".csv", ".tsv", ".txt", ".npy", ".png", ".jpg", ".jpeg":
	default:
		return usagef("--out %s: want a .csv, .tsv, .npy, .png or .jpg file", o.out)
	}
	if err := refuseOverwrite("--out", o.out, o.input, o.model); err != nil {
		return err
	}
	var x *tensor.Dense[float64]
	var shape *data.ImageShape
	var rowNumbers []int
	switch {
	case o.input != "":
		if o.missing == "drop" && ext != ".csv" && ext != ".tsv" && ext != ".txt" {
			return usagef("--missing drop: the predictions would not line up with the rows of %s; write a .csv or .tsv (it gets a row column naming each prediction's input row) or use --missing mean", o.input)
		}
		r, err := modelInputs(f, o.input, o.inputs, "", o.missing, false)
		if err != nil {
			return err
		}
		x, shape, rowNumbers = r.Set.X, r.Image, r.RowNumbers
		if r.Dropped > 0 {
			fmt.Fprintf(cmd.ErrOrStderr(), "dropped %d of %d rows with missing values; the row column gives each prediction's row in %s\n", r.Dropped, r.Dropped+x.Rows, o.input)
		}
	case f.Meta.Image != nil:
		s := *f.Meta.Image
		if o.size != "" {
			h, w, err := parseSize(o.size)
			if err != nil {
				return usageError{err}
			}
			s.Height, s.Width = h, w
		}
		x, shape = data.Coords[float64](s), &s
	default:
		return usagef("--input FILE is required (the model is not an image-regression model)")
	}
	grades := 1
	if o.perGrade {
		grades = len(f.Meta.Grades)
	}
	if err := checkPredictions(f, grades, x.Rows); err != nil {
		return err
	}
	outs := stagedOutputs[T](f, x, o.perGrade)
	if err := finiteOutputs(o.input, outs); err != nil {
		return err
	}
	final := outs[len(outs)-1]
	names := f.Meta.Targets
	if len(names) != final.Cols {
		names = nil
		for j := range final.Cols {
			names = append(names, "y"+strconv.Itoa(j+1))
		}
	}
	var buf bytes.Buffer
	switch ext {
	case ".png", ".jpg", ".jpeg":
		if shape == nil {
			return usagef("--out %s: an image needs an image-regression model or an image as --input", o.out)
		}
		if o.perGrade {
			for l, p := range outs[:len(outs)-1] {
				gp := strings.TrimSuffix(o.out, filepath.Ext(o.out)) + ".grade" + strconv.Itoa(l+1) + filepath.Ext(o.out)
				if err := refuseOverwrite("--out (per grade)", gp, o.input, o.model); err != nil {
					return err
				}
				if err := writeImage(gp, *shape, p); err != nil {
					return err
				}
			}
		}
		if err := writeImage(o.out, *shape, final); err != nil {
			return err
		}
		fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d×%d)\n", o.out, shape.Width, shape.Height)
		return nil
	case ".npy":
		if o.perGrade {
			all := make([]T, 0, len(outs)*final.Len())
			for _, p := range outs {
				all = append(all, p.Raw()...)
			}
			if err := data.EncodeNPY(&buf, []int{len(outs), final.Rows, final.Cols}, all); err != nil {
				return err
			}
		} else if err := data.EncodeNPY(&buf, []int{final.Rows, final.Cols}, final.Raw()); err != nil {
			return err
		}
	default:
		m, header := final, names
		if o.perGrade {
			m = tensor.New[T](final.Rows, final.Cols*len(outs))
			for l, p := range outs {
				for _, n := range names {
					header = append(header, n+".grade"+strconv.Itoa(l+1))
				}
				for i := range final.Rows {
					copy(m.Row(i)[l*final.Cols:], p.Row(i))
				}
			}
			header = header[len(names):]
		}
		if rowNumbers != nil {
			if n := rowNumbers[len(rowNumbers)-1]; tensor.DType[T]() == "float32" && n > 1<<24 {
				return fmt.Errorf("--missing drop: row %d cannot be written exactly by a float32 model's output (above 2^24); use --missing mean or split the input", n)
			}
			m, header = withRowColumn(m, header, rowNumbers)
		}
		comma := ','
		if ext == ".tsv" {
			comma = '\t'
		}
		if err := data.WriteCSV(&buf, comma, header, m); err != nil {
			return err
		}
	}
	if err := atomicfile.Write(o.out, buf.Bytes()); err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%d rows)\n", o.out, final.Rows)
	return nil
}

// writeImage writes y (H·W × C, values in [0, 1]) as an image of shape s
// to path (PNG, or JPEG for .jpg and .jpeg), atomically.
func writeImage[T tensor.Float](path string, s data.ImageShape, y *tensor.Dense[T]) error {
	if y.Cols != s.Channels {
		return fmt.Errorf("the model has %d outputs, an image of %d channels needs as many", y.Cols, s.Channels)
	}
	var b bytes.Buffer
	if err := data.EncodeImage(&b, path, data.ToImage(s, y)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, b.Bytes())
}

// parseSize reads --size HxW, each side 1 to limits.MaxImageSide, the
// image within the memory budget.
func parseSize(s string) (int, int, error) {
	hs, ws, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), "x")
	h, err1 := strconv.Atoi(hs)
	w, err2 := strconv.Atoi(ws)
	if !ok || err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("--size %q: want HxW in pixels, e.g. 512x512", s)
	}
	if err := data.CheckImageSize("--size: an image", h, w); err != nil {
		return 0, 0, err
	}
	return h, w, nil
}

// withRowColumn returns m with a first column "row" holding rows (the
// input row of each prediction).
func withRowColumn[T tensor.Float](m *tensor.Dense[T], header []string, rows []int) (*tensor.Dense[T], []string) {
	out := tensor.New[T](m.Rows, m.Cols+1)
	for i := range m.Rows {
		r := out.Row(i)
		r[0] = T(rows[i])
		copy(r[1:], m.Row(i))
	}
	return out, append([]string{"row"}, header...)
}

// finiteOutputs returns an error naming the first row whose prediction is
// not a finite number: inputs far outside the training data make the
// outputs overflow, and an infinite prediction is no prediction.
func finiteOutputs[T tensor.Float](input string, outs []*tensor.Dense[T]) error {
	if input == "" {
		input = "the pixel grid"
	}
	for l, o := range outs {
		for i, v := range o.Raw() {
			if f := float64(v); math.IsNaN(f) || math.IsInf(f, 0) {
				at := ""
				if len(outs) > 1 {
					at = fmt.Sprintf(" (after grade %d)", l+1)
				}
				return fmt.Errorf("%s: the prediction for row %d is %v%s: its inputs are too far outside the training data, so the outputs overflow %s", input, i/o.Cols+1, f, at, tensor.DType[T]())
			}
		}
	}
	return nil
}
