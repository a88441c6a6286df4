package server

import (
	"runtime"
	"sync/atomic"
	"time"
)

// procs sizes GOMAXPROCS to the work. While only Redis commands run, one
// P serves them, as Redis' single thread does: with more, every network
// event wakes another P through the scheduler (futex, spinning), which on
// 2 cores shared with the clients cost 15-20% of SET/GET throughput. As
// soon as gears guests run, every CPU is available again (sessions run in
// parallel, and a busy guest must not hold up the commands); a second
// without guest work brings it back down. `io-threads` is the idle size.
//
// Background executions (registration workers on threads of lowered
// priority, BackgroundNice) get one P each on top, up to as many as CPUs,
// while they run and for a second after: the kernel deschedules their
// threads for the commands' threads, but a P stays with its thread, so
// without Ps of their own they would take the commands'. (Only that one P
// for the commands while background work runs measured worse: SET with
// an async registration 65-67k against 70-75k rps.) Not more Ps than
// that: a thread descheduled while it holds the keyspace lock stalls
// everyone (GOMAXPROCS 3 on 2 CPUs took a sync registration's SET rate
// from ~60k to 39k).
type procs struct {
	idle, max    int
	busy, bgBusy atomic.Int64 // guest work running now: for clients, background
	last, bgLast atomic.Int64 // unix ns when such work last ended
	wake         chan struct{}
}

func newProcs(idle int) *procs {
	all := runtime.GOMAXPROCS(0)
	if idle <= 0 || idle > all {
		idle = all
	}
	return &procs{idle: idle, max: all, wake: make(chan struct{}, 1)}
}

// activity is host.Options.Activity: +1 when a session starts guest work,
// -1 when it ends.
func (p *procs) activity(d int, background bool) {
	busy, last := &p.busy, &p.last
	if background {
		busy, last = &p.bgBusy, &p.bgLast
	}
	switch n := busy.Add(int64(d)); {
	case d > 0 && n == 1:
		select {
		case p.wake <- struct{}{}:
		default:
		}
	case d < 0:
		last.Store(time.Now().UnixNano())
	}
}

// size is GOMAXPROCS for the work running now or within the last second.
func (p *procs) size() int {
	recent := func(last *atomic.Int64) bool {
		return time.Since(time.Unix(0, last.Load())) < time.Second
	}
	n := p.idle
	if p.busy.Load() > 0 || p.bgBusy.Load() > 0 || recent(&p.last) || recent(&p.bgLast) {
		n = p.max
	}
	switch bg := int(p.bgBusy.Load()); {
	case bg > 0:
		n += min(bg, p.max)
	case recent(&p.bgLast):
		n++
	}
	return n
}

// run adjusts GOMAXPROCS until stop closes. It starts with every CPU (the
// interpreter compiles and the sessions restore at start) and lowers it
// once the gears engine is ready and idle.
func (p *procs) run(stop, ready <-chan struct{}) {
	cur := p.max
	set := func(n int) {
		if n != cur {
			runtime.GOMAXPROCS(n)
			cur = n
		}
	}
	defer set(p.max)
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	p.last.Store(time.Now().UnixNano())
	for {
		select {
		case <-stop:
			return
		case <-p.wake: // guest work started (it may have ended already)
			set(max(p.size(), cur))
		case <-t.C:
			select {
			case <-ready:
				set(p.size())
			default: // the gears engine is still starting
			}
		}
	}
}
