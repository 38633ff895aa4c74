package main

import (
	"fmt"
	"io"
	"path/filepath"

	"github.com/mgdl/mgdl/internal/atomicfile"
	"github.com/mgdl/mgdl/internal/fileio"
	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/rundir"
)

// refuseOverwrite returns a usage error if out, the file that the option
// flag names, is one of the inputs (the same path, or the same file under
// another name; a run folder given as an input stands for its model file)
// or one of a run folder's own files, which only train, construct and
// report write. An empty out (or "-", standard output) writes no file.
func refuseOverwrite(flag, out string, inputs ...string) error {
	if out == "" || out == "-" {
		return nil
	}
	if rundir.IsRunFile(out) {
		return usagef("%s %s is a file of the run in %s; outputs never replace a run's records: give a file outside the run folder", flag, out, filepath.Dir(out))
	}
	for _, in := range inputs {
		if in != "" && fileio.Same(rundir.ModelPath(in), out) {
			return usagef("%s %s is an input of this command; outputs never replace inputs: give another file name", flag, out)
		}
	}
	return nil
}

// checkPredictions checks against the memory budget the predictions of
// grades grades (each kept, as --per-grade and eval keep them) for rows
// rows of f's model, in float64 and the model's dtype.
func checkPredictions(f *modelfile.File, grades, rows int) error {
	w := f.Meta.Grades[0].Widths
	return limits.Check(fmt.Sprintf("the predictions of %d grade(s) for %d rows", grades, rows), 2*8, int64(grades), int64(rows), int64(w[len(w)-1]))
}

// writeJSON writes v as indented JSON to the file report (when given,
// atomically) and, with toStdout, to w. It reports whether it wrote to w,
// in which case the command prints nothing else.
func writeJSON(w io.Writer, v any, report string, toStdout bool) (bool, error) {
	if report == "" && !toStdout {
		return false, nil
	}
	b, err := jsonText(v)
	if err != nil {
		return false, err
	}
	if report != "" {
		if err := atomicfile.Write(report, b); err != nil {
			return false, err
		}
	}
	if !toStdout {
		return false, nil
	}
	_, err = w.Write(b)
	return true, err
}
