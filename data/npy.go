package data

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl/internal/fileio"
	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/tensor"
)

// npyMagic starts every NumPy .npy file.
const npyMagic = "\x93NUMPY"

// maxNPYHeader bounds the header dictionary of an .npy file.
const maxNPYHeader = 1 << 20

// Array is an n-dimensional array read from an .npy file, in C (row-major)
// order whatever the file's order, converted to float64.
type Array struct {
	Shape []int
	Data  []float64
	// DType is the file's type string, e.g. "<f8".
	DType string
}

// Matrix returns a as an n×d matrix: a 1-D array of length n is n×1, and
// an array of shape (n, a, b, …) is n×(a·b·…). name is used in messages.
// It returns an error for a 0-D array or a NaN or infinite element.
func (a *Array) Matrix(name string) (*tensor.Dense[float64], error) {
	if len(a.Shape) == 0 {
		return nil, fmt.Errorf("%s: a scalar (shape ()); want an array of shape (n,) or (n, d)", name)
	}
	n := a.Shape[0]
	d := 1
	for _, s := range a.Shape[1:] {
		d *= s
	}
	if n == 0 || d == 0 {
		return nil, fmt.Errorf("%s: shape %v holds no values", name, a.Shape)
	}
	for i, v := range a.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: row %d, column %d is %v; want finite numbers", name, i/d, i%d, v)
		}
	}
	return tensor.FromSlice(n, d, a.Data), nil
}

