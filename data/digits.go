package data

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"

	_ "embed"

	"github.com/mgdl/mgdl/tensor"
)

// digitsGz is the UCI "Optical Recognition of Handwritten Digits" test set
// (CC BY 4.0) as shipped in Debian's python3-sklearn 1.2.1, file
// sklearn/datasets/data/digits.csv.gz (scikit-learn, BSD-3-Clause): 1797
// rows of 64 pixel counts in 0..16 (8×8 images) and the label 0..9.
//
//go:embed digits.csv.gz
var digitsGz []byte

// DigitsSHA256 pins the embedded file.
const DigitsSHA256 = "46abec6b12486ad9e51943373abcf22bbea1b5a51a1619b361570d8893f1464a"

// Digits returns the 1797 handwritten digits: X (1797×64, pixel counts
// divided by 16, in [0,1]) and the labels 0..9. It checks the embedded
// file's SHA-256.
func Digits() (*tensor.Dense[float64], []int, error) {
	sum := sha256.Sum256(digitsGz)
	if hex.EncodeToString(sum[:]) != DigitsSHA256 {
		return nil, nil, fmt.Errorf("digits: embedded data has SHA-256 %x, want %s", sum, DigitsSHA256)
	}
	zr, err := gzip.NewReader(bytes.NewReader(digitsGz))
	if err != nil {
		return nil, nil, fmt.Errorf("digits: %w", err)
	}
	r := csv.NewReader(zr)
	r.FieldsPerRecord = 65
	X := tensor.New[float64](0, 64)
	var labels []int
	for line := 1; ; line++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("digits: %w", err)
		}
		for j, s := range rec[:64] {
			v, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("digits: line %d column %d: %w", line, j+1, err)
			}
			X.Data = append(X.Data, v/16)
		}
		c, err := strconv.Atoi(rec[64])
		if err != nil || c < 0 || c > 9 {
			return nil, nil, fmt.Errorf("digits: line %d: label %q is not 0..9", line, rec[64])
		}
		labels = append(labels, c)
		X.Rows++
	}
	return X, labels, nil
}

// OneHot returns the n×k matrix with row i equal to unit vector labels[i].
// It panics on a label outside [0, k).
func OneHot(labels []int, k int) *tensor.Dense[float64] {
	Y := tensor.New[float64](len(labels), k)
	for i, c := range labels {
		Y.Set(i, c, 1)
	}
	return Y
}

func init() {
	register(Example{
		Name: "digits",
		Description: "handwritten digits (UCI, via scikit-learn, embedded, SHA-256 pinned): 8×8 images, 64 inputs in [0,1], " +
			"10 one-hot outputs, classification; 1797 rows shuffled by the seed into 60% train, 20% validation, 20% test",
		InDim: 64, OutDim: 10, Task: "classification",
		gen: func(rng *rand.Rand) Splits[float64] {
			X, labels, err := Digits()
			if err != nil {
				panic(err) // the embedded file is checked by the tests
			}
			s, err := Split(Dataset[float64]{X: X, Y: OneHot(labels, 10)}, 0.2, 0.2, rng.Uint64())
			if err != nil {
				panic(err)
			}
			return s
		},
	})
}
