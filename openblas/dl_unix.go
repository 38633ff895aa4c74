// Copyright ©2026 The mgdl Authors. All rights reserved.

//go:build (linux || darwin) && (amd64 || arm64)

package openblas

import (
	"unsafe"

	"github.com/ebitengine/purego"
)

var errUnsupported error

func dlopen(name string) (uintptr, error) {
	return purego.Dlopen(name, purego.RTLD_NOW|purego.RTLD_GLOBAL)
}

func dlsym(h uintptr, name string) (uintptr, error) { return purego.Dlsym(h, name) }

func dlclose(h uintptr) { purego.Dlclose(h) }

func registerLibFunc(fptr any, h uintptr, name string) { purego.RegisterLibFunc(fptr, h, name) }

// fcall calls the Fortran gemm fn, whose 13 arguments are all pointers.
func fcall(fn uintptr, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc unsafe.Pointer) {
	purego.SyscallN(fn, uintptr(ta), uintptr(tb), uintptr(m), uintptr(n), uintptr(k), uintptr(alpha),
		uintptr(a), uintptr(lda), uintptr(b), uintptr(ldb), uintptr(beta), uintptr(c), uintptr(ldc))
}
