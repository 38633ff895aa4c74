package report

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mgdl/mgdl/rundir"
)

// chromium finds a headless-capable Chromium (Debian's package is
// "chromium"; MGDL_CHROMIUM overrides).
func chromium() string {
	if p := os.Getenv("MGDL_CHROMIUM"); p != "" {
		if p, err := exec.LookPath(p); err == nil {
			return p
		}
		return ""
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// runChromium runs headless Chromium with the flags that work without a
// network or a display, and a fresh profile.
func runChromium(t *testing.T, bin string, args ...string) (stdout, stderr []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--enable-logging=stderr", "--v=0", "--hide-scrollbars"}
	cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, errb.String())
	}
	return out.Bytes(), errb.Bytes()
}

// probe is injected at the top of a copy of the report: it records
// uncaught errors, failed resource loads and console.error calls, and on
// load writes them, with the count of images that did not decode, into the
// body's data-probe attribute for --dump-dom to show.
const probe = `<script>
window.__probe = [];
window.addEventListener('error', function (e) {
  window.__probe.push('error: ' + (e.message || (e.target && (e.target.src || e.target.href)) || 'unknown'));
}, true);
(function () { var ce = console.error; console.error = function () {
  window.__probe.push('console.error: ' + Array.prototype.join.call(arguments, ' ')); ce.apply(console, arguments); }; })();
window.addEventListener('load', function () {
  var imgs = Array.prototype.slice.call(document.images);
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); }).length;
  document.body.setAttribute('data-probe', JSON.stringify({errors: window.__probe, images: imgs.length, broken: broken}));
});
</script>`

// TestReportInChromium renders report.html in headless Chromium, checks
// that no error reaches the console and every inline figure decodes, and
// takes a screenshot (kept where MGDL_SCREENSHOT says, if set).
func TestReportInChromium(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("headless Chromium not found (install Debian's chromium: apt-get install chromium; .ci/run does); skipping the browser test of report.html")
	}
	if testing.Short() {
		t.Skip("-short: skipping the browser test")
	}
	dir := t.TempDir()
	writeFakeRun(t, filepath.Join(dir, "mgdl"), "mgdl", 3)
	writeFakeRun(t, filepath.Join(dir, "sgdl"), "sgdl", 1)
	runs, err := rundir.ReadRuns(dir)
	if err != nil {
		t.Fatal(err)
	}
	path, err := Write(dir, runs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	probed := filepath.Join(dir, "probed.html")
	if err := os.WriteFile(probed, bytes.Replace(page, []byte("<head>"), []byte("<head>\n"+probe), 1), 0o644); err != nil {
		t.Fatal(err)
	}

	// 1. The DOM after load, with the probe's findings.
	dom, stderr := runChromium(t, bin, "--virtual-time-budget=5000", "--dump-dom", "file://"+probed)
	m := regexp.MustCompile(`data-probe="([^"]*)"`).FindSubmatch(dom)
	if m == nil {
		t.Fatalf("the probe did not run (no data-probe in the DOM):\n%.2000s", dom)
	}
	var got struct {
		Errors         []string
		Images, Broken int
	}
	if err := json.Unmarshal([]byte(html.UnescapeString(string(m[1]))), &got); err != nil {
		t.Fatalf("probe result %q: %v", m[1], err)
	}
	if len(got.Errors) > 0 {
		t.Errorf("errors in the page: %q", got.Errors)
	}
	if got.Images != 7 || got.Broken != 0 {
		t.Errorf("%d images, %d broken; want 7 images, none broken", got.Images, got.Broken)
	}
	// Chromium logs console messages as "CONSOLE(line)" on stderr: the
	// report has no script, so there must be none.
	for _, line := range strings.Split(string(stderr), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Errorf("console message: %s", line)
		}
	}

	// 2. A screenshot of the report itself.
	shot := filepath.Join(dir, "report.png")
	runChromium(t, bin, "--window-size=1280,1600", "--screenshot="+shot, "file://"+path)
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	im, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if sz := im.Bounds().Size(); sz.X != 1280 || sz.Y != 1600 {
		t.Errorf("screenshot is %v, want 1280x1600", sz)
	}
	// Not blank: the header, tables and figures give many distinct colours.
	colours := map[uint32]bool{}
	for y := 0; y < im.Bounds().Dy(); y += 4 {
		for x := 0; x < im.Bounds().Dx(); x += 4 {
			r, g, b, _ := im.At(x, y).RGBA()
			colours[r>>8<<16|g>>8<<8|b>>8] = true
		}
	}
	if len(colours) < 50 {
		t.Errorf("screenshot has only %d colours: blank page?", len(colours))
	}
	if keep := os.Getenv("MGDL_SCREENSHOT"); keep != "" {
		if err := os.WriteFile(keep, b, 0o644); err != nil {
			t.Error(err)
		}
	}
}
