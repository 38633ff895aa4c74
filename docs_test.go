//go:build unix

package mgdl_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/mgdl/mgdl/internal/testenv"
)

// The documentation's commands, run as a newcomer runs them: every line of
// every ```sh block of README.md and docs/*.md, and every inline command
// (`mgdl …`, `./mgdl …`, `go run …`) of their prose and tables, in order,
// in a fresh copy of the repository (one per file), with the binary that
// the README's `go build` line makes on the PATH as `mgdl`.
//
// A command runs exactly as printed, except that a slow one gets a budget
// override (budget below: flags added, nothing else changed). A few lines
// are not run, each with its reason (notRun). `go test` lines are tests,
// which go test ./... runs, or benchmarks, which MGDL_LONG=1 runs here,
// shortened. The README's first command also runs under a terminal (a
// pty), with its budget; TestDemoMGDLBeatsSGDL (cmd/mgdl, MGDL_LONG=1)
// runs the demo at its full budget.

// docCmd is one command line of a document.
type docCmd struct {
	file   string
	line   int
	text   string // as printed (a continued line joined)
	inline bool   // from an inline code span, not a sh block
}

// budget maps a printed command to the one run in the default test suite:
// the same words with flags added that shorten it. Commands that take more
// than a few seconds have one; Xu's recipe, about ten seconds, runs as
// printed once (README.md's examples/xu1.yaml) and shortened elsewhere.
var budget = map[string]string{
	"./mgdl train --config runs/xu1/config.json --out runs/xu1-again":                                            "./mgdl train --config runs/xu1/config.json --out runs/xu1-again --epochs 2",
	"./mgdl train --example xu1 --out runs/xu1-recipe":                                                           "./mgdl train --example xu1 --out runs/xu1-recipe --epochs 2",
	"mgdl train --example xu1 --out runs/xu1":                                                                    "mgdl train --example xu1 --out runs/xu1 --epochs 2",
	"mgdl train --example xu1 --refit --out runs/xu1-refit":                                                      "mgdl train --example xu1 --refit --out runs/xu1-refit --epochs 2",
	"go run ./cmd/mgdl demo":                                                                                     "go run ./cmd/mgdl demo --epochs 2",
	"./mgdl demo --out runs/demo":                                                                                "./mgdl demo --out runs/demo --epochs 2",
	"mgdl demo --out runs/demo && mgdl report runs/demo":                                                         "mgdl demo --out runs/demo --epochs 2 && mgdl report runs/demo",
	"mgdl demo --epochs 300 --lr 1e-4 --out runs/calib":                                                          "mgdl demo --epochs 300 --lr 1e-4 --out runs/calib --epochs 2",
	"./mgdl train --example spectral2 --method mgdl --epochs 300 --lr 1e-4 --out runs/mgdl":                      "./mgdl train --example spectral2 --method mgdl --epochs 300 --lr 1e-4 --out runs/mgdl --epochs 2",
	"./mgdl train --example spectral2 --method sgdl --epochs 300 --lr 1e-4 --out runs/sgdl":                      "./mgdl train --example spectral2 --method sgdl --epochs 300 --lr 1e-4 --out runs/sgdl --epochs 2",
	"mgdl train --example spectral2 --epochs 200 --lr 1e-3 --lr-min 1e-4 --out runs/s2-200":                      "mgdl train --example spectral2 --epochs 200 --lr 1e-3 --lr-min 1e-4 --out runs/s2-200 --epochs 2",
	"mgdl train --example spectral2 --epochs 200 --lr 1e-3 --lr-min 1e-4 --refit --out runs/s2-refit":            "mgdl train --example spectral2 --epochs 200 --lr 1e-3 --lr-min 1e-4 --refit --out runs/s2-refit --epochs 2",
	"mgdl train --example digits --out runs/digits":                                                              "mgdl train --example digits --out runs/digits --epochs 3",
	"mgdl train --example digits --refit --out runs/digits-refit":                                                "mgdl train --example digits --refit --out runs/digits-refit --epochs 3",
	"mgdl train --config examples/spectral2-mgdl.yaml --epochs 300 --out runs/s2":                                "mgdl train --config examples/spectral2-mgdl.yaml --epochs 300 --out runs/s2 --epochs 2",
	"mgdl train --config examples/spectral2-authors.yaml --out runs/s2-authors":                                  "mgdl train --config examples/spectral2-authors.yaml --out runs/s2-authors --epochs 2",
	"mgdl train --config examples/spectral2-authors.yaml --method sgdl --out runs/s2-authors-sgdl":               "mgdl train --config examples/spectral2-authors.yaml --method sgdl --out runs/s2-authors-sgdl --epochs 2",
	"mgdl train --example spectral2 --epochs 1000 --lr 1e-4 --rng numpy --data-rng numpy --seed 1 --out runs/b1": "mgdl train --example spectral2 --epochs 1000 --lr 1e-4 --rng numpy --data-rng numpy --seed 1 --out runs/b1 --epochs 2",
	"mgdl train --config examples/spectral2-mgdl.yaml --out runs/s2-paper":                                       "mgdl train --config examples/spectral2-mgdl.yaml --out runs/s2-paper --epochs 2",
	"mgdl demo --progress none":                                                                                  "mgdl demo --progress none --epochs 2",
	"mgdl bench --step":                                                                                          "mgdl bench --step --repeat 1 --backends go",
	"go test ./tensor -run '^$' -bench 'Gemm$' -benchtime 100ms -count 3":                                        "go test ./tensor -run '^$' -bench 'Gemm$' -benchtime 100ms -count 3 -benchtime 1x -count 1",
	"go test ./tensor -run '^$' -bench GemmThreads -benchtime 100ms -count 2":                                    "go test ./tensor -run '^$' -bench GemmThreads -benchtime 100ms -count 2 -benchtime 1x -count 1",
	"go test ./construct -run XXX -bench PredictConstructed -benchtime 10x -benchmem":                            "go test ./construct -run XXX -bench PredictConstructed -benchtime 10x -benchmem -benchtime 1x",
	"go test -run XXX -bench GradeEpoch -benchtime 5x .":                                                         "go test -run XXX -bench GradeEpoch -benchtime 5x . -benchtime 1x",
	"mgdl verify --model runs/xu1-5 --target 'sin(100*x)' --certify":                                             "mgdl verify --model runs/xu1-5 --target 'sin(100*x)' --certify --time 5s",
	"./mgdl verify --model runs/c2 --target 'sin(2*pi*x)*cos(2*pi*y) + 0.5*(x - y)' --certify":                   "./mgdl verify --model runs/c2 --target 'sin(2*pi*x)*cos(2*pi*y) + 0.5*(x - y)' --certify --rho 1",
	"./mgdl reproduce xu1 spectral2 --out runs/repro":                                                            "./mgdl reproduce xu1 spectral2 --out runs/repro --max-epochs 1",
	"mgdl reproduce xu1 --out runs/reproduce":                                                                    "mgdl reproduce xu1 --out runs/reproduce --max-epochs 1",
	"mgdl reproduce spectral2 --budget paper --out runs/paper":                                                   "mgdl reproduce spectral2 --budget paper --out runs/paper --max-epochs 1",
	"bench/compare.sh --rounds 3 --repeat 5":                                                                     "bench/compare.sh --rounds 3 --repeat 5 --rounds 1 --repeat 1 --search-repeat 1",
}

