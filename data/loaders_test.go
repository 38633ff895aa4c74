package data

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/tensor"
)

func TestReadCSV(t *testing.T) {
	cases := []struct {
		name, text string
		opt        CSVOptions
		x, y       [][]float64
		in, out    []string
		dropped    int
	}{
		{"default: last column is the target", "a,b,t\n1,2,3\n4,5,6\n", CSVOptions{},
			[][]float64{{1, 2}, {4, 5}}, [][]float64{{3}, {6}}, []string{"a", "b"}, []string{"t"}, 0},
		{"by name", "a,b,t\n1,2,3\n4,5,6\n", CSVOptions{Inputs: []string{"t"}, Targets: []string{"a", "b"}},
			[][]float64{{3}, {6}}, [][]float64{{1, 2}, {4, 5}}, []string{"t"}, []string{"a", "b"}, 0},
		{"by index", "a,b,t\n1,2,3\n4,5,6\n", CSVOptions{Inputs: []string{"2"}, Targets: []string{"0"}},
			[][]float64{{3}, {6}}, [][]float64{{1}, {4}}, []string{"t"}, []string{"a"}, 0},
		{"tab, spaces, BOM, quotes, blank line", "\uFEFFa\t\"b\"\n 1\t2e-1\n\n\"3\"\t-4\n", CSVOptions{Comma: '\t'},
			[][]float64{{1}, {3}}, [][]float64{{0.2}, {-4}}, []string{"a"}, []string{"b"}, 0},
		{"missing: drop", "a,t\n1,2\nNA,3\n4,\n5,6\n", CSVOptions{Missing: MissingDrop},
			[][]float64{{1}, {5}}, [][]float64{{2}, {6}}, []string{"a"}, []string{"t"}, 2},
		{"missing: mean", "a,t\n1,2\n?,3\n5,nan\n", CSVOptions{Missing: MissingMean},
			[][]float64{{1}, {3}, {5}}, [][]float64{{2}, {3}, {2.5}}, []string{"a"}, []string{"t"}, 0},
		{"unread columns may hold text", "id,a,t\nx1,1,2\n", CSVOptions{Inputs: []string{"a"}},
			[][]float64{{1}}, [][]float64{{2}}, []string{"a"}, []string{"t"}, 0},
		{"inputs only", "a,b\n1,2\n", CSVOptions{NoTargets: true},
			[][]float64{{1, 2}}, nil, []string{"a", "b"}, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tb, err := ReadCSV(strings.NewReader(c.text), "t.csv", c.opt)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, m *tensor.Dense[float64], want [][]float64) {
				if want == nil {
					if m != nil {
						t.Fatalf("%s: got %v, want none", what, m)
					}
					return
				}
				if m.Rows != len(want) {
					t.Fatalf("%s: %d rows, want %d", what, m.Rows, len(want))
				}
				for i, r := range want {
					if !slices.Equal(m.Row(i), r) {
						t.Fatalf("%s row %d: %v, want %v", what, i, m.Row(i), r)
					}
				}
			}
			check("X", tb.Data.X, c.x)
			check("Y", tb.Data.Y, c.y)
			if !slices.Equal(tb.InputNames, c.in) || !slices.Equal(tb.TargetNames, c.out) || tb.Dropped != c.dropped {
				t.Fatalf("names %v %v dropped %d", tb.InputNames, tb.TargetNames, tb.Dropped)
			}
		})
	}
}

