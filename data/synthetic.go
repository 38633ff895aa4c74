package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/mgdl/mgdl/internal/nprand"
	"github.com/mgdl/mgdl/tensor"
)

// Example is a synthetic problem from the MGDL papers.
type Example struct {
	// Name is the key used on the command line, e.g. "spectral2".
	Name string
	// Description states the target, the domain and the splits.
	Description string
	// InDim and OutDim are the input and target widths.
	InDim, OutDim int
	// Task is "classification" for one-hot targets, "" for regression.
	Task string
	gen  func(rng *rand.Rand) Splits[float64]
	// numpy, when set, draws the data as the papers' NumPy code does
	// (GenerateNumPy).
	numpy func(seed uint32) Splits[float64]
}

var examples = map[string]Example{}

func register(e Example) { examples[e.Name] = e }

// Examples returns all synthetic examples sorted by name.
func Examples() []Example {
	out := make([]Example, 0, len(examples))
	for _, e := range examples {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Lookup returns the example called name.
func Lookup(name string) (Example, error) {
	e, ok := examples[strings.ToLower(name)]
	if !ok {
		names := make([]string, 0, len(examples))
		for _, e := range Examples() {
			names = append(names, e.Name)
		}
		return Example{}, fmt.Errorf("unknown example %q (known: %s)", name, strings.Join(names, ", "))
	}
	return e, nil
}

// Generate draws the example's splits from seed. The same seed gives the
// same data bit for bit, whatever T is (data are made in float64 and
// converted).
func Generate[T tensor.Float](e Example, seed uint64) Splits[T] {
	rng := rand.New(rand.NewPCG(seed, 0x6d67646c)) // stream "mgdl"
	return ConvertSplits[T](e.gen(rng))
}

// GenerateNumPy draws the example's splits with the random streams of the
// papers' NumPy code (package nprand). For the spectral and manifold
// examples, data seed d draws the phases and then, afresh, the validation
// points from np.random.RandomState(d-1) and the test points from
// RandomState(d): seed 1 gives the authors' data (their seeds 0 and 1).
// Grids are computed as numpy.arange and numpy.linspace compute them. The
// seed must be 1..2³²-1; an example without a NumPy stream is an error.
func GenerateNumPy[T tensor.Float](e Example, seed uint64) (Splits[T], error) {
	if err := e.checkNumPy(seed); err != nil {
		return Splits[T]{}, err
	}
	return ConvertSplits[T](e.numpy(uint32(seed))), nil
}

// GenerateWith draws the example's splits from seed with the streams rng
// names (a Source.RNG: "" for Generate's, RNGNumPy for GenerateNumPy's).
func GenerateWith[T tensor.Float](e Example, seed uint64, rng string) (Splits[T], error) {
	switch rng {
	case "":
		return Generate[T](e, seed), nil
	case RNGNumPy:
		return GenerateNumPy[T](e, seed)
	}
	return Splits[T]{}, fmt.Errorf("unknown random streams %q (want pcg or numpy)", rng)
}

// checkNumPy reports why GenerateNumPy cannot draw e from seed.
func (e Example) checkNumPy(seed uint64) error {
	if e.numpy == nil {
		return fmt.Errorf("example %s has no NumPy data stream (spectral1..4 and manifold-q0/q4 have)", e.Name)
	}
	if seed < 1 || seed > 1<<32-1 {
		return fmt.Errorf("NumPy data seed %d: want 1..4294967295", seed)
	}
	return nil
}

// npLinspace is numpy.linspace(a, b, n): a + i·((b-a)/(n-1)), the last
// point exactly b.
func npLinspace(a, b float64, n int) []float64 {
	out := make([]float64, n)
	step := (b - a) / float64(n-1)
	for i := range out {
		out[i] = float64(i)*step + a
	}
	if n > 1 {
		out[n-1] = b
	}
	return out
}

// npGrid is numpy.arange(0, 1, 1/n): i·(1/n).
func npGrid(n int) []float64 {
	out := make([]float64, n)
	step := 1 / float64(n)
	for i := range out {
		out[i] = float64(i) * step
	}
	return out
}

// npUniform is RandomState.uniform(0, 1, n).
func npUniform(r *nprand.RandomState, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = r.Uniform(0, 1)
	}
	return out
}

// newSpectralNumPy is newSpectral with NumPy's linspace and phases
// RandomState(seed-1).uniform(0, 2π).
func newSpectralNumPy(setting, terms int, kmax float64, seed uint32) spectral {
	s := spectral{kappa: npLinspace(10, kmax, terms), phi: make([]float64, terms)}
	r := nprand.New(seed - 1)
	for j := range s.phi {
		s.phi[j] = r.Uniform(0, 2*math.Pi)
	}
	s.amp = amplitude(setting, terms, npLinspace)
	return s
}

// linspace returns n points from a to b inclusive (numpy.linspace).
func linspace(a, b float64, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		if n == 1 {
			out[i] = a
			continue
		}
		out[i] = a + (b-a)*float64(i)/float64(n-1)
	}
	return out
}

