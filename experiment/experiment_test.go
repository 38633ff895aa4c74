package experiment

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
)

func mustDecode(t *testing.T, s string) Config {
	t.Helper()
	c, err := Decode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func resolved(t *testing.T, c Config) Config {
	t.Helper()
	src, err := c.Data.Resolve()
	if err != nil {
		t.Fatal(err)
	}
	l, err := src.Load()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Resolve(l); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestDecodeConveniences: bare width lists, grade_defaults under each
// grade's own settings, DefaultGrade under both, data as a file name.
func TestDecodeConveniences(t *testing.T) {
	c := mustDecode(t, `
grade_defaults: {epochs: 7, lr: {max: 1e-2, min: 1e-3}}
grades:
  - [1, 8, 8, 1]
  - {widths: [8, 4, 1], epochs: 3, activation: tanh}
data: table.csv
`)
	want := []mgdl.GradeSpec{
		{Widths: []int{1, 8, 8, 1}, Epochs: 7, BatchSize: 256, LR: optim.ExpDecay(1e-2, 1e-3)},
		{Widths: []int{8, 4, 1}, Epochs: 3, BatchSize: 256, LR: optim.ExpDecay(1e-2, 1e-3), Activation: nn.Tanh},
	}
	if !reflect.DeepEqual(c.Grades, want) {
		t.Errorf("grades\n%+v\nwant\n%+v", c.Grades, want)
	}
	if c.Data.File != "table.csv" || c.Data.Example != "" || c.Data.Val != 0.15 || c.Method != MGDL || c.DType != "float64" || c.Seed != 1 {
		t.Errorf("defaults around the file: %+v", c)
	}
	// A grade with no settings takes DefaultGrade's.
	g := mustDecode(t, "grades: [[1,4,1]]").Grades[0]
	d := DefaultGrade()
	d.Widths = []int{1, 4, 1}
	if !reflect.DeepEqual(g, d) {
		t.Errorf("a bare grade is %+v, want DefaultGrade's %+v", g, d)
	}
	// A constant rate may be one number.
	if lr := mustDecode(t, "grades: [{widths: [1,4,1], lr: 0.5}]").Grades[0].LR; lr != optim.Constant(0.5) {
		t.Errorf("lr: 0.5 is %+v", lr)
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", "want a mapping"},
		{"epochs: 3", `unknown setting "epochs" (it belongs in grade_defaults or each grade)`},
		{"data: {example: xu1, sed: 2}", `unknown setting "data.sed"`},
		{"grades: [{widths: [1,2], epoch: 3}]", `unknown setting "grades[0].epoch"`},
		{"grade_defaults: {widths: [1,2]}\ngrades: [[1,2]]", `unknown setting "grade_defaults.widths"`},
		{"grade_defaults: {epochs: 2}", "grade_defaults without grades"},
		{"grades: 3", "grades: want a list"},
		{"grades: [{epochs: 3}]", "grades[0]: no widths"},
		{"grades: [[1,2]]\nseed: -1", "seed"},
		{"seed: 1\nseed: 2", "already defined"},
		{"grades: [{widths: [1,2], lr: {max: 1, mid: 2}}]", "learning rate"},
		{"grades: [{widths: [1,2], activation: gelu}]", "gelu"},
		{"method: fast", `method "fast"`},
		{"data: {missing: zero}", "zero"},
	} {
		_, err := Decode([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one containing %q", c.in, err, c.want)
		}
	}
}

// TestResolveRoundTrip: a resolved configuration encodes to config.json
// and decodes back to itself, with the same digest, for an example and for
// a data file; resolving again changes nothing.
func TestResolveRoundTrip(t *testing.T) {
	dir := t.TempDir()
	csv := filepath.Join(dir, "t.csv")
	if err := os.WriteFile(csv, []byte("a,b,y\n1,2,3\n2,3,5\n3,4,7\n4,5,9\n5,6,11\n6,7,13\n7,8,15\n8,9,17\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	for name, in := range map[string]string{
		"example": "data: {example: xu1, seed: 4}\nmethod: sgdl\nsgdl_epochs: 9\n",
		"file":    "data: {file: t.csv, inputs: [a, 1], standardize: both, val: 0.25, test: 0.25}\ngrades: [[2,8,1],[8,8,1]]\ndtype: float32\n",
		"growth":  "grades: [[1,8,8,1]]\ngrow: {max_grades: 4}\n",
	} {
		t.Run(name, func(t *testing.T) {
			c := resolved(t, mustDecode(t, in))
			d1, err := c.ComputeDigest()
			if err != nil {
				t.Fatal(err)
			}
			b, err := c.Encode()
			if err != nil {
				t.Fatal(err)
			}
			dec := mustDecode(t, string(b))
			if dec.Digest != d1 {
				t.Fatalf("digest %s in the file, %s before", dec.Digest, d1)
			}
			back := resolved(t, dec)
			if d2, _ := back.ComputeDigest(); d2 != d1 {
				t.Fatalf("digest %s decoded and resolved, %s before", d2, d1)
			}
			if back.Version != "" || back.Digest != "" {
				t.Errorf("Resolve kept the file's version %q and digest %q", back.Version, back.Digest)
			}
			if !reflect.DeepEqual(back, c) {
				t.Errorf("decoded\n%+v\nwant\n%+v", back, c)
			}
		})
	}
	c := resolved(t, mustDecode(t, "data: t.csv"))
	if !filepath.IsAbs(c.Data.File) || len(c.Grades) != 3 || c.Grades[0].Widths[0] != 2 || c.Task != mgdl.Regression {
		t.Errorf("a file source resolves to %+v", c)
	}
	// The digest sees every setting.
	a, b := resolved(t, Default()), resolved(t, Default())
	b.Grades[2].Epochs++
	da, _ := a.ComputeDigest()
	db, _ := b.ComputeDigest()
	if da == db {
		t.Error("two configurations that train differently have one digest")
	}
}

func TestResolveErrors(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Method: "xgdl", DType: "float64", Data: data.Source{Example: "xu1"}}, "method"},
		{Config{Method: MGDL, DType: "float16", Data: data.Source{Example: "xu1"}}, "dtype"},
		{Config{Method: SGDL, DType: "float64", Data: data.Source{Example: "xu1"}, Config: mgdl.Config{Grow: &mgdl.Grow{MaxGrades: 3}}}, "mgdl only"},
	} {
		err := c.cfg.Resolve(&data.Loaded{})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error about %s", c.cfg, err, c.want)
		}
	}
	if _, err := (data.Source{Example: "nope"}).Resolve(); err == nil || !data.IsSettingError(err) {
		t.Errorf("unknown example: %v", err)
	}
}

