package nn

import (
	"fmt"
	"math"
	"strings"

	"github.com/mgdl/mgdl/tensor"
)

// Activation is an elementwise nonlinearity for hidden layers.
type Activation int

// The activations. ReLU is the default (the zero value).
const (
	ReLU Activation = iota
	Sin
	Tanh
	Identity
)

var actNames = [...]string{ReLU: "relu", Sin: "sin", Tanh: "tanh", Identity: "identity"}

// String returns the lower-case name ("relu", "sin", "tanh", "identity").
func (a Activation) String() string {
	if a < 0 || int(a) >= len(actNames) {
		return fmt.Sprintf("Activation(%d)", int(a))
	}
	return actNames[a]
}

// ParseActivation maps a name (case-insensitive) to an Activation.
func ParseActivation(s string) (Activation, error) {
	for i, n := range actNames {
		if strings.EqualFold(s, n) {
			return Activation(i), nil
		}
	}
	return 0, fmt.Errorf("unknown activation %q (want relu, sin, tanh or identity)", s)
}

// MarshalText implements encoding.TextMarshaler.
func (a Activation) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (a *Activation) UnmarshalText(b []byte) error {
	v, err := ParseActivation(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Scalar applies the activation to one value (the slow reference).
func (a Activation) Scalar(z float64) float64 {
	switch a {
	case ReLU:
		return max(z, 0)
	case Sin:
		return math.Sin(z)
	case Tanh:
		return math.Tanh(z)
	default:
		return z
	}
}

// biasAct computes, row by row, Z = Z + b (in place) and H = act(Z).
// For ReLU and Identity the pre-activation is not needed by the backward
// pass, so keepZ=false lets the kernel write only H. Z and H may be the same
// matrix only when keepZ is false.
func biasAct[T tensor.Float](act Activation, z, h *tensor.Dense[T], b []T, keepZ bool) {
	cols := z.Cols
	zd, hd := z.Raw(), h.Raw()
	for r := 0; r < len(zd); r += cols {
		zr := zd[r : r+cols : r+cols]
		hr := hd[r : r+cols : r+cols]
		bb := b[:cols:cols]
		switch act {
		case ReLU:
			// max, not a branch on the sign: the sign of a pre-activation is
			// a coin flip the branch predictor loses (measured 10× slower).
			// It differs from "if v < 0 { v = 0 }" only at v = -0, which it
			// maps to +0.
			if keepZ {
				for j, v := range zr {
					v += bb[j]
					zr[j] = v
					hr[j] = max(v, 0)
				}
			} else {
				for j, v := range zr {
					hr[j] = max(v+bb[j], 0)
				}
			}
		case Identity:
			for j, v := range zr {
				v += bb[j]
				if keepZ {
					zr[j] = v
				}
				hr[j] = v
			}
		case Sin:
			for j, v := range zr {
				v += bb[j]
				zr[j] = v
				hr[j] = T(math.Sin(float64(v)))
			}
		case Tanh:
			for j, v := range zr {
				v += bb[j]
				zr[j] = v
				hr[j] = T(math.Tanh(float64(v)))
			}
		}
	}
}

// addBias adds b to every row of z.
func addBias[T tensor.Float](z *tensor.Dense[T], b []T) {
	cols := z.Cols
	zd := z.Raw()
	bb := b[:cols:cols]
	for r := 0; r < len(zd); r += cols {
		zr := zd[r : r+cols : r+cols]
		for j := range zr {
			zr[j] += bb[j]
		}
	}
}

// actBackward turns dH (the gradient with respect to the activations) into
// dZ in place: dZ = dH ⊙ act'(Z), using H where it suffices (ReLU: H > 0;
// tanh: 1 - H²) and Z otherwise (sin: cos Z). It also accumulates the bias
// gradient db = Σ_rows dZ (db is overwritten).
func actBackward[T tensor.Float](act Activation, dh, z, h *tensor.Dense[T], db []T) {
	cols := dh.Cols
	d, hd := dh.Raw(), h.Raw()
	var zd []T
	if act == Sin {
		zd = z.Raw()
	}
	clear(db)
	bb := db[:cols:cols]
	for r := 0; r < len(d); r += cols {
		dr := d[r : r+cols : r+cols]
		hr := hd[r : r+cols : r+cols]
		switch act {
		case ReLU:
			reluBackwardRow(dr, hr, bb)
		case Identity:
			for j, v := range dr {
				bb[j] += v
			}
		case Tanh:
			for j, v := range dr {
				v *= 1 - hr[j]*hr[j]
				dr[j] = v
				bb[j] += v
			}
		case Sin:
			zr := zd[r : r+cols : r+cols]
			for j, v := range dr {
				v *= T(math.Cos(float64(zr[j])))
				dr[j] = v
				bb[j] += v
			}
		}
	}
}

// reluBackwardRow sets dr[j] = 0 where hr[j] <= 0 (keeping it otherwise,
// NaN included) and adds dr to bb. The test on hr[j] selects a bit mask, which
// the compiler turns into a conditional move: a branch on it mispredicts
// about half the time (measured 4× slower). len(hr) and len(bb) are at least
// len(dr).
func reluBackwardRow[T tensor.Float](dr, hr, bb []T) {
	switch d := any(dr).(type) {
	case []float64:
		h, b := any(hr).([]float64), any(bb).([]float64)
		h, b = h[:len(d)], b[:len(d)]
		for j, v := range d {
			var m uint64
			if !(h[j] <= 0) {
				m = ^m
			}
			v = math.Float64frombits(math.Float64bits(v) & m)
			d[j] = v
			b[j] += v
		}
	case []float32:
		h, b := any(hr).([]float32), any(bb).([]float32)
		h, b = h[:len(d)], b[:len(d)]
		for j, v := range d {
			var m uint32
			if !(h[j] <= 0) {
				m = ^m
			}
			v = math.Float32frombits(math.Float32bits(v) & m)
			d[j] = v
			b[j] += v
		}
	}
}

// colSum overwrites db with the column sums of d.
func colSum[T tensor.Float](d *tensor.Dense[T], db []T) {
	clear(db)
	cols := d.Cols
	dd := d.Raw()
	bb := db[:cols:cols]
	for r := 0; r < len(dd); r += cols {
		dr := dd[r : r+cols : r+cols]
		for j, v := range dr {
			bb[j] += v
		}
	}
}
