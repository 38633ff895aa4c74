package tensor

import "fmt"

// Float is the set of element types a Dense may hold.
type Float interface{ float32 | float64 }

// Dense is a contiguous row-major matrix with Rows×Cols elements:
// element (i, j) is Data[i*Cols+j] and len(Data) >= Rows*Cols.
type Dense[T Float] struct {
	Rows, Cols int
	Data       []T
}

// New returns a zeroed r×c matrix. It panics if r or c is negative.
func New[T Float](r, c int) *Dense[T] {
	if r < 0 || c < 0 {
		panic(fmt.Sprintf("tensor: negative shape %d×%d", r, c))
	}
	return &Dense[T]{Rows: r, Cols: c, Data: make([]T, r*c)}
}

// FromSlice wraps data (length r*c, not copied) as an r×c matrix.
func FromSlice[T Float](r, c int, data []T) *Dense[T] {
	if r < 0 || c < 0 || len(data) != r*c {
		panic(fmt.Sprintf("tensor: FromSlice %d×%d with %d elements", r, c, len(data)))
	}
	return &Dense[T]{Rows: r, Cols: c, Data: data}
}

// Shape returns (Rows, Cols).
func (m *Dense[T]) Shape() (int, int) { return m.Rows, m.Cols }

// Len returns Rows*Cols.
func (m *Dense[T]) Len() int { return m.Rows * m.Cols }

// At returns element (i, j).
func (m *Dense[T]) At(i, j int) T {
	m.check(i, j)
	return m.Data[i*m.Cols+j]
}

// Set sets element (i, j) to v.
func (m *Dense[T]) Set(i, j int, v T) {
	m.check(i, j)
	m.Data[i*m.Cols+j] = v
}

func (m *Dense[T]) check(i, j int) {
	if uint(i) >= uint(m.Rows) || uint(j) >= uint(m.Cols) {
		panic(fmt.Sprintf("tensor: index (%d,%d) out of range for %d×%d", i, j, m.Rows, m.Cols))
	}
}

// Row returns row i as a slice of length Cols sharing m's storage.
func (m *Dense[T]) Row(i int) []T {
	if uint(i) >= uint(m.Rows) {
		panic(fmt.Sprintf("tensor: row %d out of range for %d rows", i, m.Rows))
	}
	return m.Data[i*m.Cols : (i+1)*m.Cols : (i+1)*m.Cols]
}

// Raw returns the Rows*Cols elements of m (a prefix of Data).
func (m *Dense[T]) Raw() []T { return m.Data[:m.Rows*m.Cols] }

// RowsView returns rows [i0, i1) of m as a matrix sharing m's storage.
func (m *Dense[T]) RowsView(i0, i1 int) *Dense[T] {
	v := m.RowsViewValue(i0, i1)
	return &v
}

// RowsViewValue is RowsView returning a value, for callers that keep the view
// in a struct field and must not allocate.
func (m *Dense[T]) RowsViewValue(i0, i1 int) Dense[T] {
	if i0 < 0 || i1 < i0 || i1 > m.Rows {
		panic(fmt.Sprintf("tensor: rows [%d,%d) out of range for %d rows", i0, i1, m.Rows))
	}
	return Dense[T]{Rows: i1 - i0, Cols: m.Cols, Data: m.Data[i0*m.Cols : i1*m.Cols : i1*m.Cols]}
}

// Clone returns a deep copy of m with its own storage.
func (m *Dense[T]) Clone() *Dense[T] {
	c := New[T](m.Rows, m.Cols)
	copy(c.Data, m.Raw())
	return c
}

// CopyFrom copies src into m. The shapes must match.
func (m *Dense[T]) CopyFrom(src *Dense[T]) {
	SameShape("CopyFrom", m, src)
	copy(m.Raw(), src.Raw())
}

// Zero sets every element to 0.
func (m *Dense[T]) Zero() { clear(m.Raw()) }

// String formats small matrices for debugging.
func (m *Dense[T]) String() string {
	s := fmt.Sprintf("Dense %d×%d [", m.Rows, m.Cols)
	for i := 0; i < m.Rows && i < 8; i++ {
		s += fmt.Sprint(m.Row(i)[:min(m.Cols, 8)])
	}
	return s + "]"
}

// SameShape panics, naming op, unless a and b have the same shape.
func SameShape[T Float](op string, a, b *Dense[T]) {
	if a.Rows != b.Rows || a.Cols != b.Cols {
		panic(fmt.Sprintf("tensor: %s: shapes %d×%d and %d×%d differ", op, a.Rows, a.Cols, b.Rows, b.Cols))
	}
}

// Convert returns a copy of src with element type U.
func Convert[U, T Float](src *Dense[T]) *Dense[U] {
	dst := New[U](src.Rows, src.Cols)
	for i, v := range src.Raw() {
		dst.Data[i] = U(v)
	}
	return dst
}

// Gather copies rows idx of src, in order, into dst (len(idx)×Cols).
func Gather[T Float](dst, src *Dense[T], idx []int) {
	if dst.Rows != len(idx) || dst.Cols != src.Cols {
		panic(fmt.Sprintf("tensor: Gather %d rows of width %d into %d×%d", len(idx), src.Cols, dst.Rows, dst.Cols))
	}
	c := src.Cols
	for k, i := range idx {
		copy(dst.Data[k*c:(k+1)*c], src.Data[i*c:(i+1)*c])
	}
}

// DType returns the name of the element type T: "float64" or "float32".
func DType[T Float]() string {
	var z T
	if _, ok := any(z).(float32); ok {
		return "float32"
	}
	return "float64"
}
