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
	defer runtime.GOMAXPROCS(max)
	p := newProcs(1)
	stop, ready := make(chan struct{}), make(chan struct{})
	close(ready)
	done := make(chan struct{})
	go func() { p.run(stop, ready); close(done) }()
	defer func() { close(stop); <-done }()

	if max > 1 {
		waitProcs(t, 1) // idle: one P, as Redis' one thread
	}
	p.activity(1)
	waitProcs(t, max)
	// a niced registration worker running an execution gets a P of its
	// own, up to one per CPU; it keeps it a second after its last one
	p.background(1)
	waitProcs(t, max+1)
	for range max + 2 {
		p.background(1)
	}
	waitProcs(t, 2*max)
	for range max + 3 {
		p.background(-1)
	}
	ended := time.Now()
	waitProcs(t, max)
	if d := time.Since(ended); d < time.Second {
		t.Errorf("the extra Ps went after %v, before a second passed", d)
	}
	p.activity(-1)
	if max > 1 {
		waitProcs(t, 1)
	}
}
