package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/cmplx"
	"sort"
	"strconv"

	"github.com/mgdl/mgdl/rundir"
	"gonum.org/v1/gonum/dsp/fourier"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure is one image of the report: a grid of plots drawn on one canvas.
type Figure struct {
	// Name is the file stem ("loss" gives loss.png and loss.svg).
	Name string
	// Caption says what the figure shows.
	Caption string
	// Plots is the grid, row by row; nil entries leave a tile empty.
	Plots [][]*plot.Plot
	// Width and Height of the whole figure.
	Width, Height vg.Length
}

// DPI is the resolution of PNG figures.
const DPI = 96

// PNG renders the figure as a PNG image.
func (f *Figure) PNG() ([]byte, error) {
	c := vgimg.NewWith(vgimg.UseWH(f.Width, f.Height), vgimg.UseDPI(DPI), vgimg.UseBackgroundColor(color.White))
	if err := f.draw(draw.New(c)); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: c}).WriteTo(&b); err != nil {
		return nil, fmt.Errorf("%s.png: %w", f.Name, err)
	}
	return b.Bytes(), nil
}

// SVG renders the figure as an SVG document.
func (f *Figure) SVG() ([]byte, error) {
	c := vgsvg.New(f.Width, f.Height)
	if err := f.draw(draw.New(c)); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return nil, fmt.Errorf("%s.svg: %w", f.Name, err)
	}
	return b.Bytes(), nil
}

func (f *Figure) draw(dc draw.Canvas) (err error) {
	// gonum/plot panics on some degenerate data (a log axis with no
	// positive value, say); a report should lose one figure, not crash.
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("figure %s: %v", f.Name, r)
		}
	}()
	rows := len(f.Plots)
	if rows == 0 {
		return fmt.Errorf("figure %s: no plots", f.Name)
	}
	cols := 0
	for _, r := range f.Plots {
		cols = max(cols, len(r))
	}
	grid := make([][]*plot.Plot, rows)
	for i := range grid {
		grid[i] = make([]*plot.Plot, cols)
		copy(grid[i], f.Plots[i])
		for j, p := range grid[i] {
			if p == nil {
				grid[i][j] = plot.New()
				grid[i][j].HideAxes()
				continue
			}
			saneRange(&p.X)
			saneRange(&p.Y)
			// One value on a log axis: give it a decade around it
			// (gonum would widen the range by ±1, below zero).
			if _, isLog := p.Y.Scale.(plot.LogScale); isLog && p.Y.Min >= p.Y.Max && p.Y.Max > 0 {
				p.Y.Min, p.Y.Max = p.Y.Max/3, p.Y.Max*3
			}
		}
	}
	if rows == 1 && cols == 1 {
		grid[0][0].Draw(dc)
		return nil
	}
	t := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Points(12), PadY: vg.Points(12),
		PadTop: vg.Points(4), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}
	canvases := plot.Align(grid, t, dc)
	for i := range grid {
		for j := range grid[i] {
			grid[i][j].Draw(canvases[i][j])
		}
	}
	return nil
}

// axisLimit bounds the axis ranges: gonum/plot's tick search does not end
// on a range whose span overflows (values near ±1.8e308).
const axisLimit = 1e300

// saneRange makes a's range finite, within ±axisLimit, and not reversed,
// so that any data (extreme, infinite, NaN) gives a figure in bounded time.
func saneRange(a *plot.Axis) {
	lo, hi := a.Min, a.Max
	if math.IsNaN(lo) || math.IsNaN(hi) {
		lo, hi = 0, 1
	}
	lo, hi = min(max(lo, -axisLimit), axisLimit), min(max(hi, -axisLimit), axisLimit)
	if _, isLog := a.Scale.(plot.LogScale); isLog {
		lo, hi = max(lo, 1e-300), max(hi, 1e-300)
	}
	if hi < lo {
		lo, hi = hi, lo
	}
	a.Min, a.Max = lo, hi
}

