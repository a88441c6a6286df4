package storage

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// keyLock is the keyspace lock. It is a one-slot channel rather than a
// sync.Mutex so that a Combine caller can wait for the lock and for its
// queued function at once.
//
// Why combining: with sync registrations a client command holds the lock
// for ~17 µs, most of it in the guest. Handing the lock from one client
// goroutine to the next costs a goroutine switch each time, and on two
// cores the switch, the reply write of the goroutine that let go and the
// network polling compete for the same P: the lock sat idle a third of the
// time while clients waited (redis-benchmark -c 50, instrumented). A
// goroutine that gets the lock now runs the transactions queued by the
// others before letting go, back to back, and each waiting client is only
// woken to write its reply.
type keyLock struct {
	ch chan struct{}
	// waiting counts goroutines blocked for the lock: Unlock yields to them.
	waiting atomic.Int32

	qmu   sync.Mutex
	queue []*combineOp
}

// combineMax bounds how many queued functions one holder runs before it
// lets go: its own client's reply waits meanwhile.
const combineMax = 32

type combineOp struct {
	fn    func()
	taken atomic.Bool // claimed by the goroutine that runs it
	done  chan struct{}
	panic any
}

func newKeyLock() keyLock { return keyLock{ch: make(chan struct{}, 1)} }

func (l *keyLock) lock() {
	select {
	case l.ch <- struct{}{}:
		return
	default:
	}
	l.waiting.Add(1)
	l.ch <- struct{}{}
	l.waiting.Add(-1)
}

// unlock lets go of the lock. If a goroutine waits for it, the caller
// yields its P: the waiter, handed the lock, lands in this P's run-next
// slot and would otherwise sit there, holding the lock without running,
// until the caller blocks (its reply write and next read take several µs)
// or another P steals it after a deliberate delay.
func (l *keyLock) unlock() {
	<-l.ch
	if l.waiting.Load() > 0 {
		runtime.Gosched()
	}
}

func (l *keyLock) tryLock() bool {
	select {
	case l.ch <- struct{}{}:
		return true
	default:
		return false
	}
}

// combine runs fn under the lock and returns once it has run, on this
// goroutine or on the one holding the lock; a panic in fn is raised here.
func (l *keyLock) combine(fn func()) {
	op := &combineOp{fn: fn}
	if l.tryLock() {
		op.taken.Store(true)
		l.runHeld(op)
	} else {
		op.done = make(chan struct{})
		l.qmu.Lock()
		l.queue = append(l.queue, op)
		l.qmu.Unlock()
		l.waiting.Add(1)
		select {
		case <-op.done: // a holder ran it
			l.waiting.Add(-1)
		case l.ch <- struct{}{}:
			l.waiting.Add(-1)
			if op.taken.CompareAndSwap(false, true) {
				l.runHeld(op)
			} else {
				// A holder ran it and finished (it closes done before it
				// lets go); serve the others and go.
				l.runHeld(nil)
			}
		}
	}
	if op.panic != nil {
		panic(op.panic)
	}
}

// runHeld runs own (if any) and then queued functions, with the lock held,
// and lets go of it.
func (l *keyLock) runHeld(own *combineOp) {
	if own != nil {
		own.run()
	}
	for n := 0; n < combineMax; n++ {
		op := l.next()
		if op == nil {
			break
		}
		op.run()
		close(op.done)
	}
	l.unlock()
}

// next claims the oldest queued function nobody has taken yet.
func (l *keyLock) next() *combineOp {
	l.qmu.Lock()
	defer l.qmu.Unlock()
	for len(l.queue) > 0 {
		op := l.queue[0]
		l.queue[0] = nil
		l.queue = l.queue[1:]
		if op.taken.CompareAndSwap(false, true) {
			return op
		}
	}
	return nil
}

func (op *combineOp) run() {
	defer func() {
		if r := recover(); r != nil {
			op.panic = r
		}
	}()
	op.fn()
}