// notRunFiles are documents whose commands another test runs.
var notRunFiles = map[string]string{
	"docs/BAD_INPUT.md": "bad-input cases, meant to fail: TestBadInputCLI runs each with its files, checks its exit code and message, and that this file's table is the one it produces",
}

// notRun are printed commands the test does not run, with the reason.
var notRun = map[string]string{
	"go test ./...":                       "the test command itself (CI runs it)",
	"go test -short ./...":                "the test command itself, shorter",
	"mgdl reproduce --out runs/reproduce": "every experiment (about a minute even at --max-epochs 1): TestReproduceDirections (cmd/mgdl, MGDL_LONG=1) runs them all, capped, and TestEveryExperimentConfigures (repro) builds every run",
}

// runningVar is set in the environment of the commands run, so that a
// documented `go test` of the root package does not run this test again.
const runningVar = "MGDL_DOC_COMMANDS_RUNNING"

// docFiles returns README.md and docs/*.md, README first.
func docFiles(t *testing.T) []string {
	files, err := filepath.Glob(filepath.Join("docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	return append([]string{"README.md"}, files...)
}

var (
	inlineCode = regexp.MustCompile("`([^`]+)`")
	commandish = regexp.MustCompile(`^((\./mgdl|mgdl) [a-z-]|go (run|build|test) |bench/compare\.sh)`)
)

// readDocCommands extracts the commands of one document, in order: the
// lines of ```sh blocks and the inline code spans of the prose (a span may
// run over a line break). Lines of other fenced blocks that look like
// commands are reported as errors: a command must be in a sh block to run.
func readDocCommands(t *testing.T, file string) []docCmd {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out []docCmd
	fence, lang := false, ""
	pending, start := "", 0
	para, paraStart := "", 0
	flushPara := func() {
		for _, m := range inlineCode.FindAllStringSubmatch(para, -1) {
			if c := strings.Join(strings.Fields(m[1]), " "); commandish.MatchString(c) {
				out = append(out, docCmd{file: file, line: paraStart, text: c, inline: true})
			}
		}
		para = ""
	}
	for i, line := range strings.Split(string(b), "\n") {
		n := i + 1
		body := strings.TrimSpace(line)
		if strings.HasPrefix(body, "```") {
			flushPara()
			if fence {
				fence = false
				continue
			}
			fence, lang = true, strings.TrimSpace(strings.TrimPrefix(body, "```"))
			continue
		}
		if fence {
			if lang != "sh" {
				if commandish.MatchString(body) {
					t.Errorf("%s:%d: a command in a ```%s block (put commands in ```sh blocks, so that they run): %s", file, n, lang, body)
				}
				continue
			}
			if pending == "" && (body == "" || strings.HasPrefix(body, "#")) {
				continue
			}
			if pending == "" {
				start = n
			}
			if strings.HasSuffix(body, `\`) {
				pending += strings.TrimSuffix(body, `\`) + " "
				continue
			}
			out = append(out, docCmd{file: file, line: start, text: strings.TrimSpace(pending + body)})
			pending = ""
			continue
		}
		if strings.HasPrefix(line, "    ") && commandish.MatchString(body) {
			t.Errorf("%s:%d: a command in an indented code block (put commands in ```sh blocks, so that they run): %s", file, n, body)
		}
		if body == "" || strings.HasPrefix(body, "|") || strings.HasPrefix(body, "#") {
			flushPara()
			if strings.HasPrefix(body, "|") { // a table row is its own paragraph
				para, paraStart = body, n
				flushPara()
			}
			continue
		}
		if para == "" {
			paraStart = n
		}
		para += " " + body
	}
	flushPara()
	return out
}

// withoutComment is the command without a trailing shell comment.
func withoutComment(s string) string {
	inQ := rune(0)
	for i, r := range s {
		switch {
		case inQ != 0:
			if r == inQ {
				inQ = 0
			}
		case r == '\'' || r == '"':
			inQ = r
		case r == '#' && (i == 0 || s[i-1] == ' '):
			return strings.TrimSpace(s[:i])
		}
	}
	return strings.TrimSpace(s)
}

// placeholder words a schematic inline command may hold; such a command is
// not runnable as printed.
var placeholder = regexp.MustCompile(`\b[A-Z][A-Z0-9]*\b|\[--|…|\.\.\.`)

// copyRepo copies the repository's files as a fresh clone has them (those
// git tracks or would track; everything but .git and ignored outputs
// without git) into a new folder.
func copyRepo(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	var files []string
	if out, err := exec.Command("git", "ls-files", "--cached", "--others", "--exclude-standard", "-z").Output(); err == nil {
		for _, f := range strings.Split(string(out), "\x00") {
			if f != "" {
				files = append(files, f)
			}
		}
	} else {
		filepath.WalkDir(".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (p == ".git" || p == "runs") {
				return filepath.SkipDir
			}
			if d.Type().IsRegular() {
				files = append(files, p)
			}
			return nil
		})
	}
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			continue // deleted but not yet committed
		}
		if err := os.MkdirAll(filepath.Join(dst, filepath.Dir(f)), 0o755); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, st.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// runShell runs line with bash in dir, with bin first on the PATH, stdin
