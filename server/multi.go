package server

import (
	"sync"
	"time"

	"github.com/wasmgears/wasmgears/storage"
)

// MULTI/EXEC/DISCARD/WATCH/UNWATCH.
//
// Queued commands are checked (existence, arity) when queued, parsed and
// run when EXEC runs them, all under one hold of the keyspace lock, each in
// its own Tx so that a later command sees the earlier ones' writes.
// WATCH records the keys' versions (meta bytes); EXEC aborts when any
// watched key changed.

type queued struct {
	cmd  *Command
	args [][]byte
}

type multiState struct {
	cmds  []queued
	dirty bool // a queueing error: EXEC must abort
}

// watchRegistry maps watched keys to the clients watching them. Writes
// mark those clients dirty while still holding the keyspace lock, so EXEC
// (which checks under the lock) can never miss one.
type watchRegistry struct {
	mu sync.Mutex
	m  map[waitKey]map[*Client]struct{}
}

func (s *Server) watch(c *Client, keys [][]byte) {
	r := &s.watches
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[waitKey]map[*Client]struct{}{}
	}
	for _, k := range keys {
		wk := waitKey{c.DB, string(k)}
		if r.m[wk] == nil {
			r.m[wk] = map[*Client]struct{}{}
		}
		r.m[wk][c] = struct{}{}
		c.watched = append(c.watched, wk)
	}
}

func (s *Server) unwatch(c *Client) {
	r := &s.watches
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, wk := range c.watched {
		if m := r.m[wk]; m != nil {
			delete(m, c)
			if len(m) == 0 {
				delete(r.m, wk)
			}
		}
	}
	c.watched = nil
	c.watchDirty.Store(false)
}

// touchWatched marks the watchers of written keys; called under the lock.
func (s *Server) touchWatched(evs []storage.Event) {
	r := &s.watches
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.m) == 0 {
		return
	}
	for _, e := range evs {
		if e.Name == "keymiss" {
			continue
		}
		for c := range r.m[waitKey{e.DB, string(e.Key)}] {
			c.watchDirty.Store(true)
		}
	}
}

type watchCmd struct{ keys [][]byte }

func (w watchCmd) Run(c *Ctx) {
	if c.C.multi != nil {
		c.W.Error("ERR WATCH inside MULTI is not allowed")
		return
	}
	c.S.watch(c.C, w.keys)
	c.W.OK()
}

type unwatchCmd struct{}

func (unwatchCmd) Run(c *Ctx) {
	c.S.unwatch(c.C)
	c.W.OK()
}

func (c *Client) queue(cmd *Command, args [][]byte, w *Writer) {
	if cmd.Flags&FlagNoMulti != 0 {
		w.Error("ERR Command not allowed inside a transaction")
		c.multi.dirty = true
		return
	}
	cp := make([][]byte, len(args))
	for i, a := range args {
		cp[i] = append([]byte(nil), a...)
	}
	c.multi.cmds = append(c.multi.cmds, queued{cmd, cp})
	w.Simple("QUEUED")
}

type multiCmd struct{}

func (multiCmd) Run(c *Ctx) {
	if c.C.multi != nil {
		c.W.Error("ERR MULTI calls can not be nested")
		return
	}
	c.C.multi = &multiState{}
	c.W.OK()
}

type discardCmd struct{}

func (discardCmd) Run(c *Ctx) {
	if c.C.multi == nil {
		c.W.Error("ERR DISCARD without MULTI")
		return
	}
	c.C.multi = nil
	c.S.unwatch(c.C)
	c.W.OK()
}

type execCmd struct{}

func (execCmd) Run(c *Ctx) {
	cl := c.C
	m := cl.multi
	if m == nil {
		c.W.Error("ERR EXEC without MULTI")
		return
	}
	cl.multi = nil
	defer c.S.unwatch(cl)
	if m.dirty {
		c.W.Error("EXECABORT Transaction discarded because of previous errors.")
		return
	}
	c.S.execLocked(cl, m.cmds, c.W)
}

// execLocked runs the queued commands atomically: the lock is held across
// all of them, so no other client interleaves.
func (s *Server) execLocked(cl *Client, cmds []queued, w *Writer) {
	s.db.Lock()
	if cl.watchDirty.Load() {
		s.db.Unlock()
		w.NullArray()
		return
	}
	w.Array(len(cmds))
	cl.inExec = true
	defer func() { cl.inExec = false }()
	var evs [][]storage.Event
	for _, q := range cmds {
		start := time.Now()
		mark := w.Len()
		ctx := &Ctx{S: s, C: cl, W: w, Cmd: q.cmd, Args: q.args, InMulti: true}
		r, err := q.cmd.Parse(q.args)
		switch {
		case s.hookInMulti(cl, q, w):
		case err != nil:
			ctx.Err(err)
		case q.cmd.Flags&(FlagWrite|FlagReadonly) == 0:
			s.db.Unlock() // connection/server commands take their own locks
			r.Run(ctx)
			s.db.Lock()
		default:
			tx := s.db.Begin(cl.DB)
			tx.Cmd = q.cmd.Name
			ctx.Tx = tx
			r.Run(ctx)
			if ctx.block != nil {
				timeoutReply(ctx, ctx.block)
				ctx.block = nil
			}
			if err := tx.Commit(); err != nil {
				w.Truncate(mark)
				ctx.Err(err)
			}
			e := tx.TakeEvents()
			s.touchWatched(e)
			s.gearsEvents(cl, e)
			evs = append(evs, e)
		}
		d := time.Since(start)
		failed := w.Len() > mark && w.Bytes()[mark] == '-'
		s.stats.record(q.cmd, d, failed, w.Bytes()[mark:])
		for _, f := range s.afterCommand {
			f(cl, q.cmd, q.args, d, failed)
		}
	}
	s.db.Unlock()
	for _, e := range evs {
		s.db.Deliver(e)
	}
}
