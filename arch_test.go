package mgdl_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/mgdl/mgdl"

// projectImports returns, for every package of the module (by its path
// inside the module, "mgdl" for the root), its direct imports within the
// module, from go list.
func projectImports(t *testing.T) map[string][]string {
	t.Helper()
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "./...").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	short := func(p string) string {
		if p == module {
			return "mgdl"
		}
		return strings.TrimPrefix(p, module+"/")
	}
	got := map[string][]string{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		var deps []string
		for _, i := range p.Imports {
			if i == module || strings.HasPrefix(i, module+"/") {
				deps = append(deps, short(i))
			}
		}
		sort.Strings(deps)
		got[short(p.ImportPath)] = deps
	}
	return got
}

// docDiagram reads the package diagram of docs/ARCHITECTURE.md: the lines
// "a, b ──► x y z" of the fenced block after the heading "## Package
// diagram" ("(nothing)" for packages that import no other).
func docDiagram(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open("docs/ARCHITECTURE.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	in, fence := false, false
	doc := map[string][]string{}
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "## "):
			in = line == "## Package diagram"
		case in && strings.HasPrefix(line, "```"):
			if fence {
				return doc
			}
			fence = true
		case in && fence && strings.TrimSpace(line) != "":
			left, right, ok := strings.Cut(line, "──►")
			if !ok {
				t.Fatalf("diagram line without ──►: %q", line)
			}
			deps := strings.Fields(right)
			if len(deps) == 1 && deps[0] == "(nothing)" {
				deps = nil
			}
			sort.Strings(deps)
			for _, p := range strings.Split(left, ",") {
				p = strings.TrimSpace(p)
				if _, dup := doc[p]; dup {
					t.Errorf("docs/ARCHITECTURE.md lists %s twice", p)
				}
				doc[p] = deps
			}
		}
	}
	t.Fatal("docs/ARCHITECTURE.md has no fenced block under \"## Package diagram\"")
	return nil
}

// TestArchitectureDiagram checks docs/ARCHITECTURE.md's package diagram
// against the imports go list reports: every package, and exactly its
// direct imports within the module. On a difference it prints the lines
// the diagram should have.
func TestArchitectureDiagram(t *testing.T) {
	got, doc := projectImports(t), docDiagram(t)
	var names []string
	for p := range got {
		names = append(names, p)
	}
	sort.Strings(names)
	bad := false
	for _, p := range names {
		d, ok := doc[p]
		switch {
		case !ok:
			t.Errorf("the diagram lacks package %s (imports: %v)", p, got[p])
			bad = true
		case !slices.Equal(d, got[p]):
			t.Errorf("the diagram says %s imports %v; it imports %v", p, d, got[p])
			bad = true
		}
	}
	for p := range doc {
		if _, ok := got[p]; !ok {
			t.Errorf("the diagram lists %s, which is no package", p)
			bad = true
		}
	}
	if bad {
		var b strings.Builder
		for _, p := range names {
			deps := strings.Join(got[p], " ")
			if deps == "" {
				deps = "(nothing)"
			}
			fmt.Fprintf(&b, "%-20s ──► %s\n", p, deps)
		}
		t.Logf("the imports as go list gives them:\n%s", b.String())
	}
}

// TestLayering checks the rule the diagram is drawn for: the frozen model
// stands below everything that makes or reads models, and the trainer
// knows nothing of files, flags or reports.
func TestLayering(t *testing.T) {
	got := projectImports(t)
	for _, c := range []struct {
		pkg     string
		mustNot []string
	}{
		{"model", []string{"mgdl", "modelfile", "rundir", "experiment", "report", "verify", "construct"}},
		{"mgdl", []string{"modelfile", "rundir", "experiment", "report", "verify", "construct", "cmd/mgdl"}},
		{"construct", []string{"mgdl", "rundir", "modelfile"}},
		{"verify", []string{"mgdl", "rundir", "modelfile"}},
		{"modelfile", []string{"mgdl", "rundir", "experiment"}},
		{"report", []string{"mgdl", "modelfile"}},
		{"experiment", []string{"rundir", "modelfile", "report"}},
	} {
		for _, d := range got[c.pkg] {
			if slices.Contains(c.mustNot, d) {
				t.Errorf("%s imports %s", c.pkg, d)
			}
		}
	}
}
