package data

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/mgdl/mgdl/internal/fileio"
	"github.com/mgdl/mgdl/limits"
	"github.com/mgdl/mgdl/tensor"
)

// Missing is what a loader does with a missing value: an empty cell or one
// of NA, N/A, NaN, null, none, ? (any case).
type Missing int

const (
	// MissingError makes a missing value an error naming its line and
	// column. It is the default.
	MissingError Missing = iota
	// MissingDrop drops every row with a missing value in a chosen column.
	MissingDrop
	// MissingMean replaces a missing value by its column's mean over the
	// rows where it is present.
	MissingMean
)

var missingNames = [...]string{MissingError: "error", MissingDrop: "drop", MissingMean: "mean"}

// String returns "error", "drop" or "mean".
func (m Missing) String() string {
	if m < 0 || int(m) >= len(missingNames) {
		return fmt.Sprintf("Missing(%d)", int(m))
	}
	return missingNames[m]
}

// ParseMissing maps "error", "drop" or "mean" to a Missing policy.
func ParseMissing(s string) (Missing, error) {
	for i, n := range missingNames {
		if strings.EqualFold(s, n) {
			return Missing(i), nil
		}
	}
	return 0, fmt.Errorf("unknown missing-value policy %q (want error, drop or mean)", s)
}

// CSVOptions chooses what a CSV or TSV file holds.
type CSVOptions struct {
	// Comma separates fields; 0 means a tab for names ending in .tsv or
	// .tab and a comma otherwise.
	Comma rune
	// Targets names the target columns, by header name or by 0-based
	// index. Empty means the last column.
	Targets []string
	// Inputs names the input columns the same way. Empty means every
	// column that is not a target.
	Inputs []string
	// NoTargets reads inputs only (for prediction); Targets is ignored
	// and the Dataset's Y is nil.
	NoTargets bool
	// Missing is the missing-value policy.
	Missing Missing
}

// Table is a loaded table: the data and the names of the chosen columns.
type Table struct {
	Data                    Dataset[float64]
	InputNames, TargetNames []string
	// Dropped counts the rows dropped under MissingDrop.
	Dropped int
	// RowNumbers gives, under MissingDrop, each kept row's number among
	// the file's data rows (1 for the first row after the header).
	RowNumbers []int
}

// LoadCSV reads the CSV or TSV file at path: see ReadCSV.
func LoadCSV(path string, opt CSVOptions) (*Table, error) {
	f, _, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if opt.Comma == 0 {
		switch strings.ToLower(filepath.Ext(path)) {
		case ".tsv", ".tab":
			opt.Comma = '\t'
		}
	}
	return ReadCSV(f, path, opt)
}

func isMissing(s string) bool {
	switch strings.ToLower(s) {
	case "", "na", "n/a", "nan", "null", "none", "?":
		return true
	}
	return false
}

