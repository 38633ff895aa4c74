package mgdl

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// Version is the library version recorded in summaries and models.
const Version = "0.1.0"

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
	return WriteFileAtomic(path, append(b, '\n'))
}

// WriteFileAtomic writes b to path so that a crash at any moment leaves
// either the old file or the new one: it writes a temporary file in the same
// folder, syncs it, renames it over path and syncs the folder.
func WriteFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp) // no-op after a successful rename
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("syncing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("replacing %s: %w", path, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
