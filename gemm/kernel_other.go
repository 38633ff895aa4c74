// Copyright ©2026 The mgdl Authors. All rights reserved.

//go:build !amd64 || purego

package gemm

func selectD() kernel[float64] { return goKernelD() }

func selectS() kernel[float32] { return goKernelS() }
