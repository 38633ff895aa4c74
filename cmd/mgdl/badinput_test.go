package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/rundir"
)

// badCase is one row of docs/BAD_INPUT.md: a command line, the exit code
// it must give and a piece of its message.
type badCase struct {
	name string
	args []string
	code int
	msg  string
}

// badInputCases builds the files each case needs under dir. A trained
// model is made once (2 inputs a, b; 1 target y).
func badInputCases(t *testing.T, dir string) []badCase {
	w := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wb := func(name string, b []byte) string { return w(name, string(b)) }
	good := filepath.Join(dir, "good.csv")
	writeTable(t, good, 200)
	run := filepath.Join(dir, "run")
	if _, err := runCLI(t, "train", "--data", good, "--inputs", "a,b", "--targets", "y", "--grades", "[[2,8,8,1],[8,8,1]]",
		"--epochs", "5", "--out", run, "--progress", "none"); err != nil {
		t.Fatal(err)
	}
	model := filepath.Join(run, rundir.ModelFile)
	mb, _ := os.ReadFile(model)
	n := binary.LittleEndian.Uint64(mb)
	flipped := bytes.Clone(mb)
	flipped[len(flipped)-3] ^= 0x10
	newer := bytes.Replace(mb, []byte(`\"format_version\":1`), []byte(`\"format_version\":7`), 1)
	var npyBuf bytes.Buffer
	data.EncodeNPY(&npyBuf, []int{2, 2}, []float64{1, math.NaN(), 3, 4})
	var npy3 bytes.Buffer
	data.EncodeNPY(&npy3, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6})
	png, _ := os.ReadFile(camera)
	train := func(file string, extra ...string) []string {
		return append([]string{"train", "--data", file, "--out", filepath.Join(dir, "out"), "--progress", "none", "--epochs", "1"}, extra...)
	}
	predict := func(model, input string) []string {
		return []string{"predict", "--model", model, "--input", input, "--out", filepath.Join(dir, "p.csv")}
	}
	return []badCase{
		{"empty CSV", train(w("empty.csv", "")), 1, "empty.csv: the file is empty; want a header line naming the columns, then rows of numbers"},
		{"CSV with a header only", train(w("header.csv", "a,b\n")), 1, "header.csv: a header but no data rows"},
		{"ragged CSV row", train(w("ragged.csv", "a,b,y\n1,2,3\n4,5\n")), 1, "ragged.csv:3: 2 fields, but the header has 3"},
		{"non-numeric cell", train(w("text.csv", "a,b,y\n1,2,3\n4,five,6\n")), 1, `text.csv:3: column 2 ("b"): cannot read "five" as a number`},
		{"missing value, no policy", train(w("na.csv", "a,b,y\n1,,3\n")), 1, `na.csv:2: column 2 ("b"): missing value ""; want a number (or choose a missing-value policy: drop or mean)`},
		{"NaN cell", train(w("nan.csv", "a,b,y\n1,NaN,3\n")), 1, `nan.csv:2: column 2 ("b"): missing value "NaN"`},
		{"infinite cell", train(w("inf.csv", "a,b,y\n1,2,inf\n")), 1, `inf.csv:2: column 3 ("y"): "inf" is infinite; want a finite number`},
		{"unknown target column", train(good, "--targets", "price"), 1, `good.csv: no target column named "price" (the header has: id, a, b, y)`},
		{"text column used as input", train(good), 1, `good.csv:2: column 1 ("id"): cannot read "r0" as a number`},
		{"unknown missing-value policy", train(good, "--missing", "zero"), 2, `--missing: unknown missing-value policy "zero" (want error, drop or mean)`},
		{"unknown standardisation", train(good, "--standardize", "all"), 2, `--standardize "all": want none, inputs, targets or both`},
		{"grades that do not fit the data", train(good, "--inputs", "a,b", "--grades", "[[3,8,1]]"), 2, "grade 1: input width 3, but the data have 2 input columns"},
		{"truncated .npy", train(wb("cut.npy", npy3.Bytes()[:npy3.Len()-5]), "--targets", wb("t.npy", npy3.Bytes())), 1, "cut.npy: truncated .npy file: shape [2 3] of <f8 needs 48 data bytes, the file has 43"},
		{"NaN in .npy", train(wb("nan.npy", npyBuf.Bytes()), "--targets", wb("t2.npy", npy3.Bytes())), 1, "nan.npy: row 0, column 1 is NaN; want finite numbers"},
		{".npy without targets", train(wb("x.npy", npy3.Bytes())), 2, "x.npy: an .npy file holds the inputs only; give the targets file with --targets FILE.npy"},
		{"inputs and targets of different lengths", train(wb("x3.npy", npy3.Bytes()), "--targets", wb("y1.npy", npyOf(t, 1))), 1, "has 2 rows but"},
		{"truncated PNG", train(wb("cut.png", png[:len(png)/2])), 1, "cut.png: decoding png image: png: invalid format: not enough pixel data"},
		{"not an image", train(w("fake.png", "hello")), 1, "fake.png: not a PNG or JPEG image"},
		{"IDX folder without the files", train(dir), 1, "no train-images-idx3-ubyte or train-images-idx3-ubyte.gz"},
		{"data file does not exist", train(filepath.Join(dir, "none.csv")), 1, "no such file or directory"},
		{"input width differs from the model's", predict(model, wb("w3.npy", npy3.Bytes())), 1, "the inputs have 3 columns but the model expects 2 (a, b)"},
		{"input lacks the model's columns", predict(model, w("ab.csv", "a,c\n1,2\n")), 1, `ab.csv: no input column named "b" (the header has: a, c)`},
		{"targets width differs (eval)", []string{"eval", "--model", model, "--data", w("ev.csv", "a,b,y\n1,2,3\n"), "--targets", "a,y"}, 1, "the targets have 2 columns but the model has 1 outputs"},
		{"truncated model file", predict(wb("cut.safetensors", mb[:len(mb)-100]), good), 1, "model file is truncated: the architecture needs"},
		{"model cut inside its header", predict(wb("cuth.safetensors", mb[:8+n/2]), good), 1, "model file is truncated: the header needs"},
		{"corrupted model file (one bit)", predict(wb("flip.safetensors", flipped), good), 1, "model file is corrupted: the tensor bytes do not match their SHA-256"},
		{"foreign file as model", predict(camera, good), 1, "not an mgdl model file: no safetensors header"},
		{"safetensors without mgdl metadata", predict(wb("foreign.safetensors", foreignSafetensors()), good), 1, "not an mgdl model file: a safetensors file without mgdl metadata"},
		{"model from a newer format version", predict(wb("newer.safetensors", newer), good), 1, "model file has a newer format version: the file has format version 7, this mgdl"},
		{"model path does not exist", predict(filepath.Join(dir, "none.safetensors"), good), 1, "no such file or directory"},
		{"output path cannot be written", []string{"predict", "--model", model, "--input", good, "--out", filepath.Join(dir, "no", "such", "p.csv")}, 1, "cannot write " + filepath.Join(dir, "no", "such", "p.csv")},
		{"output folder cannot be made", []string{"train", "--data", good, "--inputs", "a,b", "--out", filepath.Join(good, "sub"), "--epochs", "1", "--progress", "none"}, 1, "cannot create output folder"},
		{"output folder holds a run", []string{"train", "--data", good, "--inputs", "a,b", "--out", run, "--epochs", "1", "--progress", "none"}, 2, "already holds a run (config.json, metrics.jsonl, model.safetensors, summary.json): give --resume"},
		{"output folder holds other files", []string{"train", "--data", good, "--inputs", "a,b", "--out", dir, "--epochs", "1", "--progress", "none", "--replace"}, 2, "holds files but no run ("},
		{"unknown output kind", []string{"predict", "--model", model, "--input", good, "--out", filepath.Join(dir, "p.xlsx")}, 2, "want a .csv, .tsv, .npy, .png or .jpg file"},
		{"--resume of a folder that is no run", []string{"train", "--resume", dir}, 2, "not a run folder: no config.json there"},
		{"--resume with other settings", []string{"train", "--resume", run, "--epochs", "9"}, 2, "--resume takes every setting from"},
		{"--data and --example together", train(good, "--example", "xu1"), 2, "give --example or --data, not both"},
		{"--val with a synthetic example", []string{"train", "--example", "xu1", "--val", "0.3", "--out", filepath.Join(dir, "out")}, 2, "--val applies to data files (--data)"},
	}
}

