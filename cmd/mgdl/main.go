// Command mgdl trains multigrade (MGDL) and single-grade (SGDL) networks.
//
//	mgdl demo                      MGDL against SGDL on the papers' spectral setting 2
//	mgdl train --example spectral2 --method mgdl --epochs 300 --out run1
//
// Exit codes: 0 success, 1 a run or data error, 2 bad usage (unknown flag,
// invalid value, a configuration that cannot be trained), 130 interrupted
// (SIGINT, SIGTERM or SIGHUP; finished grades are kept and the summary is
// written).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// usageError marks errors in how the command was called (exit code 2).
type usageError struct{ error }

// Unwrap returns the error itself, for errors.Is and errors.As.
func (u usageError) Unwrap() error { return u.error }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// required returns a usage error naming the flags (given as name, value
// pairs) that have no value.
func required(pairs ...string) error {
	var missing []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] == "" {
			missing = append(missing, pairs[i])
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return usagef("%s is required", missing[0])
	}
	return usagef("%s are required", strings.Join(missing, " and "))
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "mgdl",
		Short: "Multigrade deep learning: train deep networks grade by grade",
		Long: `mgdl trains deep ReLU networks grade by grade (multigrade deep learning, MGDL):
each grade is a shallow network that reads the frozen features of the grades
before it and fits the residual they leave. The prediction is the sum of the
grades. SGDL, the same layers trained end to end, is the baseline.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	be := &backendOpts{}
	be.addFlags(root)
	root.PersistentPreRunE = func(*cobra.Command, []string) error { return be.use() }
	root.AddCommand(newDemoCmd(), newTrainCmd(), newExamplesCmd())
	root.AddCommand(newReportCmd(), newInspectCmd(), newVersionCmd())
	root.AddCommand(newPredictCmd(), newEvalCmd())
	root.AddCommand(newConstructCmd(), newVerifyCmd())
	root.AddCommand(newBenchCmd())
	return root
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	err := newRoot().ExecuteContext(ctx)
	if err == nil {
		return
	}
	fmt.Fprintln(os.Stderr, "mgdl:", err)
	var ue usageError
	switch {
	case errors.As(err, &ue), strings.HasPrefix(err.Error(), "unknown command "):
		// cobra's error for an unknown command is untyped
		os.Exit(2)
	case errors.Is(err, context.Canceled):
		os.Exit(130)
	default:
		os.Exit(1)
	}
}