// empty and no terminal, and returns the output and the error.
func runShell(ctx context.Context, dir, bin, line string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "bash", "-c", line)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) } // bash and what it started
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "TERM=dumb", runningVar+"=1")
	cmd.Stdin = nil
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// torchOK reports whether PyTorch can be imported (bench/compare.sh needs it).
func torchOK() bool {
	return exec.Command("python3", "-c", "import torch").Run() == nil
}

// TestDocCommands runs every command line of the documentation (see the
// comment above budget).
func TestDocCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the documentation's commands take about a minute")
	}
	if os.Getenv(runningVar) != "" {
		t.Skip("run by a documented go test command of TestDocCommands itself")
	}
	if _, err := exec.LookPath("bash"); err != nil {
		t.Skip("no bash")
	}
	long := testenv.IsLong()
	// The binary docs call as plain `mgdl` (after go install), built from this tree.
	bin := t.TempDir()
	if out, err := exec.Command("go", "build", "-o", filepath.Join(bin, "mgdl"), "./cmd/mgdl").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	counts := map[string]int{}
	var skipped []string
	usedBudget := map[string]bool{}
	for _, file := range docFiles(t) {
		cmds := readDocCommands(t, file)
		if len(cmds) == 0 {
			continue
		}
		if why, ok := notRunFiles[file]; ok {
			skipped = append(skipped, fmt.Sprintf("%s (%d command lines): %s", file, len(cmds), why))
			continue
		}
		t.Run(file, func(t *testing.T) {
			sandbox := copyRepo(t)
			seen := map[string]int{}
			for _, c := range cmds {
				printed := withoutComment(c.text)
				where := fmt.Sprintf("%s:%d", c.file, c.line)
				if c.inline && len(strings.Fields(printed)) == 2 && strings.HasSuffix(strings.Fields(printed)[0], "mgdl") {
					skipped = append(skipped, fmt.Sprintf("%s %q: a command's name, not a command line", where, printed))
					continue
				}
				if n, ok := seen[printed]; ok && c.inline {
					skipped = append(skipped, fmt.Sprintf("%s %q: repeats the command of line %d, which ran", where, printed, n))
					continue
				}
				seen[printed] = c.line
				if why, ok := notRun[printed]; ok {
					skipped = append(skipped, fmt.Sprintf("%s %q: %s", where, printed, why))
					continue
				}
				if strings.HasPrefix(printed, "go test ") {
					switch {
					case !strings.Contains(printed, "-bench"):
						skipped = append(skipped, fmt.Sprintf("%s %q: a test, which go test ./... runs", where, printed))
						continue
					case !long:
						skipped = append(skipped, fmt.Sprintf("%s %q: a benchmark (MGDL_LONG=1 runs it here, shortened)", where, printed))
						continue
					}
				}
				if c.inline && placeholder.MatchString(printed) {
					skipped = append(skipped, fmt.Sprintf("%s %q: a schematic command (placeholders)", where, printed))
					continue
				}
				run := c.text
				if b, ok := budget[printed]; ok {
					if !addsOnly(printed, b) {
						t.Fatalf("budget for %q changes more than flags: %q", printed, b)
					}
					run, usedBudget[printed] = b, true
				}
				if strings.HasPrefix(printed, "bench/compare.sh") && !torchOK() {
					skipped = append(skipped, fmt.Sprintf("%s %q: needs PyTorch (Debian python3-torch), not installed here", where, printed))
					continue
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
				start := time.Now()
				out, err := runShell(ctx, sandbox, bin, run)
				cancel()
				counts[file]++
				if bytes.Contains(out, []byte("panic:")) || bytes.Contains(out, []byte("fatal error:")) || err != nil {
					t.Errorf("%s: %s\n  (ran: %s)\n  %v after %v; output:\n%s", where, c.text, run, err, time.Since(start).Round(time.Millisecond), tail(out, 40))
					continue
				}
				t.Logf("%s: %s (%v)", where, run, time.Since(start).Round(time.Millisecond))
			}
		})
	}
	for p := range budget {
		if !usedBudget[p] && !strings.HasPrefix(p, "bench/") && !strings.HasPrefix(p, "go test ") {
			t.Errorf("budget entry %q matches no command of the documentation", p)
		}
	}
	var parts []string
	total := 0
	for _, f := range docFiles(t) {
		if counts[f] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", f, counts[f]))
			total += counts[f]
		}
	}
	t.Logf("ran %d command lines (%s); not run: %d:\n  %s", total, strings.Join(parts, ", "), len(skipped), strings.Join(skipped, "\n  "))
}