// Palette used for grades, in order (colour-blind friendly, after Okabe & Ito).
var Palette = []color.Color{
	color.RGBA{0, 114, 178, 255},   // blue
	color.RGBA{213, 94, 0, 255},    // vermillion
	color.RGBA{0, 158, 115, 255},   // green
	color.RGBA{204, 121, 167, 255}, // purple
	color.RGBA{230, 159, 0, 255},   // orange
	color.RGBA{86, 180, 233, 255},  // sky blue
	color.RGBA{120, 94, 240, 255},  // violet
	color.RGBA{100, 100, 100, 255}, // grey
}

var targetColor = color.RGBA{150, 150, 150, 255}

func gradeColor(l int) color.Color { return Palette[l%len(Palette)] }

func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Legend.Top = true
	p.Add(plotter.NewGrid())
	return p
}

// logY makes p's y axis logarithmic.
func logY(p *plot.Plot) {
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = logTicks{}
}

// legendFrac is the share of a 300-point-high plot a legend of n entries
// needs.
func legendFrac(n int) float64 { return min(0.6, 0.05+0.045*float64(n)) }

// headroom raises the y axis's maximum so that the top frac of the plot
// is free for the legend.
func headroom(p *plot.Plot, frac float64) {
	if !(p.Y.Max > p.Y.Min) {
		return
	}
	if _, isLog := p.Y.Scale.(plot.LogScale); isLog && p.Y.Min > 0 {
		lo, hi := math.Log10(p.Y.Min), math.Log10(p.Y.Max)
		p.Y.Max = math.Pow(10, lo+(hi-lo)/(1-frac))
		return
	}
	p.Y.Max += (p.Y.Max - p.Y.Min) * frac / (1 - frac)
}

// logTicks labels powers of ten as 1e-05 (every decade, or every k-th when
// the range spans many) with unlabelled ticks at 2…9 × 10^k.
type logTicks struct{}

func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || !(max >= min) {
		return nil
	}
	lo, hi := int(math.Floor(math.Log10(min))), int(math.Ceil(math.Log10(max)))
	every := 1 + (hi-lo)/8
	decades := math.Log10(max / min)
	narrow := decades <= 1.2 // label the 2…9 ticks too
	medium := decades <= 3   // label the 2 and 5 ticks
	var t []plot.Tick
	for k := lo; k <= hi; k++ {
		base := math.Pow10(k)
		if base >= min && base <= max {
			label := ""
			if (k-lo)%every == 0 || narrow {
				label = strconv.FormatFloat(base, 'g', -1, 64)
			}
			t = append(t, plot.Tick{Value: base, Label: label})
		}
		if every == 1 {
			for m := 2; m <= 9; m++ {
				if v := float64(m) * base; v >= min && v <= max {
					lab := ""
					if narrow || (medium && (m == 2 || m == 5)) {
						lab = strconv.FormatFloat(v, 'g', 3, 64)
					}
					t = append(t, plot.Tick{Value: v, Label: lab})
				}
			}
		}
	}
	if len(t) < 2 { // less than a decade: fall back to gonum's ticks
		return plot.DefaultTicks{}.Ticks(min, max)
	}
	return t
}

// positive drops points whose y is not positive and finite (they cannot be
// drawn on a log axis).
func positive(xy plotter.XYs) plotter.XYs {
	out := xy[:0:0]
	for _, p := range xy {
		if p.Y > 0 && !math.IsInf(p.Y, 0) && !math.IsNaN(p.X) {
			out = append(out, p)
		}
	}
	return out
}

func addLine(p *plot.Plot, name string, xy plotter.XYs, c color.Color, dashed bool) error {
	if len(xy) == 0 {
		return nil
	}
	l, err := plotter.NewLine(xy)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	l.Color = c
	l.Width = vg.Points(1.2)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(l)
	if name != "" {
		p.Legend.Add(name, l)
	}
	return nil
}

