//go:build unix

package rundir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// lock is an exclusive advisory lock (flock) on a folder's lockFile. The
// kernel releases it when the process ends, however it ends, so a killed
// run never leaves a stale lock.
type lock struct{ f *os.File }

// ErrLocked is wrapped by the error of Create and Resume when another
// process holds the folder.
var ErrLocked = errors.New("the run folder is being written by another process")

// acquire takes dir's lock without waiting, and writes this process's id
// into the lock file for the message another process gets.
func acquire(dir string) (*lock, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot lock %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			who := "another mgdl process"
			if pid := strings.TrimSpace(string(b)); pid != "" {
				if _, perr := strconv.Atoi(pid); perr == nil {
					who += " (pid " + pid + ")"
				}
			}
			return nil, fmt.Errorf("%s: %w: %s holds its lock; wait for it to end, or give another --out", dir, ErrLocked, who)
		}
		return nil, fmt.Errorf("cannot lock %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return &lock{f: f}, nil
}

// release gives the lock up.
func (l *lock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the descriptor releases the flock
	l.f = nil
	return err
}

// moved is called when the locked folder was renamed to dir; the flock
// follows the file, so there is nothing to do.
func (l *lock) moved(dir string) {}
