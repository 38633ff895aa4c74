package main

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/pprof"
	"time"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/tensor"
)

type timed struct {
	tensor.Backend
	d time.Duration
	n int
}

func (t *timed) Dgemm(tA, tB bool, m, n, k int, alpha float64, a []float64, lda int, b []float64, ldb int, beta float64, c []float64, ldc int) {
	t0 := time.Now()
	t.Backend.Dgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	t.d += time.Since(t0)
	t.n++
}
func (t *timed) Sgemm(tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	t0 := time.Now()
	t.Backend.Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
	t.d += time.Since(t0)
	t.n++
}

func run[T tensor.Float](tb *timed, what string, reps int) {
	rng := rand.New(rand.NewPCG(1, 1))
	uni := func(r, c int) *tensor.Dense[T] {
		d := tensor.New[T](r, c)
		for i := range d.Data {
			d.Data[i] = T(rng.Float64())
		}
		return d
	}
	var f func()
	if what == "step" {
		x, y := uni(4096, 1), uni(4096, 1)
		net := nn.NewMLP[T]([]int{1, 256, 256, 256, 1}, nn.ReLU)
		net.Init(nn.Xavier, rng)
		s := mgdl.NewStepper(net, optim.KindAdam, 1)
		f = func() { s.Step(x, y, 1e-4) }
	} else {
		x, y := uni(6000, 256), uni(6000, 1)
		net := nn.NewMLP[T]([]int{256, 256, 256, 1}, nn.ReLU)
		net.Init(nn.Xavier, rng)
		s := mgdl.NewStepper(net, optim.KindAdam, 1)
		f = func() { s.Epoch(x, y, 256, 1e-4) }
	}
	f()
	best, bestG := time.Duration(1<<62), time.Duration(0)
	for range reps {
		tb.d = 0
		t0 := time.Now()
		f()
		d := time.Since(t0)
		if d < best {
			best, bestG = d, tb.d
		}
	}
	var z T
	fmt.Printf("%-8s %-5s %T: best %.1f ms, of which gemm %.1f ms, other %.1f ms\n", tb.Backend.Name(), what, z, ms(best), ms(bestG), ms(best-bestG))
}

func ms(d time.Duration) float64 { return d.Seconds() * 1e3 }

func main() {
	be := flag.String("backend", "go", "")
	reps := flag.Int("reps", 10, "")
	prof := flag.String("cpuprofile", "", "")
	flag.Parse()
	b, err := tensor.LookupBackend(*be)
	if err != nil {
		panic(err)
	}
	tb := &timed{Backend: b}
	tensor.SetBackend(tb)
	if *prof != "" {
		f, _ := os.Create(*prof)
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	for _, w := range []string{"step", "epoch"} {
		run[float64](tb, w, *reps)
		run[float32](tb, w, *reps)
	}
}
