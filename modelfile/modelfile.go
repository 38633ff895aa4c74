package modelfile

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/internal/atomicfile"
	"github.com/mgdl/mgdl/internal/buildinfo"
	"github.com/mgdl/mgdl/internal/fileio"
	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/nn"
	"github.com/mgdl/mgdl/tensor"
)

// Format is the value of the metadata's "format" field.
const Format = "mgdl-model"

// FormatVersion is the format version this package writes and the only
// one it reads. Version 2 added the digest over the whole file
// (__metadata__.mgdl_sha256); version 1 files, whose header was not
// covered, are refused with a message saying so.
const FormatVersion = 2

// digestKey is the __metadata__ entry holding the file's SHA-256: of the
// whole file as written with this entry's value set to 64 zeros.
const digestKey = "mgdl_sha256"

var zeroDigest = strings.Repeat("0", 64)

// The errors a bad file gives; test with errors.Is.
var (
	// ErrNotModel: the file is not an mgdl model (not safetensors at all,
	// or safetensors without mgdl metadata).
	ErrNotModel = errors.New("not an mgdl model file")
	// ErrTruncated: the file ends before the header or the tensors do.
	ErrTruncated = errors.New("model file is truncated")
	// ErrCorrupt: the file is damaged or inconsistent (bad JSON, tensor
	// bytes that do not match the file's digest, shapes that disagree).
	ErrCorrupt = errors.New("model file is corrupted")
	// ErrNewerVersion: the file was written by a newer mgdl with a format
	// version this one cannot read.
	ErrNewerVersion = errors.New("model file has a newer format version")
	// ErrOldVersion: the file was written in a format version this mgdl
	// no longer reads.
	ErrOldVersion = errors.New("model file has an old format version")
)

// Grade is the architecture of one grade.
type Grade struct {
	// Widths lists the layer widths, input first and output last.
	Widths []int `json:"widths"`
	// Activation of the hidden layers ("relu", "sin", "tanh", "identity").
	Activation nn.Activation `json:"activation"`
	// Softmax is set when the grade's output is the row-wise softmax of
	// its affine output layer (grade 1 of a classifier).
	Softmax bool `json:"softmax,omitempty"`
}

// Meta is the model's metadata, stored as JSON in the safetensors header.
// Encode fills Format, FormatVersion, LibraryVersion, DType and Grades from
// the model; the rest is the caller's.
type Meta struct {
	Format         string  `json:"format"`
	FormatVersion  int     `json:"format_version"`
	LibraryVersion string  `json:"library_version"`
	DType          string  `json:"dtype"` // "float64" or "float32"
	Grades         []Grade `json:"grades"`
	// Method is how the model was made: "mgdl", "sgdl" or "constructed".
	Method string `json:"method,omitempty"`
	Seed   uint64 `json:"seed"`
	// Inputs and Targets name the input and target columns, when known.
	Inputs  []string `json:"inputs,omitempty"`
	Targets []string `json:"targets,omitempty"`
	// Normalization is applied to inputs before the model and undone on
	// its outputs; nil means none.
	Normalization *data.Normalization `json:"normalization,omitempty"`
	// Image is set for image-regression models: the shape of the image the
	// model was fitted to.
	Image *data.ImageShape `json:"image,omitempty"`
	// Config is the run's configuration (experiment.Config, as in the run
	// folder's config.json) or the construction's options.
	Config json.RawMessage `json:"config,omitempty"`
	// ConfigDigest is the digest of a trained model's configuration
	// (experiment.Config.ComputeDigest): resuming a run checks it.
	ConfigDigest string `json:"config_digest,omitempty"`
	// Metrics holds one object per finished grade (mgdl.GradeResult when
	// trained).
	Metrics json.RawMessage `json:"metrics,omitempty"`
}

// File is a decoded model file: its metadata and the model in the file's
// dtype.
type File struct {
	Meta Meta
	m64  *model.Model[float64]
	m32  *model.Model[float32]
}

