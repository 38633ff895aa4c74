package limits

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestProduct(t *testing.T) {
	for _, c := range []struct {
		f    []int64
		want int64
		ok   bool
	}{
		{nil, 1, true},
		{[]int64{8, 1000, 1000}, 8e6, true},
		{[]int64{96, 16384, 16384}, 96 << 28, true},
		{[]int64{4294967296, 4294967296}, 0, false},
		{[]int64{3037000500, 3037000500}, 0, false}, // just above MaxInt64
		{[]int64{3037000499, 3037000499}, 3037000499 * 3037000499, true},
		{[]int64{-5, 4}, 0, false},
		{[]int64{0, math.MaxInt64, math.MaxInt64}, 0, true}, // a zero factor: no bytes
		{[]int64{math.MaxInt64, 0}, 0, true},
	} {
		got, ok := Product(c.f...)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("Product(%v) = %d, %v; want %d, %v", c.f, got, ok, c.want, c.ok)
		}
	}
}

func TestCheck(t *testing.T) {
	SetBudget(1 << 20)
	defer SetBudget(0)
	if err := Check("small", 8, 1000); err != nil {
		t.Fatal(err)
	}
	err := Check("an image of 1000×1000 pixels", 96, 1000, 1000)
	var tl *TooLargeError
	if !errors.As(err, &tl) || !errors.Is(err, ErrTooLarge) || tl.Bytes != 96e6 || tl.Budget != 1<<20 {
		t.Fatalf("%v", err)
	}
	if want := "an image of 1000×1000 pixels needs 92 MiB of memory, more than the memory budget of 1.0 MiB (raise it with --mem-limit or MGDL_MEM_LIMIT)"; err.Error() != want {
		t.Errorf("message %q\nwant %q", err, want)
	}
	err = Check("huge", 8, 1<<40, 1<<40)
	if !errors.As(err, &tl) || tl.Bytes != -1 || !strings.Contains(err.Error(), "huge needs more memory than the memory budget of 1.0 MiB") {
		t.Fatalf("overflow: %v", err)
	}
	if err := CheckTotal("sum", Sum(1<<19, 1<<19)); err != nil {
		t.Fatal(err)
	}
	if err := CheckTotal("sum", Sum(1<<19, 1<<19, 1)); err == nil {
		t.Fatal("over the budget by one byte accepted")
	}
	if Sum(math.MaxInt64, 1) != -1 || Sum(-1, 5) != -1 {
		t.Fatal("Sum does not flag overflow")
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1000": 1000, "2GiB": 2 << 30, "512MB": 512e6, "1.5GiB": 3 << 29, " 64 KiB ": 64 << 10, "1k": 1000} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "lots", "0", "-1GB", "1e30", "9EiB", "NaN", "1.5B", "0.5"} {
		if n, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, n)
		}
	}
}

func TestFromEnv(t *testing.T) {
	defer SetBudget(0)
	t.Setenv(EnvVar, "3MiB")
	if err := FromEnv(); err != nil || Budget() != 3<<20 {
		t.Fatalf("%v, budget %d", err, Budget())
	}
	t.Setenv(EnvVar, "plenty")
	if err := FromEnv(); err == nil || !strings.Contains(err.Error(), "MGDL_MEM_LIMIT") {
		t.Fatalf("bad value: %v", err)
	}
}

func TestDefault(t *testing.T) {
	SetBudget(0)
	b, basis := Default()
	if b <= 0 || Budget() != b || !strings.HasPrefix(basis, "a quarter of the ") {
		t.Fatalf("default %d (%s), budget %d", b, basis, Budget())
	}
	if got := DefaultUnder(4 << 30); got > 1<<30 || got > b && addressLimit() == 0 {
		t.Fatalf("under a 4 GiB address space the default is %d", got)
	}
}

// The limits of the table are consistent: the widest grade the table
// allows still fits the parameter limit only when it is shallow, and an
// image of the largest side is refused by a budget of less than its bytes.
func TestTable(t *testing.T) {
	if MaxWidth*MaxWidth <= MaxParams {
		t.Fatal("MaxParams does not bound a layer of MaxWidth²")
	}
	if MaxLayers >= MaxGrades {
		t.Fatal("a grade may have more layers than a model grades?")
	}
}

func ExampleCheck() {
	SetBudget(1 << 30)
	defer SetBudget(0)
	fmt.Println(Check("a PNG image of 16384×16384 pixels", 96, 16384, 16384))
	fmt.Println(Check("--size 4294967296x4294967296", 96, 4294967296, 4294967296))
	fmt.Println(Check("a table of 1000 rows of 10 numbers", 8, 1000, 10))
	// Output:
	// a PNG image of 16384×16384 pixels needs 24 GiB of memory, more than the memory budget of 1.0 GiB (raise it with --mem-limit or MGDL_MEM_LIMIT)
	// --size 4294967296x4294967296 needs more memory than the memory budget of 1.0 GiB (raise it with --mem-limit or MGDL_MEM_LIMIT)
	// <nil>
}
