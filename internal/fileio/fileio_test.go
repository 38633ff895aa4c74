package fileio

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestOpenRefusesWhatIsNotAFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	for path, kind := range map[string]string{dir: "a folder", fifo: "a named pipe (FIFO)", "/dev/zero": "a character device"} {
		done := make(chan error, 1)
		go func() { _, _, err := Open(path); done <- err }()
		select {
		case err := <-done:
			var nr *NotRegularError
			if !errors.As(err, &nr) || nr.Kind != kind || !strings.Contains(err.Error(), path+" is "+kind+", not a regular file") {
				t.Errorf("%s: %v", path, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Open(%s) blocked", path)
		}
		if _, err := ReadFile(path, 0, "x"); err == nil {
			t.Errorf("ReadFile(%s) read it", path)
		}
	}
	if _, _, err := Open(filepath.Join(dir, "none")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

func TestReadFileSizes(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.yaml")
	os.WriteFile(p, []byte("seed: 1\n"), 0o644)
	b, err := ReadFile(p, 100, "a configuration file")
	if err != nil || string(b) != "seed: 1\n" {
		t.Fatalf("%q, %v", b, err)
	}
	big := filepath.Join(dir, "big.yaml")
	f, _ := os.Create(big)
	f.Truncate(5 << 20) // sparse: nothing is written or read
	f.Close()
	_, err = ReadFile(big, 4<<20, "a configuration file")
	var tb *TooBigError
	if !errors.As(err, &tb) || err.Error() != big+" is 5.0 MiB, larger than a configuration file may be (4.0 MiB)" {
		t.Fatalf("%v", err)
	}
}
