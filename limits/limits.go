// Package limits holds the one table of sizes mgdl accepts (layer widths,
// depth, grades, parameters, image sides, file sizes) and the memory budget
// that every size coming from input is checked against before anything is
// allocated. The trainer, the model reader, the data readers and the command
// line all use these values, so what one part writes another can read.
//
// The budget bounds the bytes one input asks for (an array, an image, an
// archive entry, a model, the working set of a training run). Its default
// is a quarter of the memory this process may use: the smallest of the
// physical memory, the address-space limit (ulimit -v) and the cgroup
// memory limit. The environment variable MGDL_MEM_LIMIT (read by FromEnv)
// and SetBudget change it.
package limits

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dustin/go-humanize"
)

// The table of limits. Each is far above what the papers train; each
// keeps a hostile or mistyped size from reaching the allocator.
const (
	// MaxWidth is the widest layer (and the most input or target columns).
	MaxWidth = 1 << 20
	// MaxLayers is the most layers (weight matrices) in one grade (variant
	// C of the construction makes one deep grade per level).
	MaxLayers = 1 << 16
	// MaxGrades is the most grades in one model (the construction of
	// docs/CONSTRUCTIVE.md makes up to 200,000 small ones by default).
	MaxGrades = 1 << 18
	// MaxParams is the most parameters in all grades of a model together.
	MaxParams = 1 << 30
	// MaxImageSide is the longest image side, in pixels.
	MaxImageSide = 1 << 16
	// MaxChannels is the most channels of an image (RGBA).
	MaxChannels = 4
	// MaxHeader is the largest model-file header, in bytes.
	MaxHeader = 64 << 20
	// MaxConfig is the largest configuration file, in bytes.
	MaxConfig = 4 << 20
	// MaxSmallFile is the largest run-folder record (summary, staged
	// predictions, metrics log), in bytes.
	MaxSmallFile = 256 << 20
)

// EnvVar names the environment variable that sets the budget.
const EnvVar = "MGDL_MEM_LIMIT"

var budget atomic.Int64 // 0: the default

// defaultBudget is Default's figure, found once: it reads /sys and asks
// the kernel, and Budget is called for every size checked.
var defaultBudget = sync.OnceValue(func() int64 { b, _ := Default(); return b })

// Budget returns the memory budget in bytes.
func Budget() int64 {
	if b := budget.Load(); b > 0 {
		return b
	}
	return defaultBudget()
}

// SetBudget sets the memory budget to n bytes; n ≤ 0 restores the default.
func SetBudget(n int64) {
	if n < 0 {
		n = 0
	}
	budget.Store(n)
}

// Default returns the default budget and what it was derived from.
func Default() (int64, string) {
	mem, basis := available(addressLimit())
	return mem / 4, "a quarter of " + basis
}

// DefaultUnder returns the default budget of a process whose address space
// is limited to as bytes (ulimit -v; 0 for none) on this machine.
func DefaultUnder(as int64) int64 {
	mem, _ := available(as)
	return mem / 4
}

// available returns the memory a process with address-space limit as (0
// for none) may use and where the figure comes from.
func available(as int64) (int64, string) {
	n, basis := physical(), "the physical memory ("+humanize.IBytes(uint64(physical()))+")"
	if as > 0 && as < n {
		n, basis = as, "the address-space limit (ulimit -v, "+humanize.IBytes(uint64(as))+")"
	}
	if cg := cgroupLimit(); cg > 0 && cg < n {
		n, basis = cg, "the cgroup memory limit ("+humanize.IBytes(uint64(cg))+")"
	}
	return n, basis
}

func cgroupLimit() int64 {
	for _, p := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := strings.TrimSpace(string(b))
		if v, err := strconv.ParseInt(s, 10, 64); err == nil && v > 0 && v < 1<<60 {
			return v
		}
	}
	return 0
}

// Available returns the memory this process may use (the smallest of the
// physical memory, the address-space limit and the cgroup limit) and what
// the figure is.
func Available() (int64, string) { return available(addressLimit()) }

// SetChecked sets the budget to n bytes, refusing a budget above the memory
// this process may use: an input that passed it would end in a fatal
// out-of-memory instead of an error.
func SetChecked(n int64) error {
	if a, basis := Available(); n > a {
		return fmt.Errorf("%s is more than this process may use, %s", Format(n), basis)
	}
	SetBudget(n)
	return nil
}

// FromEnv sets the budget from MGDL_MEM_LIMIT when it is set.
func FromEnv() error {
	s, ok := os.LookupEnv(EnvVar)
	if !ok || s == "" {
		return nil
	}
	n, err := ParseSize(s)
	if err != nil {
		return fmt.Errorf("%s: %w", EnvVar, err)
	}
	if err := SetChecked(n); err != nil {
		return fmt.Errorf("%s=%s: %w", EnvVar, s, err)
	}
	return nil
}