func addLinePoints(p *plot.Plot, name string, xy plotter.XYs, c color.Color, shape draw.GlyphDrawer, dashed bool) error {
	if len(xy) == 0 {
		return nil
	}
	l, s, err := plotter.NewLinePoints(xy)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	l.Color, s.Color, s.Shape = c, c, shape
	l.Width = vg.Points(1.2)
	s.Radius = vg.Points(3)
	if dashed {
		l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
	}
	p.Add(l, s)
	if name != "" {
		p.Legend.Add(name, l, s)
	}
	return nil
}

// LossFigure draws the training loss against epoch for each run, one panel
// per run, one colour per grade; MGDL grades follow each other on the epoch
// axis.
func LossFigure(runs []*rundir.Run) (*Figure, error) {
	var row []*plot.Plot
	for _, r := range runs {
		if len(r.Epochs) == 0 {
			continue
		}
		p := newPlot(fmt.Sprintf("%s: training loss", r.Label()), "epoch (all grades)", "loss Σ(y-ŷ)²/(2m)")
		logY(p)
		offset := 0
		grades := r.EpochsByGrade()
		for l, recs := range grades {
			if len(recs) == 0 {
				continue
			}
			xy := make(plotter.XYs, 0, len(recs))
			for _, e := range recs {
				xy = append(xy, plotter.XY{X: float64(offset + e.Epoch), Y: e.Loss})
			}
			offset += recs[len(recs)-1].Epochs
			name := fmt.Sprintf("grade %d", l+1)
			if len(grades) == 1 {
				name = ""
			}
			if err := addLine(p, name, positive(xy), gradeColor(l), false); err != nil {
				return nil, err
			}
		}
		if len(grades) > 1 {
			headroom(p, legendFrac(len(grades)))
		}
		row = append(row, p)
	}
	if len(row) == 0 {
		return nil, nil
	}
	return &Figure{Name: "loss", Caption: "Training loss per epoch; each grade of MGDL starts from the residual the grades before it left.",
		Plots: [][]*plot.Plot{row}, Width: vg.Points(float64(420 * len(row))), Height: vg.Points(300)}, nil
}

// ValidationFigure draws the validation RSE recorded during training
// (metrics.jsonl's val_rse) against epoch, one panel per run, one colour
// per grade. It returns nil when no run recorded one.
func ValidationFigure(runs []*rundir.Run) (*Figure, error) {
	var row []*plot.Plot
	for _, r := range runs {
		grades := r.EpochsByGrade()
		p := newPlot(fmt.Sprintf("%s: validation RSE during training", r.Label()), "epoch (all grades)", "validation RSE")
		logY(p)
		offset, n := 0, 0
		for l, recs := range grades {
			if len(recs) == 0 {
				continue
			}
			var xy plotter.XYs
			last := math.NaN()
			for _, e := range recs {
				if e.ValRSE != nil && *e.ValRSE != last { // records repeat between measurements
					last = *e.ValRSE
					xy = append(xy, plotter.XY{X: float64(offset + e.Epoch), Y: last})
				}
			}
			offset += recs[len(recs)-1].Epochs
			name := fmt.Sprintf("grade %d", l+1)
			if len(grades) == 1 {
				name = ""
			}
			xy = positive(xy)
			if err := addLine(p, name, xy, gradeColor(l), false); err != nil {
				return nil, err
			}
			n += len(xy)
		}
		if n == 0 {
			continue
		}
		if len(grades) > 1 {
			headroom(p, legendFrac(len(grades)))
		}
		row = append(row, p)
	}
	if len(row) == 0 {
		return nil, nil
	}
	return &Figure{Name: "validation", Caption: "Validation RSE of the summed model while each grade trains, as the trainer measured it (every few epochs).",
		Plots: [][]*plot.Plot{row}, Width: vg.Points(float64(420 * len(row))), Height: vg.Points(300)}, nil
}

