package modelfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/tensor"
)

// trained returns a small model trained for a few epochs on xu1.
func trained[T tensor.Float](t *testing.T) *model.Model[T] {
	t.Helper()
	ex, err := data.Lookup("xu1")
	if err != nil {
		t.Fatal(err)
	}
	s := data.Generate[T](ex, 1)
	tmpl := mgdl.GradeSpec{Epochs: 3, BatchSize: 500, LR: optim.ExpDecay(1e-3, 1e-3), Activation: nn.ReLU}
	cfg := mgdl.Uniform([][]int{{1, 16, 16, 1}, {16, 8, 1}, {8, 8, 8, 1}}, tmpl, 3)
	cfg.Grades[0].Activation = nn.Sin
	m, _, err := mgdl.Train(t.Context(), cfg, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// constructed returns a hand-built model of the shape the constructive
// scheme makes: float64 ReLU grades of small widths, exact weights.
func constructed(t *testing.T) *model.Model[float64] {
	t.Helper()
	rng := rand.New(rand.NewPCG(9, 9))
	m := &model.Model[float64]{}
	for _, w := range [][]int{{2, 6, 1}, {6, 6, 1}, {6, 4, 1}} {
		g := nn.NewMLP[float64](w, nn.ReLU)
		for i := range g.Params() {
			g.Params()[i] = float64(rng.IntN(9)-4) / 4 // exact binary fractions
		}
		m.Grades = append(m.Grades, g)
	}
	return m
}

func inputs[T tensor.Float](n, d int) *tensor.Dense[T] {
	rng := rand.New(rand.NewPCG(1, 2))
	x := tensor.New[T](n, d)
	for i := range x.Data {
		x.Data[i] = T(rng.Float64())
	}
	return x
}

func sameBits[T tensor.Float](t *testing.T, what string, a, b []T) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: %d values vs %d", what, len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("%s: element %d: %v vs %v", what, i, a[i], b[i])
		}
	}
}

func roundTrip[T tensor.Float](t *testing.T, m *model.Model[T], meta Meta) *File {
	t.Helper()
	path := filepath.Join(t.TempDir(), "model.safetensors")
	if err := WriteFile(path, m, meta); err != nil {
		t.Fatal(err)
	}
	f, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Meta.DType != tensor.DType[T]() || f.Meta.FormatVersion != FormatVersion || f.Meta.Format != Format {
		t.Fatalf("meta %+v", f.Meta)
	}
	got := Model[T](f)
	x := inputs[T](257, m.InDim())
	want := m.StagedPredict(x)
	have := got.StagedPredict(x)
	for l := range want {
		sameBits(t, "grade output", want[l].Raw(), have[l].Raw())
	}
	for l, g := range m.Grades {
		sameBits(t, "params", g.Params(), got.Grades[l].Params())
		if g.Act != got.Grades[l].Act || g.Softmax != got.Grades[l].Softmax {
			t.Fatalf("grade %d: activation or softmax differ", l+1)
		}
	}
	return f
}