// csvErrors are the bad CSV inputs of docs/BAD_INPUT.md and the message
// each must give.
var csvErrors = []struct {
	name, text string
	opt        CSVOptions
	msg        string
}{
	{"empty file", "", CSVOptions{}, "t.csv: the file is empty; want a header line"},
	{"header only", "a,b\n", CSVOptions{}, "t.csv: a header but no data rows"},
	{"ragged row", "a,b\n1,2\n3\n", CSVOptions{}, "t.csv:3: 1 fields, but the header has 2"},
	{"non-numeric cell", "a,b\n1,2\n3,abc\n", CSVOptions{}, `t.csv:3: column 2 ("b"): cannot read "abc" as a number`},
	{"missing value", "a,b\n1,\n", CSVOptions{}, `t.csv:2: column 2 ("b"): missing value ""; want a number (or choose a missing-value policy: drop or mean)`},
	{"NaN", "a,b\nNaN,1\n", CSVOptions{}, `t.csv:2: column 1 ("a"): missing value "NaN"`},
	{"Inf", "a,b\n1,-Inf\n", CSVOptions{}, `t.csv:2: column 2 ("b"): "-Inf" is infinite; want a finite number`},
	{"out of range", "a,b\n1,1e999\n", CSVOptions{}, `t.csv:2: column 2 ("b"): "1e999" is out of the float64 range`},
	{"bare quote", "a,b\n1,2\"x\n", CSVOptions{}, `t.csv:2:4: bare " in non-quoted-field`},
	{"unknown column", "a,b\n1,2\n", CSVOptions{Targets: []string{"z"}}, `t.csv: no target column named "z" (the header has: a, b)`},
	{"index out of range", "a,b\n1,2\n", CSVOptions{Inputs: []string{"5"}}, "t.csv: input column index 5 is out of range: the header has 2 columns (0 to 1)"},
	{"duplicate header", "a,a,t\n1,2,3\n", CSVOptions{}, `t.csv:1: columns 1 and 2 are both named "a"`},
	{"one column only", "t\n1\n", CSVOptions{}, "t.csv:1: the header has 1 columns, all targets; no input columns are left"},
	{"every row dropped", "a,b\n1,\n,2\n", CSVOptions{Missing: MissingDrop}, "t.csv: every one of the 2 data rows has a missing value"},
	{"a column with no values", "a,b\n,1\n,2\n", CSVOptions{Missing: MissingMean}, `t.csv: column 1 ("a") has no values at all`},
	{"column chosen twice", "a,b\n1,2\n", CSVOptions{Inputs: []string{"a", "0"}}, `t.csv: input column "0" is chosen twice`},
}

func TestReadCSVErrors(t *testing.T) {
	for _, c := range csvErrors {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadCSV(strings.NewReader(c.text), "t.csv", c.opt)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %q", err, c.msg)
			}
		})
	}
}

