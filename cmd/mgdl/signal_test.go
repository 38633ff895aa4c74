package main

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// TestWatch: the first signal cancels; the process is ended grace later,
// or at once on a second signal, so no computation that misses the
// cancellation keeps mgdl running deaf to signals.
func TestWatch(t *testing.T) {
	for _, second := range []bool{false, true} {
		sigs := make(chan os.Signal, 2)
		cancelled, exited := make(chan time.Time, 1), make(chan time.Time, 1)
		grace := 300 * time.Millisecond
		if second {
			grace = time.Hour
		}
		go watch(sigs, func() { cancelled <- time.Now() }, grace, func() { exited <- time.Now() })
		start := time.Now()
		sigs <- syscall.SIGTERM
		c := <-cancelled
		select {
		case <-exited:
			t.Fatal("exited at the first signal")
		case <-time.After(100 * time.Millisecond):
		}
		if second {
			sigs <- syscall.SIGTERM // timeout(1)'s repeat: ignored
			select {
			case <-exited:
				t.Fatal("exited at a repeat of the first signal")
			case <-time.After(1200 * time.Millisecond):
			}
			sigs <- syscall.SIGINT
		}
		select {
		case e := <-exited:
			if !second && e.Sub(c) < grace {
				t.Fatalf("exited %v after the signal, before the grace of %v", e.Sub(start), grace)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("never exited (second signal %v)", second)
		}
	}
}
