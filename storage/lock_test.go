package storage

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// Combine callers and plain lockers mutate unsynchronised state: every
// function runs exactly once, under the lock (the race detector checks the
// exclusion), whichever goroutine runs it.
func TestCombineExclusive(t *testing.T) {
	l := newKeyLock()
	var n, ran int
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				if g%4 == 0 {
					l.lock()
					n++
					l.unlock()
					continue
				}
				done := false
				l.combine(func() { n++; ran++; done = true })
				if !done {
					t.Error("combine returned before its function ran")
					return
				}
			}
		}()
	}
	wg.Wait()
	if n != 16*500 || ran != 12*500 {
		t.Fatalf("n=%d ran=%d, want %d and %d", n, ran, 16*500, 12*500)
	}
	if len(l.queue) != 0 {
		t.Fatalf("%d functions left queued", len(l.queue))
	}
}

// A function queued while a plain locker holds the lock runs once that
// locker lets go, although nobody else calls Combine.
func TestCombineQueuedBehindLock(t *testing.T) {
	l := newKeyLock()
	l.lock()
	done := make(chan struct{})
	go func() {
		l.combine(func() {})
		close(done)
	}()
	waitQueued(&l, 1)
	select {
	case <-done:
		t.Fatal("ran while the lock was held")
	default:
	}
	l.unlock()
	<-done
	if !l.tryLock() {
		t.Fatal("the lock is still held after the queued function ran")
	}
}

// A panic in a function another goroutine ran for its caller reaches
// that caller, not the goroutine that ran it, and the lock is free after.
func TestCombinePanic(t *testing.T) {
	l := newKeyLock()
	got := make(chan any)
	var ran atomic.Bool
	l.combine(func() {
		go func() {
			defer func() { got <- recover() }()
			l.combine(func() { ran.Store(true); panic("boom") })
		}()
		waitQueued(&l, 1) // this holder runs it before letting go
	})
	if !ran.Load() {
		t.Fatal("the holder let go without running the queued function")
	}
	if r := <-got; r != "boom" {
		t.Fatalf("recovered %v, want boom", r)
	}
	if !l.tryLock() {
		t.Fatal("lock held after a panic")
	}
}

func waitQueued(l *keyLock, n int) {
	for {
		l.qmu.Lock()
		q := len(l.queue)
		l.qmu.Unlock()
		if q >= n {
			return
		}
		runtime.Gosched()
	}
}