func TestLoadCSVTSVByExtension(t *testing.T) {
	p := filepath.Join(t.TempDir(), "d.tsv")
	os.WriteFile(p, []byte("a\tb\n1\t2\n"), 0o644)
	tb, err := LoadCSV(p, CSVOptions{})
	if err != nil || tb.Data.X.At(0, 0) != 1 || tb.Data.Y.At(0, 0) != 2 {
		t.Fatalf("%v %v", tb, err)
	}
	if _, err := LoadCSV(filepath.Join(t.TempDir(), "none.csv"), CSVOptions{}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestWriteCSVReadsBack(t *testing.T) {
	m := tensor.FromSlice(2, 2, []float64{0.1, 1e-300, -3, math.Pi})
	var b bytes.Buffer
	if err := WriteCSV(&b, 0, []string{"p", "q"}, m); err != nil {
		t.Fatal(err)
	}
	tb, err := ReadCSV(&b, "w.csv", CSVOptions{NoTargets: true})
	if err != nil || !slices.Equal(tb.Data.X.Raw(), m.Raw()) {
		t.Fatalf("%v %v", tb.Data.X, err)
	}
}

// ExampleReadCSV reads a table with a header, chooses the target by name
// and fills a missing value with its column's mean.
func ExampleReadCSV() {
	text := "x1,x2,price\n1,2,10\n3,NA,20\n5,6,30\n"
	tb, err := ReadCSV(strings.NewReader(text), "houses.csv", CSVOptions{Targets: []string{"price"}, Missing: MissingMean})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(tb.InputNames, tb.TargetNames, tb.Data.X.Row(1), tb.Data.Y.Raw())
	_, err = ReadCSV(strings.NewReader(text), "houses.csv", CSVOptions{})
	fmt.Println(err)
	// Output:
	// [x1 x2] [price] [3 4] [10 20 30]
	// houses.csv:3: column 2 ("x2"): missing value "NA"; want a number (or choose a missing-value policy: drop or mean)
}

// npy builds an .npy file by hand, as numpy writes it.
func npy(descr string, fortran bool, shape string, data []byte) []byte {
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': %s, 'shape': %s, }", descr, map[bool]string{true: "True", false: "False"}[fortran], shape)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return append(append(b, h...), data...)
}

func TestNPY(t *testing.T) {
	le := func(vs ...float64) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
		}
		return b
	}
	be32 := func(vs ...float32) []byte {
		var b []byte
		for _, v := range vs {
			b = binary.BigEndian.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	cases := []struct {
		name  string
		b     []byte
		shape []int
		data  []float64
	}{
		{"f8 2-D", npy("<f8", false, "(2, 3)", le(1, 2, 3, 4, 5, 6)), []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}},
		{"f8 Fortran", npy("<f8", true, "(2, 3)", le(1, 4, 2, 5, 3, 6)), []int{2, 3}, []float64{1, 2, 3, 4, 5, 6}},
		{"f4 big-endian 1-D", npy(">f4", false, "(3,)", be32(0.5, -1, 2)), []int{3}, []float64{0.5, -1, 2}},
		{"u1 3-D", npy("|u1", false, "(2, 1, 2)", []byte{1, 2, 3, 255}), []int{2, 1, 2}, []float64{1, 2, 3, 255}},
		{"i8 empty", npy("<i8", false, "(0, 4)", nil), []int{0, 4}, []float64{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := DecodeNPY(c.b)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(a.Shape, c.shape) || !slices.Equal(a.Data, c.data) {
				t.Fatalf("shape %v data %v", a.Shape, a.Data)
			}
		})
	}
	// EncodeNPY round trip, both dtypes.
	var b bytes.Buffer
	EncodeNPY(&b, []int{2, 2}, []float32{1.5, 2, 3, 4})
	a, err := DecodeNPY(b.Bytes())
	if err != nil || a.DType != "<f4" || !slices.Equal(a.Data, []float64{1.5, 2, 3, 4}) || b.Len()%64 != 16 {
		t.Fatalf("%+v %v (len %d)", a, err, b.Len())
	}
	b.Reset()
	EncodeNPY(&b, []int{3}, []float64{math.Pi, 0, -1})
	a, _ = DecodeNPY(b.Bytes())
	m, err := a.Matrix("x.npy")
	if err != nil || m.Rows != 3 || m.Cols != 1 || m.At(0, 0) != math.Pi {
		t.Fatalf("%v %v", m, err)
	}
}

// npyErrors are the bad .npy inputs of docs/BAD_INPUT.md.
var npyErrors = []struct {
	name string
	b    []byte
	msg  string
}{
	{"empty file", nil, "the file is empty; want a NumPy .npy file"},
	{"not npy", []byte("a,b\n1,2\n"), "not a NumPy .npy file"},
	{"truncated magic", []byte("\x93NUM"), "truncated .npy file (4 bytes)"},
	{"truncated header", npy("<f8", false, "(2,)", nil)[:40], "truncated .npy file: the header needs"},
	{"truncated data", npy("<f8", false, "(2,)", make([]byte, 12)), "truncated .npy file: shape [2] of <f8 needs 16 data bytes, the file has 12"},
	{"trailing data", npy("<f8", false, "(1,)", make([]byte, 9)), ".npy file has 1 bytes after the data"},
	{"huge shape", npy("<f8", false, "(999999999999999, 999999999999999)", make([]byte, 8)), ".npy shape [999999999999999 999999999999999] is too large"},
	{"complex dtype", npy("<c16", false, "(1,)", make([]byte, 16)), `.npy element type "<c16" is not supported`},
	{"structured dtype", []byte("\x93NUMPY\x01\x00\x30\x00{'descr': [('a', '<f8')], 'fortran_order': False, 'shape': (1,), }\n"), "descr: want a quoted string"},
	{"no newline, garbage header", []byte("\x93NUMPY\x01\x00\x04\x00abcd"), ".npy header: want a dictionary"},
	{"missing key", []byte("\x93NUMPY\x01\x00\x14\x00{'descr': '<f8', }  \n"), `key "fortran_order" is missing`},
	{"version 9", []byte("\x93NUMPY\x09\x00\x00\x00"), ".npy format version 9.0 is not supported"},
}

func TestDecodeNPYErrors(t *testing.T) {
	for _, c := range npyErrors {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeNPY(c.b)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %q", err, c.msg)
			}
		})
	}
	a, _ := DecodeNPY(npy("<f8", false, "(2,)", binary.LittleEndian.AppendUint64(make([]byte, 8), math.Float64bits(math.NaN()))))
	if _, err := a.Matrix("x.npy"); err == nil || !strings.Contains(err.Error(), "x.npy: row 1, column 0 is NaN") {
		t.Fatalf("NaN: %v", err)
	}
}