// TestRoundTrip: save → load gives bit-identical predictions after every
// grade, for trained models in both dtypes and for a constructed model.
func TestRoundTrip(t *testing.T) {
	norm := &data.Normalization{Inputs: &data.Standardizer{Mean: []float64{0.5}, Scale: []float64{0.25}}}
	t.Run("trained/float64", func(t *testing.T) {
		f := roundTrip(t, trained[float64](t), Meta{Method: "mgdl", Seed: 3, Normalization: norm, Inputs: []string{"x"}, Targets: []string{"y"}})
		if f.Meta.Seed != 3 || f.Meta.Normalization.Inputs.Scale[0] != 0.25 || f.Meta.Inputs[0] != "x" {
			t.Fatalf("metadata lost: %+v", f.Meta)
		}
		if f.Meta.Grades[0].Activation != nn.Sin || f.Meta.Grades[1].Activation != nn.ReLU {
			t.Fatalf("activations %+v", f.Meta.Grades)
		}
	})
	t.Run("trained/float32", func(t *testing.T) { roundTrip(t, trained[float32](t), Meta{Method: "mgdl"}) })
	t.Run("constructed/float64", func(t *testing.T) {
		cfg := json.RawMessage(`{"scheme":"balanced-contraction","width":6}`)
		f := roundTrip(t, constructed(t), Meta{Method: "constructed", Config: cfg})
		if string(f.Meta.Config) != string(cfg) {
			t.Fatalf("config %s", f.Meta.Config)
		}
	})
	t.Run("constructed/float32", func(t *testing.T) { roundTrip(t, convert[float32](constructed(t)), Meta{Method: "constructed"}) })
	t.Run("softmax", func(t *testing.T) {
		m := &model.Model[float64]{}
		for _, w := range [][]int{{3, 5, 2}, {5, 4, 2}} {
			g := nn.NewMLP[float64](w, nn.ReLU)
			for i := range g.Params() {
				g.Params()[i] = float64(i%7) / 8
			}
			m.Grades = append(m.Grades, g)
		}
		m.Grades[0].Softmax = true
		roundTrip(t, m, Meta{})
	})
	t.Run("convert", func(t *testing.T) {
		m := constructed(t)
		f, err := Decode(mustEncode(t, m, Meta{}))
		if err != nil {
			t.Fatal(err)
		}
		m32 := Model[float32](f)
		sameBits(t, "float32 params", convert[float32](m).Grades[1].Params(), m32.Grades[1].Params())
	})
}

// TestLayout pins the safetensors layout a third party reads (see
// docs/MODEL_FORMAT.md): names, dtypes, shapes, offsets and the metadata.
func TestLayout(t *testing.T) {
	m := constructed(t)
	b := mustEncode(t, m, Meta{Seed: 5})
	n := binary.LittleEndian.Uint64(b)
	if n%8 != 0 {
		t.Errorf("header length %d is not a multiple of 8", n)
	}
	var h map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	var e tensorEntry
	json.Unmarshal(h["grade.2.layer.1.weight"], &e)
	if e.DType != "F64" || len(e.Shape) != 2 || e.Shape[0] != 6 || e.Shape[1] != 6 {
		t.Fatalf("grade.2.layer.1.weight: %+v", e)
	}
	body := b[8+n:]
	v := body[e.DataOffsets[0]:e.DataOffsets[1]]
	w := m.Grades[1].Layers[0].W.Raw()
	for i := range w {
		if got := float64frombits(v[8*i:]); got != w[i] {
			t.Fatalf("element %d: %v, want %v", i, got, w[i])
		}
	}
	var md map[string]string
	json.Unmarshal(h["__metadata__"], &md)
	if md["format"] != Format || md["format_version"] != "2" || len(md[digestKey]) != 64 {
		t.Fatalf("__metadata__ %v", md)
	}
	// The digest is the SHA-256 of the file with its own 64 digits zeroed.
	zeroed := bytes.Replace(b, []byte(md[digestKey]), []byte(zeroDigest), 1)
	if sum := sha256.Sum256(zeroed); hex.EncodeToString(sum[:]) != md[digestKey] {
		t.Fatalf("digest %s is not the SHA-256 of the zeroed file", md[digestKey])
	}
	if len(h) != 1+2*(2+2+2) {
		t.Fatalf("%d header entries", len(h))
	}
}

func float64frombits(b []byte) float64 {
	var v float64
	binary.Read(bytes.NewReader(b[:8]), binary.LittleEndian, &v)
	return v
}

