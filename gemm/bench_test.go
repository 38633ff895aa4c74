// Copyright ©2026 The mgdl Authors. All rights reserved.

package gemm

import (
	"fmt"
	"testing"
)

// BenchmarkKernel measures the packed product per micro-kernel on square and
// MLP shapes; see tensor's BenchmarkGemm for the comparison with other
// backends.
func BenchmarkKernel(b *testing.B) {
	for _, be := range kernelSets() {
		kd, _ := be.kernels()
		for _, s := range [][3]int{{1024, 256, 256}, {256, 4096, 256}, {2048, 2048, 2048}} {
			m, k, n := s[0], s[1], s[2]
			for _, f64 := range []bool{true, false} {
				name := fmt.Sprintf("%s/f32/%dx%dx%d", kd.name, m, k, n)
				if f64 {
					name = fmt.Sprintf("%s/f64/%dx%dx%d", kd.name, m, k, n)
				}
				b.Run(name, func(b *testing.B) {
					ad, bd, cd := make([]float64, m*k), make([]float64, k*n), make([]float64, m*n)
					as, bs, cs := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
					for b.Loop() {
						if f64 {
							be.Dgemm(false, false, m, n, k, 1, ad, k, bd, n, 0, cd, n)
						} else {
							be.Sgemm(false, false, m, n, k, 1, as, k, bs, n, 0, cs, n)
						}
					}
					b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			}
		}
	}
}
