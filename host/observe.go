package host

import (
	"strconv"
	"strings"
	"time"
)

// Read-only accessors for metrics and the dashboard. They take the same
// locks as the RG.* commands and never wait for a session's actor.

// Seq is the execution's sequence number (the number after the shard id).
func (e *Execution) Seq() int64 {
	i := strings.LastIndexByte(e.ID, '-')
	n, _ := strconv.ParseInt(e.ID[i+1:], 10, 64)
	return n
}

// SessionID is the id of the session the execution runs in.
func (e *Execution) SessionID() string {
	if e.session == nil {
		return ""
	}
	return e.session.ID
}

// Started is when the execution started running (zero before).
func (e *Execution) Started() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.started
}

// ExecutionsAfter returns the executions whose sequence number is greater
// than seq, oldest first, and the greatest sequence number seen (seq when
// there is none). It walks the list from its newest end only.
func (g *Gears) ExecutionsAfter(seq int64) ([]*Execution, int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	i := len(g.order)
	for i > 0 {
		e := g.execs[g.order[i-1]]
		if e != nil && e.Seq() <= seq {
			break
		}
		i--
	}
	out := make([]*Execution, 0, len(g.order)-i)
	for _, id := range g.order[i:] {
		if e := g.execs[id]; e != nil {
			out = append(out, e)
			seq = max(seq, e.Seq())
		}
	}
	return out, seq
}

// BusyInterpreters is the number of session interpreters running an
// execution now.
func (g *Gears) BusyInterpreters() int {
	busy := map[*Session]bool{}
	for _, e := range g.Executions() {
		if e.Status() == StatusRunning {
			busy[e.session] = true
		}
	}
	return len(busy)
}

// SessionMemoryBytes is the size of a session's interpreter's linear
// memory (what RG.PYSTATS adds up).
func (g *Gears) SessionMemoryBytes(s *Session) int64 {
	g.mu.Lock()
	defer g.mu.Unlock()
	if in := s.inst; in != nil && !in.closed {
		return int64(in.MemoryBytes())
	}
	return 0
}

// Paused reports whether a stream registration is paused.
func (r *Registration) Paused() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stream != nil && r.stream.status == StreamPaused
}

// QueueLength is the number of records waiting for the registration's
// worker (async modes).
func (r *Registration) QueueLength() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue)
}
