package blasargs

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		name                               string
		tA, tB                             bool
		m, n, k, la, lda, lb, ldb, lc, ldc int
		panics                             string
	}{
		{"ok", false, false, 2, 3, 4, 8, 4, 12, 3, 6, 3, ""},
		{"ok transposed", true, true, 2, 3, 4, 8, 2, 12, 4, 6, 3, ""},
		{"padded stride", false, false, 2, 3, 4, 9, 5, 12, 3, 6, 3, ""},
		{"negative", false, false, -1, 3, 4, 8, 4, 12, 3, 6, 3, "negative size"},
		{"short A", false, false, 2, 3, 4, 7, 4, 12, 3, 6, 3, "x: A is 2×4"},
		{"small ldb", false, false, 2, 3, 4, 8, 4, 12, 2, 6, 3, "x: ldB=2"},
		{"short C", false, false, 2, 3, 4, 8, 4, 12, 3, 5, 3, "x: C is 2×3"},
		{"empty", false, false, 0, 0, 0, 0, 1, 0, 1, 0, 1, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if (c.panics == "") != (r == nil) || !strings.Contains(msg, c.panics) {
					t.Fatalf("panic %v, want %q", r, c.panics)
				}
			}()
			Check("x", c.tA, c.tB, c.m, c.n, c.k, c.la, c.lda, c.lb, c.ldb, c.lc, c.ldc)
		})
	}
}

func TestTrivial(t *testing.T) {
	nan := func() float64 { var z float64; return z / z }()
	c := []float64{nan, 2, 9, 3, 4, 9} // 2×2 block, stride 3
	if !Trivial(2, 2, 0, 1.0, 0, c, 3) || c[0] != 0 || c[1] != 0 || c[3] != 0 || c[4] != 0 || c[2] != 9 {
		t.Fatalf("k = 0, beta = 0: %v", c)
	}
	c = []float64{1, 2, 9, 3, 4, 9}
	if !Trivial(2, 2, 5, 0.0, 2, c, 3) || c[0] != 2 || c[4] != 8 || c[5] != 9 {
		t.Fatalf("alpha = 0, beta = 2: %v", c)
	}
	if !Trivial(0, 2, 5, 1.0, 2, c, 3) || c[0] != 2 {
		t.Fatal("m = 0 touched C")
	}
	if Trivial(2, 2, 5, 1.0, 2, c, 3) {
		t.Fatal("a real product was called trivial")
	}
}
