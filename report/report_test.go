package report

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mgdl/mgdl"
	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/experiment"
	"github.com/mgdl/mgdl/internal/buildinfo"
	"github.com/mgdl/mgdl/optim"
	"github.com/mgdl/mgdl/rundir"
)

// target is a two-frequency signal: grade 1 of the fake MGDL run captures
// the low frequency, grade 2 the high one (the spectral-bias picture).
func target(x float64) float64 {
	return math.Sin(2*math.Pi*3*x) + 0.3*math.Sin(2*math.Pi*40*x)
}

func ptr(v float64) *float64 { return &v }

// writeFakeRun writes a run folder with every file a real run writes. The
// numbers are made up; their shapes are those of mgdl train.
func writeFakeRun(t *testing.T, dir, method string, grades int) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	widths := [][]int{{1, 16, 16, 1}, {16, 16, 16, 1}, {16, 16, 16, 1}}[:grades]
	cfg := experiment.Default()
	cfg.Method, cfg.Seed, cfg.Data = experiment.Method(method), 7, data.Source{Example: "fake", Seed: 1}
	cfg.Grades = experiment.Uniform(widths)
	for l := range cfg.Grades {
		cfg.Grades[l].Epochs, cfg.Grades[l].BatchSize, cfg.Grades[l].LR = 50, 32, optim.ExpDecay(1e-3, 1e-4)
	}
	s := &rundir.Summary{Backend: "test", Version: buildinfo.Version, Config: cfg, TotalSeconds: 1.5}
	rse := 0.5
	for l := range grades {
		rse /= 10
		s.Grades = append(s.Grades, mgdl.GradeResult{Grade: l + 1, Widths: widths[l], Epochs: 50, Seconds: 0.5,
			TrainRSE: rse, ValRSE: ptr(rse * 1.2), TestRSE: ptr(rse * 1.3), StopReason: mgdl.StoppedBudget})
	}
	if b, err := json.Marshal(s); err != nil || os.WriteFile(filepath.Join(dir, rundir.SummaryFile), b, 0o644) != nil {
		t.Fatal(err)
	}
	var m bytes.Buffer
	enc := json.NewEncoder(&m)
	for l := range grades {
		for e := 1; e <= 50; e++ {
			rec := rundir.MetricsRecord{Event: "epoch", Method: method, Grade: l + 1, Grades: grades, Epoch: e, Epochs: 50,
				Loss: math.Pow(10, -float64(l)) * (1 + 1/float64(e)), LR: 1e-3}
			if e >= 10 { // measured every 10 epochs, repeated in between
				rec.ValRSE = ptr(math.Pow(10, -float64(l)) / float64(e/10))
			}
			enc.Encode(rec)
		}
		enc.Encode(rundir.MetricsRecord{Event: "grade", Method: method, Grade: l + 1, Grades: grades, Result: &s.Grades[l]})
	}
	enc.Encode(rundir.MetricsRecord{Event: "end", Method: method})
	if err := os.WriteFile(filepath.Join(dir, rundir.MetricsFile), m.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	st := &rundir.Staged{Split: "train"}
	for i := range 512 {
		x := float64(i) / 512
		st.X = append(st.X, x)
		st.Y = append(st.Y, target(x))
	}
	for l := range grades {
		p := make([]float64, len(st.X))
		for i, x := range st.X {
			p[i] = math.Sin(2 * math.Pi * 3 * x)
			if l > 0 { // later grades leave ever smaller high-frequency residuals
				p[i] = target(x) - math.Pow(10, -float64(l))*math.Sin(2*math.Pi*70*x)
			}
		}
		st.Pred = append(st.Pred, p)
	}
	if err := st.WriteFile(filepath.Join(dir, rundir.StagedFile)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, rundir.ConfigFile), []byte(`{"method": "`+method+`", "epochs": 50}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// pngInfo decodes a PNG and counts pixels near each palette colour and
// non-white pixels.
func pngInfo(t *testing.T, b []byte) (image.Image, int, map[int]int) {
	t.Helper()
	im, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	near := func(c color.Color, p color.Color) bool {
		r1, g1, b1, _ := c.RGBA()
		r2, g2, b2, _ := p.RGBA()
		d := func(a, b uint32) float64 { return math.Abs(float64(a>>8) - float64(b>>8)) }
		return d(r1, r2)+d(g1, g2)+d(b1, b2) < 30
	}
	ink, byColour := 0, map[int]int{}
	bd := im.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			c := im.At(x, y)
			if !near(c, color.White) {
				ink++
			}
			for k, p := range Palette[:4] {
				if near(c, p) {
					byColour[k]++
				}
			}
		}
	}
	return im, ink, byColour
}

func TestFiguresHaveContent(t *testing.T) {
	dir := t.TempDir()
	writeFakeRun(t, filepath.Join(dir, "mgdl"), "mgdl", 3)
	writeFakeRun(t, filepath.Join(dir, "sgdl"), "sgdl", 1)
	runs, err := rundir.ReadRuns(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 2 || runs[0].Label() != "MGDL" || runs[1].Label() != "SGDL" {
		t.Fatalf("runs %v %v: want MGDL then SGDL", runs[0].Label(), runs[len(runs)-1].Label())
	}
	figs, warnings := Figures(runs)
	if len(warnings) > 0 {
		t.Fatalf("warnings: %v", warnings)
	}
	// What each figure must show: its axis labels and title in the SVG,
	// and lines in the grade colours in the PNG.
	want := map[string]struct {
		labels  []string
		colours int // palette colours that must each cover some pixels
	}{
		"rse":           {[]string{"RSE per grade", "grade", "RSE", "MGDL test", "SGDL test"}, 3},
		"loss":          {[]string{"MGDL: training loss", "SGDL: training loss", "epoch (all grades)", "grade 3"}, 3},
		"validation":    {[]string{"MGDL: validation RSE during training", "SGDL: validation RSE during training", "validation RSE", "grade 2"}, 3},
		"fit-mgdl":      {[]string{"MGDL after grade 1", "MGDL after grade 3", "x", "y"}, 3},
		"fit-sgdl":      {[]string{"SGDL"}, 1},
		"spectrum-mgdl": {[]string{"MGDL: residual after grade 1", "MGDL: residual after grade 3", "frequency (cycles per unit of x)", "amplitude", "target"}, 3},
		"spectrum-sgdl": {[]string{"residual"}, 1},
	}
	seen := map[string]bool{}
	for _, f := range figs {
		w, ok := want[f.Name]
		if !ok {
			t.Errorf("unexpected figure %q", f.Name)
			continue
		}
		seen[f.Name] = true
		b, err := f.PNG()
		if err != nil {
			t.Fatal(err)
		}
		im, ink, byColour := pngInfo(t, b)
		wantW, wantH := int(math.Round(f.Width.Points()*DPI/72)), int(math.Round(f.Height.Points()*DPI/72))
		if im.Bounds().Dx() != wantW || im.Bounds().Dy() != wantH {
			t.Errorf("%s.png is %v, want %dx%d", f.Name, im.Bounds().Size(), wantW, wantH)
		}
		total := im.Bounds().Dx() * im.Bounds().Dy()
		if ink < total/100 {
			t.Errorf("%s.png: only %d of %d pixels are not white", f.Name, ink, total)
		}
		for k := range w.colours {
			if byColour[k] < 20 {
				t.Errorf("%s.png: %d pixels of palette colour %d (a series is missing)", f.Name, byColour[k], k)
			}
		}
		svg, err := f.SVG()
		if err != nil {
			t.Fatal(err)
		}
		text := svgText(svg)
		for _, l := range w.labels {
			if !strings.Contains(text, l) {
				t.Errorf("%s.svg: no text %q in %q", f.Name, l, text)
			}
		}
	}
	for name := range want {
		if !seen[name] {
			t.Errorf("figure %s missing", name)
		}
	}
}

// svgText returns the text of an SVG's <text> elements, one per line.
func svgText(svg []byte) string {
	var out []string
	for _, m := range regexp.MustCompile(`<text[^>]*>([^<]*)</text>`).FindAllSubmatch(svg, -1) {
		out = append(out, strings.NewReplacer("&#39;", "'", "&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`).Replace(string(m[1])))
	}
	return strings.Join(out, "\n")
}

