package main

// Checkpoints: after every finished grade train writes the model so far to
// OUT/model.safetensors atomically (temporary file, fsync, rename), so
// that a crash at any moment leaves the previous checkpoint or the new one.
// --resume DIR reads DIR/config.json for the settings and continues after
// the checkpoint's last grade; with the same seed the final model equals an
// uninterrupted run's.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/internal/atomicfile"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/tensor"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// modelName is the model file in a run folder.
const modelName = "model.safetensors"

// reconstructionName is the image an image-regression run writes.
const reconstructionName = "reconstruction.png"

// prepareResume turns --resume DIR into --config DIR/config.json and
// --out DIR, refusing other run settings (they come from the config), and
// makes --data absolute so that a later --resume finds it from anywhere.
// Call it before the config file is applied.
func (s *sourceOpts) prepareResume(cmd *cobra.Command) error {
	f := cmd.Flags()
	for _, p := range []*string{&s.data, &s.targets} {
		if *p == "" || *p == "mnist" || (p == &s.targets && !strings.HasSuffix(strings.ToLower(*p), ".npy")) {
			continue
		}
		if abs, err := filepath.Abs(*p); err == nil {
			*p = abs
		}
	}
	if s.resume == "" {
		return nil
	}
	var extra []string
	f.Visit(func(fl *pflag.Flag) {
		switch fl.Name {
		case "resume", "quiet", "progress", "out":
		default:
			extra = append(extra, "--"+fl.Name)
		}
	})
	if len(extra) > 0 {
		return usagef("--resume takes every setting from %s; do not give %v", filepath.Join(s.resume, "config.json"), extra)
	}
	if out, _ := f.GetString("out"); out != "" && filepath.Clean(out) != filepath.Clean(s.resume) {
		return usagef("--resume %s writes to that folder; --out %s differs", s.resume, out)
	}
	cfgPath := filepath.Join(s.resume, "config.json")
	if _, err := os.Stat(cfgPath); err != nil {
		return usagef("--resume %s: no config.json there (is it a run folder?)", s.resume)
	}
	if _, err := os.Stat(filepath.Join(s.resume, modelName)); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("--resume %s: no %s there: no grade had finished, so start the run again", s.resume, modelName)
	}
	if err := f.Set("out", s.resume); err != nil {
		return err
	}
	if f.Lookup("config") != nil {
		return f.Set("config", cfgPath)
	}
	return nil
}

// checkpointer writes the model after every grade.
type checkpointer[T tensor.Float] struct {
	path    string
	meta    modelfile.Meta
	metrics []json.RawMessage
	src     *source
	norm    *data.Normalization
	dir     string
}

// attachCheckpoints makes tr write OUT/model.safetensors after every grade
// and, with --resume, restores the grades of the existing checkpoint. It
// returns the results of the restored grades, so that the run's summary
// lists every grade. It does nothing without an output folder (the demo).
func attachCheckpoints[T tensor.Float](o *trainOpts, tr *mgdl.Trainer[T], cfg mgdl.Config, ex data.Example, norm *data.Normalization) ([]mgdl.GradeResult, error) {
	if o.out == "" {
		return nil, nil
	}
	s := &o.src
	ck := &checkpointer[T]{path: filepath.Join(o.out, modelName), norm: norm, dir: o.out, src: s.loaded}
	cj, _ := json.Marshal(cfg)
	run, _ := json.Marshal(map[string]any{
		"example": ex.Name, "data": s.data, "data_seed": o.dataSeed, "split_seed": s.splitSeed,
		"val": s.val, "test": s.test, "standardize": s.standardize, "inputs": s.inputs, "targets": s.targets, "missing": s.missing,
	})
	ck.meta = modelfile.Meta{Method: o.method, Seed: cfg.Seed, Normalization: norm, Config: cj, Run: run}
	if src := s.loaded; src != nil {
		ck.meta.Inputs, ck.meta.Targets, ck.meta.Image = src.inNames, src.outNames, src.image
	}
	var prior []mgdl.GradeResult
	if s.resume != "" {
		// A kill during a write can leave a temporary file behind.
		if tmp, _ := filepath.Glob(filepath.Join(o.out, "."+modelName+".tmp*")); len(tmp) > 0 {
			for _, t := range tmp {
				os.Remove(t)
			}
		}
		f, err := modelfile.ReadFile(ck.path)
		if err != nil {
			return nil, fmt.Errorf("resume: %w", err)
		}
		if f.Meta.DType != tensor.DType[T]() {
			return nil, fmt.Errorf("resume: the checkpoint is %s but the run is %s", f.Meta.DType, tensor.DType[T]())
		}
		if len(f.Meta.Metrics) > 0 {
			if err := json.Unmarshal(f.Meta.Metrics, &ck.metrics); err != nil {
				return nil, fmt.Errorf("resume: %s: metrics: %v", ck.path, err)
			}
		}
		m := modelfile.Model[T](f)
		if err := tr.Restore(m); err != nil {
			return nil, fmt.Errorf("resume %s: %w", ck.path, err)
		}
		ck.metrics = ck.metrics[:min(len(ck.metrics), len(m.Grades))]
		for _, raw := range ck.metrics {
			var r mgdl.GradeResult
			if json.Unmarshal(raw, &r) == nil {
				prior = append(prior, r)
			}
		}
		if !o.quiet {
			fmt.Fprintf(os.Stderr, "resuming %s after grade %d\n", ck.path, len(m.Grades))
		}
	}
	tr.OnGrade = ck.write
	return prior, nil
}

// write is the trainer's OnGrade hook.
func (ck *checkpointer[T]) write(m *model.Model[T], r mgdl.GradeResult) error {
	rj, _ := json.Marshal(r)
	ck.metrics = append(ck.metrics, rj)
	ck.meta.Metrics, _ = json.Marshal(ck.metrics)
	if err := modelfile.WriteFile(ck.path, m, ck.meta); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if ck.src != nil && ck.src.image != nil {
		return writeReconstruction(filepath.Join(ck.dir, reconstructionName), m, *ck.src.image, ck.norm)
	}
	return nil
}

// writeReconstruction predicts every pixel of an image of shape s and
// writes the image to path (PNG or JPEG by extension), atomically.
func writeReconstruction[T tensor.Float](path string, m *model.Model[T], s data.ImageShape, norm *data.Normalization) error {
	x := data.Coords[T](s)
	if norm != nil {
		data.Apply(norm.Inputs, x)
	}
	y := m.Predict(x)
	if norm != nil {
		data.Invert(norm.Targets, y)
	}
	return writeImage(path, s, y)
}

func writeImage[T tensor.Float](path string, s data.ImageShape, y *tensor.Dense[T]) error {
	if y.Cols != s.Channels {
		return fmt.Errorf("the model has %d outputs, an image of %d channels needs as many", y.Cols, s.Channels)
	}
	var buf bytesBuffer
	if err := data.EncodeImage(&buf, path, data.ToImage(s, y)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.Write(path, buf.b)
}

// bytesBuffer is a minimal io.Writer into memory.
type bytesBuffer struct{ b []byte }

func (w *bytesBuffer) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}
