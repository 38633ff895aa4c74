//go:build !unix

package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// lock is a lock file created exclusively. Without flock a process that
// dies holding it leaves it behind; the error says how to clear it.
type lock struct{ path string }

// ErrLocked is wrapped by the error of Create and Resume when another
// process holds the folder.
var ErrLocked = errors.New("the run folder is being written by another process")

func acquire(dir string) (*lock, error) {
	path := filepath.Join(dir, lockFile+".held")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%s: %w (if no mgdl process runs, remove %s)", dir, ErrLocked, path)
		}
		return nil, fmt.Errorf("cannot lock %s: %w", dir, err)
	}
	f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	f.Close()
	return &lock{path: path}, nil
}

func (l *lock) release() error {
	if l == nil || l.path == "" {
		return nil
	}
	err := os.Remove(l.path)
	l.path = ""
	return err
}

// moved is called when the locked folder was renamed to dir.
func (l *lock) moved(dir string) { l.path = filepath.Join(dir, lockFile+".held") }
