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
type procs struct {
	idle, max int
	busy      atomic.Int64 // guest work running now
	last      atomic.Int64 // unix ns when guest work last ended
	wake      chan struct{}
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
func (p *procs) activity(d int) {
	n := p.busy.Add(int64(d))
	switch {
	case d > 0 && n == 1:
		select {
		case p.wake <- struct{}{}:
		default:
		}
	case d < 0:
		p.last.Store(time.Now().UnixNano())
	}
}

// run adjusts GOMAXPROCS until stop closes. It starts with every CPU (the
// interpreter compiles and the sessions restore at start) and lowers it
// once the gears engine is ready and idle.
func (p *procs) run(stop, ready <-chan struct{}) {
	if p.idle == p.max {
		return
	}
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
		case <-p.wake:
			set(p.max)
		case <-t.C:
			select {
			case <-ready:
			default:
				continue // the gears engine is still starting
			}
			switch {
			case p.busy.Load() > 0:
				set(p.max)
			case time.Since(time.Unix(0, p.last.Load())) >= time.Second:
				set(p.idle)
			}
		}
	}
}