// spectral is λ(t) = Σ_j A_j(t) sin(2π κ_j t + φ_j).
type spectral struct {
	kappa, phi []float64
	amp        func(j int, t float64) float64
}

func newSpectral(setting, terms int, kmax float64, rng *rand.Rand) spectral {
	s := spectral{kappa: linspace(10, kmax, terms), phi: make([]float64, terms)}
	for j := range s.phi {
		s.phi[j] = 2 * math.Pi * rng.Float64()
	}
	s.amp = amplitude(setting, terms, linspace)
	return s
}

// amplitude returns A_j(t) of a spectral setting, with lin computing the
// linspace of the amplitudes.
func amplitude(setting, terms int, lin func(a, b float64, n int) []float64) func(j int, t float64) float64 {
	switch setting {
	case 1:
		return func(int, float64) float64 { return 1 }
	case 2:
		a := lin(1, 0.05, terms)
		return func(j int, _ float64) float64 { return a[j] }
	case 3:
		return func(j int, t float64) float64 { return math.Exp(-t) * math.Cos(float64(j)*t) }
	case 4:
		a := lin(0.05, 1, terms)
		return func(j int, _ float64) float64 { return a[j] }
	}
	panic("data: spectral setting must be 1..4")
}

func (s spectral) at(t float64) float64 {
	var v float64
	for j, k := range s.kappa {
		v += s.amp(j, t) * math.Sin(2*math.Pi*k*t+s.phi[j])
	}
	return v
}

// sample builds a dataset from parameters t: inputs in(t) and target f(t).
func sample(ts []float64, inDim int, in func(t float64, x []float64), f func(t float64) float64) Dataset[float64] {
	X := tensor.New[float64](len(ts), inDim)
	Y := tensor.New[float64](len(ts), 1)
	for i, t := range ts {
		in(t, X.Row(i))
		Y.Data[i] = f(t)
	}
	return Dataset[float64]{X: X, Y: Y}
}

// grid returns n equally spaced points i/n in [0, 1).
func grid(n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(i) / float64(n)
	}
	return out
}

func uniform(rng *rand.Rand, n int) []float64 {
	out := make([]float64, n)
	for i := range out {
		out[i] = rng.Float64()
	}
	return out
}

func identity1(t float64, x []float64) { x[0] = t }

