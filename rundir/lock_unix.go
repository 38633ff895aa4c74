//go:build unix

package rundir

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// lock is an exclusive advisory lock (flock) on the run folder itself. The
// kernel releases it when the process ends, however it ends, so a killed
// run never leaves a stale lock, and no lock file is left in the folder.
// The lock is on the folder's inode: it follows the folder when it is
// renamed.
type lock struct{ f *os.File }

// ErrLocked is wrapped by the error of Create and Resume when another
// process holds the folder.
var ErrLocked = errors.New("the run folder is being written by another process")

// acquire takes dir's lock without waiting.
func acquire(dir string) (*lock, error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("cannot lock %s: %w", dir, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w: another mgdl process holds its lock; wait for it to end, or give another --out", dir, ErrLocked)
		}
		return nil, fmt.Errorf("cannot lock %s: %w", dir, err)
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
// follows the inode, so there is nothing to do.
func (l *lock) moved(dir string) {}
