package data

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/mgdl/mgdl/internal/fileio"
	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/tensor"
)

// ImageBytesPerPixel is what loading and training on one pixel of an image
// takes at most: the decoded pixel (8 bytes), its float64 coordinates and
// values (40 bytes) and their copies in the training splits. The memory
// budget is checked against it before an image is decoded.
const ImageBytesPerPixel = 96

// CheckImageSize returns an error unless an image of h×w pixels is within
// the table of limits and the memory budget. what names it ("image", "the
// model's image").
func CheckImageSize(what string, h, w int) error {
	if h <= 0 || w <= 0 || h > limits.MaxImageSide || w > limits.MaxImageSide {
		return fmt.Errorf("%s of height %d and width %d pixels: want sides of 1 to %d pixels", what, h, w, limits.MaxImageSide)
	}
	return limits.Check(fmt.Sprintf("%s of %d×%d pixels", what, w, h), ImageBytesPerPixel, int64(h), int64(w))
}

// ImageShape is the size of an image and its number of channels (1 for
// gray, 3 for colour).
type ImageShape struct {
	Height   int `json:"height"`
	Width    int `json:"width"`
	Channels int `json:"channels"`
}

// Pixels is an image as an H·W × C matrix of values in [0, 1], rows in
// raster order (row by row, left to right).
type Pixels struct {
	Shape ImageShape
	// Values holds pixel (r, c)'s channels in row r·Width + c.
	Values *tensor.Dense[float64]
}

