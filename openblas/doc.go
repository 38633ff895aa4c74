// Copyright ©2026 The mgdl Authors. All rights reserved.

// Package openblas calls a system CBLAS (OpenBLAS, or another CBLAS such as
// BLIS or the reference libcblas) for matrix products, loading it at run time
// with github.com/ebitengine/purego. It needs no cgo: a binary built with
// CGO_ENABLED=0 uses OpenBLAS when the shared library is installed and can
// fall back to another backend when it is not.
//
// Load tries, in order, the library named by the environment variable
// MGDL_BLAS_LIB and then the usual names (libopenblas.so.0, libopenblas.so,
// libblas.so.3, libcblas.so.3, libblis.so.4, ...). On Debian and Ubuntu:
//
//	apt-get install libopenblas0-pthread
//
// The library is loaded once per process; every Backend returned by Load
// shares it and its thread count. Loading works on Linux and macOS on amd64
// and arm64; elsewhere Load returns an error.
package openblas
