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
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mgdl/mgdl/limits"
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
	var memLimit string
	root.PersistentFlags().StringVar(&memLimit, "mem-limit", "", "memory budget that every size read from input is checked against, e.g. 2GiB (default: "+limits.EnvVar+", else a quarter of the memory this process may use)")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := limits.FromEnv(); err != nil {
			return usageError{err}
		}
		if cmd.Flags().Changed("mem-limit") {
			n, err := limits.ParseSize(memLimit)
			if err == nil {
				err = limits.SetChecked(n)
			}
			if err != nil {
				return usagef("--mem-limit: %v", err)
			}
		}
		return be.use()
	}
	root.AddCommand(newDemoCmd(), newTrainCmd(), newExamplesCmd())
	root.AddCommand(newReportCmd(), newInspectCmd(), newVersionCmd())
	root.AddCommand(newPredictCmd(), newEvalCmd())
	root.AddCommand(newConstructCmd(), newVerifyCmd())
	root.AddCommand(newBenchCmd(), newReproduceCmd())
	return root
}

// grace is how long a command may take to stop after SIGINT, SIGTERM or
// SIGHUP (training writes its summary; finished grades are already on
// disk) before mgdl exits anyway; a second signal exits at once.
const grace = 10 * time.Second

// interruptible returns a context cancelled by the first SIGINT, SIGTERM
// or SIGHUP, and makes sure the process ends soon after: no computation
// that misses the cancellation can keep mgdl running deaf to signals.
func interruptible() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go watch(sigs, cancel, grace, func() {
		fmt.Fprintln(os.Stderr, "mgdl: interrupted; stopped without finishing (finished grades are kept on disk)")
		os.Exit(130)
	})
	return ctx
}

// watch cancels at the first signal on sigs and calls exit after a second
// one (at least a second later) or grace later, whichever comes first.
func watch(sigs <-chan os.Signal, cancel func(), grace time.Duration, exit func()) {
	<-sigs
	first := time.Now()
	cancel()
	deadline := time.After(grace)
	for {
		select {
		case <-sigs:
			// timeout(1) signals the child and then its process group:
			// a repeat within a second is the same signal, not a second.
			if time.Since(first) < time.Second {
				continue
			}
		case <-deadline:
		}
		exit()
		return
	}
}

func main() {
	ctx := interruptible()
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

// jsonText returns v as indented JSON with a final newline, or an error
// naming the value JSON cannot hold (NaN, ±Inf) instead of an empty text.
func jsonText(v any) ([]byte, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("cannot write the result as JSON: %w", err)
	}
	return append(b, '\n'), nil
}
