package data

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// maxLine is the longest line a table may have: a longer one is not a
// table of numbers, and reading it whole would hold it all in memory.
const maxLine = 16 << 20

// textReader feeds a table's bytes to the CSV parser as people's files
// write them: a UTF-8 byte-order mark is dropped, CR-only line endings
// (old Mac) become LF (CRLF is left to the parser), and a file that is not
// UTF-8 text (UTF-16, binary) or that has a line over maxLine bytes stops
// with an error saying so.
type textReader struct {
	r       io.Reader
	name    string
	start   bool // nothing read yet
	heldCR  bool // the last chunk ended in CR
	lineLen int
	line    int
	err     error
	pending []byte
	buf     []byte
}

// textError is an error of the text itself; its message names the file
// (and line) already.
type textError struct{ msg string }

func (e *textError) Error() string { return e.msg }

func textErrorf(format string, a ...any) error { return &textError{fmt.Sprintf(format, a...)} }

func newTextReader(r io.Reader, name string) *textReader {
	return &textReader{r: r, name: name, start: true, line: 1}
}

func (t *textReader) Read(p []byte) (int, error) {
	for len(t.pending) == 0 {
		if t.err != nil {
			return 0, t.err
		}
		if t.buf == nil {
			t.buf = make([]byte, 64<<10)
		}
		n, err := t.r.Read(t.buf)
		buf := t.buf
		t.err = err
		if err == io.EOF && t.heldCR {
			t.pending = append(t.pending, '\n')
			t.heldCR = false
		}
		if n == 0 {
			continue
		}
		if e := t.convert(buf[:n]); e != nil {
			t.err, t.pending = e, nil
			return 0, e
		}
	}
	n := copy(p, t.pending)
	t.pending = t.pending[n:]
	return n, nil
}

func (t *textReader) convert(b []byte) error {
	if t.start {
		t.start = false
		switch {
		case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
			b = b[3:]
		case bytes.HasPrefix(b, []byte{0xFF, 0xFE}), bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
			return textErrorf("%s: the file is UTF-16 text; save it as UTF-8 (spreadsheet programs call it \"CSV UTF-8\")", t.name)
		}
		if !validPrefix(firstLine(b)) {
			return textErrorf("%s:1: the header is not UTF-8 text; save the file as UTF-8 (it may be Latin-1 or another legacy encoding)", t.name)
		}
	}
	out := t.pending[:0]
	if t.heldCR {
		t.heldCR = false
		if len(b) > 0 && b[0] == '\n' {
			out = append(out, '\r')
		} else {
			out = append(out, '\n')
		}
		t.lineLen = 0
	}
	for i, c := range b {
		switch c {
		case 0:
			return textErrorf("%s:%d: a NUL byte: this is a binary file, not a CSV/TSV table (.npy, .npz, .png and .jpg files are known by their extension)", t.name, t.line)
		case '\r':
			if i+1 == len(b) {
				t.heldCR = true
				continue
			}
			if b[i+1] != '\n' {
				c = '\n'
			}
		}
		if c == '\n' {
			t.line++
			t.lineLen = 0
		} else if t.lineLen++; t.lineLen > maxLine {
			return textErrorf("%s:%d: a line longer than %d MiB: not a table of numbers", t.name, t.line, maxLine>>20)
		}
		out = append(out, c)
	}
	t.pending = out
	return nil
}

func firstLine(b []byte) []byte {
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		return b[:i]
	}
	return b
}

// validPrefix reports whether b is UTF-8, allowing it to end inside a
// character (a chunk may cut one).
func validPrefix(b []byte) bool {
	for k := 0; k < utf8.UTFMax && len(b) > 0; k++ {
		if utf8.Valid(b) {
			return true
		}
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}
