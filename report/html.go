package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"image"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mgdl/mgdl/data"
	"github.com/mgdl/mgdl/internal/buildinfo"
	"github.com/mgdl/mgdl/model"
	"github.com/mgdl/mgdl/rundir"
)

// Options control Write.
type Options struct {
	// Title of the report; default "mgdl report: <runs> on <example>".
	Title string
	// Now stamps the report (default time.Now); tests fix it.
	Now func() time.Time
	// NoFiles skips writing plots/*.png and *.svg (report.html still
	// holds every figure).
	NoFiles bool
}

// Figures draws every figure the runs' files allow, in report order.
// Figures that cannot be drawn are skipped with a warning.
func Figures(runs []*rundir.Run) (figs []*Figure, warnings []string) {
	add := func(f *Figure, err error) {
		if err != nil {
			warnings = append(warnings, err.Error())
			return
		}
		if f != nil {
			figs = append(figs, f)
		}
	}
	add(RSEFigure(runs))
	add(LossFigure(runs))
	add(ValidationFigure(runs))
	for _, r := range runs {
		add(FitFigure(r))
	}
	for _, r := range runs {
		add(SpectrumFigure(r))
	}
	for _, r := range runs {
		if r.Norms != nil {
			f, err := NormsFigure(r.Label(), *r.Norms)
			if f != nil {
				f.Name += "-" + r.Key()
			}
			add(f, err)
		}
		if len(r.Images) > 0 {
			titles := make([]string, len(r.Images))
			imgs := make([]image.Image, len(r.Images))
			for i, im := range r.Images {
				titles[i], imgs[i] = im.Title, im.Image
			}
			add(ImageFigure("images-"+r.Key(), r.Label()+": the target and the reconstruction after each grade.", titles, imgs))
		}
	}
	return figs, warnings
}

// Write draws the figures of runs and writes dir/report.html (and, unless
// opts.NoFiles, dir/plots/NAME.png and NAME.svg). It returns the path of
// the report.
func Write(dir string, runs []*rundir.Run, opts Options) (string, error) {
	if len(runs) == 0 {
		return "", fmt.Errorf("report: no runs")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	figs, warnings := Figures(runs)
	for _, r := range runs {
		for _, w := range r.Warnings {
			warnings = append(warnings, r.Label()+": "+w)
		}
	}
	files := map[string][]byte{}
	page := pageData{Title: opts.Title, Generated: opts.Now().UTC().Format("2006-01-02 15:04 UTC"), Version: buildinfo.Version}
	for _, f := range figs {
		png, err := f.PNG()
		if err != nil {
			warnings = append(warnings, err.Error())
			continue
		}
		pf := pageFigure{Name: f.Name, Caption: f.Caption, PNG: template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))}
		if !opts.NoFiles {
			svg, err := f.SVG()
			if err != nil {
				warnings = append(warnings, err.Error())
			}
			for ext, b := range map[string][]byte{"png": png, "svg": svg} {
				if b == nil {
					continue
				}
				files[f.Name+"."+ext] = b
			}
			if svg != nil {
				pf.SVG = rundir.PlotsDir + "/" + f.Name + ".svg"
			}
		}
		page.Figures = append(page.Figures, pf)
	}
	page.Warnings = warnings
	page.Runs = make([]pageRun, len(runs))
	var examples []string
	for i, r := range runs {
		page.Runs[i] = newPageRun(r)
		if e := r.Summary.Config.Data.Example; e != "" && !contains(examples, e) {
			examples = append(examples, e)
		}
	}
	if page.Title == "" {
		labels := make([]string, len(runs))
		for i, r := range runs {
			labels[i] = r.Label()
		}
		page.Title = "mgdl report: " + strings.Join(labels, " vs ")
		if len(examples) > 0 {
			page.Title += " on " + strings.Join(examples, ", ")
		}
	}
	page.Headline = headline(runs)
	var b bytes.Buffer
	if err := pageTemplate.Execute(&b, page); err != nil {
		return "", fmt.Errorf("report: %w", err)
	}
	return rundir.WriteReport(dir, b.Bytes(), files)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// headline compares the final test (or training) RSEs of the runs.
