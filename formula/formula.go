// Package formula parses target functions written as expressions, such as
//
//	sin(10*x) + 0.3*x
//	sin(2*pi*x)*cos(2*pi*y) + 0.5*(x-y)
//	x >= 0.5 ? 1 : 0
//
// in up to MaxVars variables (x, y, z, w, or x1..x4), and evaluates them
// in floating point (Eval) and in interval arithmetic with outward rounding
// (Range: a rigorous enclosure of the function over a box).
//
// The syntax is parsed by github.com/expr-lang/expr's parser (it is never
// evaluated by that library); this package accepts only the arithmetic
// part: numbers, the constants pi and e, + - * / and ^ (or **, power,
// right-associative, binding tighter than unary minus: -x^2 = -(x^2)),
// comparisons < <= > >= inside a conditional c ? a : b, and the functions
// listed in Functions.
package formula

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"

	"github.com/mgdl/mgdl/interval"
)

// MaxVars is the largest number of variables.
const MaxVars = 4

// MaxLength is the longest source text Parse accepts.
const MaxLength = 4096

// Functions lists the functions a formula may call, with their arity (-1:
// two or more arguments).
var Functions = map[string]int{
	"sin": 1, "cos": 1, "exp": 1, "log": 1, "sqrt": 1, "abs": 1,
	"tanh": 1, "atan": 1, "step": 1, "sign": 1,
	"pow": 2, "hypot": 2, "min": -1, "max": -1,
}

// Formula is a parsed expression in the variables x_1..x_d.
type Formula struct {
	src  string
	dim  int
	root node
}

// node is one operation of the tree: a float evaluation and an interval
// evaluation of the same function.
type node struct {
	f func(x []float64) float64
	r func(b []interval.I) interval.I
	// d is the value and the gradient over a box (forward-mode automatic
	// differentiation in intervals).
	d func(b []interval.I) dual
	// constant nodes have c set (their float value) and exact.
	isConst bool
	c       float64
	exact   bool
}

// varIndex maps a variable name to its coordinate (0-based).
func varIndex(name string) (int, bool) {
	switch name {
	case "x", "x1":
		return 0, true
	case "y", "x2":
		return 1, true
	case "z", "x3":
		return 2, true
	case "w", "x4":
		return 3, true
	}
	return 0, false
}

// Parse parses src. The dimension of the formula is that of the highest
// variable it uses (x: 1, y: 2, z: 3, w: 4), or 1 for a constant. Unknown
// names, unsupported syntax and wrong numbers of arguments are errors that
// name the position.
func Parse(src string) (*Formula, error) {
	if len(src) > MaxLength {
		return nil, fmt.Errorf("formula: %d characters, more than the %d allowed", len(src), MaxLength)
	}
	if strings.TrimSpace(src) == "" {
		return nil, fmt.Errorf("formula: empty expression")
	}
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, fmt.Errorf("formula %q: %v", src, firstLine(err.Error()))
	}
	c := &compiler{src: src, names: map[string]string{}}
	root, err := c.compile(tree.Node)
	if err != nil {
		return nil, fmt.Errorf("formula %q: %w", src, err)
	}
	return &Formula{src: src, dim: max(c.dim, 1), root: root}, nil
}

