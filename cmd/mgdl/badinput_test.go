package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/modelfile"
	"github.com/mgdl/mgdl/rundir"
)

// badCase is one row of docs/BAD_INPUT.md: a command line, the exit code
// it must give and a piece of its output (stderr; for a case that must
// succeed, stdout and stderr). group names the mechanism that handles it.
type badCase struct {
	group string
	name  string
	args  []string
	code  int
	msg   string
	env   []string // extra environment, e.g. MGDL_MEM_LIMIT=1KiB
}

// The mechanisms of docs/BAD_INPUT.md, in the order of its table.
const (
	gTyped    = "typed reads"
	gBudget   = "memory budget and limits"
	gTable    = "tables as people write them"
	gArrays   = "arrays and images"
	gNumbers  = "numbers that are not numbers"
	gModel    = "model integrity"
	gMismatch = "leakage and mismatches"
	gOutputs  = "outputs and run folders"
	gSettings = "options and configuration"
)

// badInputCases builds the files each case needs under dir. A trained
// model is made once (2 inputs a, b; 1 target y), an image model and an
// xu1 run for the cases that mix runs.
func badInputCases(t *testing.T, dir string) []badCase {
	w := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	wb := func(name string, b []byte) string { return w(name, string(b)) }
	path := func(name string) string { return filepath.Join(dir, name) }
	good := filepath.Join(dir, "good.csv")
	writeTable(t, good, 200)
	trainRun := func(name string, args ...string) string {
		out := path(name)
		if _, err := runCLI(t, append(append([]string{"train"}, args...), "--out", out, "--progress", "none")...); err != nil {
			t.Fatal(err)
		}
		return out
	}
	run := trainRun("run", "--data", good, "--inputs", "a,b", "--targets", "y", "--grades", "[[2,8,8,1],[8,8,1]]", "--epochs", "5")
	imgRun := trainRun("imgrun", "--data", camera, "--grades", "[[2,8,1]]", "--epochs", "1")
	xuRun := trainRun("xurun", "--example", "xu1", "--grades", "[[1,8,1]]", "--epochs", "1")
	stdRun := trainRun("stdrun", "--data", good, "--inputs", "a,b", "--targets", "y", "--grades", "[[2,8,1]]", "--epochs", "1", "--standardize", "targets")
	smb, _ := os.ReadFile(filepath.Join(stdRun, rundir.ModelFile))
	model := filepath.Join(run, rundir.ModelFile)
	mb, _ := os.ReadFile(model)
	n := binary.LittleEndian.Uint64(mb)
	flipped := bytes.Clone(mb)
	flipped[len(flipped)-3] ^= 0x10
	newer := bytes.Replace(mb, []byte(`\"format_version\":2`), []byte(`\"format_version\":7`), 1)
	edit := func(old, new string) []byte {
		if !bytes.Contains(mb, []byte(old)) {
			t.Fatalf("%q is not in the model file", old)
		}
		return bytes.Replace(bytes.Clone(mb), []byte(old), []byte(new), 1)
	}
	sealedMeta := func(f func(meta map[string]any)) []byte { return sealModel(t, editMeta(t, mb, f)) }
	var npyBuf bytes.Buffer
	data.EncodeNPY(&npyBuf, []int{2, 2}, []float64{1, math.NaN(), 3, 4})
	var npy3 bytes.Buffer
	data.EncodeNPY(&npy3, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6})
	png, _ := os.ReadFile(camera)
	fifo := path("fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sparse := func(name string, size int64) string {
		p := path(name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return p
	}
	copyRun := func(name string, change func(dir string)) string {
		dst := path(name)
		copyFiles(t, run, dst)
		change(dst)
		return dst
	}
	rows := func(name, header string, k int, row func(i int) string) string {
		var b strings.Builder
		b.WriteString(header)
		for i := range k {
			b.WriteString(row(i))
		}
		return w(name, b.String())
	}
	abRow := func(sep, eol string) func(int) string {
		return func(i int) string {
			a, c := float64(i%17)/8-1, float64(i%5)/4
			return fmt.Sprintf("%g%s%g%s%g%s", a, sep, c, sep, a*a+c, eol)
		}
	}
	train := func(file string, extra ...string) []string {
		out := filepath.Join(dir, "out")
		if i := slices.Index(extra, "--out"); i >= 0 {
			out, extra = extra[i+1], slices.Delete(slices.Clone(extra), i, i+2)
		}
		return append([]string{"train", "--data", file, "--out", out, "--progress", "none", "--epochs", "1"}, extra...)
	}
	predict := func(model, input string) []string {
		return []string{"predict", "--model", model, "--input", input, "--out", filepath.Join(dir, "p.csv")}
	}
	example := func(extra ...string) []string {
		return append([]string{"train", "--example", "xu1", "--out", filepath.Join(dir, "out"), "--progress", "none", "--epochs", "1"}, extra...)
	}
	os.Link(good, path("same.csv"))
	runLink := path("runlink")
	if err := os.Symlink(run, runLink); err != nil {
		t.Fatal(err)
	}
	others := path("others")
	os.MkdirAll(others, 0o755)
	os.WriteFile(filepath.Join(others, "notes.txt"), []byte("keep"), 0o644)
	os.WriteFile(filepath.Join(others, "table.csv"), []byte("a,y\n1,2\n"), 0o644)
	staged := copyStaged(t, xuRun, path("extreme"))
	// A model of targets near 1e306 (standardised), for outputs that overflow.
	bigY := trainRun("bigy", "--data", rows("bigy.csv", "a,b,y\n", 60, func(i int) string {
		return fmt.Sprintf("%g,%g,%g\n", float64(i%7)/7, float64(i%5)/5, float64(i%3+1)*1e306)
	}), "--standardize", "both", "--grades", "[[2,8,1]]", "--epochs", "1")
	// A run whose data file changes after it started.
	changing := path("changing.csv")
	writeTable(t, changing, 100)
	changedData := trainRun("changed", "--data", changing, "--inputs", "a,b", "--targets", "y", "--grades", "[[2,8,1]]", "--epochs", "1")
	writeTable(t, changing, 101)
	return []badCase{
		// Typed reads: only regular files are read, and never block.
		{gTyped, "data file does not exist", train(filepath.Join(dir, "none.csv")), 1, "no such file or directory", nil},
		{gTyped, "a device as data", train("/dev/zero"), 1, "data: /dev/zero is a character device, not a regular file; want a data file", nil},
		{gTyped, "a FIFO as data", train(fifo), 1, "fifo is a named pipe (FIFO), not a regular file", nil},
		{gTyped, "a device as configuration", []string{"train", "--config", "/dev/zero", "--out", path("out")}, 2, "config: /dev/zero is a character device, not a regular file", nil},
		{gTyped, "a FIFO as configuration", []string{"train", "--config", fifo, "--out", path("out")}, 2, "is a named pipe (FIFO), not a regular file", nil},
		{gTyped, "a folder as configuration", []string{"train", "--config", dir, "--out", path("out")}, 2, "is a folder, not a regular file", nil},
		{gTyped, "a configuration file over 4 MiB", []string{"train", "--config", sparse("huge.yaml", 5<<20), "--out", path("out")}, 2, "huge.yaml is 5.0 MiB, larger than a configuration file may be (4.0 MiB)", nil},
		{gTyped, "a device as model", predict("/dev/zero", good), 1, "model /dev/zero: /dev/zero is a character device, not a regular file", nil},
		{gTyped, "a FIFO as model", predict(fifo, good), 1, "is a named pipe (FIFO), not a regular file", nil},
		{gTyped, "a device to inspect", []string{"inspect", "/dev/zero"}, 1, "/dev/zero is a character device, not a regular file", nil},
		{gTyped, "a FIFO as prediction input", predict(model, fifo), 1, "is a named pipe (FIFO), not a regular file", nil},
		{gTyped, "a device as .npy targets", train(wb("x2.npy", npy3.Bytes()), "--targets", "/dev/zero"), 1, "/dev/zero is a character device, not a regular file", nil},
		{gTyped, "a model file larger than any model", predict(sparse("huge.safetensors", 9<<30), good), 1, "larger than a model file may be", nil},
		{gTyped, "model path does not exist", predict(filepath.Join(dir, "none.safetensors"), good), 1, "no such file or directory", nil},
		{gTyped, "IDX folder without the files", train(dir), 1, "no train-images-idx3-ubyte or train-images-idx3-ubyte.gz", nil},

		// Sizes from input are checked against the memory budget and the
		// table of limits before anything is allocated.
		{gBudget, "a width above the limit", example("--grades", "[[1,1000000000,1]]"), 2, "grade 1: width 1000000000 is above the limit of 1048576", nil},
		{gBudget, "a grade of 70000 layers", []string{"train", "--config", w("deep.yaml", "grades: [["+strings.Repeat("1,", 70000)+"1]]\n"), "--out", path("out")}, 2, "grade 1: 70000 layers; at most 65536", nil},
		{gBudget, "more parameters than the limit", example("--grades", "[[1,100000,100000,1]]"), 2, "grade 1: 10000400001 parameters; at most 1073741824", nil},
		{gBudget, "training beyond the memory budget", example("--grades", "[[1,50000,1]]"), 2, "more than the memory budget of", nil},
		{gBudget, "training beyond a --mem-limit", example("--mem-limit", "1MiB"), 2, "more than the memory budget of 1.0 MiB (raise it with --mem-limit or MGDL_MEM_LIMIT)", nil},
		{gBudget, "training beyond MGDL_MEM_LIMIT", example(), 2, "more than the memory budget of 1.0 MiB", []string{"MGDL_MEM_LIMIT=1MiB"}},
		{gBudget, "a table beyond the budget", train(good, "--inputs", "a,b", "--mem-limit", "4KiB"), 1, "a table of more than", nil},
		{gBudget, "an image beyond the budget", train(camera, "--mem-limit", "64KiB"), 1, "PNG image of 64×64 pixels needs 384 KiB of memory, more than the memory budget of 64 KiB", nil},
		{gBudget, "a PNG of 16384×16384 pixels (header only)", train(wb("huge.png", hugePNG(16384, 16384))), 1, "PNG image of 16384×16384 pixels needs 24 GiB of memory", nil},
		{gBudget, "a PNG of 100000×10 pixels", train(wb("wide.png", hugePNG(100000, 10))), 1, "PNG image of height 10 and width 100000 pixels: want sides of 1 to 65536 pixels", nil},
		{gBudget, "a JPEG claiming 60000×60000 pixels", train(wb("huge.jpg", hugeJPEG(t, 60000, 60000))), 1, "JPEG image of 60000×60000 pixels needs", nil},
		{gBudget, "an .npz entry that inflates to 1.5 GB", train(wb("bomb.npz", npzDeclaring(t, 1_500_000_000))), 1, "needs 13 GiB of memory, more than the memory budget", nil},
		{gBudget, "an .npz entry larger than it declares", train(wb("liar.npz", npzLying(t))), 1, "liar.npz: array x.npy: zip: not a valid zip file", nil},
		{gBudget, "a gzipped IDX file beyond the budget", train(idxBomb(t, dir), "--mem-limit", "1MiB"), 1, "the gzipped IDX file (inflated to more than 114 KiB so far, and 8 bytes a value once read) needs more memory than the memory budget of 1.0 MiB", nil},
		{gBudget, "an .npy array beyond the budget", train(wb("x4.npy", npyInt8(1000)), "--targets", wb("t4.npy", npyInt8(1000)), "--mem-limit", "4KiB"), 1, "an .npy array of shape [1000] needs 7.8 KiB of memory, more than the memory budget of 4.0 KiB", nil},
		{gBudget, "a model beyond the budget", append(predict(model, good), "--mem-limit", "1KiB"), 1, "more than the memory budget of 1.0 KiB", nil},
		{gBudget, "predict --size 4294967296x4294967296", []string{"predict", "--model", imgRun, "--out", path("big.png"), "--size", "4294967296x4294967296"}, 2, "--size: an image of height 4294967296 and width 4294967296 pixels: want sides of 1 to 65536 pixels", nil},
		{gBudget, "predict --size 3037000500x3037000500", []string{"predict", "--model", imgRun, "--out", path("big.png"), "--size", "3037000500x3037000500"}, 2, "want sides of 1 to 65536 pixels", nil},
		{gBudget, "predict --size 8192x8192", []string{"predict", "--model", imgRun, "--out", path("big.png"), "--size", "8192x8192"}, 2, "--size: an image of 8192×8192 pixels needs 6.0 GiB of memory", nil},
		{gBudget, "predict --size 0x5", []string{"predict", "--model", imgRun, "--out", path("big.png"), "--size", "0x5"}, 2, "want sides of 1 to 65536 pixels", nil},
		{gBudget, "predict --size that is no size", []string{"predict", "--model", imgRun, "--out", path("big.png"), "--size", "huge"}, 2, `--size "huge": want HxW in pixels, e.g. 512x512`, nil},
		{gBudget, "construct --fresh 1000000000", []string{"construct", "--target", "sin10", "--levels", "3", "--fresh", "1000000000"}, 2, "--fresh 1000000000: 1000000000 random points in 1 dimensions needs 60 GiB of memory", nil},
		{gBudget, "construct --points 100000 in 2-D", []string{"construct", "--target", "sin2d", "--levels", "3", "--points", "100000"}, 2, "--points 100000: 100000^2 points is too many", nil},
		{gBudget, "--mem-limit that is no size", example("--mem-limit", "lots"), 2, `--mem-limit: "lots" is not a size`, nil},
		{gBudget, "--mem-limit above what the process may use", example("--mem-limit", "1EiB"), 2, "--mem-limit: 1.0 EiB is more than this process may use", nil},
		{gBudget, "--mem-limit of a fraction of a byte", example("--mem-limit", "1.5B"), 2, `--mem-limit: "1.5B" is not a size`, nil},
		{gBudget, "--mem-limit 0", example("--mem-limit", "0"), 2, `--mem-limit: "0": want a size above 0`, nil},
		{gBudget, "MGDL_MEM_LIMIT that is no size", example(), 2, `MGDL_MEM_LIMIT: "plenty" is not a size`, []string{"MGDL_MEM_LIMIT=plenty"}},

		// Tables: CSV/TSV as spreadsheets and people write them.
		{gTable, "empty CSV", train(w("empty.csv", "")), 1, "empty.csv: the file is empty; want a header line naming the columns, then rows of numbers", nil},
		{gTable, "CSV with a header only", train(w("header.csv", "a,b\n")), 1, "header.csv: a header but no data rows", nil},
		{gTable, "ragged CSV row", train(w("ragged.csv", "a,b,y\n1,2,3\n4,5\n")), 1, "ragged.csv:3: 2 fields, but the header has 3", nil},
		{gTable, "non-numeric cell", train(w("text.csv", "a,b,y\n1,2,3\n4,five,6\n")), 1, `text.csv:3: column 2 ("b"): cannot read "five" as a number`, nil},
		{gTable, "missing value, no policy", train(w("na.csv", "a,b,y\n1,,3\n")), 1, `na.csv:2: column 2 ("b"): missing value ""; want a number (or choose a missing-value policy: drop or mean)`, nil},
		{gTable, "a UTF-8 BOM and a quoted header (spreadsheet export)", train(rows("bom.csv", "\uFEFF\"a\",\"b\",\"y\"\r\n", 60, abRow(",", "\r\n"))), 0, "wrote ", nil},
		{gTable, "CR-only line endings", train(rows("cr.csv", "a,b,y\r", 60, abRow(",", "\r"))), 0, "wrote ", nil},
		{gTable, "CRLF line endings", train(rows("crlf.csv", "a,b,y\r\n", 60, abRow(",", "\r\n"))), 0, "wrote ", nil},
		{gTable, "semicolons between fields", train(rows("semi.csv", "a;b;y\n", 5, abRow(";", "\n"))), 1, `semi.csv:1: the header is one column, "a;b;y", which holds semicolons: the file seems to separate its fields with semicolons, but mgdl reads commas; save it with commas between fields`, nil},
		{gTable, "tabs between fields in a .csv", train(rows("tabs.csv", "a\tb\ty\n", 5, abRow("\t", "\n"))), 1, "the file seems to separate its fields with tabs, but mgdl reads commas", nil},
		{gTable, "UTF-16 text", train(wb("utf16.csv", utf16le("a,b,y\n1,2,3\n"))), 1, "utf16.csv: the file is UTF-16 text; save it as UTF-8", nil},
		{gTable, "a Latin-1 header", train(w("latin1.csv", "caf\xe9,b,y\n1,2,3\n")), 1, "latin1.csv:1: the header is not UTF-8 text", nil},
		{gTable, "a binary file named .csv", train(wb("binary.csv", []byte("a,b,y\n\x00\x01\x02\n"))), 1, "binary.csv:2: a NUL byte: this is a binary file, not a CSV/TSV table", nil},
		{gTable, "a hex float (0x1p3)", train(w("hex.csv", "a,b,y\n0x1p3,2,3\n")), 1, `hex.csv:2: column 1 ("a"): cannot read "0x1p3" as a number`, nil},
		{gTable, "digit separators (1_000)", train(w("under.csv", "a,b,y\n1_000,2,3\n")), 1, `cannot read "1_000" as a number`, nil},
		{gTable, "a decimal comma in quotes", train(w("comma.csv", "a,b,y\n\"1,5\",2,3\n")), 1, `cannot read "1,5" as a number`, nil},
		{gTable, "a line over 16 MiB", train(w("long.csv", "a,b,y\n"+strings.Repeat("1", 17<<20)+"\n")), 1, "long.csv:2: a line longer than 16 MiB: not a table of numbers", nil},
		{gTable, "a header of 100000 columns (the duplicate check is linear)", train(w("wide.csv", wideHeader(100000))), 1, "wide.csv: a header but no data rows", nil},
		{gTable, "a blank first line", train(w("blank.csv", "  \n1,2,3\n")), 1, "blank.csv:1: the first line is blank; want a header line naming the columns", nil},
		{gTable, "columns without names", train(w("noname.csv", ",,y\n1,2,3\n4,5,6\n")), 1, "noname.csv:1: column 1 has no name in the header (an index column?)", nil},
		{gTable, "a header of numbers", train(w("numhead.csv", "1,2,3\n4,5,6\n")), 1, "numhead.csv:1: the first line holds only numbers (1,2,3), so it looks like data, not a header", nil},
		{gTable, "two columns with one name", train(w("dup.csv", "a,a,y\n1,2,3\n")), 1, `dup.csv:1: columns 1 and 2 are both named "a"`, nil},
		{gTable, "unknown target column", train(good, "--targets", "price"), 1, `good.csv: no target column named "price" (the header has: id, a, b, y)`, nil},
		{gTable, "text column used as input", train(good), 1, `good.csv:2: column 1 ("id"): cannot read "r0" as a number`, nil},
		{gTable, "unknown missing-value policy", train(good, "--missing", "zero"), 2, `--missing: unknown missing-value policy "zero" (want error, drop or mean)`, nil},
		{gTable, "predict --missing drop into .npy", []string{"predict", "--model", model, "--input", w("napred.csv", "a,b\n1,2\n,3\n4,5\n"), "--out", path("p.npy"), "--missing", "drop"}, 2, "--missing drop: the predictions would not line up with the rows of", nil},
		{gTable, "predict --missing drop into .csv keeps the rows' numbers", []string{"predict", "--model", model, "--input", path("napred.csv"), "--out", path("pd.csv"), "--missing", "drop"}, 0, "dropped 1 of 3 rows with missing values; the row column gives each prediction's row", nil},

		// Arrays and images.
		{gArrays, "truncated .npy", train(wb("cut.npy", npy3.Bytes()[:npy3.Len()-5]), "--targets", wb("t.npy", npy3.Bytes())), 1, "cut.npy: truncated .npy file: shape [2 3] of <f8 needs 48 data bytes, the file has 43", nil},
		{gArrays, ".npy without targets", train(wb("x.npy", npy3.Bytes())), 2, "x.npy: an .npy file holds the inputs only; give the targets file with --targets FILE.npy", nil},
		{gArrays, "inputs and targets of different lengths", train(wb("x3.npy", npy3.Bytes()), "--targets", wb("y1.npy", npyOf(t, 1))), 1, "has 2 rows but", nil},
		{gArrays, "an .npz without the targets array", train(wb("nox.npz", npzOf(t, map[string][]byte{"x.npy": npy3.Bytes()}))), 1, `no array "y" (it holds: x)`, nil},
		{gArrays, "a scalar as inputs", train(wb("scalar.npz", npzOf(t, map[string][]byte{"x.npy": npyShape(t, []int{}), "y.npy": npyOf(t, 1)}))), 1, "scalar.npz:x: a scalar (shape ()); want an array of shape (n,) or (n, d)", nil},
		{gArrays, "an .npz that is no zip", train(w("fake.npz", "hello")), 1, "fake.npz: not a readable .npz (zip) file", nil},
		{gArrays, "an MNIST label outside 0..9", train(idxFolder(t, path("badlabel"), []byte{255, 3})), 1, "badlabel/train-labels-idx1-ubyte: label 0 is 255; want 0..9", nil},
		{gArrays, "truncated PNG", train(wb("cut.png", png[:len(png)/2])), 1, "cut.png: decoding png image: png: invalid format: not enough pixel data", nil},
		{gArrays, "not an image", train(w("fake.png", "hello")), 1, "fake.png: not a PNG or JPEG image", nil},
		{gArrays, "a truncated progressive JPEG", train("testdata/images/progressive-cut.jpg"), 1, "progressive-cut.jpg: truncated JPEG image: it lacks the end-of-image marker", nil},
		{gArrays, "a truncated baseline JPEG", train(wb("cut.jpg", cutJPEG(t))), 1, "cut.jpg: truncated JPEG image", nil},
		{gArrays, "a whole progressive JPEG trains", train("testdata/images/progressive.jpg", "--grades", "[[2,8,1]]", "--out", path("progrun")), 0, "wrote ", nil},

		// Numbers that are not numbers: in options, in data, in outputs.
		{gNumbers, "NaN cell", train(w("nan.csv", "a,b,y\n1,NaN,3\n")), 1, `nan.csv:2: column 2 ("b"): missing value "NaN"`, nil},
		{gNumbers, "infinite cell", train(w("inf.csv", "a,b,y\n1,2,inf\n")), 1, `inf.csv:2: column 3 ("y"): "inf" is infinite; want a finite number`, nil},
		{gNumbers, "Infinity written out", train(w("infinity.csv", "a,b,y\n1,-Infinity,3\n")), 1, `"-Infinity" is infinite; want a finite number`, nil},
		{gNumbers, "a value out of float64 range", train(w("range.csv", "a,b,y\n1,1e999,3\n")), 1, `"1e999" is out of the float64 range`, nil},
		{gNumbers, "NaN in .npy", train(wb("nan.npy", npyBuf.Bytes()), "--targets", wb("t2.npy", npy3.Bytes())), 1, "nan.npy: row 0, column 1 is NaN; want finite numbers", nil},
		{gNumbers, "--standardize both on values near 1e160", train(rows("big.csv", "a,b,y\n", 60, func(i int) string { return fmt.Sprintf("%g,%d,%g\n", float64(i+1)*1e160, i%3, float64(i%7+1)*1e160) }), "--standardize", "both", "--out", path("bigrun")), 0, "wrote ", nil},
		{gNumbers, "values beyond float32's range in a float32 run", train(rows("big32.csv", "a,b,y\n", 60, func(i int) string { return fmt.Sprintf("%g,%d,%d\n", float64(i+1)*1e300, i%3, i%7) }), "--dtype", "float32"), 1, "become +Inf in float32: the values are beyond its range (standardise them, or train in float64)", nil},
		{gNumbers, "--es-tol NaN", example("--es-tol", "NaN"), 2, "grade 1: early stopping tol NaN must be a finite number ≥ 0", nil},
		{gNumbers, "--ridge NaN", example("--ridge", "NaN"), 2, "ridge NaN must be a finite number ≥ 0", nil},
		{gNumbers, "--lr NaN", example("--lr", "NaN"), 2, "learning rates must be positive and finite, got max NaN", nil},
		{gNumbers, "--lr Inf", example("--lr", "Inf"), 2, "learning rates must be positive and finite, got max +Inf", nil},
		{gNumbers, "--val NaN", train(good, "--inputs", "a,b", "--val", "NaN"), 2, "validation fraction NaN and test fraction 0.15 must be ≥ 0 with a sum below 1", nil},
		{gNumbers, "--val 1.5", train(good, "--inputs", "a,b", "--val", "1.5"), 2, "validation fraction 1.5 and test fraction 0.15 must be ≥ 0", nil},
		{gNumbers, "construct --tol NaN", []string{"construct", "--target", "sin10", "--tol", "NaN"}, 2, "--tol and --min-coef must be finite numbers ≥ 0", nil},
		{gNumbers, "report on predictions near ±1e308", []string{"report", staged}, 0, "wrote ", nil},
		{gNumbers, "predictions that overflow", []string{"predict", "--model", bigY, "--input", w("huge-in.csv", "a,b\n1e6,-1e6\n"), "--out", path("pov.csv")}, 1, "huge-in.csv: the prediction for row 1 is", nil},
		{gNumbers, "eval where the squared errors overflow", []string{"eval", "--model", model, "--data", w("far.csv", "a,b,y\n1e200,1,1\n0.5,0.5,0.3\n")}, 1, "far.csv: the squared errors of grade 1 overflow float64", nil},
		{gNumbers, "eval on targets that are all zero", []string{"eval", "--model", model, "--data", w("zeros.csv", "a,b,y\n1,2,0\n3,4,0\n")}, 1, "every target is zero, so the relative error (RSE) is undefined", nil},
		{gNumbers, "verify --json when a level ratio is undefined", []string{"verify", "--model", model, "--samples", path("zeros.csv"), "--json"}, 0, `"ratio": null`, nil},

		// Model files: one digest over header and tensors; any edit is refused.
		{gModel, "truncated model file", predict(wb("cut.safetensors", mb[:len(mb)-100]), good), 1, "model file is truncated: the architecture needs", nil},
		{gModel, "model cut inside its header", predict(wb("cuth.safetensors", mb[:8+n/2]), good), 1, "model file is truncated: the header needs", nil},
		{gModel, "corrupted model file (one bit)", predict(wb("flip.safetensors", flipped), good), 1, "model file is corrupted: the file's SHA-256 does not match the digest it records", nil},
		{gModel, "the target mean edited (one digit)", predict(wb("mean.safetensors", editDigit(t, smb, `\"targets\":{\"mean\":[`)), good), 1, "does not match the digest it records", nil},
		{gModel, "relu edited to tanh", predict(wb("tanh.safetensors", edit(`\"activation\":\"relu\"`, `\"activation\":\"tanh\"`)), good), 1, "does not match the digest it records", nil},
		{gModel, "the digest removed", predict(wb("nodigest.safetensors", editHeader(t, mb, func(md map[string]any) { delete(md, "mgdl_sha256") })), good), 1, "the header records no digest", nil},
		{gModel, "format version 1 (no digest over the header)", predict(wb("v1.safetensors", sealedMeta(func(m map[string]any) { m["format_version"] = 1 })), good), 1, "model file has an old format version: format version 1, written by an earlier mgdl", nil},
		{gModel, "an image height of -5 (resealed)", predict(wb("neg.safetensors", sealedMeta(func(m map[string]any) { m["image"] = map[string]any{"height": -5, "width": 4, "channels": 1} })), good), 1, "the model's image of height -5 and width 4 pixels: want sides of 1 to 65536 pixels", nil},
		{gModel, "an image of 100000×100000 (resealed)", predict(wb("wideimg.safetensors", sealedMeta(func(m map[string]any) { m["image"] = map[string]any{"height": 100000, "width": 100000, "channels": 1} })), good), 1, "want sides of 1 to 65536 pixels", nil},
		{gModel, "input names that do not fit (resealed)", predict(wb("names.safetensors", sealedMeta(func(m map[string]any) { m["inputs"] = []string{"a"} })), good), 1, "1 input names for 2 inputs", nil},
		{gModel, "an unknown method (resealed)", predict(wb("method.safetensors", sealedMeta(func(m map[string]any) { m["method"] = "bogus" })), good), 1, `method "bogus": want mgdl, sgdl or constructed`, nil},
		{gModel, "softmax on a one-output grade (resealed)", predict(wb("softmax.safetensors", sealedMeta(func(m map[string]any) { m["grades"].([]any)[0].(map[string]any)["softmax"] = true })), good), 1, "grade 1: a softmax output needs grade 1 and at least 2 outputs", nil},
		{gModel, "a subnormal input scale (resealed)", predict(wb("subnormal.safetensors", editMetaSealed(t, smb, func(m map[string]any) {
			m["normalization"] = map[string]any{"inputs": map[string]any{"mean": []float64{0, 0}, "scale": []float64{1e-320, 1}}, "targets": m["normalization"].(map[string]any)["targets"]}
		})), good), 1, "input normalisation of column 0 is mean 0, scale 1e-320", nil},
		{gModel, "float32 metadata over float64 tensors (resealed)", predict(wb("dtype.safetensors", sealedMeta(func(m map[string]any) { m["dtype"] = "float32" })), good), 1, "tensor grade.1.layer.1.bias has dtype F64, but the metadata says float32 (F32)", nil},
		{gModel, "foreign file as model", predict(camera, good), 1, "not an mgdl model file: no safetensors header", nil},
		{gModel, "safetensors without mgdl metadata", predict(wb("foreign.safetensors", foreignSafetensors()), good), 1, "not an mgdl model file: a safetensors file without mgdl metadata", nil},
		{gModel, "model from a newer format version", predict(wb("newer.safetensors", newer), good), 1, "model file has a newer format version: the file has format version 7, this mgdl", nil},
		{gModel, "inspect a truncated model", []string{"inspect", path("cut.safetensors")}, 1, "model file is truncated", nil},
		{gModel, "--resume with a corrupted checkpoint", []string{"train", "--resume", copyRun("flipped-run", func(d string) { os.WriteFile(filepath.Join(d, rundir.ModelFile), flipped, 0o644) })}, 1, "model file is corrupted", nil},

		// Leakage and mismatches.
		{gMismatch, "a target column that is also an input", train(good, "--inputs", "a,y", "--targets", "y"), 1, `good.csv: column 4 ("y") is both an input and a target`, nil},
		{gMismatch, "one .npy file as inputs and targets", train(path("x2.npy"), "--targets", path("x2.npy")), 2, "x2.npy is both the inputs and the targets file", nil},
		{gMismatch, "--inputs in another order than the model's", []string{"predict", "--model", model, "--input", good, "--inputs", "b,a", "--out", path("p.csv")}, 2, "--inputs b,a: the model reads a,b in that order", nil},
		{gMismatch, "an .npz array as inputs and targets", train(wb("xy.npz", npzOf(t, map[string][]byte{"x.npy": npy3.Bytes(), "y.npy": npyOf(t, 2)})), "--inputs", "x", "--targets", "x"), 2, `xy.npz: array "x" is both the inputs and the targets`, nil},
		{gMismatch, "eval with a target that is a model input", []string{"eval", "--model", model, "--data", w("ev.csv", "a,b,y\n1,2,3\n"), "--targets", "a,y"}, 1, `column 1 ("a") is both an input and a target`, nil},
		{gMismatch, "targets width differs (eval)", []string{"eval", "--model", model, "--data", w("ev2.csv", "a,b,y,z\n1,2,3,4\n"), "--targets", "y,z"}, 1, "the targets have 2 columns but the model has 1 outputs", nil},
		{gMismatch, "input width differs from the model's", predict(model, wb("w3.npy", npy3.Bytes())), 1, "the inputs have 3 columns but the model expects 2 (a, b)", nil},
		{gMismatch, "input lacks the model's columns", predict(model, w("ab.csv", "a,c\n1,2\n")), 1, `ab.csv: no input column named "b" (the header has: a, c)`, nil},
		{gMismatch, "an image given to a table model", predict(model, camera), 1, "camera64.png is an image, but the model was trained on a table (a, b): give a table of its inputs", nil},
		{gMismatch, "a table given to an image model", predict(imgRun, good), 1, `no input column named "row"`, nil},
		{gMismatch, "an image model asked for a table's image", []string{"predict", "--model", model, "--input", good, "--out", path("p.png")}, 2, "an image needs an image-regression model or an image as --input", nil},
		{gMismatch, "grades that do not fit the data", train(good, "--inputs", "a,b", "--grades", "[[3,8,1]]"), 2, "grade 1: input width 3, but the data have 2 input columns", nil},

		// Outputs never replace inputs; run folders are never mixed.
		{gOutputs, "predict --out equal to --input", []string{"predict", "--model", model, "--input", good, "--out", good}, 2, "good.csv is an input of this command; outputs never replace inputs", nil},
		{gOutputs, "predict --out the input under another name", []string{"predict", "--model", model, "--input", good, "--out", path("same.csv")}, 2, "same.csv is an input of this command", nil},
		{gOutputs, "verify --report onto the model", []string{"verify", "--model", model, "--samples", path("ev.csv"), "--report", model}, 2, "model.safetensors is a file of the run in", nil},
		{gOutputs, "verify --report onto the model of a run given as a folder", []string{"verify", "--model", run, "--samples", path("ev.csv"), "--report", model}, 2, "outputs never replace a run's records", nil},
		{gOutputs, "predict --out onto a run's image", []string{"predict", "--model", imgRun, "--out", filepath.Join(imgRun, "images", "target.png")}, 2, "target.png is a file of the run in", nil},
		{gOutputs, "bench --json onto a run's model", []string{"bench", "--quick", "--json", model}, 2, "model.safetensors is a file of the run in", nil},
		{gOutputs, "construct --report onto a run's config.json", []string{"construct", "--target", "sin10", "--levels", "1", "--report", filepath.Join(run, rundir.ConfigFile)}, 2, "config.json is a file of the run in", nil},
		{gOutputs, "report --out another run's folder", []string{"report", xuRun, "--out", run}, 2, "holds another run; its report is written by", nil},
		{gOutputs, "--replace of a run folder holding other files", []string{"train", "--data", good, "--inputs", "a,b", "--out", copyRun("withnotes", func(d string) { os.WriteFile(filepath.Join(d, "notes.txt"), []byte("mine"), 0o644) }), "--replace", "--epochs", "1", "--progress", "none"}, 2, "holds a run and files that are not the run's (notes.txt); --replace discards only a run", nil},
		{gOutputs, "--replace of a symbolic link to a run", []string{"train", "--data", good, "--inputs", "a,b", "--out", runLink, "--replace", "--epochs", "1", "--progress", "none"}, 2, "runlink is a symbolic link to a run; --replace replaces a folder itself", nil},
		{gOutputs, "--replace of the folder holding the data file", []string{"train", "--data", filepath.Join(imgRun, "images", "target.png"), "--out", imgRun, "--replace", "--epochs", "1", "--progress", "none"}, 2, "images/target.png is inside", nil},
		{gOutputs, "--resume after the data file changed", []string{"train", "--resume", changedData}, 1, "changed after the run was configured", nil},
		{gOutputs, "output path cannot be written", []string{"predict", "--model", model, "--input", good, "--out", filepath.Join(dir, "no", "such", "p.csv")}, 1, "cannot write " + filepath.Join(dir, "no", "such", "p.csv"), nil},
		{gOutputs, "output folder cannot be made", []string{"train", "--data", good, "--inputs", "a,b", "--out", filepath.Join(good, "sub"), "--epochs", "1", "--progress", "none"}, 1, "cannot create output folder", nil},
		{gOutputs, "output folder holds a run", []string{"train", "--data", good, "--inputs", "a,b", "--out", run, "--epochs", "1", "--progress", "none"}, 2, "already holds a run (config.json, metrics.jsonl, model.safetensors, summary.json): give --resume", nil},
		{gOutputs, "output folder holds other files", []string{"train", "--data", good, "--inputs", "a,b", "--out", others, "--epochs", "1", "--progress", "none", "--replace"}, 2, "others holds files but no run (notes.txt, table.csv; no config.json); only a run folder is replaced", nil},
		{gOutputs, "a failed --replace keeps the old run", []string{"train", "--data", path("text.csv"), "--out", run, "--replace", "--epochs", "1", "--progress", "none"}, 1, `text.csv:3: column 2 ("b"): cannot read "five" as a number`, nil},
		{gOutputs, "--resume with another run's config.json", []string{"train", "--resume", copyRun("mixed", func(d string) {
			b, _ := os.ReadFile(filepath.Join(xuRun, rundir.ConfigFile))
			os.WriteFile(filepath.Join(d, rundir.ConfigFile), b, 0o644)
		})}, 1, "the folder mixes two runs", nil},
		{gOutputs, "--resume with an edited config.json", []string{"train", "--resume", copyRun("edited", func(d string) {
			b, _ := os.ReadFile(filepath.Join(d, rundir.ConfigFile))
			os.WriteFile(filepath.Join(d, rundir.ConfigFile), bytes.Replace(b, []byte(`"seed": 1`), []byte(`"seed": 2`), 1), 0o644)
		})}, 1, "was changed after the run started", nil},
		{gOutputs, "unknown output kind", []string{"predict", "--model", model, "--input", good, "--out", filepath.Join(dir, "p.xlsx")}, 2, "want a .csv, .tsv, .npy, .png or .jpg file", nil},
		{gOutputs, "--resume of a folder that is no run", []string{"train", "--resume", dir}, 2, "not a run folder: no config.json there", nil},
		{gOutputs, "--resume with other settings", []string{"train", "--resume", run, "--epochs", "9"}, 2, "--resume takes every setting from", nil},
		{gOutputs, "report on a file that is no run folder", []string{"report", path("scalar.npz")}, 1, "scalar.npz is a file, not a run folder", nil},
		{gOutputs, "report on a run whose summary is cut", []string{"report", copyRun("cutsum", func(d string) {
			b, _ := os.ReadFile(filepath.Join(d, rundir.SummaryFile))
			os.WriteFile(filepath.Join(d, rundir.SummaryFile), b[:len(b)/2], 0o644)
		})}, 1, "summary.json", nil},

		// Options and configuration files.
		{gSettings, "unknown standardisation", train(good, "--standardize", "all"), 2, `--standardize "all": want none, inputs, targets or both`, nil},
		{gSettings, "--data and --example together", train(good, "--example", "xu1"), 2, "give --example or --data, not both", nil},
		{gSettings, "--val with a synthetic example", []string{"train", "--example", "xu1", "--val", "0.3", "--out", filepath.Join(dir, "out")}, 2, "--val applies to data files (--data)", nil},
		{gSettings, "unknown example", []string{"train", "--example", "xu9", "--out", path("out")}, 2, `unknown example "xu9"`, nil},
		{gSettings, "unknown dtype", example("--dtype", "float16"), 2, `dtype "float16": want float64 or float32`, nil},
		{gSettings, "unknown method", example("--method", "adam"), 2, `method "adam": want mgdl or sgdl`, nil},
		{gSettings, "epochs written as a float", example("--epochs", "1e9"), 2, `--epochs "1e9": "1e9" is not a whole number (written with digits only)`, nil},
		{gSettings, "epochs beyond the integers", example("--epochs", "99999999999999999999"), 2, `"99999999999999999999" is out of range`, nil},
		{gSettings, "negative epochs", example("--epochs", "-1"), 2, "grade 1: epochs -1 is negative", nil},
		{gSettings, "unknown random streams", example("--rng", "mt"), 2, `--rng: unknown random streams "mt" (want pcg or numpy)`, nil},
		{gSettings, "NumPy seed out of NumPy's range", example("--rng", "numpy", "--seed", "4294967295"), 2, "rng numpy: seed 4294967295 and 1 epochs pass NumPy's largest seed 2^32-1", nil},
		{gSettings, "NumPy data for an example without them", []string{"train", "--example", "xu1", "--data-rng", "numpy", "--out", path("out")}, 2, "data: example xu1 has no NumPy data stream (spectral1..4 and manifold-q0/q4 have)", nil},
		{gSettings, "NumPy data seed 0", []string{"train", "--example", "spectral2", "--data-rng", "numpy", "--data-seed", "0", "--epochs", "1", "--out", path("out")}, 2, "data: NumPy data seed 0: want 1..4294967295", nil},
		{gSettings, "NumPy data streams for a file", []string{"train", "--data", good, "--data-rng", "numpy", "--out", path("out")}, 2, `data: random streams (rng "numpy") apply to synthetic examples, not to the file`, nil},
		{gSettings, "negative threads", example("--threads", "-1"), 2, "--threads -1: must be 0 (one per core) or positive", nil},
		{gSettings, "an unknown backend", []string{"--backend", "nonsense", "version"}, 2, `--backend "nonsense" (or $MGDL_BACKEND): want one of auto, go, openblas, gonum`, nil},
		{gSettings, "unknown flag", example("--epoch", "3"), 2, "unknown flag: --epoch", nil},
		{gSettings, "unknown command", []string{"trian"}, 2, `unknown command "trian"`, nil},
		{gSettings, "JSON configuration with two objects", []string{"train", "--config", w("two.json", `{"method":"mgdl"}`+"\n"+`{"method":"sgdl"}`+"\n"), "--out", path("out")}, 2, "the file holds more than one document", nil},
		{gSettings, "YAML configuration with two documents", []string{"train", "--config", w("two.yaml", "method: mgdl\n---\nmethod: sgdl\n"), "--out", path("out")}, 2, "the file holds more than one document", nil},
		{gSettings, "a key given twice", []string{"train", "--config", w("dupkey.json", `{"seed": 1, "seed": 2}`), "--out", path("out")}, 2, `mapping key "seed" already defined at line 1`, nil},
		{gSettings, "an unknown key", []string{"train", "--config", w("unknown.yaml", "sed: 1\n"), "--out", path("out")}, 2, `unknown setting "sed"; known here: data, digest, dtype, grade_defaults, grades`, nil},
		{gSettings, "a seed beyond 64 bits in a configuration", []string{"train", "--config", w("bigseed.yaml", "seed: 18446744073709551616\n"), "--out", path("out")}, 2, "seed: want a whole number from 0 to 18446744073709551615, got 18446744073709552000", nil},
		{gSettings, "a hex float in a configuration", []string{"train", "--config", w("hex.yaml", "seed: 0x1p3\n"), "--out", path("out")}, 2, "seed: want a whole number, got a string", nil},
		{gSettings, "an empty configuration", []string{"train", "--config", w("empty.yaml", ""), "--out", path("out")}, 2, "the file is empty; want a mapping of settings", nil},
		{gSettings, "a configuration that is a list", []string{"train", "--config", w("list.yaml", "- 1\n- 2\n"), "--out", path("out")}, 2, "want a mapping of settings", nil},
		{gSettings, "a model file as configuration", []string{"train", "--config", model, "--out", path("out")}, 2, "not valid YAML or JSON", nil},
		{gSettings, "label noise that is not a number", []string{"train", "--config", w("noise.yaml", "data: {example: xu1, label_noise: {beta: lots, kappa: 5}}\n"), "--out", path("out")}, 2, "data.label_noise.beta: want a number, got a string", nil},
		{gSettings, "reproduce: an unknown experiment", []string{"reproduce", "spectral9", "--out", path("rp")}, 2, `no experiment "spectral9" (want one of spectral1, spectral2`, nil},
		{gSettings, "reproduce: an unknown budget", []string{"reproduce", "xu1", "--budget", "long", "--out", path("rp")}, 2, `budget "long": want quick or paper`, nil},
		{gSettings, "reproduce: no --out", []string{"reproduce", "xu1"}, 2, "--out DIR is required", nil},
		{gSettings, "reproduce: a run folder as --out", []string{"reproduce", "xu1", "--out", run}, 2, "is a run folder; reproduce writes a folder of experiments", nil},
		{gSettings, "reproduce: a negative epoch cap", []string{"reproduce", "xu1", "--max-epochs", "-1", "--out", path("rp")}, 2, "--max-epochs -1: want a number of epochs ≥ 1 (or 0 for no cap)", nil},
		{gSettings, "reproduce: --list with names", []string{"reproduce", "--list", "xu1"}, 2, "--list prints the experiments; it takes no names and no --out", nil},
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

// The limits every case of the catalogue runs under: the address space of
// the attacker (ulimit -v 4194304, 4 GiB) and a time after which a
// case counts as hung.
const (
	catalogueVM   = 4194304 // KiB
	catalogueTime = 30 * time.Second
)

// caseResult is what one run of the binary gave.
type caseResult struct {
	code           int
	stdout, stderr string
	hung           bool
	took           time.Duration
}

// runLimited runs the binary with args under ulimit -v catalogueVM and a
// catalogueTime deadline, in dir, with the extra environment env (and no
// MGDL_MEM_LIMIT from outside).
func runLimited(t *testing.T, dir string, env []string, args ...string) caseResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), catalogueTime)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", append([]string{"-c", fmt.Sprintf(`ulimit -v %d && exec "$0" "$@"`, catalogueVM), mgdlBinary(t)}, args...)...)
	cmd.Dir = dir
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, limits.EnvVar+"=") {
			cmd.Env = append(cmd.Env, e)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	cmd.WaitDelay = 5 * time.Second
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	start := time.Now()
	err := cmd.Run()
	r := caseResult{stdout: so.String(), stderr: se.String(), took: time.Since(start), hung: ctx.Err() != nil}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case !r.hung:
		t.Fatal(err)
	}
	return r
}

