package server

import (
	"runtime"
	"testing"
	"time"
)

// waitProcs polls GOMAXPROCS until it is want.
func waitProcs(t *testing.T, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.GOMAXPROCS(0) != want {
		if time.Now().After(deadline) {
			t.Fatalf("GOMAXPROCS = %d, want %d", runtime.GOMAXPROCS(0), want)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestProcsFollowWork(t *testing.T) {
	max := runtime.GOMAXPROCS(0)
	if max < 2 {
		t.Skip("one CPU: nothing to size")
	}
	defer runtime.GOMAXPROCS(max)
	p := newProcs(1)
	stop, ready := make(chan struct{}), make(chan struct{})
	close(ready)
	done := make(chan struct{})
	go func() { p.run(stop, ready); close(done) }()
	defer func() { close(stop); <-done }()
	// lowered a second after work ends, not before
	lowered := func(ended time.Time, want int) {
		t.Helper()
		waitProcs(t, want)
		if d := time.Since(ended); d < time.Second {
			t.Errorf("GOMAXPROCS %d after %v, before a second passed", want, d)
		}
	}

	waitProcs(t, 1) // idle: one P, as Redis' one thread
	// guest work for clients: every CPU
	p.activity(1, false)
	waitProcs(t, max)
	// background executions get a P each on top, up to one per CPU
	p.activity(1, true)
	waitProcs(t, max+1)
	for range max + 2 {
		p.activity(1, true)
	}
	waitProcs(t, 2*max)
	for range max + 2 {
		p.activity(-1, true)
	}
	waitProcs(t, max+1)
	p.activity(-1, true)
	lowered(time.Now(), max)
	p.activity(-1, false)
	lowered(time.Now(), 1)
	// background work alone: every CPU, and its P
	p.activity(1, true)
	waitProcs(t, max+1)
	p.activity(-1, true)
	lowered(time.Now(), 1)
}