// badFiles returns the bad model files of docs/BAD_INPUT.md, each with the
// sentinel error and a piece of the message it must give.
func badFiles(t *testing.T) []struct {
	name string
	b    []byte
	err  error
	msg  string
} {
	good := mustEncode(t, constructed(t), Meta{Inputs: []string{"x", "y"}, Normalization: &data.Normalization{Targets: &data.Standardizer{Mean: []float64{0.5}, Scale: []float64{2}}}})
	n := binary.LittleEndian.Uint64(good)
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	// unsealed rewrites the header as edit says, keeping the old digest.
	unsealed := func(edit func(h map[string]any, md map[string]string, meta map[string]any)) []byte {
		var h map[string]any
		json.Unmarshal(good[8:8+n], &h)
		md := map[string]string{}
		for k, v := range h["__metadata__"].(map[string]any) {
			md[k] = v.(string)
		}
		var meta map[string]any
		json.Unmarshal([]byte(md["mgdl"]), &meta)
		edit(h, md, meta)
		mj, _ := json.Marshal(meta)
		md["mgdl"] = string(mj)
		h["__metadata__"] = md
		hj, _ := json.Marshal(h)
		out := binary.LittleEndian.AppendUint64(nil, uint64(len(hj)))
		return append(append(out, hj...), good[8+n:]...)
	}
	// rewrite is unsealed with the digest recomputed, as a careless or
	// hostile writer would: the structural checks must still hold.
	rewrite := func(edit func(h map[string]any, md map[string]string, meta map[string]any)) []byte {
		return seal(unsealed(edit))
	}
	replace := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("%q is not in the file", old)
		}
		return bytes.Replace(bytes.Clone(good), []byte(old), []byte(new), 1)
	}
	return []struct {
		name string
		b    []byte
		err  error
		msg  string
	}{
		{"empty file", nil, ErrTruncated, "the file is empty"},
		{"5 bytes", good[:5], ErrTruncated, "only 5 bytes"},
		{"cut in the header", good[:8+n/2], ErrTruncated, "the header needs"},
		{"cut in the tensors", good[:len(good)-13], ErrTruncated, "bytes of tensors but the file has"},
		{"bytes appended", append(bytes.Clone(good), 0), ErrCorrupt, "bytes after the tensors"},
		{"a flipped weight bit", mut(func(b []byte) []byte { b[len(b)-20] ^= 1; return b }), ErrCorrupt, "does not match the digest it records"},
		{"activation edited in the header", replace(`\"activation\":\"relu\"`, `\"activation\":\"tanh\"`), ErrCorrupt, "does not match the digest it records"},
		{"target mean edited in the header", replace(`\"mean\":[0.5]`, `\"mean\":[0.6]`), ErrCorrupt, "does not match the digest it records"},
		{"seed edited in the header", replace(`\"seed\":0`, `\"seed\":1`), ErrCorrupt, "does not match the digest it records"},
		{"digest removed", unsealed(func(_ map[string]any, md map[string]string, _ map[string]any) { delete(md, digestKey) }), ErrCorrupt, "records no digest"},
		{"digest zeroed", unsealed(func(_ map[string]any, md map[string]string, _ map[string]any) { md[digestKey] = zeroDigest }), ErrCorrupt, "not as mgdl writes it"},
		{"format version 1", rewrite(func(_ map[string]any, _ map[string]string, meta map[string]any) { meta["format_version"] = 1 }), ErrOldVersion, "format version 1, written by an earlier mgdl"},
		{"image of negative height", rewrite(func(_ map[string]any, _ map[string]string, meta map[string]any) {
			meta["image"] = map[string]any{"height": -5, "width": 4, "channels": 1}
		}), ErrCorrupt, "want sides of 1 to 65536"},
		{"image larger than the budget", rewrite(func(_ map[string]any, _ map[string]string, meta map[string]any) {
			meta["image"] = map[string]any{"height": 60000, "width": 60000, "channels": 1}
		}), limits.ErrTooLarge, "more than the memory budget"},
		{"input names that do not fit", rewrite(func(_ map[string]any, _ map[string]string, meta map[string]any) { meta["inputs"] = []string{"x"} }), ErrCorrupt, "1 input names for 2 inputs"},
		{"too many layers", rewrite(func(_ map[string]any, _ map[string]string, meta map[string]any) {
			w := make([]int, limits.MaxLayers+2)
			for i := range w {
				w[i] = 2
			}
			meta["grades"].([]any)[0].(map[string]any)["widths"] = w
		}), ErrCorrupt, "65537 layers; at most 65536"},
		{"a flipped header byte", mut(func(b []byte) []byte { b[8+n/2] = 0xff; return b }), ErrCorrupt, "not valid JSON"},
		{"a PNG file", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), ErrNotModel, "no safetensors header"},
		{"a text file", []byte("grades: [[1, 2, 1]]\n"), ErrNotModel, "no safetensors header"},
		{"foreign safetensors", func() []byte {
			hj := []byte(`{"weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`)
			return append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(hj))), hj...), 0, 0, 0, 0)
		}(), ErrNotModel, "without mgdl metadata"},
		{"newer format version", unsealed(func(_ map[string]any, _ map[string]string, meta map[string]any) { meta["format_version"] = 3 }), ErrNewerVersion, "format version 3"},
		{"other format name", rewrite(func(_ map[string]any, _ map[string]string, meta map[string]any) { meta["format"] = "other" }), ErrNotModel, `metadata format is "other"`},
		{"architecture that does not chain", rewrite(func(_ map[string]any, _ map[string]string, meta map[string]any) {
			meta["grades"].([]any)[1].(map[string]any)["widths"] = []int{5, 6, 1}
		}), ErrCorrupt, "grade 2 reads 5 features but grade 1 gives 6"},
		{"unknown activation", rewrite(func(_ map[string]any, _ map[string]string, meta map[string]any) {
			meta["grades"].([]any)[0].(map[string]any)["activation"] = "gelu"
		}), ErrCorrupt, `unknown activation "gelu"`},
		{"wrong dtype", rewrite(func(_ map[string]any, _ map[string]string, meta map[string]any) { meta["dtype"] = "float16" }), ErrCorrupt, `dtype "float16"`},
		{"missing tensor", rewrite(func(h map[string]any, _ map[string]string, _ map[string]any) { delete(h, "grade.3.layer.2.bias") }), ErrCorrupt, "tensor grade.3.layer.2.bias is missing"},
		{"wrong shape", rewrite(func(h map[string]any, _ map[string]string, _ map[string]any) {
			h["grade.1.layer.1.weight"].(map[string]any)["shape"] = []int{6, 2}
		}), ErrCorrupt, "has shape [6 2], the architecture needs [2 6]"},
		{"offsets outside the data", rewrite(func(h map[string]any, _ map[string]string, _ map[string]any) {
			h["grade.1.layer.1.bias"].(map[string]any)["data_offsets"] = []int{1 << 40, 1<<40 + 48}
		}), ErrCorrupt, "data offsets"},
		{"overlapping tensors", rewrite(func(h map[string]any, _ map[string]string, _ map[string]any) {
			h["grade.1.layer.1.bias"].(map[string]any)["data_offsets"] = []any{0.0, 48.0}
		}), ErrCorrupt, "overlap"},
		{"huge width", rewrite(func(_ map[string]any, _ map[string]string, meta map[string]any) {
			meta["grades"].([]any)[0].(map[string]any)["widths"] = []int{2, 1 << 30, 1}
		}), ErrCorrupt, "grade 1: width 1073741824 is above the limit of 1048576"},
	}
}

