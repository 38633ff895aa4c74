package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/rundir"
	"github.com/spf13/cobra"
)

func newInspectCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "inspect MODEL|RUN_DIR",
		Short: "Print a model's architecture, grades and metrics",
		Long: `inspect reads a model file (or the ` + rundir.ModelFile + ` of a run folder) and
prints its format version, dtype, how it was made, its inputs and targets,
each grade's widths, activation and parameter count, and the metrics
recorded for each grade. --json prints the file's metadata as JSON.`,
		Example: `  mgdl inspect runs/mgdl
  mgdl inspect runs/mgdl/model.safetensors --json`,
		Args: usageArgs(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := rundir.ModelPath(args[0])
			f, err := rundir.OpenModel(path)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				b, err := json.MarshalIndent(f.Meta, "", "  ")
				if err != nil {
					return err
				}
				_, err = fmt.Fprintf(w, "%s\n", b)
				return err
			}
			printModel(w, path, f.Meta)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the metadata as JSON")
	return cmd
}

// gradeParams is the parameter count of a dense network with these widths.
func gradeParams(w []int) int {
	n := 0
	for i := 0; i+1 < len(w); i++ {
		n += w[i]*w[i+1] + w[i+1]
	}
	return n
}

func printModel(w io.Writer, path string, m modelfile.Meta) {
	fmt.Fprintf(w, "%s\n", path)
	kv := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "  %-14s %s\n", k, v)
		}
	}
	kv("format", fmt.Sprintf("%s v%d (written by mgdl %s)", m.Format, m.FormatVersion, m.LibraryVersion))
	kv("method", m.Method)
	kv("dtype", m.DType)
	kv("seed", fmt.Sprint(m.Seed))
	kv("inputs", strings.Join(m.Inputs, ", "))
	kv("targets", strings.Join(m.Targets, ", "))
	if m.Normalization != nil {
		kv("normalisation", "standardised (undone on outputs by predict)")
	}
	if m.Image != nil {
		b, _ := json.Marshal(m.Image)
		kv("image", string(b))
	}
	var metrics []mgdl.GradeResult
	if len(m.Metrics) > 0 {
		if err := json.Unmarshal(m.Metrics, &metrics); err != nil {
			metrics = nil
		}
	}
	total := 0
	fmt.Fprintf(w, "\n  %-6s %-22s %-9s %10s %7s %11s %11s %11s\n", "grade", "widths", "act.", "params", "epochs", "train RSE", "val RSE", "test RSE")
	for l, g := range m.Grades {
		p := gradeParams(g.Widths)
		total += p
		act := g.Activation.String()
		if g.Softmax {
			act += "+softmax"
		}
		line := fmt.Sprintf("  %-6d %-22s %-9s %10d", l+1, model.FormatWidths(g.Widths), act, p)
		if l < len(metrics) && metrics[l].Grade == l+1 { // training metrics (constructed models record others)
			r := metrics[l]
			line += fmt.Sprintf(" %7d %11.4g %11s %11s", r.Epochs, r.TrainRSE, opt(r.ValRSE), opt(r.TestRSE))
		}
		fmt.Fprintln(w, strings.TrimRight(line, " "))
	}
	fmt.Fprintf(w, "\n  %d grades, %d parameters\n", len(m.Grades), total)
}
