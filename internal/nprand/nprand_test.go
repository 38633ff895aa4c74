package nprand

import (
	"fmt"
	"math"
	"slices"
	"testing"
)

// The expected values were printed by NumPy 1.24.2 (Debian bookworm's
// python3-numpy), e.g. np.random.RandomState(1).uniform(-1, 1, 5).
func TestMatchesNumPy(t *testing.T) {
	t.Run("uniform", func(t *testing.T) {
		r := New(1)
		want := []float64{-0.165955990594852, 0.4406489868843162, -0.9997712503653102, -0.39533485473632046, -0.7064882183657739}
		for i, w := range want {
			if got := r.Uniform(-1, 1); got != w {
				t.Fatalf("draw %d: %v, NumPy %v", i, got, w)
			}
		}
	})
	t.Run("random_sample at the largest seed", func(t *testing.T) {
		r := New(1<<32 - 1)
		for i, w := range []float64{0.0976320289940138, 0.9123828453026218} {
			if got := r.Float64(); got != w {
				t.Fatalf("draw %d: %v, NumPy %v", i, got, w)
			}
		}
	})
	t.Run("permutation", func(t *testing.T) {
		p := make([]int, 10)
		New(0).Permutation(p)
		if want := []int{2, 8, 4, 9, 1, 6, 7, 3, 0, 5}; !slices.Equal(p, want) {
			t.Fatalf("permutation(10) = %v, NumPy %v", p, want)
		}
		// 6000 rows: past one regeneration of the state (624 words).
		p = make([]int, 6000)
		New(7).Permutation(p)
		if got, want := append(p[:5:5], p[5997:]...), []int{3346, 5461, 2352, 4320, 3279, 537, 1220, 4271}; !slices.Equal(got, want) {
			t.Fatalf("permutation(6000) ends = %v, NumPy %v", got, want)
		}
	})
	t.Run("randn", func(t *testing.T) {
		// Within one unit in the last place: Go's math.Log is not always
		// correctly rounded, as glibc's log (which NumPy calls) is.
		r := New(3)
		want := []float64{1.7886284734303186, 0.43650985051198943, 0.09649746807200862, -1.8634927033644908, -0.27738820251439905}
		for i, w := range want {
			if got := r.Gauss(); got != w && got != math.Nextafter(w, math.Inf(1)) && got != math.Nextafter(w, math.Inf(-1)) {
				t.Fatalf("draw %d: %v, NumPy %v", i, got, w)
			}
		}
	})
}

func TestSeedResets(t *testing.T) {
	r := New(9)
	a := []float64{r.Gauss(), r.Float64()}
	r.Seed(9)
	if b := []float64{r.Gauss(), r.Float64()}; !slices.Equal(a, b) {
		t.Fatalf("reseeded stream differs: %v then %v", a, b)
	}
}

func TestIntervalBounds(t *testing.T) {
	r := New(4)
	for _, max := range []uint64{0, 1, 2, 5, 255, 256, 1 << 32, 1<<40 + 3} {
		for i := 0; i < 200; i++ {
			if v := r.Interval(max); v > max {
				t.Fatalf("Interval(%d) = %d", max, v)
			}
		}
	}
}

func ExampleRandomState() {
	// np.random.seed(0); np.random.permutation(5)
	p := make([]int, 5)
	New(0).Permutation(p)
	fmt.Println(p)
	// Output: [2 0 1 3 4]
}