// idx builds an IDX file of unsigned bytes.
func idx(shape []uint32, data []byte) []byte {
	b := []byte{0, 0, 0x08, byte(len(shape))}
	for _, s := range shape {
		b = binary.BigEndian.AppendUint32(b, s)
	}
	return append(b, data...)
}

func TestIDX(t *testing.T) {
	raw := idx([]uint32{2, 2, 3}, []byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255})
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(raw)
	zw.Close()
	for _, b := range [][]byte{raw, z.Bytes()} {
		a, err := DecodeIDX(b)
		if err != nil || !slices.Equal(a.Shape, []int{2, 2, 3}) || a.Data[11] != 255 {
			t.Fatalf("%+v %v", a, err)
		}
	}
	f := binary.BigEndian.AppendUint32([]byte{0, 0, 0x0D, 1, 0, 0, 0, 1}, math.Float32bits(-2.5))
	if a, err := DecodeIDX(f); err != nil || a.Data[0] != -2.5 {
		t.Fatalf("float IDX: %+v %v", a, err)
	}
}

// idxErrors are the bad IDX inputs of docs/BAD_INPUT.md.
var idxErrors = []struct {
	name string
	b    []byte
	msg  string
}{
	{"empty file", nil, "the file is empty; want an IDX file"},
	{"not IDX", []byte("hello world"), "not an IDX file"},
	{"bad type", []byte{0, 0, 0x07, 1, 0, 0, 0, 0}, "IDX element type 0x07 is not one of"},
	{"truncated dims", []byte{0, 0, 8, 3, 0, 0, 0, 1}, "truncated IDX file: 3 dimensions need 16 header bytes, the file has 8"},
	{"truncated data", idx([]uint32{10, 28, 28}, make([]byte, 100)), "truncated IDX file: shape [10 28 28] needs 7840 data bytes, the file has 100"},
	{"huge dims", idx([]uint32{1 << 31, 1 << 31, 1 << 31}, make([]byte, 8)), "IDX shape [2147483648 2147483648 2147483648] is too large"},
	{"trailing bytes", idx([]uint32{1}, []byte{1, 2}), "IDX file has 1 bytes after the data"},
	{"broken gzip", []byte{0x1f, 0x8b, 8, 0, 0, 0}, "gzip:"},
}

func TestDecodeIDXErrors(t *testing.T) {
	for _, c := range idxErrors {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeIDX(c.b)
			if err == nil || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %q", err, c.msg)
			}
		})
	}
}

