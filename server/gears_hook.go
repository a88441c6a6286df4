package server

import (
	"context"

	"github.com/wasmgears/wasmgears/host"
	"github.com/wasmgears/wasmgears/storage"
)

// Command hooks and KeysReader commands= on the server side: before a
// client command runs, the gears engine may take it over (a hook) or ask
// to see which client caused its events (commands=). Commands that gears
// functions run with execute() bypass both, as RedisGears' NOSELF filter.

// callClient runs a client's command (not queued in MULTI): through a hook
// when one takes it over, else normally; with KeysReader commands= on it,
// the reply waits for the linked executions and may be overridden.
func (s *Server) callClient(c *Client, cmd *Command, args [][]byte, w *Writer) {
	g := s.gearsIfReady()
	if g == nil {
		s.call(c, cmd, args, w, false)
		return
	}
	if r := g.FindHook(cmd.Name, args); r != nil {
		if r.Mode == "sync" {
			s.db.Lock()
			e := g.RunHook(context.Background(), r, args, false)
			s.db.Unlock()
			w.Raw(host.HookReply(e))
			return
		}
		w.Raw(host.HookReply(g.RunHook(context.Background(), r, args, false)))
		return
	}
	if !g.Linked(cmd.Name) {
		s.call(c, cmd, args, w, false)
		return
	}
	link := host.NewLink(args)
	c.link = link
	mark := w.Len()
	s.call(c, cmd, args, w, false)
	c.link = nil
	link.Wait(context.Background())
	if o := link.Override(); o != nil {
		w.Truncate(mark)
		w.Raw(o)
	}
}

// hookInMulti runs a hooked command queued in MULTI (the lock is held):
// only sync hooks may run there. It reports whether a hook took it.
func (s *Server) hookInMulti(cl *Client, q queued, w *Writer) bool {
	g := s.gearsIfReady()
	if g == nil {
		return false
	}
	r := g.FindHook(q.cmd.Name, q.args)
	if r == nil {
		return false
	}
	if r.Mode != "sync" {
		w.Error("ERR can not run a non-sync execution inside a MULTI/LUA (blocking is not allowed) or on loading.")
		return true
	}
	w.Raw(host.HookReply(g.RunHook(context.Background(), r, q.args, true)))
	return true
}

// CommandInfo serves hooks: the command's flags and key positions.
func (b *gearsBackend) CommandInfo(name string) (host.CommandInfo, bool) {
	cmd := lookup([]byte(name))
	if cmd == nil {
		return host.CommandInfo{}, false
	}
	return host.CommandInfo{
		NoScript:    cmd.Flags&FlagNoScript != 0,
		MovableKeys: cmd.Flags&FlagMovableKeys != 0 || cmd.Keys != nil,
		FirstKey:    cmd.FirstKey, LastKey: cmd.LastKey, Step: cmd.Step,
	}, true
}

// AppendKeyRecord reads one key for a registration's KeysReader record;
// the session holds the keyspace lock.
func (b *gearsBackend) AppendKeyRecord(dst []byte, sess *host.Session, key []byte) []byte {
	var r *storage.Record
	b.readTx(sess, func(tx *storage.Tx) error {
		var err error
		if r, err = tx.ReadRecord(key, true); err != nil {
			r = nil
		}
		return err
	})
	if r == nil { // missing, or unreadable: an 'empty' record
		r = &storage.Record{Key: key}
	}
	return appendTypeValue(dst, r)
}