func npyOf(t *testing.T, rows int) []byte {
	var b bytes.Buffer
	data.EncodeNPY(&b, []int{rows, 1}, make([]float64, rows))
	return b.Bytes()
}

func foreignSafetensors() []byte {
	hj := []byte(`{"weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`)
	return append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(hj))), hj...), 0, 0, 0, 0)
}

// TestBadInputCLI runs every bad-input case through the real binary: each
// exits with its code and message, and none panics; the table of the cases
// it builds must be docs/BAD_INPUT.md's (with -update it is written there).
func TestBadInputCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	cases := badInputCases(t, dir)
	var table strings.Builder
	table.WriteString("| case | command | exit | message |\n|---|---|---|---|\n")
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stderr := exitCode(t, c.args...)
			if strings.Contains(stderr, "panic") || strings.Contains(stderr, "goroutine ") {
				t.Fatalf("panicked:\n%s", stderr)
			}
			if code != c.code || !strings.Contains(stderr, c.msg) {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit %d with %q", code, stderr, c.code, c.msg)
			}
			msg := strings.TrimSpace(strings.ReplaceAll(stderr, dir+string(filepath.Separator), ""))
			msg = strings.ReplaceAll(msg, dir, "DIR")
			msg = tmpName.ReplaceAllString(msg, ".tmpNNN")
			args := strings.ReplaceAll(strings.Join(c.args, " "), dir+string(filepath.Separator), "")
			args = strings.ReplaceAll(args, dir, "DIR")
			fmt.Fprintf(&table, "| %s | `mgdl %s` | %d | `%s` |\n", c.name, strings.ReplaceAll(args, "|", `\|`), code, strings.ReplaceAll(msg, "|", `\|`))
		})
	}
	syncDocTable(t, filepath.Join("..", "..", "docs", "BAD_INPUT.md"), table.String())
	// No bad input touched the run: its model still loads.
	if _, err := modelfile.ReadFile(filepath.Join(dir, "run", rundir.ModelFile)); err != nil {
		t.Fatal(err)
	}
}

// tmpName matches the random part of a temporary file's name.
var tmpName = regexp.MustCompile(`\.tmp[0-9]+`)

// syncDocTable checks that the markdown table starting with want's first
// line in the document at path is want; with -update it rewrites it.
func syncDocTable(t *testing.T, path, want string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	head := want[:strings.Index(want, "\n")+1]
	i := strings.Index(doc, head)
	if i < 0 {
		t.Fatalf("%s has no table starting %q", path, head)
	}
	j := strings.Index(doc[i:], "\n\n")
	if j < 0 {
		j = len(doc) - i
	} else {
		j++
	}
	if got := doc[i : i+j]; got != want {
		if *update {
			if err := os.WriteFile(path, []byte(doc[:i]+want+doc[i+j:]), 0o644); err != nil {
				t.Fatal(err)
			}
			return
		}
		t.Errorf("%s's table differs from the cases the test ran; if the change is intended, run: go test ./cmd/mgdl -run BadInput -update\n--- the test's table:\n%s", path, want)
	}
}