// TestMNIST reads MNIST from the Go module cache (pinned SHA-256). It
// skips when the module is absent.
func TestMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 55 MB of IDX files")
	}
	dir, err := MNISTDir()
	if errors.Is(err, ErrNoMNIST) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	m, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Train.X.Rows != 60000 || m.Train.X.Cols != 784 || m.Test.X.Rows != 10000 || m.Test.Y.Cols != 10 {
		t.Fatalf("shapes %d×%d, test %d×%d", m.Train.X.Rows, m.Train.X.Cols, m.Test.X.Rows, m.Test.Y.Cols)
	}
	// The first training labels of MNIST are 5, 0, 4, 1, 9.
	if !slices.Equal(m.TrainLabels[:5], []int{5, 0, 4, 1, 9}) || m.Train.Y.At(0, 5) != 1 {
		t.Fatalf("labels %v", m.TrainLabels[:5])
	}
	if err := (Splits[float64]{Train: m.Train, Test: m.Test}).Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadMNISTMissingFiles(t *testing.T) {
	_, err := LoadMNIST(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "no train-images-idx3-ubyte or train-images-idx3-ubyte.gz") {
		t.Fatal(err)
	}
}

func TestImage(t *testing.T) {
	p, err := LoadImage("testdata/camera64.png")
	if err != nil {
		t.Fatal(err)
	}
	if p.Shape != (ImageShape{Height: 64, Width: 64, Channels: 1}) {
		t.Fatalf("shape %+v", p.Shape)
	}
	s, err := ImageSplits(p)
	if err != nil || s.Train.Len() != 1024 || s.Val.Len() != 1024 || s.Test.Len() != 4096 {
		t.Fatalf("splits %d %d %d %v", s.Train.Len(), s.Val.Len(), s.Test.Len(), err)
	}
	// Training pixel k is img[2i, 2j]: row 1 of the training set is (0, 2).
	if s.Train.X.At(1, 0) != 0 || s.Train.X.At(1, 1) != 2.0/64 || s.Train.Y.At(1, 0) != p.Values.At(2, 0) {
		t.Fatalf("train row 1: %v → %v", s.Train.X.Row(1), s.Train.Y.Row(1))
	}
	if s.Val.X.At(0, 0) != 1.0/64 || s.Val.X.At(0, 1) != 1.0/64 {
		t.Fatalf("val row 0: %v", s.Val.X.Row(0))
	}
	// Pixel values → image → PNG → pixel values is exact for 8-bit images.
	for _, name := range []string{"testdata/camera64.png", "testdata/chelsea32.png"} {
		p, err := LoadImage(name)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if err := png.Encode(&b, ToImage(p.Shape, p.Values)); err != nil {
			t.Fatal(err)
		}
		q, err := DecodeImage(bytes.NewReader(b.Bytes()))
		if err != nil || q.Shape != p.Shape || !slices.Equal(q.Values.Raw(), p.Values.Raw()) {
			t.Fatalf("%s: round trip %+v %v", name, q.Shape, err)
		}
	}
	c, _ := LoadImage("testdata/chelsea32.png")
	if c.Shape.Channels != 3 {
		t.Fatalf("chelsea has %d channels", c.Shape.Channels)
	}
	if _, err := DecodeImage(bytes.NewReader([]byte("GIF89a"))); err == nil {
		t.Fatal("a non-image decoded")
	}
}