// Model returns f's model with element type T, converting (a new copy) if
// the file holds the other dtype.
func Model[T tensor.Float](f *File) *model.Model[T] {
	if m, ok := any(f.m64).(*model.Model[T]); ok && f.m64 != nil {
		return m
	}
	if m, ok := any(f.m32).(*model.Model[T]); ok && f.m32 != nil {
		return m
	}
	if f.m64 != nil {
		return convert[T](f.m64)
	}
	return convert[T](f.m32)
}

func convert[U, T tensor.Float](m *model.Model[T]) *model.Model[U] {
	out := &model.Model[U]{}
	for _, g := range m.Grades {
		c := nn.NewMLP[U](g.Widths, g.Act)
		c.Softmax = g.Softmax
		for i, v := range g.Params() {
			c.Params()[i] = U(v)
		}
		out.Grades = append(out.Grades, c)
	}
	return out
}

// tensorName returns the safetensors name of grade g, layer l (0-based
// arguments, 1-based in the name).
func tensorName(g, l int, bias bool) string {
	kind := "weight"
	if bias {
		kind = "bias"
	}
	return "grade." + strconv.Itoa(g+1) + ".layer." + strconv.Itoa(l+1) + "." + kind
}

type tensorEntry struct {
	DType       string   `json:"dtype"`
	Shape       []int64  `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

func stDType[T tensor.Float]() (string, int) {
	if tensor.DType[T]() == "float32" {
		return "F32", 4
	}
	return "F64", 8
}

// Encode returns m as a model file with metadata meta. Identical models
// and metadata give identical bytes. It returns an error when the model
// or the metadata hold a value JSON cannot write (NaN, ±Inf) or the model
// is outside the table of limits, and panics if m has no grades or its
// grades do not chain (programmer errors).
func Encode[T tensor.Float](m *model.Model[T], meta Meta) ([]byte, error) {
	if len(m.Grades) == 0 {
		panic("modelfile: model has no grades")
	}
	if err := m.CheckChain(); err != nil {
		panic("modelfile: " + err.Error())
	}
	meta.Format = Format
	meta.FormatVersion = FormatVersion
	meta.LibraryVersion = buildinfo.Version
	meta.DType = tensor.DType[T]()
	meta.Grades = nil
	for _, g := range m.Grades {
		meta.Grades = append(meta.Grades, Grade{Widths: slices.Clone(g.Widths), Activation: g.Act, Softmax: g.Softmax})
	}
	dt, size := stDType[T]()
	var buf bytes.Buffer
	header := map[string]any{}
	put := func(name string, shape []int64, vals []T) {
		off := int64(buf.Len())
		for _, v := range vals {
			if size == 4 {
				binary.Write(&buf, binary.LittleEndian, math.Float32bits(float32(v)))
			} else {
				binary.Write(&buf, binary.LittleEndian, math.Float64bits(float64(v)))
			}
		}
		header[name] = tensorEntry{DType: dt, Shape: shape, DataOffsets: [2]int64{off, int64(buf.Len())}}
	}
	for g, net := range m.Grades {
		for l := range net.Layers {
			L := &net.Layers[l]
			put(tensorName(g, l, false), []int64{int64(L.In), int64(L.Out)}, L.W.Raw())
			put(tensorName(g, l, true), []int64{int64(L.Out)}, L.B)
		}
	}
	if _, err := checkArch(&meta); err != nil {
		return nil, fmt.Errorf("modelfile: %w", err)
	}
	mj, err := json.Marshal(meta)
	if err != nil {
		return nil, fmt.Errorf("modelfile: the metadata cannot be written: %w", err)
	}
	header["__metadata__"] = map[string]string{
		"format":         Format,
		"format_version": strconv.Itoa(FormatVersion),
		"mgdl":           string(mj),
		digestKey:        zeroDigest,
	}
	hj, err := json.Marshal(header)
	if err != nil {
		return nil, fmt.Errorf("modelfile: the header cannot be written: %w", err)
	}
	for len(hj)%8 != 0 { // safetensors pads the header with spaces to 8 bytes
		hj = append(hj, ' ')
	}
	out := make([]byte, 8, 8+len(hj)+buf.Len())
	binary.LittleEndian.PutUint64(out, uint64(len(hj)))
	out = append(out, hj...)
	out = append(out, buf.Bytes()...)
	at := digestAt(out[8 : 8+len(hj)])
	if at < 0 {
		panic("modelfile: the digest entry is not in the header")
	}
	sum := sha256.Sum256(out)
	hex.Encode(out[8+at:8+at+64], sum[:])
	return out, nil
}

// digestAt returns the offset in header of the digest's 64 hex digits, or
// -1 unless the entry occurs exactly once, as Encode writes it.
func digestAt(header []byte) int {
	key := []byte(`"` + digestKey + `":"`)
	i := bytes.Index(header, key)
	if i < 0 || bytes.Count(header, key) != 1 || i+len(key)+65 > len(header) || header[i+len(key)+64] != '"' {
		return -1
	}
	return i + len(key)
}