// TestBadInputCLI runs every case of the catalogue through the real binary
// under ulimit -v 4194304: none panics, none dies of a fatal out-of-memory,
// none runs 30 s, and each exits with its code and message. The table of
// the cases it runs must be docs/BAD_INPUT.md's (with -update it is
// written there).
func TestBadInputCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	cases := badInputCases(t, dir)
	rows := make([]string, len(cases))
	// The default budget depends on the machine: the table says BUDGET.
	budget := limits.Format(limits.DefaultUnder(catalogueVM << 10))
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	var panics, ooms, hangs atomic.Int32
	t.Run("catalogue", func(t *testing.T) {
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				t.Parallel()
				// Each case trains into a folder of its own: they run in parallel.
				args := slices.Clone(c.args)
				for k, a := range args {
					if a == filepath.Join(dir, "out") {
						args[k] = filepath.Join(dir, fmt.Sprintf("out%d", i))
					}
				}
				r := runLimited(t, ".", c.env, args...)
				switch {
				case r.hung:
					hangs.Add(1)
					t.Fatalf("ran over %v:\n%s", catalogueTime, r.stderr)
				case strings.Contains(r.stderr, "fatal error") || strings.Contains(r.stderr, "out of memory") || strings.Contains(r.stderr, "cannot allocate memory"):
					ooms.Add(1)
					t.Fatalf("ran out of memory:\n%.2000s", r.stderr)
				case strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine "):
					panics.Add(1)
					t.Fatalf("panicked:\n%.2000s", r.stderr)
				}
				out := r.stderr
				if c.code == 0 {
					out = r.stdout + r.stderr
				}
				if r.code != c.code || !strings.Contains(out, c.msg) {
					t.Fatalf("exit %d, output:\n%.3000s\nwant exit %d with %q", r.code, out, c.code, c.msg)
				}
				msg := strings.TrimSpace(r.stderr)
				if c.code == 0 {
					msg = matchingLine(out, c.msg)
				}
				msg = strings.ReplaceAll(msg, filepath.Join(dir, fmt.Sprintf("out%d", i)), filepath.Join(dir, "out"))
				msg = strings.ReplaceAll(msg, "memory budget of "+budget+" ", "memory budget of BUDGET ")
				msg = strings.ReplaceAll(msg, dir+string(filepath.Separator), "")
				msg = strings.ReplaceAll(msg, root+string(filepath.Separator), "../../")
				msg = strings.ReplaceAll(msg, dir, "DIR")
				msg = tmpName.ReplaceAllString(msg, ".tmpNNN")
				msg = digestPrefix.ReplaceAllString(msg, "${1}0123456789ab…") // the data's path is in the digest
				shown := strings.ReplaceAll(strings.Join(quoteArgs(c.args), " "), dir+string(filepath.Separator), "")
				shown = strings.ReplaceAll(shown, dir, "DIR")
				cmd := "mgdl " + shown
				if len(c.env) > 0 {
					cmd = strings.Join(c.env, " ") + " " + cmd
				}
				cmd = cut(cmd, 160)
				rows[i] = fmt.Sprintf("| %s | %s | `%s` | %d | `%s` |\n", c.group, c.name, strings.ReplaceAll(cmd, "|", `\|`), r.code, strings.ReplaceAll(oneLine(msg), "|", `\|`))
			})
		}
	})
	t.Logf("%d cases under ulimit -v %d: %d panics, %d fatal out-of-memory, %d over %v", len(cases), catalogueVM, panics.Load(), ooms.Load(), hangs.Load(), catalogueTime)
	if t.Failed() {
		return
	}
	var table strings.Builder
	table.WriteString("| mechanism | case | command | exit | message |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		table.WriteString(r)
	}
	syncDocTable(t, filepath.Join("..", "..", "docs", "BAD_INPUT.md"), table.String())
	// No bad input touched the run: its model still loads.
	if _, err := modelfile.ReadFile(filepath.Join(dir, "run", rundir.ModelFile)); err != nil {
		t.Fatal(err)
	}
}

// matchingLine returns the line of out holding msg (for cases that succeed).
func matchingLine(out, msg string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, msg) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// oneLine joins a multi-line message for a table cell and cuts it.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return cut(s, 400)
}

// cut shortens s to at most n bytes on a character boundary, marking the
// cut with "…".
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// quoteArgs quotes the arguments a shell would split or expand.
func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " []{}*?;&|<>$\"'") {
			a = "'" + a + "'"
		}
		if len(a) > 60 {
			a = cut(a, 50) + "'"
		}
		out[i] = a
	}
	return out
}

// digestPrefix matches a configuration digest cut for a message.
var digestPrefix = regexp.MustCompile(`(\b|\()[0-9a-f]{12}…`)

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
