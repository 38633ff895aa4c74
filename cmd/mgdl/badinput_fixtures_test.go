package main

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"image"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/rundir"
)

// The fixtures of the bad-input catalogue: files built byte by byte, so
// that each case is what its name says and costs little to make.

// header returns the JSON header of the model file b, decoded.
func modelHeader(t *testing.T, b []byte) (map[string]any, []byte) {
	t.Helper()
	n := binary.LittleEndian.Uint64(b)
	var h map[string]any
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		t.Fatal(err)
	}
	return h, b[8+n:]
}

// withHeader returns a model file of header h and tensor bytes body.
func withHeader(t *testing.T, h map[string]any, body []byte) []byte {
	t.Helper()
	hj, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	return append(append(binary.LittleEndian.AppendUint64(nil, uint64(len(hj))), hj...), body...)
}

// editHeader edits the __metadata__ entries of the model file b.
func editHeader(t *testing.T, b []byte, f func(md map[string]any)) []byte {
	t.Helper()
	h, body := modelHeader(t, b)
	f(h["__metadata__"].(map[string]any))
	return withHeader(t, h, body)
}

// editMeta edits the mgdl metadata of the model file b (the old digest
// stays: the file no longer matches it).
func editMeta(t *testing.T, b []byte, f func(meta map[string]any)) []byte {
	t.Helper()
	return editHeader(t, b, func(md map[string]any) {
		var meta map[string]any
		if err := json.Unmarshal([]byte(md["mgdl"].(string)), &meta); err != nil {
			t.Fatal(err)
		}
		f(meta)
		mj, _ := json.Marshal(meta)
		md["mgdl"] = string(mj)
	})
}

// sealModel recomputes the digest of the model file b, as a hostile or
// careless writer would after an edit: the structural checks must still
// refuse what is wrong.
func sealModel(t *testing.T, b []byte) []byte {
	t.Helper()
	n := binary.LittleEndian.Uint64(b)
	key := []byte(`"mgdl_sha256":"`)
	i := bytes.Index(b[8:8+n], key)
	if i < 0 {
		t.Fatal("no digest in the header")
	}
	at := 8 + i + len(key)
	copy(b[at:at+64], strings.Repeat("0", 64))
	sum := sha256.Sum256(b)
	hex.Encode(b[at:at+64], sum[:])
	return b
}

// hugePNG returns a PNG signature and an IHDR chunk claiming w×h gray
// pixels, and no image data: only the header is read before the size is
// refused.
func hugePNG(w, h uint32) []byte {
	b := []byte("\x89PNG\r\n\x1a\n")
	chunk := func(kind string, d []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(d)))
		c := append([]byte(kind), d...)
		b = append(b, c...)
		b = binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(c))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	chunk("IHDR", append(ihdr, 8, 0, 0, 0, 0))
	chunk("IEND", nil)
	return b
}

// smallJPEG is an 8×8 gray JPEG.
func smallJPEG(t *testing.T) []byte {
	img := image.NewGray(image.Rect(0, 0, 8, 8))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 4)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// hugeJPEG is smallJPEG with its frame header claiming w×h pixels.
func hugeJPEG(t *testing.T, w, h uint16) []byte {
	b := smallJPEG(t)
	i := bytes.Index(b, []byte{0xFF, 0xC0})
	if i < 0 {
		t.Fatal("no SOF0 marker")
	}
	binary.BigEndian.PutUint16(b[i+5:], h)
	binary.BigEndian.PutUint16(b[i+7:], w)
	return b
}

// cutJPEG is a colour JPEG cut in its entropy-coded data.
func cutJPEG(t *testing.T) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for i := range img.Pix {
		img.Pix[i] = uint8(i * 7)
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()[:b.Len()*3/4]
}

