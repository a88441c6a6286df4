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
// A registration worker running at a lowered OS priority (BackgroundNice)
// gets one P more while it runs executions, up to as many as CPUs: the
// kernel deschedules its thread for the commands' threads, but the P stays
// with that thread, so without a P of its own the commands would have one
// CPU less. Not more Ps than that: a thread descheduled while it holds the
// keyspace lock stalls everyone (GOMAXPROCS 3 on 2 CPUs halved the SET
// rate of a sync registration). The extra P goes a second after the
// workers' last execution, not at every one (GOMAXPROCS stops the world).
type procs struct {
	idle, max int
	busy      atomic.Int64 // guest work running now
	last      atomic.Int64 // unix ns when guest work last ended
	bgBusy    atomic.Int64 // niced registration workers running executions
	bgLast    atomic.Int64 // unix ns when such an execution last ended
	wake      chan struct{}
}

func newProcs(idle int) *procs {
	all := runtime.GOMAXPROCS(0)
	if idle <= 0 || idle > all {
		idle = all
	}
	return &procs{idle: idle, max: all, wake: make(chan struct{}, 1)}
}

func (p *procs) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// activity is host.Options.Activity: +1 when a session starts guest work,
// -1 when it ends.
func (p *procs) activity(d int) {
	n := p.busy.Add(int64(d))
	switch {
	case d > 0 && n == 1:
		p.poke()
	case d < 0:
		p.last.Store(time.Now().UnixNano())
	}
}

// background is host.Options.Background: +1 when a niced registration
// worker starts an execution, -1 when it ends.
func (p *procs) background(d int) {
	n := p.bgBusy.Add(int64(d))
	switch {
	case d > 0 && n == 1:
		p.poke()
	case d < 0:
		p.bgLast.Store(time.Now().UnixNano())
	}
}

// busySize is GOMAXPROCS while guests run, cur the current one.
func (p *procs) busySize(cur int) int {
	n := p.max + min(int(p.bgBusy.Load()), p.max)
	if n < cur && time.Since(time.Unix(0, p.bgLast.Load())) < time.Second {
		return cur
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
			set(p.busySize(cur))
		case <-t.C:
			select {
			case <-ready:
			default:
				continue // the gears engine is still starting
			}
			switch {
			case p.busy.Load() > 0:
				set(p.busySize(cur))
			case time.Since(time.Unix(0, p.last.Load())) >= time.Second:
				set(p.idle)
			}
		}
	}
}
