// Copyright ©2026 The mgdl Authors. All rights reserved.

//go:build !((linux || darwin) && (amd64 || arm64))

package openblas

import (
	"errors"
	"runtime"
	"unsafe"
)

var errUnsupported = errors.New("openblas: loading a shared library is not supported on " + runtime.GOOS + "/" + runtime.GOARCH)

func dlopen(string) (uintptr, error) { return 0, errUnsupported }

func dlsym(uintptr, string) (uintptr, error) { return 0, errUnsupported }

func dlclose(uintptr) {}

func registerLibFunc(any, uintptr, string) { panic(errUnsupported) }

func fcall(fn uintptr, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc unsafe.Pointer) {
	panic(errUnsupported)
}
