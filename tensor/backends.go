package tensor

import (
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/mgdl/mgdl/gemm"
	"github.com/mgdl/mgdl/openblas"
)

// BackendEnv is the environment variable BackendFromEnv reads.
const BackendEnv = "MGDL_BACKEND"

// goBackend is the shared pure-Go GEMM backend, the default of Mul. Its
// workers (runtime.GOMAXPROCS(0) threads) are started on the first large
// product and sleep between products.
var goBackend = gemm.New(0)

var gonumBackend Gonum

// BackendNames lists the names LookupBackend accepts.
var BackendNames = []string{"auto", "go", "openblas", "gonum"}

var (
	openblasOnce sync.Once
	openblasBe   *openblas.Backend
	openblasErr  error
)

func loadOpenBLAS() (*openblas.Backend, error) {
	openblasOnce.Do(func() { openblasBe, openblasErr = openblas.Load() })
	return openblasBe, openblasErr
}

// LookupBackend returns the backend called name without making it current:
//
//   - "go": the packed pure-Go GEMM of package gemm (the default);
//   - "openblas": a system CBLAS loaded at run time (package openblas);
//     an error says why when no library can be loaded;
//   - "auto" or "": OpenBLAS when it loads, otherwise "go";
//   - "gonum": gonum's pure-Go BLAS, kept as a baseline.
//
// Names are case-insensitive. Backends are shared: asking twice for a name
// returns the same value.
func LookupBackend(name string) (Backend, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "go":
		return goBackend, nil
	case "gonum":
		return gonumBackend, nil
	case "openblas":
		b, err := loadOpenBLAS()
		if err != nil {
			return nil, fmt.Errorf("tensor: backend openblas unavailable: %w", err)
		}
		return b, nil
	case "auto", "":
		if b, err := loadOpenBLAS(); err == nil {
			return b, nil
		}
		return goBackend, nil
	}
	return nil, fmt.Errorf("tensor: unknown backend %q (want one of %s)", name, strings.Join(BackendNames, ", "))
}

// UseBackend makes the backend called name (see LookupBackend) the one used
// by Mul and returns it. On error the current backend is left unchanged.
// Like SetBackend it is meant for start-up.
func UseBackend(name string) (Backend, error) {
	b, err := LookupBackend(name)
	if err != nil {
		return nil, err
	}
	SetBackend(b)
	return b, nil
}

// BackendFromEnv calls UseBackend with the value of the environment variable
// MGDL_BACKEND; when it is unset or empty it selects "go", the default, which
// measured faster than the Debian OpenBLAS 0.3.21 on the reference machine
// (docs/PERFORMANCE.md) and gives the same bits on every machine with the
// same kernel.
func BackendFromEnv() (Backend, error) {
	name := os.Getenv(BackendEnv)
	if strings.TrimSpace(name) == "" {
		name = "go"
	}
	return UseBackend(name)
}

// SetBackendThreads sets the number of threads the backend b uses for one product,
// when it has such a setting (the "go" and "openblas" backends do; for
// OpenBLAS the setting is process-wide). n < 1 means one per core
// (runtime.GOMAXPROCS(0)) for "go" and is ignored by "openblas". It reports
// whether b has the setting.
//
// Thread policy: one product runs at a time and each backend uses at most one
// thread per core, so with the default settings the "go" workers and the
// OpenBLAS threads never oversubscribe the cores. Code that runs products
// from several goroutines at once should set the threads to 1.
func SetBackendThreads(b Backend, n int) bool {
	s, ok := b.(interface{ SetThreads(int) })
	if ok {
		s.SetThreads(n)
	}
	return ok
}