// LoadNPY reads the .npy file at path: see DecodeNPY.
func LoadNPY(path string) (*Array, error) {
	b, err := fileio.ReadFile(path, 0, "")
	if err != nil {
		return nil, err
	}
	a, err := DecodeNPY(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// DecodeNPY decodes a NumPy .npy file (format versions 1, 2 and 3) held in
// b. Element types: float64, float32, and signed or unsigned integers of 1
// to 8 bytes, in either byte order; Fortran order is accepted and
// converted. The data must fill the rest of b exactly.
func DecodeNPY(b []byte) (*Array, error) {
	if len(b) == 0 {
		return nil, errors.New("the file is empty; want a NumPy .npy file")
	}
	if !bytes.HasPrefix(b, []byte(npyMagic)) {
		if len(b) < len(npyMagic) && bytes.HasPrefix([]byte(npyMagic), b) {
			return nil, fmt.Errorf("truncated .npy file (%d bytes)", len(b))
		}
		return nil, errors.New("not a NumPy .npy file (it does not start with \\x93NUMPY)")
	}
	if len(b) < 10 {
		return nil, fmt.Errorf("truncated .npy file (%d bytes)", len(b))
	}
	major := b[6]
	var hlen, off int
	switch major {
	case 1:
		hlen, off = int(binary.LittleEndian.Uint16(b[8:])), 10
	case 2, 3:
		if len(b) < 12 {
			return nil, fmt.Errorf("truncated .npy file (%d bytes)", len(b))
		}
		h := binary.LittleEndian.Uint32(b[8:])
		if h > maxNPYHeader {
			return nil, fmt.Errorf(".npy header of %d bytes is too long", h)
		}
		hlen, off = int(h), 12
	default:
		return nil, fmt.Errorf(".npy format version %d.%d is not supported (want 1, 2 or 3)", major, b[7])
	}
	if off+hlen > len(b) {
		return nil, fmt.Errorf("truncated .npy file: the header needs %d bytes, the file has %d", off+hlen, len(b))
	}
	h, err := parseNPYHeader(string(b[off : off+hlen]))
	if err != nil {
		return nil, fmt.Errorf(".npy header: %w", err)
	}
	size, order, conv, err := npyDType(h.descr)
	if err != nil {
		return nil, err
	}
	body := b[off+hlen:]
	n := 1
	for _, s := range h.shape {
		if s < 0 {
			return nil, fmt.Errorf(".npy shape %v has a negative size", h.shape)
		}
		if s > 0 && n > (1<<50)/s {
			return nil, fmt.Errorf(".npy shape %v is too large", h.shape)
		}
		n *= s
	}
	if n*size > len(body) {
		return nil, fmt.Errorf("truncated .npy file: shape %v of %s needs %d data bytes, the file has %d", h.shape, h.descr, n*size, len(body))
	}
	if n*size < len(body) {
		return nil, fmt.Errorf(".npy file has %d bytes after the data of shape %v", len(body)-n*size, h.shape)
	}
	if err := limits.Check(fmt.Sprintf("an .npy array of shape %v", h.shape), 8, int64(n)); err != nil {
		return nil, err
	}
	a := &Array{Shape: h.shape, Data: make([]float64, n), DType: h.descr}
	for i := range a.Data {
		a.Data[i] = conv(order, body[i*size:])
	}
	if h.fortran && len(h.shape) > 1 {
		a.Data = fortranToC(a.Data, h.shape)
	}
	return a, nil
}

// fortranToC reorders column-major data of the given shape into row-major.
func fortranToC(src []float64, shape []int) []float64 {
	dst := make([]float64, len(src))
	idx := make([]int, len(shape))
	for c := range dst {
		f, stride := 0, 1
		for k := range shape {
			f += idx[k] * stride
			stride *= shape[k]
		}
		dst[c] = src[f]
		for k := len(shape) - 1; k >= 0; k-- {
			idx[k]++
			if idx[k] < shape[k] {
				break
			}
			idx[k] = 0
		}
	}
	return dst
}

func npyDType(descr string) (int, binary.ByteOrder, func(binary.ByteOrder, []byte) float64, error) {
	bad := fmt.Errorf(".npy element type %q is not supported (want float64, float32 or an integer type)", descr)
	if len(descr) < 3 {
		return 0, nil, nil, bad
	}
	var order binary.ByteOrder = binary.LittleEndian
	switch descr[0] {
	case '<', '|', '=':
	case '>':
		order = binary.BigEndian
	default:
		return 0, nil, nil, bad
	}
	var conv func(binary.ByteOrder, []byte) float64
	size := 0
	switch descr[1:] {
	case "f8":
		size, conv = 8, func(o binary.ByteOrder, b []byte) float64 { return math.Float64frombits(o.Uint64(b)) }
	case "f4":
		size, conv = 4, func(o binary.ByteOrder, b []byte) float64 { return float64(math.Float32frombits(o.Uint32(b))) }
	case "u1", "b1":
		size, conv = 1, func(_ binary.ByteOrder, b []byte) float64 { return float64(b[0]) }
	case "i1":
		size, conv = 1, func(_ binary.ByteOrder, b []byte) float64 { return float64(int8(b[0])) }
	case "u2":
		size, conv = 2, func(o binary.ByteOrder, b []byte) float64 { return float64(o.Uint16(b)) }
	case "i2":
		size, conv = 2, func(o binary.ByteOrder, b []byte) float64 { return float64(int16(o.Uint16(b))) }
	case "u4":
		size, conv = 4, func(o binary.ByteOrder, b []byte) float64 { return float64(o.Uint32(b)) }
	case "i4":
		size, conv = 4, func(o binary.ByteOrder, b []byte) float64 { return float64(int32(o.Uint32(b))) }
	case "u8":
		size, conv = 8, func(o binary.ByteOrder, b []byte) float64 { return float64(o.Uint64(b)) }
	case "i8":
		size, conv = 8, func(o binary.ByteOrder, b []byte) float64 { return float64(int64(o.Uint64(b))) }
	default:
		return 0, nil, nil, bad
	}
	return size, order, conv, nil
}

type npyHeader struct {
	descr   string
	fortran bool
	shape   []int
}

// parseNPYHeader parses the Python dict literal of an .npy header, e.g.
// {'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }.
func parseNPYHeader(s string) (npyHeader, error) {
	p := &pyLit{s: strings.TrimRight(s, " \n\x00")}
	var h npyHeader
	if !p.eat('{') {
		return h, errors.New("want a dictionary starting with '{'")
	}
	seen := map[string]bool{}
	for {
		if p.eat('}') {
			break
		}
		key, err := p.str()
		if err != nil {
			return h, err
		}
		if !p.eat(':') {
			return h, fmt.Errorf("want ':' after key %q", key)
		}
		switch key {
		case "descr":
			if h.descr, err = p.str(); err != nil {
				return h, fmt.Errorf("descr: %w (structured types are not supported)", err)
			}
		case "fortran_order":
			switch {
			case p.word("True"):
				h.fortran = true
			case p.word("False"):
			default:
				return h, errors.New("fortran_order: want True or False")
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return h, fmt.Errorf("shape: %w", err)
			}
		default:
			return h, fmt.Errorf("unknown key %q", key)
		}
		seen[key] = true
		if !p.eat(',') {
			if !p.eat('}') {
				return h, errors.New("want ',' or '}'")
			}
			break
		}
	}
	if p.skip(); p.i != len(p.s) {
		return h, errors.New("text after the dictionary")
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("key %q is missing", k)
		}
	}
	return h, nil
}

// pyLit scans the small subset of Python literals .npy headers use.
type pyLit struct {
	s string
	i int
}

func (p *pyLit) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n') {
		p.i++
	}
}