// TestBadFiles: every bad model file gives its error, never a panic.
func TestBadFiles(t *testing.T) {
	for _, c := range badFiles(t) {
		t.Run(c.name, func(t *testing.T) {
			_, err := Decode(c.b)
			if !errors.Is(err, c.err) || !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("got %v, want %v with %q", err, c.err, c.msg)
			}
		})
	}
}

func TestReadFileErrors(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadFile(filepath.Join(dir, "nope")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := ReadFile(dir); err == nil || !strings.Contains(err.Error(), "is a folder") {
		t.Fatalf("folder: %v", err)
	}
	if err := WriteFile(filepath.Join(dir, "no", "such", "dir", "m.safetensors"), constructed(t), Meta{}); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
}

// FuzzDecode: no input makes Decode panic, and whatever decodes encodes
// back to a file that decodes to the same parameters.
func FuzzDecode(f *testing.F) {
	m := &model.Model[float64]{}
	for _, w := range [][]int{{1, 3, 1}, {3, 2, 1}} {
		g := nn.NewMLP[float64](w, nn.ReLU)
		for i := range g.Params() {
			g.Params()[i] = float64(i) / 8
		}
		m.Grades = append(m.Grades, g)
	}
	good := mustEncode(f, m, Meta{Seed: 1})
	f.Add(good)
	f.Add(mustEncode(f, convert[float32](m), Meta{}))
	f.Add(good[:len(good)/2])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := Decode(b)
		if err != nil {
			return
		}
		if file.Meta.DType == "float32" {
			again, err := Decode(mustEncode(t, Model[float32](file), file.Meta))
			if err != nil {
				t.Fatalf("re-encoded file does not decode: %v", err)
			}
			sameBits(t, "params", Model[float32](file).Grades[0].Params(), Model[float32](again).Grades[0].Params())
			return
		}
		again, err := Decode(mustEncode(t, Model[float64](file), file.Meta))
		if err != nil {
			t.Fatalf("re-encoded file does not decode: %v", err)
		}
		sameBits(t, "params", Model[float64](file).Grades[0].Params(), Model[float64](again).Grades[0].Params())
	})
}

