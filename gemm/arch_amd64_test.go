// Copyright ©2026 The mgdl Authors. All rights reserved.

//go:build amd64 && !purego

package gemm

import "golang.org/x/sys/cpu"

func addArch(add func(kernel[float64], kernel[float32])) {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		add(kernel[float64]{name: "avx2+fma", mr: 6, nr: 8, kc: 256, mc: 96, nc: 2048, fn: kernD256, fnU: kernD256u, fnT: kernD256t},
			kernel[float32]{name: "avx2+fma", mr: 6, nr: 16, kc: 256, mc: 192, nc: 2048, fn: kernS256, fnU: kernS256u, fnT: kernS256t})
	}
}
