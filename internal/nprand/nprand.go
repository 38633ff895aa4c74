// Package nprand reproduces the random streams of NumPy's legacy
// numpy.random.RandomState (the Mersenne Twister MT19937 seeded with one
// 32-bit integer), so that mgdl can train with exactly the draws of the
// papers' NumPy reference code: np.random.seed(s), np.random.uniform,
// np.random.permutation and np.random.randn give the same numbers as
// Seed(s), Uniform, Permutation and Gauss.
//
// It is a compatibility layer for reproducing published runs, not a
// general-purpose generator: mgdl's own streams (math/rand/v2 PCG) remain
// the default.
package nprand

import "math"

const (
	stateLen = 624
	period   = 397
)

// RandomState is one MT19937 stream as NumPy's legacy RandomState draws from
// it. The zero value is not seeded; use New or Seed.
type RandomState struct {
	key      [stateLen]uint32
	pos      int
	hasGauss bool
	gauss    float64
}

// New returns a stream seeded as np.random.RandomState(seed).
func New(seed uint32) *RandomState {
	r := new(RandomState)
	r.Seed(seed)
	return r
}

// Seed resets the stream as np.random.seed(seed) does for an integer seed
// (MT19937's init_genrand) and forgets a cached Gauss value.
func (r *RandomState) Seed(seed uint32) {
	s := seed
	for i := range r.key {
		r.key[i] = s
		s = 1812433253*(s^(s>>30)) + uint32(i+1)
	}
	r.pos = stateLen
	r.hasGauss, r.gauss = false, 0
}

// regenerate refills the state with the next 624 words.
func (r *RandomState) regenerate() {
	const upper, lower, matrixA = 0x80000000, 0x7fffffff, 0x9908b0df
	k := &r.key
	mag := func(y uint32) uint32 { return (y & 1) * matrixA }
	i := 0
	for ; i < stateLen-period; i++ {
		y := k[i]&upper | k[i+1]&lower
		k[i] = k[i+period] ^ y>>1 ^ mag(y)
	}
	for ; i < stateLen-1; i++ {
		y := k[i]&upper | k[i+1]&lower
		k[i] = k[i+period-stateLen] ^ y>>1 ^ mag(y)
	}
	y := k[stateLen-1]&upper | k[0]&lower
	k[stateLen-1] = k[period-1] ^ y>>1 ^ mag(y)
	r.pos = 0
}

// Uint32 returns the next 32-bit word of the stream (tempered).
func (r *RandomState) Uint32() uint32 {
	if r.pos == stateLen {
		r.regenerate()
	}
	y := r.key[r.pos]
	r.pos++
	y ^= y >> 11
	y ^= y << 7 & 0x9d2c5680
	y ^= y << 15 & 0xefc60000
	y ^= y >> 18
	return y
}

// Float64 returns a double in [0, 1) made of 53 random bits from two words,
// as np.random.random_sample does.
func (r *RandomState) Float64() float64 {
	a, b := r.Uint32()>>5, r.Uint32()>>6
	return (float64(a)*67108864 + float64(b)) / 9007199254740992
}

// Uniform returns low + (high-low)·u with u from Float64, as
// np.random.uniform(low, high) does.
func (r *RandomState) Uniform(low, high float64) float64 {
	return low + (high-low)*r.Float64()
}

// Interval returns a uniform integer in [0, max] by masked rejection, as
// NumPy's legacy random_interval does (the draws shuffles use).
func (r *RandomState) Interval(max uint64) uint64 {
	if max == 0 {
		return 0
	}
	mask := max
	for s := uint(1); s <= 32; s *= 2 {
		mask |= mask >> s
	}
	if max <= math.MaxUint32 {
		for {
			if v := uint64(r.Uint32()) & mask; v <= max {
				return v
			}
		}
	}
	for {
		v := (uint64(r.Uint32())<<32 | uint64(r.Uint32())) & mask
		if v <= max {
			return v
		}
	}
}

// Shuffle permutes p in place as np.random.shuffle does for a 1-D array:
// for i from len(p)-1 down to 1, swap p[i] with p[Interval(i)].
func (r *RandomState) Shuffle(p []int) {
	for i := len(p) - 1; i > 0; i-- {
		j := r.Interval(uint64(i))
		p[i], p[j] = p[j], p[i]
	}
}

// Permutation writes np.random.permutation(len(p)) into p: 0..len(p)-1,
// shuffled.
func (r *RandomState) Permutation(p []int) {
	for i := range p {
		p[i] = i
	}
	r.Shuffle(p)
}

// Gauss returns a standard normal draw by the polar method, caching the
// second value of each pair, as np.random.randn and standard_normal do. It
// uses the same uniform draws as NumPy; a value may differ from NumPy's in
// the last bit, because Go's math.Log is not always correctly rounded.
func (r *RandomState) Gauss() float64 {
	if r.hasGauss {
		r.hasGauss = false
		return r.gauss
	}
	var x1, x2, r2 float64
	for {
		x1 = 2*r.Float64() - 1
		x2 = 2*r.Float64() - 1
		r2 = x1*x1 + x2*x2
		if r2 < 1 && r2 != 0 {
			break
		}
	}
	f := math.Sqrt(-2 * math.Log(r2) / r2)
	r.gauss, r.hasGauss = f*x1, true
	return f * x2
}
