package main

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/mgdl/mgdl/metrics"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/rundir"
	"github.com/mgdl/mgdl/tensor"
	"github.com/spf13/cobra"
)

type evalOpts struct {
	model, data              string
	inputs, targets, missing string
	jsonOut                  bool
}

// gradeMetrics are the metrics of the summed model after one grade, in the
// targets' original units.
type gradeMetrics struct {
	Grade    int      `json:"grade"`
	RSE      float64  `json:"rse"`
	MSE      float64  `json:"mse"`
	MaxErr   float64  `json:"max_abs_err"`
	PSNR     *float64 `json:"psnr_db,omitempty"`
	Accuracy *float64 `json:"accuracy,omitempty"`
}

func newEvalCmd() *cobra.Command {
	o := &evalOpts{}
	cmd := &cobra.Command{
		Use:   "eval",
		Short: "Evaluate a saved model on a data file: metrics after every grade",
		Long: `eval reads a model file (or a run folder holding model.safetensors) and a
data file of the kinds train reads (CSV/TSV, .npz, .npy with --targets FILE,
a PNG/JPEG image for image-regression models, an MNIST folder or "mnist",
whose test set is used), and prints, after every grade, the relative squared
error RSE = Σ(y-ŷ)²/Σy², the mean squared error, the largest absolute error,
the PSNR for images and the accuracy for classifiers. All rows of the file
are used, in the targets' original units (the saved standardisation is
applied to the inputs and undone on the outputs).`,
		Example: `  mgdl eval --model runs/tab --data test.csv
  mgdl eval --model runs/camera --data testdata/camera.png --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := required("--model", o.model, "--data", o.data); err != nil {
				return err
			}
			f, err := rundir.OpenModel(o.model)
			if err != nil {
				return err
			}
			var ms []gradeMetrics
			if f.Meta.DType == "float32" {
				ms, err = evalTyped[float32](o, f)
			} else {
				ms, err = evalTyped[float64](o, f)
			}
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if o.jsonOut {
				b, err := jsonText(ms)
				if err != nil {
					return err
				}
				_, err = w.Write(b)
				return err
			}
			fmt.Fprintf(w, "%s on %s (all rows, in the data's units)\n", o.model, o.data)
			fmt.Fprintf(w, "  %-6s %11s %11s %11s %9s %9s\n", "grade", "RSE", "MSE", "max |err|", "PSNR", "accuracy")
			for _, m := range ms {
				fmt.Fprintf(w, "  %-6d %11.4g %11.4g %11.4g %9s %9s\n", m.Grade, m.RSE, m.MSE, m.MaxErr, opt(m.PSNR), opt(m.Accuracy))
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.model, "model", "", "model file, or a run folder holding model.safetensors (required)")
	fl.StringVar(&o.data, "data", "", "data file (required); see 'mgdl train --help' for the kinds")
	fl.StringVar(&o.inputs, "inputs", "", "input columns or array (default: those the model was trained on)")
	fl.StringVar(&o.targets, "targets", "", "target columns, array, or .npy targets file (default: those the model was trained on)")
	fl.StringVar(&o.missing, "missing", "error", "missing values in CSV: error, drop or mean")
	fl.BoolVar(&o.jsonOut, "json", false, "print the metrics as JSON")
	return cmd
}

func evalTyped[T tensor.Float](o *evalOpts, f *modelfile.File) ([]gradeMetrics, error) {
	r, err := modelInputs(f, o.data, o.inputs, o.targets, o.missing, true)
	if err != nil {
		return nil, err
	}
	if err := r.Set.Validate(o.data); err != nil {
		return nil, err
	}
	if metrics.Energy(r.Set.Y.Raw()) == 0 {
		return nil, fmt.Errorf("%s: every target is zero, so the relative error (RSE) is undefined", o.data)
	}
	if err := checkPredictions(f, len(f.Meta.Grades), r.Set.X.Rows); err != nil {
		return nil, err
	}
	y := tensor.Convert[T](r.Set.Y)
	var task struct {
		Task string `json:"task"`
	}
	json.Unmarshal(f.Meta.Config, &task)
	classify := task.Task == "classification"
	var out []gradeMetrics
	outs := stagedOutputs[T](f, r.Set.X, true)
	if err := finiteOutputs(o.data, outs); err != nil {
		return nil, err
	}
	for l, p := range outs {
		m := gradeMetrics{Grade: l + 1, RSE: metrics.RSE(y.Raw(), p.Raw()), MSE: metrics.MSE(y.Raw(), p.Raw()), MaxErr: metrics.MaxErr(y.Raw(), p.Raw())}
		if r.Image != nil || f.Meta.Image != nil {
			v := metrics.PSNR(y.Raw(), p.Raw())
			m.PSNR = &v
		}
		if classify {
			v := accuracy(y, p)
			m.Accuracy = &v
		}
		if math.IsNaN(m.RSE) || math.IsInf(m.RSE, 0) {
			return nil, fmt.Errorf("%s: the squared errors of grade %d overflow float64 (targets or predictions beyond ±1e154), so the relative error is undefined", o.data, l+1)
		}
		out = append(out, m)
	}
	return out, nil
}

// accuracy is the fraction of rows whose largest prediction is at the
// largest target.
func accuracy[T tensor.Float](y, p *tensor.Dense[T]) float64 {
	hit := 0
	for i := range y.Rows {
		if argmax(y.Row(i)) == argmax(p.Row(i)) {
			hit++
		}
	}
	return float64(hit) / float64(y.Rows)
}

func argmax[T tensor.Float](v []T) int {
	k := 0
	for j, x := range v {
		if x > v[k] {
			k = j
		}
	}
	return k
}