func headline(runs []*rundir.Run) string {
	var parts []string
	var m, s *float64
	for _, r := range runs {
		f := r.Summary.Final()
		v, what := f.TestRSE, "test"
		if v == nil {
			v, what = &f.TrainRSE, "train"
		}
		if len(r.Summary.Grades) == 0 {
			if n := r.Norms; n != nil && len(n.LInf) > 0 {
				parts = append(parts, fmt.Sprintf("%s: residual L∞ %s, L2 %s after %d grades", r.Label(), fmtG(n.LInf[len(n.LInf)-1]), fmtG(n.L2[len(n.L2)-1]), len(r.Verify)))
				continue
			}
			parts = append(parts, r.Label()+": no finished grade")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s RSE %s", r.Label(), what, fmtG(*v)))
		switch r.Method {
		case "mgdl":
			m = v
		case "sgdl":
			s = v
		}
	}
	h := strings.Join(parts, " · ")
	if m != nil && s != nil && *m > 0 {
		ratio := *s / *m
		h += fmt.Sprintf(" · SGDL/MGDL = %s", fmtG(ratio))
		if ratio > 1 && !math.IsInf(ratio, 0) {
			h += " (MGDL better)"
		}
	}
	return h
}

type pageData struct {
	Title, Generated, Version, Headline string
	Runs                                []pageRun
	Figures                             []pageFigure
	Warnings                            []string
}

type pageFigure struct {
	Name, Caption string
	PNG           template.URL
	SVG           string
}

type pageRun struct {
	Label, Dir   string
	Facts        [][2]string
	Grades       []pageGrade
	Extra        []string // optional columns present in some grade
	Config       string
	Error        string
	MaxSeconds   float64
	Verify       [][]string // rows of the verification table
	VerifyPoints string
}

type pageGrade struct {
	Grade                   int
	Widths, Act, Epochs, LR string
	Train, Val, Test        string
	Seconds, Cumulative     string
	Extra                   []string
	BarPct                  float64
	Rejected                bool
}

func newPageRun(r *rundir.Run) pageRun {
	s := r.Summary
	p := pageRun{Label: r.Label(), Dir: r.Dir, Error: s.Error}
	fact := func(k, v string) {
		if v != "" {
			p.Facts = append(p.Facts, [2]string{k, v})
		}
	}
	fact("method", strings.ToUpper(r.Method))
	if r.Method != "constructed" {
		fact("data", dataName(s.Config.Data))
		fact("dtype", s.Config.DType)
		fact("seed", strconv.FormatUint(s.Config.Seed, 10))
	}
	fact("backend", s.Backend)
	fact("mgdl version", s.Version)
	fact("grades", strconv.Itoa(len(s.Grades)))
	fact("total time", fmtSeconds(s.TotalSeconds))
	// Optional columns, shown when any grade has them.
	var hasAcc, hasStop, hasRefit bool
	for _, g := range s.Grades {
		hasAcc = hasAcc || g.TestAcc != nil || g.TrainAcc != nil
		hasStop = hasStop || g.StopReason.Early()
		hasRefit = hasRefit || g.Refit
	}
	if hasAcc {
		p.Extra = append(p.Extra, "test accuracy")
	}
	if hasStop {
		p.Extra = append(p.Extra, "stopped")
	}
	if hasRefit {
		p.Extra = append(p.Extra, "refit (train RSE before)")
	}
	cum := 0.0
	for _, g := range s.Grades {
		p.MaxSeconds = max(p.MaxSeconds, g.Seconds)
	}
	trained := s.Config.Trainer() // the grades as trained (one for SGDL)
	for l, g := range s.Grades {
		cum += g.Seconds
		pg := pageGrade{Grade: g.Grade, Widths: model.FormatWidths(g.Widths), Epochs: strconv.Itoa(g.Epochs),
			Train: fmtG(g.TrainRSE), Val: fmtPtr(g.ValRSE), Test: fmtPtr(g.TestRSE),
			Seconds: fmtSeconds(g.Seconds), Cumulative: fmtSeconds(cum), Rejected: g.Rejected}
		if p.MaxSeconds > 0 {
			pg.BarPct = math.Round(1000*g.Seconds/p.MaxSeconds) / 10
		}
		if l < len(trained.Grades) {
			spec := trained.Grades[l]
			pg.Act = spec.Activation.String()
			pg.LR = spec.LR.String()
		}
		if hasAcc {
			pg.Extra = append(pg.Extra, fmtPtr(g.TestAcc))
		}
		if hasStop {
			v := string(g.StopReason)
			if g.BestEpoch != nil {
				v += fmt.Sprintf(" (best epoch %d)", *g.BestEpoch)
			}
			pg.Extra = append(pg.Extra, v)
		}
		if hasRefit {
			v := ""
			if g.Refit {
				v = "yes"
				if g.TrainRSEBeforeRefit != nil {
					v += " (was " + fmtG(*g.TrainRSEBeforeRefit) + ")"
				}
			}
			pg.Extra = append(pg.Extra, v)
		}
		p.Grades = append(p.Grades, pg)
	}
	p.VerifyPoints = r.VerifyPoints
	for _, v := range r.Verify {
		yes := map[bool]string{true: "yes", false: "no"}[v.Nontrivial]
		p.Verify = append(p.Verify, []string{strconv.Itoa(v.Grade), yes, fmtG(v.MaxIncrease), strconv.Itoa(v.Violations), strconv.Itoa(v.SignFlips), fmtG(v.L1), fmtG(v.L2), fmtG(v.Linf)})
	}
	cfg := []byte(r.Config)
	if cfg == nil {
		var err error
		if cfg, err = json.Marshal(s.Config); err != nil {
			cfg = nil
			p.Config = "(the configuration cannot be shown: " + err.Error() + ")"
		}
	}
	var pretty bytes.Buffer
	if cfg != nil && json.Indent(&pretty, cfg, "", "  ") == nil {
		p.Config = pretty.String()
	}
	return p
}

func fmtG(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

func fmtPtr(v *float64) string {
	if v == nil {
		return "–"
	}
	return fmtG(*v)
}

func fmtSeconds(s float64) string {
	switch {
	case s >= 3600:
		return fmt.Sprintf("%dh%02dm", int(s/3600), int(s/60)%60)
	case s >= 60:
		return fmt.Sprintf("%dm%02ds", int(s/60), int(s)%60)
	case s >= 10:
		return fmt.Sprintf("%.1f s", s)
	default:
		return fmt.Sprintf("%.2f s", s)
	}
}

var pageTemplate = template.Must(template.New("report").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="mgdl {{.Version}}">
<title>{{.Title}}</title>
<style>
:root { --fg:#1d2330; --muted:#5b6478; --line:#d9dde6; --bg:#fff; --soft:#f5f7fa; --accent:#0072b2; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: var(--fg); background: var(--bg); }
header { padding: 24px 32px 16px; border-bottom: 1px solid var(--line); background: var(--soft); }
header h1 { margin: 0 0 4px; font-size: 22px; }
header .headline { font-size: 16px; color: var(--accent); font-weight: 600; }
header .meta { color: var(--muted); font-size: 13px; }
main { padding: 8px 32px 32px; max-width: 1500px; }
h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
.runs { display: flex; flex-wrap: wrap; gap: 24px; }
.run { flex: 1 1 640px; min-width: 0; }
.scroll { overflow-x: auto; }
.run h3 { margin: 8px 0; font-size: 16px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 12px; font-size: 13px; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
table { border-collapse: collapse; font-size: 13px; width: 100%; }
th, td { padding: 4px 8px; border-bottom: 1px solid var(--line); text-align: right; white-space: nowrap; }
th { background: var(--soft); font-weight: 600; }
td.l, th.l { text-align: left; }
tr.rejected td { color: var(--muted); text-decoration: line-through; }
.bar { display: inline-block; height: 9px; background: var(--accent); border-radius: 2px; vertical-align: middle; margin-right: 6px; }
.timecell { min-width: 170px; text-align: left; }
.error { color: #b00020; font-weight: 600; }
figure { margin: 16px 0 24px; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
details { margin: 8px 0; }
pre { background: var(--soft); padding: 12px; border-radius: 4px; overflow: auto; font-size: 12px; max-height: 480px; }
.warnings { color: #8a5300; font-size: 13px; }
footer { color: var(--muted); font-size: 12px; padding: 16px 32px; border-top: 1px solid var(--line); }
</style>
</head>
<body>
<header>
<h1>{{.Title}}</h1>
<div class="headline">{{.Headline}}</div>
<div class="meta">generated {{.Generated}} by mgdl {{.Version}}</div>
</header>
<main>
<h2 id="grades">Per-grade results</h2>
<div class="runs">
{{- range .Runs}}
<section class="run">
<h3>{{.Label}} <span class="meta">{{.Dir}}</span></h3>
<dl class="facts">{{range .Facts}}<dt>{{index . 0}}</dt><dd>{{index . 1}}</dd>{{end}}</dl>
{{- if .Error}}<p class="error">stopped early: {{.Error}}</p>{{end}}
<div class="scroll"><table>
<thead><tr><th>grade</th><th class="l">widths</th><th class="l">act.</th><th>epochs</th><th class="l">lr</th><th>train RSE</th><th>val RSE</th><th>test RSE</th>{{range .Extra}}<th>{{.}}</th>{{end}}<th class="l">time (cumulative)</th></tr></thead>
<tbody>
{{- range .Grades}}
<tr{{if .Rejected}} class="rejected"{{end}}><td>{{.Grade}}</td><td class="l">{{.Widths}}</td><td class="l">{{.Act}}</td><td>{{.Epochs}}</td><td class="l">{{.LR}}</td><td>{{.Train}}</td><td>{{.Val}}</td><td>{{.Test}}</td>{{range .Extra}}<td>{{.}}</td>{{end}}<td class="timecell"><span class="bar" style="width: {{.BarPct}}px"></span>{{.Seconds}} ({{.Cumulative}})</td></tr>
{{- end}}
</tbody>
</table></div>
{{- if .Verify}}
<details{{if le (len .Verify) 30}} open{{end}}>
<summary>Verification of the residuals{{if .VerifyPoints}} on the {{.VerifyPoints}}{{end}}: {{len .Verify}} grades</summary>
<div class="scroll"><table>
<thead><tr><th>grade</th><th>nontrivial</th><th>max(|e<sub>l</sub>|−|e<sub>l−1</sub>|)</th><th>violations</th><th>sign flips</th><th>L1</th><th>L2</th><th>L∞</th></tr></thead>
<tbody>{{range .Verify}}<tr>{{range .}}<td>{{.}}</td>{{end}}</tr>{{end}}</tbody>
</table></div>
</details>
{{- end}}
</section>
{{- end}}
</div>
{{- if .Figures}}
<h2 id="plots">Plots</h2>
{{- range .Figures}}
<figure id="fig-{{.Name}}">
<img src="{{.PNG}}" alt="{{.Caption}}">
<figcaption>{{.Caption}}{{if .SVG}} <a href="{{.SVG}}">SVG</a>{{end}}</figcaption>
</figure>
{{- end}}
{{- end}}
<h2 id="config">Configuration</h2>
{{- range .Runs}}
<details{{if eq (len $.Runs) 1}} open{{end}}>
<summary>{{.Label}}: resolved configuration</summary>
<pre>{{.Config}}</pre>
</details>
{{- end}}
{{- if .Warnings}}
<h2 id="warnings">Warnings</h2>
<ul class="warnings">{{range .Warnings}}<li>{{.}}</li>{{end}}</ul>
{{- end}}
</main>
<footer>mgdl {{.Version}} · one self-contained file: every figure is inline; the SVG links point into the plots folder beside it.</footer>
</body>
</html>
`))

// dataName names a run's data: the example, or the file's base name.
func dataName(s data.Source) string {
	if s.IsFile() {
		return filepath.Base(s.File)
	}
	return s.Example
}