// WriteFile writes m with metadata meta to path atomically: a crash at any
// moment leaves either the old file or the new one.
func WriteFile[T tensor.Float](path string, m *model.Model[T], meta Meta) error {
	b, err := Encode(m, meta)
	if err != nil {
		return err
	}
	return atomicfile.Write(path, b)
}

// ReadFile reads and checks the model file at path. Errors name the path
// and wrap one of ErrNotModel, ErrTruncated, ErrCorrupt, ErrNewerVersion, or
// the file system's error.
func ReadFile(path string) (*File, error) {
	b, err := fileio.ReadFile(path, 8+limits.MaxHeader+8*limits.MaxParams, "a model file")
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	f, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	return f, nil
}

// Decode checks and decodes a model file held in b.
func Decode(b []byte) (*File, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: the file is empty", ErrTruncated)
	}
	if len(b) < 9 {
		return nil, fmt.Errorf("%w: only %d bytes", ErrTruncated, len(b))
	}
	n := binary.LittleEndian.Uint64(b[:8])
	if b[8] != '{' || n < 2 || n > limits.MaxHeader {
		return nil, fmt.Errorf("%w: no safetensors header (the first 8 bytes give a header length of %d and the header must start with '{')", ErrNotModel, n)
	}
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("%w: the header needs %d bytes but the file has %d after the length", ErrTruncated, n, len(b)-8)
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		return nil, fmt.Errorf("%w: header is not valid JSON: %v", ErrCorrupt, err)
	}
	var md map[string]string
	if raw, ok := header["__metadata__"]; ok {
		if err := json.Unmarshal(raw, &md); err != nil {
			return nil, fmt.Errorf("%w: __metadata__ is not an object of strings: %v", ErrCorrupt, err)
		}
	}
	mj, ok := md["mgdl"]
	if !ok {
		return nil, fmt.Errorf("%w: a safetensors file without mgdl metadata (__metadata__.mgdl)", ErrNotModel)
	}
	var ver struct {
		Format        string `json:"format"`
		FormatVersion int    `json:"format_version"`
	}
	if err := json.Unmarshal([]byte(mj), &ver); err != nil {
		return nil, fmt.Errorf("%w: mgdl metadata is not valid JSON: %v", ErrCorrupt, err)
	}
	if ver.Format != Format {
		return nil, fmt.Errorf("%w: metadata format is %q, want %q", ErrNotModel, ver.Format, Format)
	}
	if ver.FormatVersion > FormatVersion {
		return nil, fmt.Errorf("%w: the file has format version %d, this mgdl (%s) reads up to %d; use a newer mgdl", ErrNewerVersion, ver.FormatVersion, buildinfo.Version, FormatVersion)
	}
	if ver.FormatVersion == 1 {
		return nil, fmt.Errorf("%w: format version 1, written by an earlier mgdl, has no digest over its header, so an edit cannot be detected; this mgdl reads version %d: train or construct the model again", ErrOldVersion, FormatVersion)
	}
	if ver.FormatVersion < 1 {
		return nil, fmt.Errorf("%w: format version %d is not valid", ErrCorrupt, ver.FormatVersion)
	}
	f := &File{}
	if err := json.Unmarshal([]byte(mj), &f.Meta); err != nil {
		return nil, fmt.Errorf("%w: mgdl metadata: %v", ErrCorrupt, err)
	}
	size, err := checkArch(&f.Meta)
	if tl := (*limits.TooLargeError)(nil); errors.As(err, &tl) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	// Every tensor's dtype is checked here, before the size check that a
	// dtype mismatch would otherwise be reported as.
	wantDT := map[string]string{"float64": "F64", "float32": "F32"}[f.Meta.DType]
	for _, name := range slices.Sorted(maps.Keys(header)) {
		var e struct {
			DType string `json:"dtype"`
		}
		if name != "__metadata__" && json.Unmarshal(header[name], &e) == nil && e.DType != wantDT {
			return nil, fmt.Errorf("%w: tensor %s has dtype %s, but the metadata says %s (%s)", ErrCorrupt, name, e.DType, f.Meta.DType, wantDT)
		}
	}
	body := b[8+n:]
	if want := size * int64(elemSize(f.Meta.DType)); int64(len(body)) < want {
		return nil, fmt.Errorf("%w: the architecture needs %d bytes of tensors but the file has %d", ErrTruncated, want, len(body))
	} else if int64(len(body)) > want {
		return nil, fmt.Errorf("%w: %d bytes after the tensors", ErrCorrupt, int64(len(body))-want)
	}
	if err := checkDigest(b, b[8:8+n], md[digestKey]); err != nil {
		return nil, err
	}
	if f.Meta.DType == "float32" {
		f.m32, err = decodeModel[float32](f.Meta, header, body)
	} else {
		f.m64, err = decodeModel[float64](f.Meta, header, body)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return f, nil
}