func init() {
	amps := map[int]string{
		1: "A_j = 1",
		2: "A_j = linspace(1, 0.05, 20)_j",
		3: "A_j(x) = exp(-x) cos(j x), j = 0..19",
		4: "A_j = linspace(0.05, 1, 20)_j",
	}
	for setting := 1; setting <= 4; setting++ {
		register(Example{
			Name: fmt.Sprintf("spectral%d", setting),
			Description: fmt.Sprintf("Fang & Xu (NeurIPS 2024) §3.1 setting %d: λ(x) = Σ_{j=1..20} A_j(x) sin(2π κ_j x + φ_j) on [0,1], "+
				"κ = linspace(10, 200, 20), φ_j ~ U[0,2π) seeded, %s; train 6000 equally spaced points i/6000, "+
				"validation 2000 and test 2000 uniform random points", setting, amps[setting]),
			InDim: 1, OutDim: 1,
			gen: func(rng *rand.Rand) Splits[float64] {
				s := newSpectral(setting, 20, 200, rng)
				return Splits[float64]{
					Train: sample(grid(6000), 1, identity1, s.at),
					Val:   sample(uniform(rng, 2000), 1, identity1, s.at),
					Test:  sample(uniform(rng, 2000), 1, identity1, s.at),
				}
			},
			numpy: func(seed uint32) Splits[float64] {
				s := newSpectralNumPy(setting, 20, 200, seed)
				return Splits[float64]{
					Train: sample(npGrid(6000), 1, identity1, s.at),
					Val:   sample(npUniform(nprand.New(seed-1), 2000), 1, identity1, s.at),
					Test:  sample(npUniform(nprand.New(seed), 2000), 1, identity1, s.at),
				}
			},
		})
	}
	for _, q := range []int{0, 4} {
		register(Example{
			Name: fmt.Sprintf("manifold-q%d", q),
			Description: fmt.Sprintf("Fang & Xu (NeurIPS 2024) §3.2, q = %d: input x(t) = (1 + ½ sin(2π q t))(cos 2πt, sin 2πt), "+
				"target λ(t) = Σ_{j=1..40} sin(2π κ_j t + φ_j) (setting 1), κ = linspace(10, 400, 40), φ_j ~ U[0,2π) seeded; "+
				"train 12000 equally spaced t = i/12000, validation 4000 and test 4000 uniform random t", q),
			InDim: 2, OutDim: 1,
			gen: func(rng *rand.Rand) Splits[float64] {
				s := newSpectral(1, 40, 400, rng)
				return Splits[float64]{
					Train: sample(grid(12000), 2, manifoldAt(q), s.at),
					Val:   sample(uniform(rng, 4000), 2, manifoldAt(q), s.at),
					Test:  sample(uniform(rng, 4000), 2, manifoldAt(q), s.at),
				}
			},
			numpy: func(seed uint32) Splits[float64] {
				s := newSpectralNumPy(1, 40, 400, seed)
				return Splits[float64]{
					Train: sample(npGrid(12000), 2, manifoldAt(q), s.at),
					Val:   sample(npUniform(nprand.New(seed-1), 4000), 2, manifoldAt(q), s.at),
					Test:  sample(npUniform(nprand.New(seed), 4000), 2, manifoldAt(q), s.at),
				}
			},
		})
	}
	xu := []struct {
		name, formula string
		a, b          float64
		f             func(x float64) float64
	}{
		{"xu1", "f(x) = sin(100x) on [0,1]", 0, 1, func(x float64) float64 { return math.Sin(100 * x) }},
		{"xu2", "f(x) = x sin(100x) on [0,1]", 0, 1, func(x float64) float64 { return x * math.Sin(100*x) }},
		{"xu3", "f(x) = (x+1) g(x) on [-1,1], g = -|(-|c - 1.3| + 1.3) - 0.9| + 0.9 with c = |cos(2π(|cos(15π(x-0.3)) - 0.7| - 0.5)) - 0.5|", -1, 1, xu3},
	}
	for i, e := range xu {
		register(Example{
			Name: e.name,
			Description: fmt.Sprintf("Xu (2023) example %d: %s; train 5000 equally spaced points linspace(a,b,5000), "+
				"test 1000 equally spaced points linspace(a,b,1000), validation 1000 training points drawn without "+
				"replacement with labels + N(0, 0.01²) noise (as in the authors' code)", i+1, e.formula),
			InDim: 1, OutDim: 1,
			gen: func(rng *rand.Rand) Splits[float64] {
				train := sample(linspace(e.a, e.b, 5000), 1, identity1, e.f)
				perm := rng.Perm(train.Len())[:1000]
				val := Dataset[float64]{X: tensor.New[float64](1000, 1), Y: tensor.New[float64](1000, 1)}
				tensor.Gather(val.X, train.X, perm)
				tensor.Gather(val.Y, train.Y, perm)
				for k := range val.Y.Data {
					val.Y.Data[k] += 0.01 * rng.NormFloat64()
				}
				return Splits[float64]{Train: train, Val: val, Test: sample(linspace(e.a, e.b, 1000), 1, identity1, e.f)}
			},
		})
	}
}

// manifoldAt returns the input map of the manifold example with q:
// x(t) = (1 + ½ sin(2π q t))(cos 2πt, sin 2πt).
func manifoldAt(q int) func(t float64, x []float64) {
	return func(t float64, x []float64) {
		r := 1 + 0.5*math.Sin(2*math.Pi*float64(q)*t)
		x[0], x[1] = r*math.Cos(2*math.Pi*t), r*math.Sin(2*math.Pi*t)
	}
}

// xu3 is the non-smooth target of Xu (2023) example 3, on [-1, 1].
func xu3(x float64) float64 {
	f := math.Abs(math.Cos(15*math.Pi*(x-0.3)) - 0.7)
	f = math.Abs(math.Cos(2*math.Pi*(f-0.5)) - 0.5)
	f = -math.Abs(f-1.3) + 1.3
	f = -math.Abs(f-0.9) + 0.9
	return (x + 1) * f
}