// LoadImage decodes the PNG or JPEG file at path. Gray images (8 or 16
// bits) give one channel; all others three (R, G, B; alpha is dropped).
// Values are scaled to [0, 1].
func LoadImage(path string) (*Pixels, error) {
	f, _, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := DecodeImage(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// DecodeImage decodes a PNG or JPEG image from r: see LoadImage.
func DecodeImage(r io.ReadSeeker) (*Pixels, error) {
	cfg, format, err := image.DecodeConfig(r)
	if err != nil {
		return nil, fmt.Errorf("not a PNG or JPEG image: %w", err)
	}
	if err := CheckImageSize(strings.ToUpper(format)+" image", cfg.Height, cfg.Width); err != nil {
		return nil, err
	}
	if format == "jpeg" {
		if err := checkJPEGEnd(r); err != nil {
			return nil, err
		}
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	img, _, err := image.Decode(r)
	if err != nil {
		return nil, fmt.Errorf("decoding %s image: %w", format, err)
	}
	b := img.Bounds()
	h, w := b.Dy(), b.Dx()
	gray := cfg.ColorModel == color.GrayModel || cfg.ColorModel == color.Gray16Model
	ch := 3
	if gray {
		ch = 1
	}
	p := &Pixels{Shape: ImageShape{Height: h, Width: w, Channels: ch}, Values: tensor.New[float64](h*w, ch)}
	for y := range h {
		for x := range w {
			row := p.Values.Row(y*w + x)
			if gray {
				g := color.Gray16Model.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray16)
				row[0] = float64(g.Y) / 0xffff
				continue
			}
			// Non-premultiplied: the colour of a transparent pixel is
			// kept (alpha is dropped, not multiplied in).
			c := nrgba64At(img, b.Min.X+x, b.Min.Y+y)
			row[0], row[1], row[2] = float64(c.R)/0xffff, float64(c.G)/0xffff, float64(c.B)/0xffff
		}
	}
	return p, nil
}

// checkJPEGEnd returns an error unless the JPEG in r ends with its
// end-of-image marker (FF D9) in its last KiB: a file cut short decodes
// to a partial image (a progressive JPEG to a blurred one) without error.
// Inside the entropy-coded data FF is always followed by 00 or a restart
// marker, so FF D9 there is the real end.
func checkJPEGEnd(r io.ReadSeeker) error {
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	n := min(end, 1024)
	if _, err := r.Seek(end-n, io.SeekStart); err != nil {
		return err
	}
	tail := make([]byte, n)
	if _, err := io.ReadFull(r, tail); err != nil {
		return err
	}
	if !bytes.Contains(tail, []byte{0xFF, 0xD9}) {
		return errors.New("truncated JPEG image: it lacks the end-of-image marker, so the file was cut short (a partly decoded image would be used)")
	}
	return nil
}

// nrgba64At returns the colour of pixel (x, y) without alpha multiplied
// in, for the image types the PNG decoder returns with an alpha channel.
func nrgba64At(img image.Image, x, y int) color.NRGBA64 {
	switch m := img.(type) {
	case *image.NRGBA:
		c := m.NRGBAAt(x, y)
		return color.NRGBA64{R: uint16(c.R) * 0x101, G: uint16(c.G) * 0x101, B: uint16(c.B) * 0x101, A: uint16(c.A) * 0x101}
	case *image.NRGBA64:
		return m.NRGBA64At(x, y)
	}
	return color.NRGBA64Model.Convert(img.At(x, y)).(color.NRGBA64)
}

// Coords returns the H·W × 2 matrix of pixel coordinates (r/H, c/W) in
// [0, 1)², in raster order: the inputs of image regression.
func Coords[T tensor.Float](s ImageShape) *tensor.Dense[T] {
	x := tensor.New[T](s.Height*s.Width, 2)
	for r := range s.Height {
		for c := range s.Width {
			row := x.Row(r*s.Width + c)
			row[0], row[1] = T(float64(r)/float64(s.Height)), T(float64(c)/float64(s.Width))
		}
	}
	return x
}

// ImageSplits returns the papers' image-regression splits of p: inputs are
// the pixel coordinates (r/H, c/W) and targets the pixel values; the
// training set is the pixels img[::2, ::2] (even rows and columns), the
// validation set img[1::2, 1::2] (odd rows and columns), the test set the
// full image. It returns an error for an image smaller than 2×2.
func ImageSplits(p *Pixels) (Splits[float64], error) {
	s := p.Shape
	if s.Height < 2 || s.Width < 2 {
		return Splits[float64]{}, fmt.Errorf("image of %d×%d pixels: want at least 2×2 for the split into even and odd pixels", s.Height, s.Width)
	}
	full := Dataset[float64]{X: Coords[float64](s), Y: p.Values}
	var even, odd []int
	for r := range s.Height {
		for c := range s.Width {
			switch {
			case r%2 == 0 && c%2 == 0:
				even = append(even, r*s.Width+c)
			case r%2 == 1 && c%2 == 1:
				odd = append(odd, r*s.Width+c)
			}
		}
	}
	return Splits[float64]{Train: Subset(full, even), Val: Subset(full, odd), Test: full}, nil
}

// ToImage turns v (H·W × C, raster order, values in [0, 1]; values outside
// are clipped) into an image: Gray for one channel, NRGBA for three. It
// panics if v's shape does not match s.
func ToImage[T tensor.Float](s ImageShape, v *tensor.Dense[T]) image.Image {
	if v.Rows != s.Height*s.Width || v.Cols != s.Channels || (s.Channels != 1 && s.Channels != 3) {
		panic(fmt.Sprintf("data: ToImage: %d×%d values for a %d×%d×%d image", v.Rows, v.Cols, s.Height, s.Width, s.Channels))
	}
	q := func(x T) uint8 {
		f := float64(x)
		if math.IsNaN(f) {
			return 0
		}
		return uint8(math.Round(255 * min(max(f, 0), 1)))
	}
	rect := image.Rect(0, 0, s.Width, s.Height)
	if s.Channels == 1 {
		g := image.NewGray(rect)
		for i := range s.Height * s.Width {
			g.Pix[i] = q(v.Data[i])
		}
		return g
	}
	c := image.NewNRGBA(rect)
	for i := range s.Height * s.Width {
		r := v.Row(i)
		c.Pix[4*i], c.Pix[4*i+1], c.Pix[4*i+2], c.Pix[4*i+3] = q(r[0]), q(r[1]), q(r[2]), 255
	}
	return c
}

// IsImagePath reports whether path names a PNG or JPEG file by extension.
func IsImagePath(path string) bool {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".png", ".jpg", ".jpeg":
		return true
	}
	return false
}

// EncodeImage writes img to w as PNG, or as JPEG (quality 95) when path
// ends in .jpg or .jpeg.
func EncodeImage(w io.Writer, path string, img image.Image) error {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jpg", ".jpeg":
		return jpeg.Encode(w, img, &jpeg.Options{Quality: 95})
	case ".png":
		return png.Encode(w, img)
	}
	return errors.New("an image file name must end in .png, .jpg or .jpeg")
}