func TestSpectrumFindsTheFrequency(t *testing.T) {
	// 3 sin(2π·12x) on 400 uneven points of [0, 2]: one peak at 12 cycles
	// per unit of amplitude ≈ 3 (the interpolation loses a little).
	rng := rand.New(rand.NewPCG(1, 2))
	var x, v []float64
	for i := range 400 {
		xi := 2 * (float64(i) + 0.3*rng.Float64()) / 400
		x = append(x, xi)
		v = append(v, 3*math.Sin(2*math.Pi*12*xi))
	}
	f, a := Spectrum(x, v)
	best := 0
	for i := range a {
		if a[i] > a[best] {
			best = i
		}
	}
	if math.Abs(f[best]-12) > 0.6 || math.Abs(a[best]-3) > 0.4 {
		t.Errorf("peak at %.3g cycles/unit with amplitude %.3g, want 12 and 3", f[best], a[best])
	}
	if f, a := Spectrum([]float64{1, 2}, []float64{1, 2}); f != nil || a != nil {
		t.Error("two points gave a spectrum")
	}
}

func TestWriteReport(t *testing.T) {
	dir := t.TempDir()
	writeFakeRun(t, filepath.Join(dir, "a"), "mgdl", 3)
	writeFakeRun(t, filepath.Join(dir, "b"), "sgdl", 1)
	runs, err := rundir.ReadRuns(filepath.Join(dir, "b"), filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	fixed := func() time.Time { return time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC) }
	path, err := Write(out, runs, Options{Now: fixed})
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	for _, want := range []string{
		"<title>mgdl report: MGDL vs SGDL on fake</title>",
		"MGDL test RSE 0.00065 · SGDL test RSE 0.065 · SGDL/MGDL = 100 (MGDL better)",
		"generated 2026-01-02 03:04 UTC",
		"<td class=\"l\">[16,16×2,1]</td>", // grade 2's widths
		"exp 0.001→0.0001",                 // the schedule
		`id="fig-rse"`, `id="fig-loss"`, `id="fig-fit-mgdl"`, `id="fig-spectrum-mgdl"`,
		`&#34;epochs&#34;: 50`, // config.json, escaped, in the page
	} {
		if !strings.Contains(html, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if n := strings.Count(html, `src="data:image/png;base64,`); n != 7 {
		t.Errorf("%d inline PNG figures, want 7", n)
	}
	// Self-contained: no scripts, nothing fetched.
	for _, bad := range []string{"<script", "http://", "https://", "<link", "@import", "url("} {
		if strings.Contains(html, bad) {
			t.Errorf("report contains %q: not self-contained", bad)
		}
	}
	for _, f := range []string{"rse.png", "rse.svg", "loss.png", "spectrum-mgdl.svg", "fit-sgdl.png"} {
		if st, err := os.Stat(filepath.Join(out, rundir.PlotsDir, f)); err != nil || st.Size() < 1000 {
			t.Errorf("plots/%s: %v", f, err)
		}
	}
}

func TestLoadRejectsNonRun(t *testing.T) {
	if _, err := rundir.ReadRuns(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not a run folder") {
		t.Errorf("empty folder: %v", err)
	}
	dir := t.TempDir()
	writeFakeRun(t, dir, "mgdl", 2)
	// A damaged optional file is a warning, not an error.
	if err := os.WriteFile(filepath.Join(dir, rundir.StagedFile), []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := rundir.Read(dir)
	if err != nil || r.Staged != nil || len(r.Warnings) != 1 {
		t.Errorf("damaged staged.json: err %v, staged %v, warnings %v", err, r.Staged != nil, r.Warnings)
	}
}

func TestNormsAndImageFigures(t *testing.T) {
	f, err := NormsFigure("constructed", rundir.Norms{L1: []float64{1, .5, .25, .2}, L2: []float64{1, .6, .3, .2}, LInf: []float64{1, 1, .5, .5}, FromGrade0: true, LevelSup: []float64{1, .5, .25}})
	if err != nil || f == nil {
		t.Fatalf("norms figure: %v", err)
	}
	svg, err := f.SVG()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"residual norms per grade", "sup norm per level", "L1", "L2", "L∞", "level"} {
		if !strings.Contains(svgText(svg), want) {
			t.Errorf("norms figure lacks %q", want)
		}
	}
	im := image.NewRGBA(image.Rect(0, 0, 16, 16))
	for i := range im.Pix {
		im.Pix[i] = uint8(i)
		if i%4 == 3 {
			im.Pix[i] = 255
		}
	}
	g, err := ImageFigure("images", "test", []string{"target", "after grade 1"}, []image.Image{im, im})
	if err != nil {
		t.Fatal(err)
	}
	b, err := g.PNG()
	if err != nil {
		t.Fatal(err)
	}
	if _, ink, _ := pngInfo(t, b); ink < 1000 {
		t.Errorf("image figure has %d non-white pixels", ink)
	}
}

// TestConstructedRun checks a folder with only verify.json (as the
// constructive scheme writes): it is a run, its norms are drawn and its
// checks are tabled.
func TestConstructedRun(t *testing.T) {
	dir := t.TempDir()
	v := `{"values": 100, "initial": {"l1": 0.5, "l2": 0.6, "linf": 1},
	  "grades": [{"grade": 1, "nontrivial": true, "max_increase": -0.1, "violations": 0, "sign_flips": 0, "l1": 0.3, "l2": 0.35, "linf": 1},
	             {"grade": 2, "nontrivial": true, "max_increase": 0, "violations": 0, "sign_flips": 0, "l1": 0.1, "l2": 0.12, "linf": 0.5}],
	  "levels": [{"level": 1, "grade_end": 2, "sup": 0.5}]}`
	if err := os.WriteFile(filepath.Join(dir, rundir.VerifyFile), []byte(v), 0o644); err != nil {
		t.Fatal(err)
	}
	runs, err := rundir.ReadRuns(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := runs[0]
	if r.Label() != "CONSTRUCTED" || r.Norms == nil || len(r.Norms.L2) != 3 || len(r.Norms.LevelSup) != 1 || len(r.Verify) != 2 {
		t.Fatalf("run %q norms %+v verify %d", r.Label(), r.Norms, len(r.Verify))
	}
	path, err := Write(dir, runs, Options{NoFiles: true})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	for _, want := range []string{`id="fig-norms-constructed"`, "Verification of the residuals", "residual L∞ 0.5, L2 0.12 after 2 grades"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, rundir.PlotsDir)); err == nil {
		t.Error("NoFiles wrote plots/")
	}
}

// TestConstructReportFile reads the report.json mgdl construct writes: the
// first point set's checks, and the levels from the top level.
func TestConstructReportFile(t *testing.T) {
	dir := t.TempDir()
	rep := `{"target": "sin10", "levels": [{"sup": 0.5}, {"sup": 0.25}], "num_grades": 2,
	  "checks": [{"points": "grid points", "report": {"initial": {"l1": 0.5, "l2": 0.6, "linf": 1},
	    "grades": [{"grade": 1, "nontrivial": true, "l1": 0.3, "l2": 0.35, "linf": 0.5}, {"grade": 2, "nontrivial": true, "l1": 0.1, "l2": 0.12, "linf": 0.25}]}},
	             {"points": "fresh points", "report": {"grades": []}}]}`
	if err := os.WriteFile(filepath.Join(dir, rundir.ConstructFile), []byte(rep), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := rundir.Read(dir)
	if err != nil {
		t.Fatal(err)
	}
	if r.VerifyPoints != "grid points" || len(r.Verify) != 2 || r.Norms == nil || len(r.Norms.LevelSup) != 2 || r.Norms.LInf[2] != 0.25 {
		t.Errorf("points %q, %d grades, norms %+v", r.VerifyPoints, len(r.Verify), r.Norms)
	}
}