// RSEFigure draws train, validation and test RSE of the summed model after
// each grade for the MGDL run, with the SGDL run's final RSEs as dashed
// horizontal lines.
func RSEFigure(runs []*rundir.Run) (*Figure, error) {
	p := newPlot("RSE per grade", "grade", "RSE Σ(y-ŷ)²/Σy²")
	logY(p)
	maxGrade := 1
	for _, r := range runs {
		maxGrade = max(maxGrade, len(r.Summary.Grades))
	}
	n := 0
	for _, r := range runs {
		g := r.Summary.Grades
		if len(g) == 0 {
			continue
		}
		split := []struct {
			name string
			val  func(i int) *float64
		}{
			{"train", func(i int) *float64 { return &g[i].TrainRSE }},
			{"validation", func(i int) *float64 { return g[i].ValRSE }},
			{"test", func(i int) *float64 { return g[i].TestRSE }},
		}
		shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}}
		for k, s := range split {
			var xy plotter.XYs
			for i := range g {
				if v := s.val(i); v != nil {
					xy = append(xy, plotter.XY{X: float64(g[i].Grade), Y: *v})
				}
			}
			xy = positive(xy)
			if len(xy) == 0 {
				continue
			}
			name := fmt.Sprintf("%s %s", r.Label(), s.name)
			var err error
			if len(g) == 1 && maxGrade > 1 { // a single-grade run (SGDL) beside a multigrade one
				flat := plotter.XYs{{X: 1, Y: xy[0].Y}, {X: float64(maxGrade), Y: xy[0].Y}}
				err = addLine(p, name, flat, Palette[(k+3)%len(Palette)], true)
			} else {
				err = addLinePoints(p, name, xy, Palette[k], shapes[k], false)
			}
			if err != nil {
				return nil, err
			}
			n++
		}
	}
	if n == 0 {
		return nil, nil
	}
	p.X.Min, p.X.Max = 0.8, float64(maxGrade)+0.2
	p.X.Tick.Marker = integerTicks{}
	headroom(p, legendFrac(n))
	return &Figure{Name: "rse", Caption: "Relative squared error of the summed model after each grade (log scale); SGDL, one network with all the layers, is drawn flat.",
		Plots: [][]*plot.Plot{{p}}, Width: vg.Points(480), Height: vg.Points(320)}, nil
}

// integerTicks puts a labelled tick at every integer in range.
type integerTicks struct{}

func (integerTicks) Ticks(min, max float64) []plot.Tick {
	var t []plot.Tick
	for v := math.Ceil(min); v <= max; v++ {
		t = append(t, plot.Tick{Value: v, Label: fmt.Sprintf("%.0f", v)})
	}
	return t
}

// FitFigure draws, for a 1-D run, the target and the prediction after each
// grade, one panel per grade.
func FitFigure(r *rundir.Run) (*Figure, error) {
	s := r.Staged
	if s == nil || len(s.Pred) == 0 {
		return nil, nil
	}
	const cols = 2
	var grid [][]*plot.Plot
	for l, pred := range s.Pred {
		title := fmt.Sprintf("%s after grade %d", r.Label(), l+1)
		if len(s.Pred) == 1 {
			title = r.Label()
		}
		p := newPlot(title, "x", "y")
		tgt, fit := make(plotter.XYs, len(s.X)), make(plotter.XYs, len(s.X))
		for i, x := range s.X {
			tgt[i] = plotter.XY{X: x, Y: s.Y[i]}
			fit[i] = plotter.XY{X: x, Y: pred[i]}
		}
		tl, err := plotter.NewLine(tgt)
		if err != nil {
			return nil, err
		}
		tl.Color, tl.Width = targetColor, vg.Points(3)
		p.Add(tl)
		if err := addLine(p, "", fit, gradeColor(l), false); err != nil {
			return nil, err
		}
		if l%cols == 0 {
			grid = append(grid, nil)
		}
		grid[len(grid)-1] = append(grid[len(grid)-1], p)
	}
	ncols := min(cols, len(s.Pred))
	return &Figure{Name: "fit-" + r.Key(), Caption: fmt.Sprintf("%s: target (thick grey) and the summed prediction after each grade (colour), on %d %s points.", r.Label(), len(s.X), s.Split),
		Plots: grid, Width: vg.Points(float64(400 * ncols)), Height: vg.Points(float64(240 * len(grid)))}, nil
}