func mustEncode[T tensor.Float](t testing.TB, m *model.Model[T], meta Meta) []byte {
	t.Helper()
	b, err := Encode(m, meta)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// seal recomputes b's digest, as Encode does.
func seal(b []byte) []byte {
	n := binary.LittleEndian.Uint64(b)
	at := digestAt(b[8 : 8+n])
	if at < 0 {
		return b
	}
	copy(b[8+at:], zeroDigest)
	sum := sha256.Sum256(b)
	hex.Encode(b[8+at:8+at+64], sum[:])
	return b
}

// TestIdenticalBytes: identical models and metadata give identical files,
// and any single-byte edit of the header is refused.
func TestIdenticalBytes(t *testing.T) {
	a, b := mustEncode(t, constructed(t), Meta{Seed: 3}), mustEncode(t, constructed(t), Meta{Seed: 3})
	if !bytes.Equal(a, b) {
		t.Fatal("two encodings of one model differ")
	}
	n := int(binary.LittleEndian.Uint64(a))
	for i := 8; i < 8+n; i += 7 {
		c := bytes.Clone(a)
		c[i] ^= 0x01
		if _, err := Decode(c); err == nil {
			t.Fatalf("a flipped bit at header byte %d was accepted", i)
		}
	}
}

// TestEncodeRefusesNaN: metadata JSON cannot hold is an error, not a panic.
func TestEncodeRefusesNaN(t *testing.T) {
	_, err := Encode(constructed(t), Meta{Normalization: &data.Normalization{Targets: &data.Standardizer{Mean: []float64{math.NaN()}, Scale: []float64{1}}}})
	if err == nil || !strings.Contains(err.Error(), "target normalisation of column 0 is mean NaN") {
		t.Fatalf("NaN mean: %v", err)
	}
}

// TestOneTableOfLimits: the trainer accepts exactly the architectures the
// reader accepts, at the edges of the table of limits.
func TestOneTableOfLimits(t *testing.T) {
	deep := func(layers int) []int {
		w := make([]int, layers+1)
		for i := range w {
			w[i] = 2
		}
		w[len(w)-1] = 1
		return w
	}
	for _, c := range []struct {
		name   string
		widths []int
		ok     bool
	}{
		{"widest layer", []int{2, limits.MaxWidth, 1}, true},
		{"one unit wider", []int{2, limits.MaxWidth + 1, 1}, false},
		{"deepest grade", deep(limits.MaxLayers), true},
		{"one layer deeper", deep(limits.MaxLayers + 1), false},
		{"too many parameters", []int{2, 40000, 40000, 1}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			trainErr := mgdl.Config{Grades: []mgdl.GradeSpec{{Widths: c.widths, LR: optim.Constant(1e-3)}}}.Validate(2, 1)
			_, readErr := checkArch(&Meta{DType: "float64", Grades: []Grade{{Widths: c.widths, Activation: nn.ReLU}}})
			if (trainErr == nil) != c.ok || (readErr == nil) != c.ok {
				t.Fatalf("trainer: %v; reader: %v; want ok=%v for both", trainErr, readErr, c.ok)
			}
		})
	}
}