// checkDigest checks the file b (header h) against the digest it records.
func checkDigest(b, h []byte, want string) error {
	if want == "" {
		return fmt.Errorf("%w: the header records no digest (__metadata__.%s)", ErrCorrupt, digestKey)
	}
	at := digestAt(h)
	if at < 0 || h[at] == '0' && string(h[at:at+64]) == zeroDigest {
		return fmt.Errorf("%w: the digest entry (__metadata__.%s) is not as mgdl writes it", ErrCorrupt, digestKey)
	}
	// The file with the digest's 64 digits read as zeros, without a copy.
	hs := sha256.New()
	hs.Write(b[:8+at])
	hs.Write([]byte(zeroDigest))
	hs.Write(b[8+at+64:])
	if got := hex.EncodeToString(hs.Sum(nil)); got != string(h[at:at+64]) || got != want {
		return fmt.Errorf("%w: the file's SHA-256 does not match the digest it records, so its header or tensors were changed after it was written", ErrCorrupt)
	}
	return nil
}

func elemSize(dtype string) int {
	if dtype == "float32" {
		return 4
	}
	return 8
}

// checkArch validates the architecture and returns the number of
// parameters.
func checkArch(m *Meta) (int64, error) {
	if m.DType != "float64" && m.DType != "float32" {
		return 0, fmt.Errorf("dtype %q: want float64 or float32", m.DType)
	}
	if len(m.Grades) == 0 || len(m.Grades) > limits.MaxGrades {
		return 0, fmt.Errorf("%d grades; want 1 to %d", len(m.Grades), limits.MaxGrades)
	}
	var total int64
	for l, g := range m.Grades {
		p, err := limits.Widths(g.Widths)
		if err != nil {
			return 0, fmt.Errorf("grade %d: %w", l+1, err)
		}
		if total += p; total > limits.MaxParams {
			return 0, fmt.Errorf("more than %d parameters", limits.MaxParams)
		}
		if l > 0 {
			prev := m.Grades[l-1].Widths
			if g.Widths[0] != prev[len(prev)-2] {
				return 0, fmt.Errorf("grade %d reads %d features but grade %d gives %d", l+1, g.Widths[0], l, prev[len(prev)-2])
			}
			if g.Widths[len(g.Widths)-1] != prev[len(prev)-1] {
				return 0, fmt.Errorf("grade %d has %d outputs but grade %d has %d", l+1, g.Widths[len(g.Widths)-1], l, prev[len(prev)-1])
			}
		}
		if g.Activation.String() != actName(g.Activation) {
			return 0, fmt.Errorf("grade %d: unknown activation", l+1)
		}
		if g.Softmax && (l > 0 || g.Widths[len(g.Widths)-1] < 2) {
			return 0, fmt.Errorf("grade %d: a softmax output needs grade 1 and at least 2 outputs (a classifier)", l+1)
		}
	}
	switch m.Method {
	case "", "mgdl", "sgdl", "constructed":
	default:
		return 0, fmt.Errorf("method %q: want mgdl, sgdl or constructed", m.Method)
	}
	in, out := m.Grades[0].Widths[0], m.Grades[0].Widths[len(m.Grades[0].Widths)-1]
	if m.Normalization != nil {
		if err := m.Normalization.Check(in, out); err != nil {
			return 0, err
		}
	}
	if len(m.Inputs) != 0 && len(m.Inputs) != in {
		return 0, fmt.Errorf("%d input names for %d inputs", len(m.Inputs), in)
	}
	if len(m.Targets) != 0 && len(m.Targets) != out {
		return 0, fmt.Errorf("%d target names for %d outputs", len(m.Targets), out)
	}
	if im := m.Image; im != nil {
		if err := data.CheckImageSize("the model's image", im.Height, im.Width); err != nil {
			return 0, err
		}
		if in != 2 || im.Channels != out || (im.Channels != 1 && im.Channels != 3) {
			return 0, fmt.Errorf("an image of %d channels for a model of %d inputs and %d outputs (want 2 inputs and 1 or 3 channels, one per output)", im.Channels, in, out)
		}
	}
	if err := limits.Check(fmt.Sprintf("a model of %d parameters", total), int64(elemSize(m.DType)), total); err != nil {
		return 0, err
	}
	return total, nil
}