func (p *pyLit) eat(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyLit) word(w string) bool {
	p.skip()
	if strings.HasPrefix(p.s[p.i:], w) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *pyLit) str() (string, error) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", errors.New("want a quoted string")
	}
	q := p.s[p.i]
	j := strings.IndexByte(p.s[p.i+1:], q)
	if j < 0 {
		return "", errors.New("unterminated string")
	}
	v := p.s[p.i+1 : p.i+1+j]
	p.i += j + 2
	return v, nil
}

func (p *pyLit) tuple() ([]int, error) {
	if !p.eat('(') {
		return nil, errors.New("want a tuple")
	}
	out := []int{}
	for {
		if p.eat(')') {
			return out, nil
		}
		p.skip()
		j := p.i
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		if j == p.i || j-p.i > 15 {
			return nil, errors.New("want non-negative integers")
		}
		v, _ := strconv.Atoi(p.s[p.i:j])
		p.i = j
		p.word("L") // Python 2 long suffix
		out = append(out, v)
		if len(out) > 32 {
			return nil, errors.New("more than 32 dimensions")
		}
		if !p.eat(',') {
			if !p.eat(')') {
				return nil, errors.New("want ',' or ')'")
			}
			return out, nil
		}
	}
}

// EncodeNPY writes a as a version 1.0 .npy file with shape shape (whose
// product must be len(data)): '<f8' for float64, '<f4' for float32.
func EncodeNPY[T tensor.Float](w io.Writer, shape []int, data []T) error {
	n := 1
	for _, s := range shape {
		n *= s
	}
	if n != len(data) {
		panic(fmt.Sprintf("data: EncodeNPY: shape %v for %d values", shape, len(data)))
	}
	descr, size := "<f8", 8
	if _, ok := any(T(0)).(float32); ok {
		descr, size = "<f4", 4
	}
	dims := make([]string, len(shape))
	for i, s := range shape {
		dims[i] = strconv.Itoa(s)
	}
	st := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		st += ","
	}
	st += ")"
	h := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, st)
	pad := 64 - (10+len(h)+1)%64
	if pad == 64 {
		pad = 0
	}
	h += strings.Repeat(" ", pad) + "\n"
	buf := make([]byte, 0, 10+len(h)+n*size)
	buf = append(buf, npyMagic...)
	buf = append(buf, 1, 0)
	buf = binary.LittleEndian.AppendUint16(buf, uint16(len(h)))
	buf = append(buf, h...)
	for _, v := range data {
		if size == 4 {
			buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(float32(v)))
		} else {
			buf = binary.LittleEndian.AppendUint64(buf, math.Float64bits(float64(v)))
		}
	}
	_, err := w.Write(buf)
	return err
}

// LoadNPZ reads every array of the .npz file (a zip of .npy files, as
// numpy.savez writes) at path, keyed by name without ".npy".
func LoadNPZ(path string) (map[string]*Array, error) {
	file, size, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return DecodeNPZ(file, size, path)
}

// DecodeNPZ reads every array of the .npz file of size bytes in r: see
// LoadNPZ. path names it in messages. Each entry's declared size is
// checked against the memory budget before it is inflated, and an entry
// that inflates beyond its declared size is an error.
func DecodeNPZ(r io.ReaderAt, size int64, path string) (map[string]*Array, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("%s: not a readable .npz (zip) file: %w", path, err)
	}
	out := map[string]*Array{}
	var total int64 // bytes inflated and decoded so far
	for _, f := range zr.File {
		if !strings.HasSuffix(f.Name, ".npy") {
			continue
		}
		// The entry inflates to its declared size (the zip reader stops
		// at it) and decodes to at most 8 float64 bytes per byte.
		if f.UncompressedSize64 > math.MaxInt64/16 {
			return nil, &limits.TooLargeError{What: path + ": array " + f.Name, Bytes: -1, Budget: limits.Budget()}
		}
		total = limits.Sum(total, 9*int64(f.UncompressedSize64))
		if err := limits.CheckTotal(fmt.Sprintf("%s: array %s (%s inflated)", path, f.Name, limits.Format(int64(f.UncompressedSize64))), total); err != nil {
			return nil, err
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("%s: array %s: %w", path, f.Name, err)
		}
		b, err := io.ReadAll(io.LimitReader(rc, int64(f.UncompressedSize64)+1))
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: array %s: %w", path, f.Name, err)
		}
		a, err := DecodeNPY(b)
		if err != nil {
			return nil, fmt.Errorf("%s: array %s: %w", path, f.Name, err)
		}
		out[strings.TrimSuffix(f.Name, ".npy")] = a
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: the .npz file holds no .npy arrays", path)
	}
	return out, nil
}

// Keys returns the sorted names of arrays.
func Keys(arrays map[string]*Array) []string {
	k := make([]string, 0, len(arrays))
	for n := range arrays {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}