// npzOf returns a zip of the named files (stored).
func npzOf(t *testing.T, files map[string][]byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, name := range []string{"x.npy", "y.npy"} {
		if d, ok := files[name]; ok {
			f, err := zw.Create(name)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(d)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// npzDeclaring is an .npz whose entry x.npy declares that it inflates to
// size bytes (a zip bomb's header): the declared size is refused before a
// byte is inflated.
func npzDeclaring(t *testing.T, size uint64) []byte {
	return rawZip(t, &zip.FileHeader{Name: "x.npy", Method: zip.Deflate, CompressedSize64: 2, UncompressedSize64: size}, []byte{3, 0})
}

// npzLying is an .npz whose entry declares 128 bytes but inflates to
// 64 MiB of zeros: the reader stops at the declared size.
func npzLying(t *testing.T) []byte {
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.BestSpeed)
	fw.Write(make([]byte, 64<<20))
	fw.Close()
	return rawZip(t, &zip.FileHeader{Name: "x.npy", Method: zip.Deflate, CompressedSize64: uint64(z.Len()), UncompressedSize64: 128}, z.Bytes())
}

// rawZip is a zip of one entry whose header (sizes, checksum) is h as
// given and whose compressed bytes are body.
func rawZip(t *testing.T, h *zip.FileHeader, body []byte) []byte {
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	f, err := zw.CreateRaw(h)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(body)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// idxBomb writes a folder of MNIST files whose gzipped training images
// inflate to 8 MiB (beyond a 1 MiB budget) and returns the folder.
func idxBomb(t *testing.T, dir string) string {
	d := filepath.Join(dir, "idxbomb")
	os.MkdirAll(d, 0o755)
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte{0, 0, 8, 1, 0, 0x80, 0, 0})
	zw.Write(make([]byte, 8<<20))
	zw.Close()
	for _, n := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		if err := os.WriteFile(filepath.Join(d, n), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return d
}

// npyShape is an .npy of zeros of the given shape.
func npyShape(t *testing.T, shape []int) []byte {
	n := 1
	for _, s := range shape {
		n *= s
	}
	var b bytes.Buffer
	if err := data.EncodeNPY(&b, shape, make([]float64, n)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// utf16le is s in UTF-16 (little-endian, with its byte-order mark), as
// some spreadsheet programs save "Unicode text".
func utf16le(s string) []byte {
	b := []byte{0xFF, 0xFE}
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return b
}

// copyStaged copies the run at src to dst with the staged predictions
// and targets replaced by ±1e308, the largest magnitudes JSON holds.
func copyStaged(t *testing.T, src, dst string) string {
	t.Helper()
	copyFiles(t, src, dst)
	p := filepath.Join(dst, rundir.StagedFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(b, &st); err != nil {
		t.Fatal(err)
	}
	flip := func(v []any) {
		for i := range v {
			v[i] = 1e308 * float64(1-2*(i%2))
		}
	}
	flip(st["y"].([]any))
	for _, p := range st["pred"].([]any) {
		flip(p.([]any))
	}
	b, _ = json.Marshal(st)
	os.WriteFile(p, b, 0o644)
	return dst
}

// npyInt8 is an .npy of n int8 zeros: 1 byte each on disk, 8 once read.
func npyInt8(n int) []byte {
	h := fmt.Sprintf("{'descr': '|i1', 'fortran_order': False, 'shape': (%d,), }", n)
	for (10+len(h)+1)%64 != 0 {
		h += " "
	}
	h += "\n"
	b := append([]byte("\x93NUMPY\x01\x00"), byte(len(h)), byte(len(h)>>8))
	return append(append(b, h...), make([]byte, n)...)
}

// editDigit changes the digit after the first occurrence of after in the
// model file b, in place (the file keeps its length).
func editDigit(t *testing.T, b []byte, after string) []byte {
	t.Helper()
	i := bytes.Index(b, []byte(after))
	if i < 0 {
		t.Fatalf("%q is not in the model file", after)
	}
	c := bytes.Clone(b)
	for k := i + len(after); k < len(c); k++ {
		if c[k] >= '0' && c[k] <= '9' {
			c[k] = '0' + (c[k]-'0'+1)%10
			return c
		}
	}
	t.Fatal("no digit")
	return nil
}

// editMetaSealed is editMeta with the digest recomputed.
func editMetaSealed(t *testing.T, b []byte, f func(meta map[string]any)) []byte {
	return sealModel(t, editMeta(t, b, f))
}

// wideHeader is a CSV header of n columns and no rows.
func wideHeader(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "c%d", i)
	}
	b.WriteByte('\n')
	return b.String()
}

// idxFolder writes the four MNIST files (2 images of 2×2 for training and
// testing, not gzipped) with the given training labels.
func idxFolder(t *testing.T, dir string, trainLabels []byte) string {
	idx := func(shape []uint32, body []byte) []byte {
		b := []byte{0, 0, 0x08, byte(len(shape))}
		for _, s := range shape {
			b = binary.BigEndian.AppendUint32(b, s)
		}
		return append(b, body...)
	}
	files := map[string][]byte{
		"train-images-idx3-ubyte": idx([]uint32{2, 2, 2}, make([]byte, 8)),
		"train-labels-idx1-ubyte": idx([]uint32{2}, trainLabels),
		"t10k-images-idx3-ubyte":  idx([]uint32{2, 2, 2}, make([]byte, 8)),
		"t10k-labels-idx1-ubyte":  idx([]uint32{2}, []byte{1, 2}),
	}
	os.MkdirAll(dir, 0o755)
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// copyFiles copies the regular files of the folder src into dst (made if
// need be).
func copyFiles(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.Type().IsRegular() {
			b, err := os.ReadFile(filepath.Join(src, e.Name()))
			if err == nil {
				err = os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}