// MustParse is Parse for formulas known to be valid; it panics on error.
func MustParse(src string) *Formula {
	f, err := Parse(src)
	if err != nil {
		panic(err)
	}
	return f
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// String returns the source text.
func (f *Formula) String() string { return f.src }

// Dim returns the number of variables (the highest one used).
func (f *Formula) Dim() int { return f.dim }

// Eval returns the formula at x (len(x) ≥ Dim(); it panics otherwise).
func (f *Formula) Eval(x []float64) float64 {
	if len(x) < f.dim {
		panic(fmt.Sprintf("formula: %d coordinates for a formula in %d variables", len(x), f.dim))
	}
	return f.root.f(x)
}

// RangeGrad returns Range(b) and an enclosure of the gradient of the
// formula over b (one interval per variable of the box; len(b) ≥ Dim()),
// such that f(x) - f(y) ∈ Σ_i grad_i·(x_i - y_i) for all x, y in b (the
// mean-value form; for functions like abs and min that are only Lipschitz,
// the intervals hold their generalised gradients). Where the formula may
// jump on b (an undecided step, sign or conditional) or its slope is
// unbounded (sqrt at 0), the gradient intervals are unbounded.
func (f *Formula) RangeGrad(b []interval.I) (interval.I, []interval.I) {
	if len(b) < f.dim || len(b) > MaxVars {
		panic(fmt.Sprintf("formula: %d coordinates for a formula in %d variables (at most %d)", len(b), f.dim, MaxVars))
	}
	u := f.root.d(b)
	return u.v, append([]interval.I(nil), u.g[:len(b)]...)
}

// Range returns an interval that contains the value of the formula at
// every point of the box b (one interval per coordinate, len(b) ≥ Dim()),
// for the exact real functions and constants the formula names and for
// the float results of Eval. It is Invalid when the formula is undefined on
// the whole box (log of a negative number, say), and may be unbounded.
func (f *Formula) Range(b []interval.I) interval.I {
	if len(b) < f.dim {
		panic(fmt.Sprintf("formula: %d coordinates for a formula in %d variables", len(b), f.dim))
	}
	return f.root.r(b)
}

type compiler struct {
	src   string
	dim   int
	names map[string]string // coordinate "0".. -> the name used for it
}

func (c *compiler) errorf(n ast.Node, format string, args ...any) error {
	loc := n.Location()
	return fmt.Errorf("at column %d: %s", loc.From+1, fmt.Sprintf(format, args...))
}

func constant(v float64, exact bool) node {
	iv := interval.Point(v)
	if !exact {
		iv = interval.Around(v)
	}
	return node{
		f:       func([]float64) float64 { return v },
		r:       func([]interval.I) interval.I { return iv },
		d:       func([]interval.I) dual { return dual{v: iv} },
		isConst: true, c: v, exact: exact,
	}
}

// enclosedConstant is a constant whose real value is only known to lie in
// iv (pi, e, or a folded expression).
func enclosedConstant(v float64, iv interval.I) node {
	return node{
		f:       func([]float64) float64 { return v },
		r:       func([]interval.I) interval.I { return iv },
		d:       func([]interval.I) dual { return dual{v: iv} },
		isConst: true, c: v,
	}
}

func (c *compiler) compile(n ast.Node) (node, error) {
	switch n := n.(type) {
	case *ast.IntegerNode:
		v := float64(n.Value)
		return constant(v, math.Abs(v) <= 1<<53), nil
	case *ast.FloatNode:
		return constant(n.Value, false), nil
	case *ast.IdentifierNode:
		switch n.Value {
		case "pi":
			return enclosedConstant(math.Pi, interval.Around(math.Pi)), nil
		case "e":
			return enclosedConstant(math.E, interval.Around(math.E)), nil
		}
		i, ok := varIndex(n.Value)
		if !ok {
			return node{}, c.errorf(n, "unknown name %q (variables are x, y, z, w or x1..x4; constants pi and e)", n.Value)
		}
		key := fmt.Sprint(i)
		if prev, seen := c.names[key]; seen && prev != n.Value {
			return node{}, c.errorf(n, "%s and %s both name coordinate %d: use one naming", prev, n.Value, i+1)
		}
		c.names[key] = n.Value
		c.dim = max(c.dim, i+1)
		return node{
			f: func(x []float64) float64 { return x[i] },
			r: func(b []interval.I) interval.I { return b[i] },
			d: func(b []interval.I) dual {
				u := dual{v: b[i]}
				u.g[i] = interval.Point(1)
				return u
			},
		}, nil
	case *ast.UnaryNode:
		a, err := c.compile(n.Node)
		if err != nil {
			return node{}, err
		}
		switch n.Operator {
		case "-":
			return c.fold(node{
				f: func(x []float64) float64 { return -a.f(x) },
				r: func(b []interval.I) interval.I { return interval.Neg(a.r(b)) },
				d: func(b []interval.I) dual { return a.d(b).neg() },
			}, a.exact), nil
		case "+":
			return a, nil
		}
		return node{}, c.errorf(n, "operator %q is not allowed", n.Operator)
	case *ast.BinaryNode:
		if isComparison(n.Operator) {
			return node{}, c.errorf(n, "a comparison (%s) is allowed only as the condition of c ? a : b", n.Operator)
		}
		ab, err := c.compileAll(n.Left, n.Right)
		if err != nil {
			return node{}, err
		}
		return c.binary(n, n.Operator, ab[0], ab[1])
	case *ast.CallNode:
		id, ok := n.Callee.(*ast.IdentifierNode)
		if !ok {
			return node{}, c.errorf(n, "only named functions can be called")
		}
		return c.call(n, id.Value, n.Arguments)
	case *ast.BuiltinNode:
		return c.call(n, n.Name, n.Arguments)
	case *ast.ConditionalNode:
		return c.conditional(n)
	}
	return node{}, c.errorf(n, "this syntax is not part of a formula (numbers, variables, + - * / ^, functions and c ? a : b)")
}

// compileAll compiles the nodes in order, stopping at the first error.
func (c *compiler) compileAll(ns ...ast.Node) ([]node, error) {
	out := make([]node, len(ns))
	for i, n := range ns {
		var err error
		if out[i], err = c.compile(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func isComparison(op string) bool {
	return op == "<" || op == "<=" || op == ">" || op == ">="
}

// fold replaces a node whose operands are all constants by a constant: its
// float value is what Eval would compute, its enclosure the interval one.
func (c *compiler) fold(n node, exactOperands bool, operands ...node) node {
	for _, o := range operands {
		if !o.isConst {
			return n
		}
	}
	if len(operands) == 0 {
		return n
	}
	v := n.f(nil)
	iv := n.r(nil)
	exact := exactOperands && iv.Lo == v && iv.Hi == v
	if exact {
		return constant(v, true)
	}
	return enclosedConstant(v, iv)
}

func (c *compiler) binary(n ast.Node, op string, a, b node) (node, error) {
	var out node
	switch op {
	case "+":
		out = node{f: func(x []float64) float64 { return a.f(x) + b.f(x) },
			r: func(x []interval.I) interval.I { return interval.Add(a.r(x), b.r(x)) },
			d: func(x []interval.I) dual { return a.d(x).add(b.d(x)) }}
	case "-":
		out = node{f: func(x []float64) float64 { return a.f(x) - b.f(x) },
			r: func(x []interval.I) interval.I { return interval.Sub(a.r(x), b.r(x)) },
			d: func(x []interval.I) dual { return a.d(x).add(b.d(x).neg()) }}
	case "*":
		out = node{f: func(x []float64) float64 { return a.f(x) * b.f(x) },
			r: func(x []interval.I) interval.I { return interval.Mul(a.r(x), b.r(x)) },
			d: func(x []interval.I) dual { return a.d(x).mul(b.d(x)) }}
	case "/":
		out = node{f: func(x []float64) float64 { return a.f(x) / b.f(x) },
			r: func(x []interval.I) interval.I { return interval.Div(a.r(x), b.r(x)) },
			d: func(x []interval.I) dual { return a.d(x).div(b.d(x)) }}
	case "^", "**":
		return c.power(a, b), nil
	default:
		return node{}, c.errorf(n, "operator %q is not allowed", op)
	}
	return c.fold(out, a.exact && b.exact, a, b), nil
}

// power is a^b: an integer constant exponent is repeated multiplication in
// both evaluations (any base); otherwise math.Pow for a base ≥ 0.
func (c *compiler) power(a, b node) node {
	if b.isConst && b.exact && b.c == math.Trunc(b.c) && math.Abs(b.c) <= 64 {
		k := int(b.c)
		return c.fold(node{
			f: func(x []float64) float64 { return powInt(a.f(x), k) },
			r: func(x []interval.I) interval.I { return interval.PowInt(a.r(x), k) },
			d: func(x []interval.I) dual {
				u := a.d(x)
				if k == 0 {
					return dual{v: interval.Point(1)}
				}
				return u.chain(interval.PowInt(u.v, k), interval.Scale(float64(k), interval.PowInt(u.v, k-1)))
			},
		}, a.exact, a)
	}
	return c.fold(node{
		f: func(x []float64) float64 { return math.Pow(a.f(x), b.f(x)) },
		r: func(x []interval.I) interval.I { return interval.Pow(a.r(x), b.r(x)) },
		d: func(x []interval.I) dual {
			u, e := a.d(x), b.d(x)
			v := interval.Pow(u.v, e.v)
			if !b.isConst {
				return dual{v: v}.unknown() // d/dx a^b with a varying exponent: not needed here
			}
			return u.chain(v, interval.Mul(e.v, interval.Pow(u.v, interval.Sub(e.v, interval.Point(1)))))
		},
	}, false, a, b)
}

// powInt is v^k by repeated squaring (the float counterpart of
// interval.PowInt).
func powInt(v float64, k int) float64 {
	if k < 0 {
		return 1 / powInt(v, -k)
	}
	r, b := 1.0, v
	for ; k > 0; k >>= 1 {
		if k&1 == 1 {
			r *= b
		}
		b *= b
	}
	return r
}

func (c *compiler) call(n ast.Node, name string, args []ast.Node) (node, error) {
	arity, ok := Functions[name]
	if !ok {
		names := make([]string, 0, len(Functions))
		for k := range Functions {
			names = append(names, k)
		}
		slices.Sort(names)
		return node{}, c.errorf(n, "unknown function %q (known: %s)", name, strings.Join(names, ", "))
	}
	if arity >= 0 && len(args) != arity || arity < 0 && len(args) < 2 {
		want := fmt.Sprint(arity)
		if arity < 0 {
			want = "at least 2"
		}
		return node{}, c.errorf(n, "%s takes %s arguments, got %d", name, want, len(args))
	}
	as, err := c.compileAll(args...)
	if err != nil {
		return node{}, err
	}
	switch name {
	case "pow":
		return c.power(as[0], as[1]), nil
	case "min", "max":
		acc := as[0]
		for _, b := range as[1:] {
			a, b := acc, b
			if name == "min" {
				acc = c.fold(node{f: func(x []float64) float64 { return math.Min(a.f(x), b.f(x)) },
					r: func(x []interval.I) interval.I { return interval.Min(a.r(x), b.r(x)) },
					d: func(x []interval.I) dual { return minMax(a.d(x), b.d(x), interval.Min) }}, a.exact && b.exact, a, b)
			} else {
				acc = c.fold(node{f: func(x []float64) float64 { return math.Max(a.f(x), b.f(x)) },
					r: func(x []interval.I) interval.I { return interval.Max(a.r(x), b.r(x)) },
					d: func(x []interval.I) dual { return minMax(a.d(x), b.d(x), interval.Max) }}, a.exact && b.exact, a, b)
			}
		}
		return acc, nil
	case "hypot":
		a, b := as[0], as[1]
		return c.fold(node{f: func(x []float64) float64 { return math.Hypot(a.f(x), b.f(x)) },
			r: func(x []interval.I) interval.I { return interval.Hypot(a.r(x), b.r(x)) },
			d: func(x []interval.I) dual { return hypotD(a.d(x), b.d(x)) }}, false, a, b), nil
	}
	type fn struct {
		f     func(float64) float64
		r     func(interval.I) interval.I
		exact bool // exact for exact operands
	}
	fns := map[string]fn{
		"sin": {math.Sin, interval.Sin, false}, "cos": {math.Cos, interval.Cos, false},
		"exp": {math.Exp, interval.Exp, false}, "log": {math.Log, interval.Log, false},
		"sqrt": {math.Sqrt, interval.Sqrt, false}, "abs": {math.Abs, interval.Abs, true},
		"tanh": {math.Tanh, interval.Tanh, false}, "atan": {math.Atan, interval.Atan, false},
		"step": {step, interval.Step, true}, "sign": {signum, interval.Sign, true},
	}
	g := fns[name]
	a := as[0]
	deriv := derivatives[name]
	return c.fold(node{f: func(x []float64) float64 { return g.f(a.f(x)) },
		r: func(x []interval.I) interval.I { return g.r(a.r(x)) },
		d: func(x []interval.I) dual {
			u := a.d(x)
			v := g.r(u.v)
			return u.chain(v, deriv(u.v, v))
		}}, g.exact && a.exact, a), nil
}

// step is 1 for v ≥ 0 and 0 below (NaN for NaN).
func step(v float64) float64 {
	switch {
	case v >= 0:
		return 1
	case v < 0:
		return 0
	}
	return math.NaN()
}

func signum(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	case v == 0:
		return 0
	}
	return math.NaN()
}

// conditional compiles cond ? a : b with cond a comparison l op r. Over a
// box where the comparison is true (false) everywhere the enclosure is a's
// (b's); where it is undecided, the hull of both.
func (c *compiler) conditional(n *ast.ConditionalNode) (node, error) {
	cmp, ok := n.Cond.(*ast.BinaryNode)
	if !ok || !isComparison(cmp.Operator) {
		return node{}, c.errorf(n, "the condition of c ? a : b must be one comparison (<, <=, > or >=)")
	}
	ns, err := c.compileAll(cmp.Left, cmp.Right, n.Exp1, n.Exp2)
	if err != nil {
		return node{}, err
	}
	l, r, a, b := ns[0], ns[1], ns[2], ns[3]
	op := cmp.Operator
	test := func(u, v float64) bool {
		switch op {
		case "<":
			return u < v
		case "<=":
			return u <= v
		case ">":
			return u > v
		}
		return u >= v
	}
	// decide returns 1 (true on the whole box), 0 (false) or -1.
	decide := func(u, v interval.I) int {
		if !u.Valid() || !v.Valid() {
			return -1
		}
		switch op {
		case "<":
			if u.Hi < v.Lo {
				return 1
			} else if u.Lo >= v.Hi {
				return 0
			}
		case "<=":
			if u.Hi <= v.Lo {
				return 1
			} else if u.Lo > v.Hi {
				return 0
			}
		case ">":
			if u.Lo > v.Hi {
				return 1
			} else if u.Hi <= v.Lo {
				return 0
			}
		default:
			if u.Lo >= v.Hi {
				return 1
			} else if u.Hi < v.Lo {
				return 0
			}
		}
		return -1
	}
	return node{
		f: func(x []float64) float64 {
			if test(l.f(x), r.f(x)) {
				return a.f(x)
			}
			return b.f(x)
		},
		r: func(x []interval.I) interval.I {
			switch decide(l.r(x), r.r(x)) {
			case 1:
				return a.r(x)
			case 0:
				return b.r(x)
			}
			return interval.Hull(a.r(x), b.r(x))
		},
		d: func(x []interval.I) dual {
			switch decide(l.r(x), r.r(x)) {
			case 1:
				return a.d(x)
			case 0:
				return b.d(x)
			}
			// The box may hold a jump: no derivative bound.
			return dual{v: interval.Hull(a.r(x), b.r(x))}.unknown()
		},
	}, nil
}