// addsOnly reports whether run is printed with words (flags) added: the
// printed words are, in order, a subsequence of run's, and every added run
// of words starts with a flag.
func addsOnly(printed, run string) bool {
	p, r := strings.Fields(printed), strings.Fields(run)
	i := 0
	for j := 0; j < len(r); j++ {
		if i < len(p) && r[j] == p[i] {
			i++
			continue
		}
		if !strings.HasPrefix(r[j], "-") && (j == 0 || !strings.HasPrefix(r[j-1], "-")) {
			return false
		}
	}
	return i == len(p) && len(r) > len(p)
}

func tail(b []byte, lines int) string {
	s := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(s) > lines {
		s = s[len(s)-lines:]
	}
	return "    " + strings.Join(s, "\n    ")
}

// TestFirstCommandOnATerminal runs the README's first command (the one a
// newcomer types first) under a pseudo-terminal, where the progress is a
// bar redrawn in place, and checks that it ends well and prints MGDL and
// SGDL results. Without a terminal TestDocCommands runs it.
func TestFirstCommandOnATerminal(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	if os.Getenv(runningVar) != "" {
		t.Skip("run by a documented go test command of TestDocCommands")
	}
	first := readDocCommands(t, "README.md")[0]
	printed := withoutComment(first.text)
	if printed != "go run ./cmd/mgdl demo" {
		t.Fatalf("the README's first command is %q; this test knows the demo", printed)
	}
	run := budget[printed]
	sandbox := copyRepo(t)
	args := strings.Fields(run)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Dir = sandbox
	cmd.Env = append(os.Environ(), "TERM=xterm")
	f, err := pty.Start(cmd)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		io.Copy(&out, f) // ends with EIO when the command exits
		close(done)
	}()
	err = cmd.Wait()
	<-done
	f.Close()
	s := out.String()
	if err != nil || strings.Contains(s, "panic:") {
		var ee *exec.ExitError
		errors.As(err, &ee)
		t.Fatalf("%s on a terminal: %v\n%s", run, err, tail(out.Bytes(), 40))
	}
	for _, want := range []string{"\r\x1b[K", "mgdl grade 1/4", "█", "MGDL (float64", "SGDL (float64", "SGDL/MGDL ="} {
		if !strings.Contains(s, want) {
			t.Errorf("%s on a terminal printed no %q:\n%s", run, want, tail(out.Bytes(), 20))
		}
	}
}
