package mgdl

import (
	"encoding/json"
	"fmt"

	"github.com/mgdl/mgdl/internal/atomicfile"
	"github.com/mgdl/mgdl/internal/buildinfo"
)

// Version is the library version recorded in summaries and models.
const Version = buildinfo.Version

// Summary records a training run: what was run, on what, and the per-grade
// results. It is written as summary.json by the command-line program.
type Summary struct {
	Method       string        `json:"method"` // "mgdl" or "sgdl"
	DType        string        `json:"dtype"`
	Seed         uint64        `json:"seed"`
	Example      string        `json:"example,omitempty"`
	Backend      string        `json:"backend"`
	Version      string        `json:"version"`
	Config       Config        `json:"config"`
	Grades       []GradeResult `json:"grades"`
	TotalSeconds float64       `json:"total_seconds"`
	// Error is set when the run stopped early (the grades listed finished).
	Error string `json:"error,omitempty"`
}

// Final returns the last grade's result (the zero value if there is none).
func (s *Summary) Final() GradeResult {
	if len(s.Grades) == 0 {
		return GradeResult{}
	}
	return s.Grades[len(s.Grades)-1]
}

// WriteJSON writes s to path atomically (a temporary file in the same
// folder, synced, then renamed over path).
func (s *Summary) WriteJSON(path string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding summary: %w", err)
	}
	return atomicfile.Write(path, append(b, '\n'))
}