// Spectrum returns the one-sided amplitude spectrum of v sampled at x (x
// increasing): v is first interpolated linearly onto len(x) equally spaced
// points of [x0, x_last], so that uneven samples are handled; frequencies
// are in cycles per unit of x. The zero frequency is left out.
func Spectrum(x, v []float64) (freq, amp []float64) {
	n := len(x)
	if n < 4 || len(v) != n || !(x[n-1] > x[0]) {
		return nil, nil
	}
	span := x[n-1] - x[0]
	u := make([]float64, n)
	j := 0
	for i := range u {
		t := x[0] + span*float64(i)/float64(n-1)
		for j < n-2 && x[j+1] < t {
			j++
		}
		d := x[j+1] - x[j]
		if d <= 0 {
			u[i] = v[j]
			continue
		}
		w := (t - x[j]) / d
		u[i] = v[j]*(1-w) + v[j+1]*w
	}
	fft := fourier.NewFFT(n)
	c := fft.Coefficients(nil, u)
	dx := span / float64(n-1)
	for k := 1; k < len(c); k++ {
		freq = append(freq, fft.Freq(k)/dx)
		amp = append(amp, 2*cmplx.Abs(c[k])/float64(n))
	}
	return freq, amp
}

// SpectrumFigure draws the amplitude spectrum of the target and of the
// residual y - ŷ after each grade: the frequencies a grade removes drop out
// of the next curve (the spectral-bias picture).
func SpectrumFigure(r *rundir.Run) (*Figure, error) {
	s := r.Staged
	if s == nil || len(s.Pred) == 0 || len(s.X) < 4 {
		return nil, nil
	}
	fr, a := Spectrum(s.X, s.Y)
	if fr == nil {
		return nil, nil
	}
	// Show frequencies up to 1.5 times the highest one where the target
	// has at least 1/1000 of its peak amplitude.
	peak := 0.0
	for _, v := range a {
		peak = max(peak, v)
	}
	top := fr[0]
	for i, v := range a {
		if v >= 1e-3*peak {
			top = max(top, fr[i])
		}
	}
	top = min(1.5*top, fr[len(fr)-1])
	xy := func(f, a []float64) plotter.XYs {
		out := make(plotter.XYs, 0, len(f))
		for i := range f {
			if f[i] <= top {
				out = append(out, plotter.XY{X: f[i], Y: a[i]})
			}
		}
		return positive(out)
	}
	// One panel per grade: the target's spectrum in grey behind the
	// residual's after that grade, all on one y range.
	res := make([]float64, len(s.Y))
	floor := 1e-3 * peak // the bottom of the y axis: below every residual's 10th percentile
	var panels []*plot.Plot
	for l, pred := range s.Pred {
		for i := range res {
			res[i] = s.Y[i] - pred[i]
		}
		f, ra := Spectrum(s.X, res)
		if len(ra) > 0 {
			q := append([]float64(nil), ra...)
			sort.Float64s(q)
			floor = min(floor, q[len(q)/10]/2)
		}
		title := fmt.Sprintf("%s: residual after grade %d", r.Label(), l+1)
		if len(s.Pred) == 1 {
			title = r.Label() + ": residual"
		}
		p := newPlot(title, "frequency (cycles per unit of x)", "amplitude")
		logY(p)
		if err := addLine(p, "target", xy(fr, a), targetColor, false); err != nil {
			return nil, err
		}
		if err := addLine(p, "residual", xy(f, ra), gradeColor(l), false); err != nil {
			return nil, err
		}
		panels = append(panels, p)
	}
	lo := max(floor, 1e-8*peak)
	var grid [][]*plot.Plot
	const cols = 2
	for i, p := range panels {
		p.X.Min, p.X.Max = 0, top
		p.Y.Min, p.Y.Max = lo, peak
		headroom(p, legendFrac(2))
		if i%cols == 0 {
			grid = append(grid, nil)
		}
		grid[len(grid)-1] = append(grid[len(grid)-1], p)
	}
	ncols := min(cols, len(panels))
	return &Figure{Name: "spectrum-" + r.Key(), Caption: fmt.Sprintf("%s: amplitude spectrum (FFT, %d points) of the target (grey) and of the residual after each grade (colour): the frequencies a grade captured drop out of its residual.", r.Label(), len(s.X)),
		Plots: grid, Width: vg.Points(float64(420 * ncols)), Height: vg.Points(float64(250 * len(grid)))}, nil
}

