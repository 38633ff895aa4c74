package rundir

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/experiment"
	"github.com/mgdl/mgdl/internal/atomicfile"
	"github.com/mgdl/mgdl/internal/jsonfmt"
)

// Summary records a training run: what was run (its whole configuration
// and digest), on what (backend, version), and the per-grade results. It
// is summary.json, rewritten after every grade (Running set) and at the end.
type Summary struct {
	Version string `json:"mgdl_version"`
	Digest  string `json:"digest"`
	// Backend is the matrix backend with its version and threads.
	Backend string            `json:"backend"`
	Config  experiment.Config `json:"config"`
	// Grades holds one result per trained grade (rejected ones included).
	Grades       []mgdl.GradeResult `json:"grades"`
	TotalSeconds float64            `json:"total_seconds"`
	// Running is set while the run goes on.
	Running bool `json:"running,omitempty"`
	// Error is set when the run stopped early (the grades listed finished).
	Error string `json:"error,omitempty"`
}

// Method returns "mgdl" or "sgdl".
func (s *Summary) Method() string { return string(s.Config.Method) }

// Final returns the last grade's result (the zero value if there is none).
func (s *Summary) Final() mgdl.GradeResult {
	if len(s.Grades) == 0 {
		return mgdl.GradeResult{}
	}
	return s.Grades[len(s.Grades)-1]
}

// Title is "MGDL" or "SGDL".
func (s *Summary) Title() string { return strings.ToUpper(s.Method()) }

// WriteSummary writes summary.json.
func (d *Dir) WriteSummary(s *Summary) error {
	b, err := jsonfmt.Marshal(s)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", SummaryFile, err)
	}
	return atomicfile.Write(d.File(SummaryFile), b)
}

// ReadSummary reads a run folder's summary.json.
func ReadSummary(dir string) (*Summary, error) {
	b, err := readSmall(dir, SummaryFile)
	if err != nil {
		return nil, err
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s/%s: %v", dir, SummaryFile, err)
	}
	return &s, nil
}
