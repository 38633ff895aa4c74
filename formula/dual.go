package formula

import "github.com/mgdl/mgdl/interval"

// dual is a value enclosure with an enclosure of its gradient (zero where
// not set).
type dual struct {
	v interval.I
	g [MaxVars]interval.I
}

func (u dual) neg() dual {
	u.v = interval.Neg(u.v)
	for i := range u.g {
		u.g[i] = interval.Neg(u.g[i])
	}
	return u
}

func (u dual) add(w dual) dual {
	u.v = interval.Add(u.v, w.v)
	for i := range u.g {
		u.g[i] = interval.Add(u.g[i], w.g[i])
	}
	return u
}

// mul: (uw)' = u'w + uw'.
func (u dual) mul(w dual) dual {
	out := dual{v: interval.Mul(u.v, w.v)}
	for i := range u.g {
		out.g[i] = interval.Add(interval.Mul(u.g[i], w.v), interval.Mul(u.v, w.g[i]))
	}
	return out
}

// div: (u/w)' = (u' - (u/w)·w')/w.
func (u dual) div(w dual) dual {
	out := dual{v: interval.Div(u.v, w.v)}
	for i := range u.g {
		out.g[i] = interval.Div(interval.Sub(u.g[i], interval.Mul(out.v, w.g[i])), w.v)
	}
	return out
}

// chain returns φ(u) given its value v = φ(u.v) and the derivative
// enclosure dphi = φ'(u.v).
func (u dual) chain(v, dphi interval.I) dual {
	out := dual{v: v}
	for i := range u.g {
		out.g[i] = interval.Mul(dphi, u.g[i])
	}
	return out
}

// unknown returns u with unbounded gradient components.
func (u dual) unknown() dual {
	for i := range u.g {
		u.g[i] = interval.Entire
	}
	return u
}

// minMax is min or max (op) of u and w: the gradient of the one that is
// the smaller (larger) on the whole box, else the hull of both (the
// generalised gradient).
func minMax(u, w dual, op func(a, b interval.I) interval.I) dual {
	out := dual{v: op(u.v, w.v)}
	isMin := op(interval.Point(0), interval.Point(1)).Hi == 0
	uWins := isMin && u.v.Hi <= w.v.Lo || !isMin && u.v.Lo >= w.v.Hi
	wWins := isMin && w.v.Hi <= u.v.Lo || !isMin && w.v.Lo >= u.v.Hi
	for i := range u.g {
		switch {
		case uWins:
			out.g[i] = u.g[i]
		case wWins:
			out.g[i] = w.g[i]
		default:
			out.g[i] = interval.Hull(u.g[i], w.g[i])
		}
	}
	return out
}

// hypotD: ∂hypot(a, b) = (a·a' + b·b')/hypot, with a/hypot and b/hypot in
// [-1, 1].
func hypotD(a, b dual) dual {
	v := interval.Hypot(a.v, b.v)
	unit := interval.I{Lo: -1, Hi: 1}
	clamp := func(q interval.I) interval.I {
		if !q.Valid() {
			return unit
		}
		return interval.I{Lo: max(q.Lo, -1), Hi: min(q.Hi, 1)}
	}
	qa, qb := clamp(interval.Div(a.v, v)), clamp(interval.Div(b.v, v))
	out := dual{v: v}
	for i := range a.g {
		out.g[i] = interval.Add(interval.Mul(qa, a.g[i]), interval.Mul(qb, b.g[i]))
	}
	return out
}

// derivatives gives φ'(u) for the functions of one argument, from u and
// v = φ(u).
var derivatives = map[string]func(u, v interval.I) interval.I{
	"sin":  func(u, _ interval.I) interval.I { return interval.Cos(u) },
	"cos":  func(u, _ interval.I) interval.I { return interval.Neg(interval.Sin(u)) },
	"exp":  func(_, v interval.I) interval.I { return v },
	"log":  func(u, _ interval.I) interval.I { return interval.Div(interval.Point(1), u) },
	"sqrt": func(_, v interval.I) interval.I { return interval.Div(interval.Point(0.5), v) },
	"tanh": func(_, v interval.I) interval.I { return interval.Sub(interval.Point(1), interval.Sqr(v)) },
	"atan": func(u, _ interval.I) interval.I {
		return interval.Div(interval.Point(1), interval.Add(interval.Point(1), interval.Sqr(u)))
	},
	"abs": func(u, _ interval.I) interval.I {
		switch {
		case u.Lo >= 0:
			return interval.Point(1)
		case u.Hi <= 0:
			return interval.Point(-1)
		}
		return interval.I{Lo: -1, Hi: 1}
	},
	"step": jumpDerivative,
	"sign": jumpDerivative,
}

// jumpDerivative is 0 where a step or sign is constant on the box and
// unbounded where it may jump.
func jumpDerivative(u, _ interval.I) interval.I {
	if u.Lo > 0 || u.Hi < 0 {
		return interval.Point(0)
	}
	return interval.Entire
}
