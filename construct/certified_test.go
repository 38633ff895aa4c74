package construct

import (
	"context"
	"strings"
	"testing"

	"github.com/mgdl/mgdl/tensor"
	"github.com/mgdl/mgdl/verify"
)

// TestCertifiedBetweenPoints builds certified models and checks them on
// fresh random points, where the sample-mode construction fails: no
// increase of |e|, no sign flip, strict L1/L2 decay at every nontrivial
// grade and the sup norm at most halved per level (the fresh points'
// sup is below the certified bound, which is below half the previous
// level's sup seen at a point).
func TestCertifiedBetweenPoints(t *testing.T) {
	cases := []struct {
		target string
		levels int
	}{
		{"sin10", 4}, {"sqrt-cusp", 4}, {"kinks", 4}, {"sin2d", 2}, {"kink3d", 1},
	}
	if testing.Short() {
		cases = cases[:3]
	}
	for _, c := range cases {
		tg, _ := LookupTarget(c.target)
		r, err := BuildCertified(context.Background(), tg, Options{Levels: c.levels}, CertOptions{})
		if err != nil {
			t.Fatalf("%s: %v", c.target, err)
		}
		if len(r.Levels) != c.levels {
			t.Fatalf("%s: %d levels, stopped by %s", c.target, len(r.Levels), r.Stopped)
		}
		prev := r.Sup0
		for k, l := range r.Levels {
			if !l.Certified || l.SupLower > l.Sup || l.Sup > prev {
				t.Errorf("%s level %d: sup seen %v, bound %v, previous bound %v", c.target, k+1, l.SupLower, l.Sup, prev)
			}
			prev = l.Sup
		}
		n := 20000
		x := RandomPoints(tg.Box, n, 11)
		y := Eval(tg.F, x)
		rep, err := verify.Check(r.Model, x, tensor.FromSlice(n, 1, y), verify.Options{LevelEnds: r.LevelEnds()})
		if err != nil {
			t.Fatal(err)
		}
		if !rep.Pointwise() || !rep.StrictDecay() || rep.MaxLevelRatio > 0.5 {
			t.Errorf("%s: fresh points: %d violations, %d flips, %d/%d grades not strict, max level ratio %.4f",
				c.target, rep.Violations, rep.SignFlips, rep.NotStrictL1, rep.NotStrictL2, rep.MaxLevelRatio)
		}
		if rep.Final.Linf > r.Levels[len(r.Levels)-1].Sup {
			t.Errorf("%s: sup on fresh points %v above the certified bound %v", c.target, rep.Final.Linf, r.Levels[len(r.Levels)-1].Sup)
		}
	}
}

// TestCertifiedDiscontinuous: the adaptive rule cannot halve the sup norm
// of a step (no continuous function approximates a jump uniformly); the
// dyadic schedule still builds a model that is balanced everywhere.
func TestCertifiedDiscontinuous(t *testing.T) {
	tg, _ := LookupTarget("step")
	_, err := BuildCertified(context.Background(), tg, Options{Levels: 2, MaxRefine: 12}, CertOptions{})
	if err == nil || !strings.Contains(err.Error(), "halves") {
		t.Fatalf("adaptive on a step: %v", err)
	}
	r, err := BuildCertified(context.Background(), tg, Options{Levels: 5, Schedule: Dyadic}, CertOptions{})
	if err != nil {
		t.Fatal(err)
	}
	x := RandomPoints(tg.Box, 20000, 3)
	rep, err := verify.Check(r.Model, x, tensor.FromSlice(x.Rows, 1, Eval(tg.F, x)), verify.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Pointwise() || !rep.StrictDecay() {
		t.Errorf("step, dyadic: %d violations, %d flips, %d not strict", rep.Violations, rep.SignFlips, rep.NotStrictL1)
	}
	if rep.Final.Linf < 0.4 {
		t.Errorf("step: sup %v between the points; a continuous scheme cannot get below half the jump", rep.Final.Linf)
	}
}

func TestCertifiedErrors(t *testing.T) {
	tg, _ := LookupTarget("sin10")
	noFormula := tg
	noFormula.Formula = nil
	cases := []struct {
		name string
		tg   Target
		opt  Options
		co   CertOptions
		want string
	}{
		{"no formula", noFormula, Options{Levels: 1}, CertOptions{}, "needs the target as a formula"},
		{"no levels", tg, Options{}, CertOptions{}, "set a number of levels"},
		{"margin", tg, Options{Levels: 1}, CertOptions{Margin: 0.5}, "margin < 1/2"},
		{"rho", tg, Options{Levels: 1}, CertOptions{Rho: 2}, "0 < rho < 1"},
		{"dyadic too deep", tg, Options{Levels: 40, Schedule: Dyadic}, CertOptions{}, "at most"},
	}
	for _, c := range cases {
		_, err := BuildCertified(context.Background(), c.tg, c.opt, c.co)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
}

func TestParseTargetAndBox(t *testing.T) {
	tg, err := ParseTarget("sin(2*pi*x)*cos(2*pi*y)", nil)
	if err != nil || tg.Dim() != 2 || tg.Formula == nil {
		t.Fatalf("formula target: %+v, %v", tg, err)
	}
	b, err := ParseBox("-1:1, 0:2")
	if err != nil || b.Lo[0] != -1 || b.Hi[1] != 2 {
		t.Fatalf("ParseBox: %v %v", b, err)
	}
	if tg, err = ParseTarget("x*y", &b); err != nil || tg.Box.Hi[1] != 2 {
		t.Fatalf("formula on a box: %+v %v", tg, err)
	}
	for _, c := range []struct {
		s, box, want string
	}{
		{"sinn10", "", "unknown target"},
		{"sin(x", "", "formula"},
		{"sin10", "0:1", "library target"},
		{"x*y", "0:1", "uses 2 variables"},
	} {
		var bp *Box
		if c.box != "" {
			b, _ := ParseBox(c.box)
			bp = &b
		}
		if _, err := ParseTarget(c.s, bp); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("ParseTarget(%q, %q) = %v, want %q", c.s, c.box, err, c.want)
		}
	}
	for _, s := range []string{"", "0:1,", "1:0", "a:b", "0:1,0:1,0:1,0:1,0:1", "0:nan"} {
		if _, err := ParseBox(s); err == nil {
			t.Errorf("ParseBox(%q) accepted", s)
		}
	}
}