func actName(a nn.Activation) string {
	if a < nn.ReLU || a > nn.Identity {
		return ""
	}
	return a.String()
}

// decodeModel builds the model from the tensor table, checking every entry.
func decodeModel[T tensor.Float](meta Meta, header map[string]json.RawMessage, body []byte) (*model.Model[T], error) {
	_, size := stDType[T]()
	type span struct{ a, b int64 }
	var spans []span
	seen := 0
	m := &model.Model[T]{}
	for g, arch := range meta.Grades {
		net := nn.NewMLP[T](arch.Widths, arch.Activation)
		net.Softmax = arch.Softmax
		for l := range net.Layers {
			L := &net.Layers[l]
			for _, bias := range []bool{false, true} {
				name := tensorName(g, l, bias)
				raw, ok := header[name]
				if !ok {
					return nil, fmt.Errorf("tensor %s is missing", name)
				}
				seen++
				var e tensorEntry
				if err := json.Unmarshal(raw, &e); err != nil {
					return nil, fmt.Errorf("tensor %s: %v", name, err)
				}
				want, dst := []int64{int64(L.In), int64(L.Out)}, L.W.Raw()
				if bias {
					want, dst = []int64{int64(L.Out)}, L.B
				}
				if !slices.Equal(e.Shape, want) {
					return nil, fmt.Errorf("tensor %s has shape %v, the architecture needs %v", name, e.Shape, want)
				}
				a, b := e.DataOffsets[0], e.DataOffsets[1]
				if a < 0 || b < a || b > int64(len(body)) || b-a != int64(len(dst))*int64(size) {
					return nil, fmt.Errorf("tensor %s has data offsets [%d, %d], outside the %d tensor bytes or of the wrong length", name, a, b, len(body))
				}
				spans = append(spans, span{a, b})
				src := body[a:b]
				for i := range dst {
					var v float64
					if size == 4 {
						v = float64(math.Float32frombits(binary.LittleEndian.Uint32(src[4*i:])))
					} else {
						v = math.Float64frombits(binary.LittleEndian.Uint64(src[8*i:]))
					}
					if math.IsNaN(v) || math.IsInf(v, 0) {
						return nil, fmt.Errorf("tensor %s element %d is %v", name, i, v)
					}
					dst[i] = T(v)
				}
			}
		}
		m.Grades = append(m.Grades, net)
	}
	if extra := len(header) - seen - 1; extra != 0 {
		return nil, fmt.Errorf("%d tensors that the architecture does not name", extra)
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].a < spans[j].a })
	for i := 1; i < len(spans); i++ {
		if spans[i].a < spans[i-1].b {
			return nil, fmt.Errorf("tensors overlap at byte %d", spans[i].a)
		}
	}
	return m, nil
}
