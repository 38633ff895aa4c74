// Package fileio opens and reads input files with bounds: only regular
// files (a device, a FIFO or a folder is refused without blocking), with
// the size checked before a byte is read.
package fileio

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/mgdl/mgdl/limits"
)

// Kind names a file mode that is not a regular file ("a folder", "a
// named pipe (FIFO)", ...).
func Kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file"
}

// NotRegularError reports a path that is not a regular file.
type NotRegularError struct {
	Path string
	Kind string // "a folder", "a named pipe (FIFO)", ...
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, e.Kind)
}

// Open opens path for reading if it is a regular file and returns it with
// its size. It never blocks on a FIFO: the path is checked before it is
// opened, and the opened file is checked again.
func Open(path string) (*os.File, int64, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		return nil, 0, &NotRegularError{path, Kind(st.Mode())}
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, err
	}
	st, err = f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, 0, &NotRegularError{path, Kind(st.Mode())}
	}
	return f, st.Size(), nil
}

// TooBigError reports a file larger than its kind may be.
type TooBigError struct {
	Path      string
	Size, Max int64
	What      string // "a configuration file"
}

func (e *TooBigError) Error() string {
	return fmt.Sprintf("%s is %s, larger than %s may be (%s)", e.Path, limits.Format(e.Size), e.What, limits.Format(e.Max))
}

// ReadFile reads the regular file at path whole. A file over max bytes is
// a *TooBigError naming what it was read as; max ≤ 0 means the memory
// budget, and a file over the budget is a *limits.TooLargeError.
func ReadFile(path string, max int64, what string) ([]byte, error) {
	f, size, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if max > 0 && size > max {
		return nil, &TooBigError{path, size, max, what}
	}
	if err := limits.Check("reading "+path, size); err != nil {
		return nil, err
	}
	// Read at most size+1 bytes: a file that grows while read is caught.
	b, err := io.ReadAll(io.LimitReader(f, size+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > size {
		return nil, fmt.Errorf("%s grew while it was read", path)
	}
	return b, nil
}

// Same reports whether paths a and b name one file: the same path once
// cleaned, or one file under two names (a hard or symbolic link).
func Same(a, b string) bool {
	if filepath.Clean(a) == filepath.Clean(b) {
		return true
	}
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}
