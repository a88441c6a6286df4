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

// MemStats is RG.PYSTATS: what the Python interpreters took from their C
// allocators, counted inside each guest (guest/c/_gearsmodule.c wraps the
// raw domain and pymalloc's arenas, as RedisGears' allocator override
// does): Total is every byte ever allocated (closed sessions included),
// Curr what the live sessions hold, Peak the highest Curr seen.
type MemStats struct {
	Total, Peak, Curr int64
}

var memPeak, memTotal atomic.Int64

// observeMemory refreshes the peak after an execution.
func (g *Gears) observeMemory() { g.MemStats() }

// retireMemory adds a closing session's total to the running total.
func retireMemory(in *Instance) {
	if t, _, _, ok := in.AllocStats(); ok {
		memTotal.Add(t)
	}
}

// MemStats returns the current figures.
func (g *Gears) MemStats() MemStats {
	var total, curr, peak int64
	g.mu.Lock()
	for s := range g.live {
		if t, p, c, ok := s.inst.AllocStats(); ok {
			total, curr = total+t, curr+c
			peak = max(peak, p)
		}
	}
	g.mu.Unlock()
	peak = max(peak, curr)
	for {
		p := memPeak.Load()
		if peak <= p || memPeak.CompareAndSwap(p, peak) {
			break
		}
	}
	return MemStats{Total: memTotal.Load() + total, Peak: memPeak.Load(), Curr: curr}
}