// NormsFigure draws residual L1/L2/L∞ norms per grade and, when known, the
// sup norm per level.
func NormsFigure(label string, n rundir.Norms) (*Figure, error) {
	p := newPlot(label+": residual norms per grade", "grade", "norm")
	logY(p)
	first := 1
	if n.FromGrade0 {
		first = 0
	}
	shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}}
	count := 0
	for k, s := range []struct {
		name string
		v    []float64
	}{{"L1", n.L1}, {"L2", n.L2}, {"L∞", n.LInf}} {
		xy := make(plotter.XYs, len(s.v))
		for i, v := range s.v {
			xy[i] = plotter.XY{X: float64(first + i), Y: v}
		}
		xy = positive(xy)
		if len(xy) > 60 { // many grades: markers would hide the lines
			if err := addLine(p, s.name, xy, Palette[k], false); err != nil {
				return nil, err
			}
		} else if err := addLinePoints(p, s.name, xy, Palette[k], shapes[k], false); err != nil {
			return nil, err
		}
		count += len(xy)
	}
	if count == 0 {
		return nil, nil
	}
	headroom(p, legendFrac(3))
	row := []*plot.Plot{p}
	if len(n.LevelSup) > 0 {
		q := newPlot(label+": sup norm per level", "level", "‖residual‖∞")
		logY(q)
		xy := make(plotter.XYs, len(n.LevelSup))
		for i, v := range n.LevelSup {
			xy[i] = plotter.XY{X: float64(i + 1), Y: v}
		}
		if err := addLinePoints(q, "sup norm", positive(xy), Palette[1], draw.CircleGlyph{}, false); err != nil {
			return nil, err
		}
		q.X.Tick.Marker = integerTicks{}
		row = append(row, q)
	}
	return &Figure{Name: "norms", Caption: label + ": L1, L2 and L∞ norms of the residual after each grade, and the sup norm at the end of each level.",
		Plots: [][]*plot.Plot{row}, Width: vg.Points(float64(420 * len(row))), Height: vg.Points(300)}, nil
}

// ImageFigure shows images side by side with titles (the target and the
// reconstruction after each grade of an image-regression run).
func ImageFigure(name, caption string, titles []string, imgs []image.Image) (*Figure, error) {
	if len(imgs) == 0 || len(titles) != len(imgs) {
		return nil, fmt.Errorf("image figure %s: %d titles for %d images", name, len(titles), len(imgs))
	}
	cols := 4
	if len(imgs) <= 6 {
		cols = len(imgs)
	}
	var grid [][]*plot.Plot
	for i, im := range imgs {
		b := im.Bounds()
		p := plot.New()
		p.Title.Text = titles[i]
		p.HideAxes()
		p.Add(plotter.NewImage(im, 0, 0, float64(b.Dx()), float64(b.Dy())))
		if i%cols == 0 {
			grid = append(grid, nil)
		}
		grid[len(grid)-1] = append(grid[len(grid)-1], p)
	}
	ncols := min(cols, len(imgs))
	return &Figure{Name: name, Caption: caption, Plots: grid, Width: vg.Points(float64(220 * ncols)), Height: vg.Points(float64(240 * len(grid)))}, nil
}