// ReadCSV reads a table with a header line from r. name is used in
// messages, which have the form "name:line: column c ("header"): what was
// expected". Every chosen cell must be a finite number; missing values are
// handled by opt.Missing; other columns are not read. Rows must all have as
// many fields as the header.
func ReadCSV(r io.Reader, name string, opt CSVOptions) (*Table, error) {
	cr := csv.NewReader(newTextReader(r, name))
	cr.Comma = ','
	if opt.Comma != 0 {
		cr.Comma = opt.Comma
	}
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	cr.ReuseRecord = true
	wrap := func(err error) error {
		var te *textError
		if errors.As(err, &te) {
			return te
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("%s:%d:%d: %v", name, pe.Line, pe.Column, pe.Err)
		}
		return fmt.Errorf("%s: %w", name, err)
	}
	rec, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: the file is empty; want a header line naming the columns, then rows of numbers", name)
	}
	if err != nil {
		return nil, wrap(err)
	}
	header := make([]string, len(rec))
	for i, h := range rec {
		header[i] = strings.TrimSpace(h)
	}
	header[0] = strings.TrimPrefix(header[0], "\uFEFF")
	if len(header) == 1 && header[0] == "" {
		return nil, fmt.Errorf("%s:1: the first line is blank; want a header line naming the columns, then rows of numbers", name)
	}
	if len(header) == 1 {
		if d := otherDelimiter(header[0], cr.Comma); d != "" {
			return nil, fmt.Errorf("%s:1: the header is one column, %q, which holds %s: the file seems to separate its fields with %s, but mgdl reads %s; save it with %s between fields", name, short(header[0]), d, d, delimName(cr.Comma), delimName(cr.Comma))
		}
	}
	seen := make(map[string]int, len(header))
	numeric := len(header) > 1
	for i, h := range header {
		if j, ok := seen[h]; ok && h != "" {
			return nil, fmt.Errorf("%s:1: columns %d and %d are both named %q", name, j+1, i+1, h)
		}
		seen[h] = i
		if _, err := parseNumber(h); err != nil || h == "" {
			numeric = false
		}
	}
	if numeric {
		return nil, fmt.Errorf("%s:1: the first line holds only numbers (%s), so it looks like data, not a header: add a first line naming the columns", name, short(strings.Join(header, ",")))
	}
	var tcols []int
	if !opt.NoTargets {
		spec := opt.Targets
		if len(spec) == 0 {
			spec = []string{strconv.Itoa(len(header) - 1)}
		}
		if tcols, err = pickColumns(name, "target", header, spec); err != nil {
			return nil, err
		}
	}
	var icols []int
	if len(opt.Inputs) == 0 {
		for j := range header {
			if !contains(tcols, j) {
				icols = append(icols, j)
			}
		}
		if len(icols) == 0 {
			return nil, fmt.Errorf("%s:1: the header has %d columns, all targets; no input columns are left", name, len(header))
		}
	} else if icols, err = pickColumns(name, "input", header, opt.Inputs); err != nil {
		return nil, err
	}
	cols := append(append([]int(nil), icols...), tcols...)
	for _, j := range cols {
		if header[j] == "" {
			return nil, fmt.Errorf("%s:1: column %d has no name in the header (an index column?); name it, or choose the columns with --inputs and --targets", name, j+1)
		}
	}
	for _, j := range icols {
		if contains(tcols, j) {
			return nil, fmt.Errorf("%s: column %d (%q) is both an input and a target: a model that reads its target learns nothing (choose the inputs with --inputs)", name, j+1, header[j])
		}
	}
	if len(icols) > limits.MaxWidth || len(tcols) > limits.MaxWidth {
		return nil, fmt.Errorf("%s: %d input and %d target columns; at most %d of each", name, len(icols), len(tcols), limits.MaxWidth)
	}
	var vals []float64
	var miss []bool // per kept cell, under MissingMean
	rows, dropped := 0, 0
	var rowNumbers []int
	row := make([]float64, len(cols))
	rowMiss := make([]bool, len(cols))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, wrap(err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" && len(header) > 1 {
			continue // a blank line
		}
		if len(rec) != len(header) {
			return nil, fmt.Errorf("%s:%d: %d fields, but the header has %d", name, line, len(rec), len(header))
		}
		anyMiss := false
		for k, j := range cols {
			s := strings.TrimSpace(rec[j])
			rowMiss[k] = false
			if isMissing(s) {
				if opt.Missing == MissingError {
					return nil, fmt.Errorf("%s:%d: column %d (%q): missing value %q; want a number (or choose a missing-value policy: drop or mean)", name, line, j+1, header[j], s)
				}
				rowMiss[k], anyMiss = true, true
				row[k] = 0
				continue
			}
			v, err := parseNumber(s)
			if err != nil {
				var ne *strconv.NumError
				if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
					return nil, fmt.Errorf("%s:%d: column %d (%q): %q is out of the float64 range", name, line, j+1, header[j], short(s))
				}
				return nil, fmt.Errorf("%s:%d: column %d (%q): cannot read %q as a number", name, line, j+1, header[j], short(s))
			}
			if math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s:%d: column %d (%q): %q is infinite; want a finite number", name, line, j+1, header[j], short(s))
			}
			row[k] = v
		}
		if anyMiss && opt.Missing == MissingDrop {
			dropped++
			continue
		}
		if opt.Missing == MissingDrop {
			rowNumbers = append(rowNumbers, rows+dropped+1)
		}
		if len(vals)+len(row) > cap(vals) {
			if err := limits.Check(fmt.Sprintf("%s: a table of more than %d rows of %d numbers", name, rows, len(row)), 2*8, int64(rows+1), int64(len(row))); err != nil {
				return nil, err
			}
		}
		vals = append(vals, row...)
		if opt.Missing == MissingMean {
			miss = append(miss, rowMiss...)
		}
		rows++
	}
	if rows == 0 {
		if dropped > 0 {
			return nil, fmt.Errorf("%s: every one of the %d data rows has a missing value, so none is left", name, dropped)
		}
		return nil, fmt.Errorf("%s: a header but no data rows", name)
	}
	if opt.Missing == MissingMean {
		w := len(cols)
		for k := range w {
			var sum float64
			var n int
			for i := range rows {
				if !miss[i*w+k] {
					sum += vals[i*w+k]
					n++
				}
			}
			if n == 0 {
				return nil, fmt.Errorf("%s: column %d (%q) has no values at all, so its mean is undefined", name, cols[k]+1, header[cols[k]])
			}
			for i := range rows {
				if miss[i*w+k] {
					vals[i*w+k] = sum / float64(n)
				}
			}
		}
	}
	t := &Table{Dropped: dropped, RowNumbers: rowNumbers}
	t.Data.X = tensor.New[float64](rows, len(icols))
	if !opt.NoTargets {
		t.Data.Y = tensor.New[float64](rows, len(tcols))
	}
	w := len(cols)
	for i := range rows {
		copy(t.Data.X.Row(i), vals[i*w:i*w+len(icols)])
		if t.Data.Y != nil {
			copy(t.Data.Y.Row(i), vals[i*w+len(icols):(i+1)*w])
		}
	}
	for _, j := range icols {
		t.InputNames = append(t.InputNames, header[j])
	}
	for _, j := range tcols {
		t.TargetNames = append(t.TargetNames, header[j])
	}
	return t, nil
}

