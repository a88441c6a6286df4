package host

import (
	"context"
	"sync/atomic"

	"github.com/wasmgears/wasmgears/abi"
)

// Handler op codes of guest/python/gearsapi.py for the admin commands.
const (
	opProfileStats = abi.OpFirstHandler + 8
	opProfileReset = abi.OpFirstHandler + 9
)

// ErrNoSession is RG.PYPROFILE's reply for an unknown session.
const ErrNoSession = ErrorReply("session does not exists")

func (g *Gears) session(id string) *Session {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sessions[id]
}

// ProfileStats returns the session's cProfile statistics as pstats text
// (sorted by tottime; RedisGears ignores the requested order). Profiles are
// collected only while ProfileExecutions=1.
func (g *Gears) ProfileStats(ctx context.Context, id string) (string, error) {
	s := g.session(id)
	if s == nil {
		return "", ErrNoSession
	}
	var out []byte
	err := s.Do(ctx, func(ctx context.Context, in *Instance) error {
		r, err := in.Invoke(ctx, opProfileStats, nil)
		out = r
		return err
	})
	return string(out), err
}

// ProfileReset drops the session's profile.
func (g *Gears) ProfileReset(ctx context.Context, id string) error {
	s := g.session(id)
	if s == nil {
		return ErrNoSession
	}
	return s.Do(ctx, func(ctx context.Context, in *Instance) error {
		_, err := in.Invoke(ctx, opProfileReset, nil)
		return err
	})
}

// MemStats is RG.PYSTATS: the interpreters' memory. Every session owns
// its own interpreter, so the numbers are the linear memories of the live
// sessions (what their allocators took from the sandbox): current, the
// peak seen, and a running total (the interpreter's size after every
// RG.PYEXECUTE execution plus the live ones).
type MemStats struct {
	Total, Peak, Curr int64
}

var memPeak, memTotal atomic.Int64

// observeMemory records an interpreter's size after an execution: the peak
// and the running total of memory taken by executions' interpreters.
func (g *Gears) observeMemory(n int64) {
	memTotal.Add(n)
	for {
		p := memPeak.Load()
		if n <= p || memPeak.CompareAndSwap(p, n) {
			return
		}
	}
}

// MemStats returns the current figures.
func (g *Gears) MemStats() MemStats {
	g.mu.Lock()
	var curr int64
	for _, s := range g.sessions {
		if in := s.inst; in != nil && !in.closed {
			curr += int64(in.MemoryBytes())
		}
	}
	g.mu.Unlock()
	for {
		p := memPeak.Load()
		if curr <= p || memPeak.CompareAndSwap(p, curr) {
			break
		}
	}
	return MemStats{Total: memTotal.Load() + curr, Peak: memPeak.Load(), Curr: curr}
}