// ParseSize reads a byte count such as "2GiB", "512MB", "1.5G" or
// "1000000". It must be positive.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	v, err := humanize.ParseBytes(s)
	if err == nil && strings.Contains(s, ".") {
		// A fraction of a unit must come to whole bytes: 1.5B is no size
		// (humanize would truncate it to 1).
		num := strings.TrimRight(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ ")
		unit := strings.TrimSpace(s[len(num):])
		f, ferr := strconv.ParseFloat(num, 64)
		mult, merr := humanize.ParseBytes("1" + unit)
		if x := f * float64(mult); ferr != nil || merr != nil || x != math.Trunc(x) {
			err = fmt.Errorf("not whole bytes")
		}
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a size; want a number of bytes with an optional unit (512MiB, 2GB, 1.5GiB)", s)
	}
	if v == 0 || v > math.MaxInt64 {
		return 0, fmt.Errorf("%q: want a size above 0 and below 8 EiB", s)
	}
	return int64(v), nil
}

// Format writes a byte count for people: "1.5 GiB".
func Format(n int64) string {
	if n < 0 {
		return "more than 8 EiB"
	}
	return humanize.IBytes(uint64(n))
}

// Product returns the product of the factors, or false if one is negative
// or the product exceeds math.MaxInt64.
func Product(factors ...int64) (int64, bool) {
	p := uint64(1)
	for _, f := range factors {
		if f < 0 {
			return 0, false
		}
		hi, lo := bits.Mul64(p, uint64(f))
		if hi != 0 || lo > math.MaxInt64 {
			return 0, false
		}
		p = lo
	}
	return int64(p), true
}

// ErrTooLarge is wrapped by every *TooLargeError.
var ErrTooLarge = errors.New("too large for the memory budget")

// TooLargeError reports an input whose size exceeds the budget or overflows.
type TooLargeError struct {
	// What names the input ("image 16384×16384", "grade 1").
	What string
	// Bytes is what it needs; -1 when the size overflows.
	Bytes int64
	// Budget is the budget it was checked against.
	Budget int64
}

func (e *TooLargeError) Error() string {
	if e.Bytes < 0 {
		return fmt.Sprintf("%s needs more memory than the memory budget of %s (raise it with --mem-limit or %s)", e.What, Format(e.Budget), EnvVar)
	}
	return fmt.Sprintf("%s needs %s of memory, more than the memory budget of %s (raise it with --mem-limit or %s)", e.What, Format(e.Bytes), Format(e.Budget), EnvVar)
}

func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// Check returns a *TooLargeError if the product of the factors (bytes per
// element times the dimensions) exceeds the budget or overflows. what names
// the input for the message.
func Check(what string, factors ...int64) error {
	n, ok := Product(factors...)
	if !ok {
		n = -1
	}
	if b := Budget(); !ok || n > b {
		return &TooLargeError{What: what, Bytes: n, Budget: b}
	}
	return nil
}

// Sum adds byte counts, returning -1 on overflow or when a term is -1.
func Sum(terms ...int64) int64 {
	var s int64
	for _, t := range terms {
		if t < 0 || s > math.MaxInt64-t {
			return -1
		}
		s += t
	}
	return s
}

// CheckTotal returns a *TooLargeError if n (a byte count, -1 for overflow)
// exceeds the budget.
func CheckTotal(what string, n int64) error {
	if b := Budget(); n < 0 || n > b {
		return &TooLargeError{What: what, Bytes: n, Budget: b}
	}
	return nil
}

// Params returns the number of weights and biases of a grade of layer
// widths w (input first). It does not overflow for widths Widths accepts.
func Params(w []int) int64 {
	var p int64
	for i := 1; i < len(w); i++ {
		p += int64(w[i-1])*int64(w[i]) + int64(w[i])
	}
	return p
}

// Widths checks one grade's layer widths (input first, output last)
// against the table of limits and returns its number of parameters. The
// trainer and the model reader both call it, so that what one accepts the
// other does.
func Widths(w []int) (int64, error) {
	if len(w) < 2 {
		return 0, fmt.Errorf("widths %v need at least an input and an output", w)
	}
	if len(w)-1 > MaxLayers {
		return 0, fmt.Errorf("%d layers; at most %d", len(w)-1, MaxLayers)
	}
	for _, v := range w {
		if v <= 0 {
			return 0, fmt.Errorf("widths %v must be positive", w)
		}
		if v > MaxWidth {
			return 0, fmt.Errorf("width %d is above the limit of %d", v, MaxWidth)
		}
	}
	p := Params(w)
	if p > MaxParams {
		return 0, fmt.Errorf("%d parameters; at most %d", p, MaxParams)
	}
	return p, nil
}