// parseNumber reads a decimal number as a table writes one: digits, an
// optional sign, point and exponent. Go's own syntax (hex floats such as
// 0x1p3, digit separators such as 1_000) and words such as "infinity" are
// not numbers in a table; infinities are reported by the caller.
func parseNumber(s string) (float64, error) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == '-', c == '+', c == 'e', c == 'E':
		default:
			low := strings.ToLower(strings.TrimLeft(s, "+-"))
			if low == "inf" || low == "infinity" {
				return strconv.ParseFloat(s, 64)
			}
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseFloat(s, 64)
}

// otherDelimiter names a delimiter other than comma found in a one-column
// header, or "".
func otherDelimiter(h string, comma rune) string {
	for _, d := range []rune{';', '\t', '|', ','} {
		if d != comma && strings.ContainsRune(h, d) {
			return delimName(d)
		}
	}
	return ""
}

func delimName(d rune) string {
	switch d {
	case '\t':
		return "tabs"
	case ',':
		return "commas"
	case ';':
		return "semicolons"
	}
	return fmt.Sprintf("%q", d)
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// short cuts long cell text for messages.
func short(s string) string {
	if len(s) > 40 {
		return s[:37] + "..."
	}
	return s
}

// pickColumns resolves column names or 0-based indices against header.
func pickColumns(name, what string, header, spec []string) ([]int, error) {
	var out []int
	for _, s := range spec {
		s = strings.TrimSpace(s)
		j := -1
		for k, h := range header {
			if h == s {
				j = k
				break
			}
		}
		if j < 0 {
			if k, err := strconv.Atoi(s); err == nil {
				if k < 0 || k >= len(header) {
					return nil, fmt.Errorf("%s: %s column index %d is out of range: the header has %d columns (0 to %d)", name, what, k, len(header), len(header)-1)
				}
				j = k
			}
		}
		if j < 0 {
			return nil, fmt.Errorf("%s: no %s column named %q (the header has: %s)", name, what, s, strings.Join(clip(header, 20), ", "))
		}
		if contains(out, j) {
			return nil, fmt.Errorf("%s: %s column %q is chosen twice", name, what, s)
		}
		out = append(out, j)
	}
	return out, nil
}

func clip(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(append([]string(nil), s[:n]...), fmt.Sprintf("… %d more", len(s)-n))
}

// WriteCSV writes a header line and the rows of m (n×len(header)) to w,
// fields separated by comma (',' if 0), numbers in the shortest decimal
// form that reads back to the same value.
func WriteCSV[T tensor.Float](w io.Writer, comma rune, header []string, m *tensor.Dense[T]) error {
	if len(header) != m.Cols {
		panic(fmt.Sprintf("data: WriteCSV: %d names for %d columns", len(header), m.Cols))
	}
	cw := csv.NewWriter(w)
	if comma != 0 {
		cw.Comma = comma
	}
	if err := cw.Write(header); err != nil {
		return err
	}
	bits := 64
	if _, ok := any(T(0)).(float32); ok {
		bits = 32
	}
	rec := make([]string, m.Cols)
	for i := 0; i < m.Rows; i++ {
		for j, v := range m.Row(i) {
			rec[j] = strconv.FormatFloat(float64(v), 'g', -1, bits)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