func TestSplitAndNormalize(t *testing.T) {
	x := tensor.New[float64](100, 2)
	y := tensor.New[float64](100, 1)
	for i := range 100 {
		x.Set(i, 0, float64(i))
		x.Set(i, 1, 7)
		y.Set(i, 0, float64(2*i))
	}
	d := Dataset[float64]{X: x, Y: y}
	s, err := Split(d, 0.2, 0.1, 4)
	if err != nil || s.Train.Len() != 70 || s.Val.Len() != 20 || s.Test.Len() != 10 {
		t.Fatalf("%v", err)
	}
	again, _ := Split(d, 0.2, 0.1, 4)
	other, _ := Split(d, 0.2, 0.1, 5)
	if !slices.Equal(s.Val.X.Raw(), again.Val.X.Raw()) || slices.Equal(s.Val.X.Raw(), other.Val.X.Raw()) {
		t.Fatal("split is not a function of the seed")
	}
	for i := range s.Train.Len() { // rows stay paired
		if s.Train.Y.At(i, 0) != 2*s.Train.X.At(i, 0) {
			t.Fatal("rows unpaired")
		}
	}
	for _, bad := range [][2]float64{{-0.1, 0}, {0.5, 0.5}, {math.NaN(), 0}} {
		if _, err := Split(d, bad[0], bad[1], 1); err == nil {
			t.Fatalf("fractions %v accepted", bad)
		}
	}
	n := FitNormalization(s, true, true)
	if n.Inputs.Scale[1] != 1 { // constant column
		t.Fatalf("constant column scale %v", n.Inputs.Scale[1])
	}
	ns := Normalize(n, s)
	st := FitStandardizer(ns.Train.X)
	if math.Abs(st.Mean[0]) > 1e-12 || math.Abs(st.Scale[0]-1) > 1e-12 {
		t.Fatalf("standardised column: %+v", st)
	}
	back := ns.Test.Y.Clone()
	Invert(n.Targets, back)
	for i, v := range back.Raw() {
		if math.Abs(v-s.Test.Y.Raw()[i]) > 1e-12 {
			t.Fatalf("invert: %v vs %v", v, s.Test.Y.Raw()[i])
		}
	}
	if err := n.Check(2, 1); err != nil {
		t.Fatal(err)
	}
	if err := n.Check(3, 1); err == nil {
		t.Fatal("wrong width accepted")
	}
}

func FuzzReadCSV(f *testing.F) {
	f.Add("a,b,t\n1,2,3\n4,5,6\n", "", uint8(0))
	f.Add("a\tb\n1\t2\n", "b", uint8(1))
	f.Add("a,b\n1,NA\n\"2\",3\n", "0", uint8(2))
	f.Add("x,y\n1,2,3\n", "y", uint8(0))
	f.Fuzz(func(t *testing.T, text, target string, policy uint8) {
		opt := CSVOptions{Missing: Missing(policy % 3)}
		if policy&4 != 0 {
			opt.Comma = '\t'
		}
		if target != "" {
			opt.Targets = []string{target}
		}
		tb, err := ReadCSV(strings.NewReader(text), "f.csv", opt)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.csv") {
				t.Fatalf("message does not name the file: %v", err)
			}
			return
		}
		if err := tb.Data.Validate("fuzz"); err != nil {
			t.Fatalf("loaded data do not validate: %v", err)
		}
	})
}

func FuzzDecodeNPY(f *testing.F) {
	var b bytes.Buffer
	EncodeNPY(&b, []int{2, 3}, []float64{1, 2, 3, 4, 5, 6})
	f.Add(b.Bytes())
	f.Add(npy(">f4", true, "(2, 2)", make([]byte, 16)))
	f.Add(npy("|u1", false, "(3,)", []byte{1, 2, 3}))
	f.Add([]byte("\x93NUMPY\x01\x00\x04\x00abcd"))
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeNPY(b)
		if err != nil {
			return
		}
		n := 1
		for _, s := range a.Shape {
			n *= s
		}
		if n != len(a.Data) {
			t.Fatalf("shape %v with %d values", a.Shape, len(a.Data))
		}
		a.Matrix("f.npy")
	})
}

func FuzzDecodeIDX(f *testing.F) {
	f.Add(idx([]uint32{2, 2}, []byte{1, 2, 3, 4}))
	f.Add([]byte{0, 0, 0x0E, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0})
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	zw.Write(idx([]uint32{3}, []byte{1, 2, 3}))
	zw.Close()
	f.Add(z.Bytes())
	f.Fuzz(func(t *testing.T, b []byte) {
		a, err := DecodeIDX(b)
		if err != nil {
			return
		}
		n := 1
		for _, s := range a.Shape {
			n *= s
		}
		if n != len(a.Data) {
			t.Fatalf("shape %v with %d values", a.Shape, len(a.Data))
		}
	})
}

