package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/tensor"
	"github.com/spf13/cobra"
)

func newVersionCmd() *cobra.Command {
	var short bool
	cmd := &cobra.Command{
		Use:     "version",
		Short:   "Print the mgdl version, the Go version and the matrix backend",
		Example: "  mgdl version\n  mgdl version --short",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			w := cmd.OutOrStdout()
			if short {
				fmt.Fprintln(w, mgdl.Version)
				return nil
			}
			fmt.Fprintf(w, "mgdl %s\n", mgdl.Version)
			rev, dirty := vcsRevision()
			if rev == "" {
				rev = "unknown (not recorded in this build)"
			}
			fmt.Fprintf(w, "commit   %s%s\n", rev, dirty)
			fmt.Fprintf(w, "go       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(w, "backend  %s\n", tensor.CurrentBackend().Info())
			return nil
		},
	}
	cmd.Flags().BoolVar(&short, "short", false, "print only the version number")
	return cmd
}

// vcsRevision returns the commit the binary was built from, if recorded.
func vcsRevision() (rev, dirty string) {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "", ""
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = " (modified)"
			}
		}
	}
	return rev, dirty
}
