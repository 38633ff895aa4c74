package data

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// fashionDir is where Debian's dataset-fashion-mnist package puts the files;
// MGDL_FASHION_MNIST overrides it.
const fashionDir = "/usr/share/datasets/fashion-mnist"

// fashionSHA256 pins the four files of Debian's dataset-fashion-mnist
// 0.0~git20200523.55506a9-1.
var fashionSHA256 = map[string]string{
	"train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",
	"train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",
	"t10k-images-idx3-ubyte.gz":  "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",
	"t10k-labels-idx1-ubyte.gz":  "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",
}

// TestFashionMNIST reads Fashion-MNIST with the MNIST loader (same IDX
// layout) from Debian's package, after checking the pinned SHA-256 of every
// file. It skips when the package is not installed
// (apt-get install dataset-fashion-mnist).
func TestFashionMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 30 MB of IDX files")
	}
	dir := os.Getenv("MGDL_FASHION_MNIST")
	if dir == "" {
		dir = fashionDir
	}
	if _, err := os.Stat(filepath.Join(dir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("Fashion-MNIST not found in %s (apt-get install dataset-fashion-mnist, or set MGDL_FASHION_MNIST): %v", dir, err)
	}
	for name, want := range fashionSHA256 {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if got := hex.EncodeToString(sum[:]); got != want {
			t.Fatalf("%s: SHA-256 %s, pinned %s", name, got, want)
		}
	}
	m, err := LoadMNIST(dir)
	if err != nil {
		t.Fatal(err)
	}
	if m.Train.X.Rows != 60000 || m.Train.X.Cols != 784 || m.Test.X.Rows != 10000 || m.Test.Y.Cols != 10 {
		t.Fatalf("shapes %d×%d, test %d×%d", m.Train.X.Rows, m.Train.X.Cols, m.Test.X.Rows, m.Test.Y.Cols)
	}
	count := make([]int, 10)
	for _, c := range m.TrainLabels {
		count[c]++
	}
	for c, n := range count {
		if n != 6000 {
			t.Errorf("class %d has %d training images, want 6000", c, n)
		}
	}
	t.Logf("first training labels %v", m.TrainLabels[:5])
	if !slices.Equal(m.TrainLabels[:5], []int{9, 0, 0, 3, 0}) {
		t.Errorf("first training labels %v, want [9 0 0 3 0] (ankle boot, T-shirt, T-shirt, dress, T-shirt)", m.TrainLabels[:5])
	}
	var lo, hi float64 = 1, 0
	for _, v := range m.Test.X.Data {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != 0 || hi != 1 {
		t.Errorf("pixels span [%g, %g], want [0, 1]", lo, hi)
	}
}
