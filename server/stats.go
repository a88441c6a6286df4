package server

import (
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// cmdStats are the per-command counters behind INFO commandstats and the
// command metrics.
type cmdStats struct {
	calls    atomic.Int64
	usec     atomic.Int64
	rejected atomic.Int64
	failed   atomic.Int64
}

type stats struct {
	mu   sync.RWMutex
	cmds map[*Command]*cmdStats // guarded by mu (INFO reads it)
	// fast is a read-only copy of cmds for the per-command path: no lock,
	// replaced (copy on write) when a command is first seen or on reset.
	fast          atomic.Pointer[map[*Command]*cmdStats]
	errs          map[string]int64 // error prefix -> count
	commands      atomic.Int64
	totalConns    atomic.Int64
	rejectedConns atomic.Int64
	// observe, if set, sees every command (metrics).
	observe func(cmd *Command, d time.Duration, failed bool)
}

func newStats() *stats {
	st := &stats{cmds: map[*Command]*cmdStats{}, errs: map[string]int64{}}
	st.fast.Store(&map[*Command]*cmdStats{})
	return st
}

func (st *stats) of(cmd *Command) *cmdStats {
	if cs := (*st.fast.Load())[cmd]; cs != nil { // every command passes here
		return cs
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	cs := st.cmds[cmd]
	if cs == nil {
		cs = &cmdStats{}
		st.cmds[cmd] = cs
	}
	cp := maps.Clone(st.cmds)
	st.fast.Store(&cp)
	return cs
}

func (st *stats) record(cmd *Command, d time.Duration, failed bool, reply []byte) {
	cs := st.of(cmd)
	cs.calls.Add(1)
	cs.usec.Add(d.Microseconds())
	st.commands.Add(1)
	if failed {
		cs.failed.Add(1)
		st.errorReply(errPrefix(reply))
	}
	if st.observe != nil {
		st.observe(cmd, d, failed)
	}
}

func (st *stats) reject(cmd *Command) {
	st.of(cmd).rejected.Add(1)
	st.errorReply("ERR")
}

func (st *stats) errorReply(prefix string) {
	st.mu.Lock()
	st.errs[prefix]++
	st.mu.Unlock()
}

func errPrefix(reply []byte) string {
	s := string(reply)
	s = strings.TrimPrefix(s, "-")
	if i := strings.IndexAny(s, " \r"); i > 0 {
		s = s[:i]
	}
	return s
}

// reset clears the counters (CONFIG RESETSTAT).
func (st *stats) reset() {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.cmds = map[*Command]*cmdStats{}
	st.fast.Store(&map[*Command]*cmdStats{})
	st.errs = map[string]int64{}
	st.commands.Store(0)
	st.totalConns.Store(0)
	st.rejectedConns.Store(0)
}
