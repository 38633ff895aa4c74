package main

import (
	"os"
	"slices"
	"strings"

	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/tensor"
	"github.com/spf13/cobra"
)

// backendOpts are the global flags that choose the matrix backend.
type backendOpts struct {
	name    string
	threads int
}

func (b *backendOpts) addFlags(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVar(&b.name, "backend", "", "matrix backend: go (pure-Go kernels), openblas (a system CBLAS loaded at run time), auto (OpenBLAS when it loads, else go), gonum; default $"+tensor.BackendEnv+", else go")
	f.IntVar(&b.threads, "threads", 0, "threads of one training step (each matrix product and the optimizer update) and of verify --certify (0: one per core)")
}

// use selects the backend before any command runs. A backend that cannot be
// loaded is an error naming why (exit code 1).
func (b *backendOpts) use() error {
	use := func() (tensor.Backend, error) { return tensor.UseBackend(b.name) }
	if b.name == "" {
		use = tensor.BackendFromEnv // $MGDL_BACKEND, else "go"
	}
	name := b.name
	if name == "" {
		name = os.Getenv(tensor.BackendEnv)
	}
	if n := strings.ToLower(strings.TrimSpace(name)); n != "" && !slices.Contains(tensor.BackendNames, n) {
		return usagef("--backend %q (or $%s): want one of %s", name, tensor.BackendEnv, strings.Join(tensor.BackendNames, ", "))
	}
	be, err := use()
	if err != nil {
		return err
	}
	if b.threads < 0 {
		return usagef("--threads %d: must be 0 (one per core) or positive", b.threads)
	}
	if b.threads > 0 && !tensor.SetBackendThreads(be, b.threads) {
		return usagef("--threads: backend %s has no thread setting", be.Name())
	}
	optim.SetThreads(b.threads)
	return nil
}