// TestDiabetesCSV pins the shipped example table (examples/data/README.md):
// its bytes, its shape and its first row.
func TestDiabetesCSV(t *testing.T) {
	path := filepath.Join("..", "examples", "data", "diabetes.csv")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != "731c91514b20f51185739fd2533cde9eccd1c61b16c2aba62d9c8082a9151d4f" {
		t.Fatalf("%s has changed (SHA-256 %x)", path, sum)
	}
	tb, err := LoadCSV(path, CSVOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tb.Data.X.Rows != 442 || tb.Data.X.Cols != 10 || tb.Data.Y.Cols != 1 || tb.TargetNames[0] != "progression" {
		t.Fatalf("%d×%d inputs, targets %v", tb.Data.X.Rows, tb.Data.X.Cols, tb.TargetNames)
	}
	if r := tb.Data.X.Row(0); r[0] != 59 || r[2] != 32.1 || tb.Data.Y.Data[0] != 151 {
		t.Errorf("first row %v → %v", r, tb.Data.Y.Data[0])
	}
}

// fuzzBudget bounds what a fuzzed input may make a reader allocate: the
// memory budget is the mechanism under test.
const fuzzBudget = 64 << 20

func FuzzDecodeNPZ(f *testing.F) {
	limits.SetBudget(fuzzBudget)
	f.Cleanup(func() { limits.SetBudget(0) })
	var x, y bytes.Buffer
	EncodeNPY(&x, []int{2, 2}, []float64{1, 2, 3, 4})
	EncodeNPY(&y, []int{2}, []float64{5, 6})
	var z bytes.Buffer
	zw := zip.NewWriter(&z)
	for name, b := range map[string][]byte{"x.npy": x.Bytes(), "y.npy": y.Bytes()} {
		w, _ := zw.Create(name)
		w.Write(b)
	}
	zw.Close()
	f.Add(z.Bytes())
	f.Add(z.Bytes()[:z.Len()/2])
	f.Add([]byte("PK\x05\x06" + strings.Repeat("\x00", 18)))
	f.Fuzz(func(t *testing.T, b []byte) {
		arrays, err := DecodeNPZ(bytes.NewReader(b), int64(len(b)), "f.npz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.npz") && !errors.Is(err, limits.ErrTooLarge) {
				t.Fatalf("message does not name the file: %v", err)
			}
			return
		}
		for k, a := range arrays {
			n := 1
			for _, s := range a.Shape {
				n *= s
			}
			if n != len(a.Data) {
				t.Fatalf("%s: shape %v with %d values", k, a.Shape, len(a.Data))
			}
		}
	})
}

func FuzzDecodeImage(f *testing.F) {
	limits.SetBudget(fuzzBudget)
	f.Cleanup(func() { limits.SetBudget(0) })
	for _, p := range []string{"testdata/camera64.png", "testdata/chelsea32.png"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	var j bytes.Buffer
	jpeg.Encode(&j, img, nil)
	f.Add(j.Bytes())
	f.Add(j.Bytes()[:j.Len()/2])
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := DecodeImage(bytes.NewReader(b))
		if err != nil {
			return
		}
		s := p.Shape
		if s.Height < 1 || s.Width < 1 || p.Values.Rows != s.Height*s.Width || p.Values.Cols != s.Channels {
			t.Fatalf("shape %+v with values %d×%d", s, p.Values.Rows, p.Values.Cols)
		}
		for _, v := range p.Values.Raw() {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("pixel value %v outside [0, 1]", v)
			}
		}
	})
}

// TestTransparentPixels: a fully transparent pixel keeps its colour
// (alpha is dropped, not multiplied in).
func TestTransparentPixels(t *testing.T) {
	img := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = 255, 128, 0, 0
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	p, err := DecodeImage(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if r := p.Values.Row(3); r[0] != 1 || math.Abs(r[1]-128.0/255) > 1e-12 || r[2] != 0 {
		t.Fatalf("transparent orange read as %v", r)
	}
}
