package experiment

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/internal/buildinfo"
	"github.com/mgdl/mgdl/internal/jsonfmt"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
)

// Method is how the grades are trained.
type Method string

// Methods.
const (
	// MGDL trains the grades one after another, each on the frozen
	// features and the residual of the ones before it.
	MGDL Method = "mgdl"
	// SGDL stacks the same hidden layers in one network trained end to end
	// (mgdl.Config.SGDL): the baseline.
	SGDL Method = "sgdl"
)

// ParseMethod maps "mgdl" or "sgdl" (any case) to a Method.
func ParseMethod(s string) (Method, error) {
	switch m := Method(strings.ToLower(strings.TrimSpace(s))); m {
	case MGDL, SGDL:
		return m, nil
	}
	return "", fmt.Errorf("method %q: want mgdl or sgdl", s)
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (m *Method) UnmarshalText(b []byte) error {
	v, err := ParseMethod(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Config is one run's whole configuration, and what a run folder's
// config.json holds: the method, the dtype, the data source and the
// trainer's configuration (grades, seed, task, ridge, growth), whose
// fields sit at the top level of the JSON.
//
// A Config from Default or Decode may leave Grades empty; Resolve fills
// them from the example's published recipe or a default architecture for
// the data, and puts every field in its canonical form. A resolved Config
// decodes back to itself, so config.json repeats the run exactly.
type Config struct {
	Method Method `json:"method"`
	// DType is the element type of the data, the model and all arithmetic:
	// "float64" (the papers' code) or "float32".
	DType string      `json:"dtype"`
	Data  data.Source `json:"data"`
	mgdl.Config
	// SGDLEpochs is the epoch budget of the SGDL network (0: grade 1's).
	SGDLEpochs int `json:"sgdl_epochs,omitempty"`
	// Version and Digest are written by mgdl with the file (the library
	// version, and Digest of the rest); they are informational on input.
	Version string `json:"mgdl_version,omitempty"`
	Digest  string `json:"digest,omitempty"`
}

// Default returns the configuration every run starts from before a file
// or flags change it: MGDL in float64 on data.DefaultSource, seed 1, the
// grades left to Resolve.
func Default() Config {
	return Config{Method: MGDL, DType: "float64", Data: data.DefaultSource(), Config: mgdl.Config{Seed: 1}}
}

// DefaultGrade is the grade every grade starts from before a file, an
// example's recipe or flags set its fields: ReLU, Xavier initialisation,
// 100 epochs of Adam at a constant rate 1e-3, minibatches of 256, no early
// stopping.
func DefaultGrade() mgdl.GradeSpec {
	return mgdl.GradeSpec{Activation: nn.ReLU, Init: nn.Xavier, Epochs: 100, BatchSize: 256, LR: optim.Constant(1e-3), Optimizer: optim.KindAdam}
}

// Trainer returns the trainer's configuration for the method: the grades
// as they are for MGDL, their hidden layers in one network for SGDL.
func (c Config) Trainer() mgdl.Config {
	if c.Method != SGDL || len(c.Grades) == 0 {
		return c.Config
	}
	e := c.SGDLEpochs
	if e == 0 {
		e = c.Grades[0].Epochs
	}
	return c.Config.SGDL(e)
}

// Resolve fills what c leaves open from the data l holds (as loaded from
// c.Data): the grades, from the example's published recipe (Paper) or a
// default architecture for the data (DefaultWidths) with DefaultGrade's
// settings, and the task. It checks the method and the dtype and resolves
// the data source (absolute paths). The trainer checks the grades against
// the data (mgdl.NewTrainer). Version and Digest, which describe a file,
// are cleared.
func (c *Config) Resolve(l *data.Loaded) error {
	c.Version, c.Digest = "", ""
	src, err := c.Data.Resolve()
	if err != nil {
		return err
	}
	c.Data = src
	if _, err := ParseMethod(string(c.Method)); err != nil {
		return &mgdl.ConfigError{Err: err}
	}
	if c.RNG, err = mgdl.ParseRNG(string(c.RNG)); err != nil {
		return &mgdl.ConfigError{Err: err}
	}
	if c.DType != "float64" && c.DType != "float32" {
		return &mgdl.ConfigError{Err: fmt.Errorf("dtype %q: want float64 or float32", c.DType)}
	}
	if c.Method == SGDL && c.Grow != nil {
		return &mgdl.ConfigError{Err: fmt.Errorf("adaptive growth (grow) applies to mgdl only")}
	}
	if c.SGDLEpochs < 0 {
		return &mgdl.ConfigError{Err: fmt.Errorf("sgdl_epochs %d is negative", c.SGDLEpochs)}
	}
	if c.Method != SGDL {
		c.SGDLEpochs = 0
	}
	if c.Task == "" {
		c.Task = mgdl.Regression
		if l.Task == string(mgdl.Classification) {
			c.Task = mgdl.Classification
		}
	}
	if len(c.Grades) == 0 {
		if src.IsFile() {
			c.Grades = Uniform(DefaultWidths(l))
		} else {
			c.Grades = Paper(src.Example)
		}
	}
	return nil
}

// SetWidths replaces the widths of the grades by widths. Each new grade
// keeps the settings of the grade at its position, or of the last grade
// when there are more new ones (DefaultGrade's with no grades).
func (c *Config) SetWidths(widths [][]int) {
	old := c.Grades
	c.Grades = make([]mgdl.GradeSpec, len(widths))
	for l, w := range widths {
		g := DefaultGrade()
		if len(old) > 0 {
			g = old[min(l, len(old)-1)]
		}
		g.Widths = slices.Clone(w)
		c.Grades[l] = g
	}
}

// Uniform returns one grade of DefaultGrade's settings per widths entry.
func Uniform(widths [][]int) []mgdl.GradeSpec {
	var c Config
	c.SetWidths(widths)
	return c.Grades
}

// ComputeDigest returns the SHA-256 of c's canonical JSON encoding,
// without Version and Digest: two configurations with the same digest
// train the same model. It fails only for values JSON cannot hold (NaN or
// infinite numbers), which a validated configuration has none of.
func (c Config) ComputeDigest() (string, error) {
	c.Version, c.Digest = "", ""
	b, err := json.Marshal(c)
	if err != nil {
		return "", fmt.Errorf("encoding the configuration: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// Encode returns c as config.json holds it: indented JSON with Version and
// Digest set.
func (c Config) Encode() ([]byte, error) {
	d, err := c.ComputeDigest()
	if err != nil {
		return nil, err
	}
	c.Version, c.Digest = buildinfo.Version, d
	b, err := jsonfmt.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encoding the configuration: %w", err)
	}
	return b, nil
}