func TestTrainerAndSetWidths(t *testing.T) {
	c := resolved(t, Default()) // spectral2, the papers' 4 grades
	if got := len(c.Trainer().Grades); got != 4 {
		t.Errorf("MGDL trains %d grades", got)
	}
	c.Method, c.SGDLEpochs = SGDL, 7
	s := c.Trainer()
	if len(s.Grades) != 1 || model.FormatWidths(s.Grades[0].Widths) != "[1,256×8,1]" || s.Grades[0].Epochs != 7 {
		t.Errorf("SGDL trains %+v", s.Grades)
	}
	c.Grades[1].Epochs = 11
	c.SetWidths([][]int{{1, 4, 1}, {4, 4, 1}, {4, 4, 1}, {4, 4, 1}, {4, 4, 1}})
	if c.Grades[1].Epochs != 11 || c.Grades[4].Epochs != c.Grades[3].Epochs || model.FormatWidths(c.Grades[4].Widths) != "[4,4,1]" {
		t.Errorf("SetWidths: %+v", c.Grades)
	}
}

// Decode a hand-written configuration: the papers' notation for grades,
// settings shared through grade_defaults.
func ExampleDecode() {
	c, err := Decode([]byte(`
method: mgdl
data: {example: spectral2, seed: 1}
grade_defaults: {epochs: 300, batch_size: 256, lr: 1e-4}
grades: [[1,256,256,1], [256,256,256,1]]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, g := range c.Grades {
		fmt.Println(model.FormatWidths(g.Widths), g.Activation, g.Epochs, g.BatchSize, g.LR)
	}
	fmt.Println(model.FormatWidths(c.Trainer().Grades[0].Widths))
	c.Method = SGDL
	fmt.Println(model.FormatWidths(c.Trainer().Grades[0].Widths))
	// Output:
	// [1,256×2,1] relu 300 256 constant 0.0001
	// [256,256×2,1] relu 300 256 constant 0.0001
	// [1,256×2,1]
	// [1,256×4,1]
}

// FuzzDecode: no configuration text makes Decode panic, and one that
// decodes encodes to JSON that decodes to the same configuration.
func FuzzDecode(f *testing.F) {
	for _, p := range []string{"spectral2-mgdl.yaml", "spectral2-early-stopping.yaml", "xu1.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "examples", p))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"method": "sgdl", "grades": [[1, 8, 1]], "seed": 3}`))
	f.Add([]byte("grade_defaults: {epochs: 5}\ngrades: [[1, 4, 1], [4, 4, 1]]\n"))
	f.Add([]byte("data: table.csv\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := Decode(b)
		if err != nil {
			return
		}
		j, err := c.Encode()
		if err != nil {
			return // a value JSON cannot hold is an error, not a panic
		}
		back, err := Decode(j)
		if err != nil {
			t.Fatalf("encoded configuration does not decode: %v\n%s", err, j)
		}
		j2, err := back.Encode()
		if err != nil || !bytes.Equal(j, j2) {
			t.Fatalf("round trip differs:\n%s\n%s", j, j2)
		}
	})
}
