// Package testenv holds the switch for the slow checks that the README's
// test command leaves out: the full demo, the long constructive
// properties, the documented benchmarks.
//
//	MGDL_LONG=1 go test ./...
//
// runs them too (.ci/run does).
package testenv

import (
	"os"
	"testing"
)

// LongVar is the environment variable that turns the slow checks on.
const LongVar = "MGDL_LONG"

// IsLong reports whether the slow checks run.
func IsLong() bool { return os.Getenv(LongVar) == "1" }

// Long skips t unless the slow checks run; what says what t does and how
// long it takes.
func Long(t testing.TB, what string) {
	t.Helper()
	if !IsLong() {
		t.Skipf("slow check (%s): run with %s=1", what, LongVar)
	}
}
