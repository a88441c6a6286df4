package server

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"

	"github.com/wasmgears/wasmgears/storage"
)

// Pub/sub: SUBSCRIBE PSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE PUBLISH PUBSUB.
//
// Messages reach a subscriber from other goroutines (a publisher's, or the
// one delivering keyspace events), and redcon.Conn is only safe on its own
// goroutine. So a client that subscribes (or MONITORs) switches to queued
// output (clientAsync): its replies and the pushes are appended to one
// buffer under a mutex and a writer goroutine sends them. Pushes that
// arrive while the client's own command runs wait in pending and go out
// right after its reply, so a SUBSCRIBE confirmation always precedes the
// first message.

// maxAsyncOutput is the output a slow subscriber may have queued before it
// is disconnected (Redis' pubsub client-output-buffer-limit is 32mb).
const maxAsyncOutput = 32 << 20

// clientAsync is the queued output of a subscriber or monitor client.
type clientAsync struct {
	c       *Client
	mu      sync.Mutex
	inCmd   bool   // the client's own command is running
	pending []byte // pushes that arrived during the command
	out     []byte // bytes the writer goroutine has to send
	spare   []byte
	started bool
	dead    bool
	wake    chan struct{}
	wmu     sync.Mutex // held while writing to the socket, keeps order

	// guarded by the pubsub registry's mutex
	channels map[string]struct{}
	patterns map[string]struct{}
	monitor  bool
}

// enterAsync switches c to queued output (idempotent); called by the
// client's own command, so that command's reply is ordered first.
func (c *Client) enterAsync() *clientAsync {
	if a := c.async.Load(); a != nil {
		return a
	}
	a := &clientAsync{c: c, inCmd: true, wake: make(chan struct{}, 1),
		channels: map[string]struct{}{}, patterns: map[string]struct{}{}}
	c.async.Store(a)
	return a
}

// begin marks the start of one of the client's commands.
func (a *clientAsync) begin() {
	a.mu.Lock()
	a.inCmd = true
	a.mu.Unlock()
}

// reply queues the command's reply (in c.w), then the pushes that came
// meanwhile. The first time it also flushes what redcon still buffers from
// earlier commands of the pipeline and starts the writer goroutine.
func (a *clientAsync) reply(c *Client, conn redcon.Conn) {
	a.mu.Lock()
	if !a.started {
		a.started = true
		if c.w.Len() > 0 {
			conn.WriteRaw(c.w.Bytes())
		}
		if bw := redcon.BaseWriter(conn); bw != nil {
			bw.Flush() // nothing else writes yet: pushes wait in pending
		}
		if c.conn != nil && !c.closeAfterReply {
			go a.run()
		}
	} else {
		a.out = append(a.out, c.w.Bytes()...)
	}
	a.out = append(a.out, a.pending...)
	a.pending = a.pending[:0]
	a.inCmd = false
	a.mu.Unlock()
	if c.closeAfterReply {
		a.flush()
		conn.Close()
		return
	}
	a.signal()
}

func (a *clientAsync) signal() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// push queues an encoded message for the client.
func (a *clientAsync) push(b []byte) {
	a.mu.Lock()
	if a.dead {
		a.mu.Unlock()
		return
	}
	if len(a.out)+len(a.pending)+len(b) > maxAsyncOutput {
		a.dead = true
		a.out, a.pending = nil, nil
		a.mu.Unlock()
		a.c.s.log.Warn("client output buffer limit reached, closing client", "id", a.c.ID, "addr", a.c.Addr)
		a.c.Kill()
		return
	}
	if a.inCmd {
		a.pending = append(a.pending, b...)
		a.mu.Unlock()
		return
	}
	a.out = append(a.out, b...)
	a.mu.Unlock()
	a.signal()
}

// flush writes everything queued; false when the connection failed.
func (a *clientAsync) flush() bool {
	a.wmu.Lock()
	defer a.wmu.Unlock()
	a.mu.Lock()
	buf := a.out
	a.out = a.spare[:0]
	a.spare = nil
	a.mu.Unlock()
	if len(buf) == 0 {
		a.mu.Lock()
		a.spare = buf
		a.mu.Unlock()
		return true
	}
	_, err := a.c.conn.NetConn().Write(buf)
	a.mu.Lock()
	if cap(buf) <= 1<<20 {
		a.spare = buf[:0]
	}
	a.mu.Unlock()
	return err == nil
}

// run is the writer goroutine.
func (a *clientAsync) run() {
	for {
		select {
		case <-a.wake:
			if !a.flush() {
				a.c.Kill()
				return
			}
		case <-a.c.done:
			return
		}
	}
}

// pubsub is the server's subscription registry.
type pubsub struct {
	mu       sync.RWMutex
	channels map[string]map[*clientAsync]struct{}
	patterns map[string]map[*clientAsync]struct{}
	monitors map[*clientAsync]struct{}
	nmon     atomic.Int32
	notify   atomic.Int64 // parsed notify-keyspace-events
	// npat counts pattern subscriptions, so PUBLISH can skip the pattern scan.
	npat atomic.Int64
}

type pubsubKey struct{}

func (s *Server) pubsub() *pubsub {
	v, _ := s.ext.Load(pubsubKey{})
	return v.(*pubsub)
}

func init() {
	initHooks = append(initHooks, func(s *Server) error {
		ps := &pubsub{channels: map[string]map[*clientAsync]struct{}{}, patterns: map[string]map[*clientAsync]struct{}{},
			monitors: map[*clientAsync]struct{}{}}
		f, err := parseNotifyFlags(s.cfg.Get("notify-keyspace-events"))
		if err != nil {
			return err
		}
		ps.notify.Store(int64(f))
		s.ext.Store(pubsubKey{}, ps)
		s.onEvents = append(s.onEvents, func(evs []storage.Event) { s.notifyKeyspace(ps, evs) })
		s.onClose = append(s.onClose, func(c *Client) {
			if a := c.async.Load(); a != nil {
				ps.unsubscribeAll(a, false, nil)
				ps.unsubscribeAll(a, true, nil)
				ps.setMonitor(a, false)
			}
		})
		s.afterCommand = append(s.afterCommand, func(c *Client, cmd *Command, args [][]byte, _ time.Duration, _ bool) {
			if ps.nmon.Load() > 0 {
				s.feedMonitors(ps, c, cmd, args)
			}
		})
		return nil
	})
	resetHooks = append(resetHooks, func(c *Ctx) {
		if a := c.C.async.Load(); a != nil {
			ps := c.S.pubsub()
			ps.unsubscribeAll(a, false, nil)
			ps.unsubscribeAll(a, true, nil)
			ps.setMonitor(a, false)
		}
	})
}

// subscribe adds channels (or patterns) for a and writes one confirmation
// per name into w.
func (ps *pubsub) subscribe(a *clientAsync, names [][]byte, pattern bool, w *Writer) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	reg, own, kind := ps.channels, a.channels, "subscribe"
	if pattern {
		reg, own, kind = ps.patterns, a.patterns, "psubscribe"
	}
	for _, n := range names {
		name := string(n)
		if _, ok := own[name]; !ok {
			own[name] = struct{}{}
			m := reg[name]
			if m == nil {
				m = map[*clientAsync]struct{}{}
				reg[name] = m
			}
			m[a] = struct{}{}
			a.c.subscribed.Add(1)
			if pattern {
				ps.npat.Add(1)
			}
		}
		w.Push(3)
		w.BulkString(kind)
		w.Bulk(n)
		w.Int(int64(len(a.channels) + len(a.patterns)))
	}
}

// unsubscribe removes names (all when names is empty), writing a
// confirmation per name into w (w may be nil: no replies).
func (ps *pubsub) unsubscribe(a *clientAsync, names [][]byte, pattern bool, w *Writer) {
	if len(names) == 0 {
		ps.unsubscribeAll(a, pattern, w)
		return
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for _, n := range names {
		ps.unsubOne(a, string(n), pattern, w)
	}
}

func (ps *pubsub) unsubOne(a *clientAsync, name string, pattern bool, w *Writer) {
	reg, own, kind := ps.channels, a.channels, "unsubscribe"
	if pattern {
		reg, own, kind = ps.patterns, a.patterns, "punsubscribe"
	}
	if _, ok := own[name]; ok {
		delete(own, name)
		if m := reg[name]; m != nil {
			delete(m, a)
			if len(m) == 0 {
				delete(reg, name)
			}
		}
		a.c.subscribed.Add(-1)
		if pattern {
			ps.npat.Add(-1)
		}
	}
	if w != nil {
		w.Push(3)
		w.BulkString(kind)
		w.BulkString(name)
		w.Int(int64(len(a.channels) + len(a.patterns)))
	}
}

func (ps *pubsub) unsubscribeAll(a *clientAsync, pattern bool, w *Writer) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	own, kind := a.channels, "unsubscribe"
	if pattern {
		own, kind = a.patterns, "punsubscribe"
	}
	if len(own) == 0 {
		if w != nil {
			w.Push(3)
			w.BulkString(kind)
			w.Null()
			w.Int(int64(len(a.channels) + len(a.patterns)))
		}
		return
	}
	names := make([]string, 0, len(own))
	for n := range own {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ps.unsubOne(a, n, pattern, w)
	}
}

func (ps *pubsub) setMonitor(a *clientAsync, on bool) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if on == a.monitor {
		return
	}
	a.monitor = on
	if on {
		ps.monitors[a] = struct{}{}
		ps.nmon.Add(1)
	} else {
		delete(ps.monitors, a)
		ps.nmon.Add(-1)
	}
}

// publish sends msg on channel; it returns the number of receivers.
func (ps *pubsub) publish(channel, msg []byte) int {
	type recv struct {
		a   *clientAsync
		pat string
	}
	var rs []recv
	ps.mu.RLock()
	for a := range ps.channels[string(channel)] {
		rs = append(rs, recv{a, ""})
	}
	if ps.npat.Load() > 0 {
		for p, m := range ps.patterns {
			if storage.Match([]byte(p), channel, false) {
				for a := range m {
					rs = append(rs, recv{a, p})
				}
			}
		}
	}
	ps.mu.RUnlock()
	if len(rs) == 0 {
		return 0
	}
	var enc [2][]byte // channel messages by RESP2/RESP3
	for _, r := range rs {
		p := 0
		if r.a.c.proto() >= 3 {
			p = 1
		}
		if r.pat != "" {
			w := Writer{Proto: p + 2}
			w.Push(4)
			w.BulkString("pmessage")
			w.BulkString(r.pat)
			w.Bulk(channel)
			w.Bulk(msg)
			r.a.push(w.Bytes())
			continue
		}
		if enc[p] == nil {
			w := Writer{Proto: p + 2}
			w.Push(3)
			w.BulkString("message")
			w.Bulk(channel)
			w.Bulk(msg)
			enc[p] = w.Bytes()
		}
		r.a.push(enc[p])
	}
	return len(rs)
}

// Publish sends a message to a channel's subscribers (used by gears too).
func (s *Server) Publish(channel, msg []byte) int { return s.pubsub().publish(channel, msg) }

type subscribeCmd struct {
	names   [][]byte
	pattern bool
}

func (sc subscribeCmd) Run(c *Ctx) {
	if c.C.conn == nil {
		c.W.Error("ERR " + c.Cmd.Name + " is not allowed here")
		return
	}
	a := c.C.enterAsync()
	c.S.pubsub().subscribe(a, sc.names, sc.pattern, c.W)
}

type unsubscribeCmd struct {
	names   [][]byte
	pattern bool
}

func (u unsubscribeCmd) Run(c *Ctx) {
	a := c.C.async.Load()
	if a == nil {
		kind := "unsubscribe"
		if u.pattern {
			kind = "punsubscribe"
		}
		if len(u.names) == 0 {
			c.W.Push(3)
			c.W.BulkString(kind)
			c.W.Null()
			c.W.Int(0)
			return
		}
		for _, n := range u.names {
			c.W.Push(3)
			c.W.BulkString(kind)
			c.W.Bulk(n)
			c.W.Int(0)
		}
		return
	}
	c.S.pubsub().unsubscribe(a, u.names, u.pattern, c.W)
}

func copyArgs(a [][]byte) [][]byte {
	out := make([][]byte, len(a))
	for i, b := range a {
		out[i] = append([]byte(nil), b...)
	}
	return out
}

type pubsubChannelsCmd struct {
	pattern []byte
}

func (p pubsubChannelsCmd) Run(c *Ctx) {
	ps := c.S.pubsub()
	ps.mu.RLock()
	var out []string
	for ch := range ps.channels {
		if p.pattern == nil || storage.Match(p.pattern, []byte(ch), false) {
			out = append(out, ch)
		}
	}
	ps.mu.RUnlock()
	sort.Strings(out)
	c.W.Strings(out)
}

func init() {
	const g = "pubsub"
	fl := FlagPubSub | FlagNoScript | FlagLoading | FlagStale
	register(
		&Command{Name: "subscribe", Arity: -2, Flags: fl, Group: g, Since: "2.0.0",
			Summary: "Listens for messages published to channels.", Complexity: "O(N) where N is the number of channels to subscribe to.",
			Args:  []Arg{{Name: "channel", Type: ArgString, Multiple: true}},
			Parse: func(a [][]byte) (Runner, error) { return subscribeCmd{copyArgs(a[1:]), false}, nil }},
		&Command{Name: "psubscribe", Arity: -2, Flags: fl, Group: g, Since: "2.0.0",
			Summary: "Listens for messages published to channels that match one or more patterns.", Complexity: "O(N) where N is the number of patterns to subscribe to.",
			Args:  []Arg{{Name: "pattern", Type: ArgPattern, Multiple: true}},
			Parse: func(a [][]byte) (Runner, error) { return subscribeCmd{copyArgs(a[1:]), true}, nil }},
		&Command{Name: "unsubscribe", Arity: -1, Flags: fl, Group: g, Since: "2.0.0",
			Summary: "Stops listening to messages posted to channels.", Complexity: "O(N) where N is the number of channels to unsubscribe.",
			Args:  []Arg{{Name: "channel", Type: ArgString, Optional: true, Multiple: true}},
			Parse: func(a [][]byte) (Runner, error) { return unsubscribeCmd{a[1:], false}, nil }},
		&Command{Name: "punsubscribe", Arity: -1, Flags: fl, Group: g, Since: "2.0.0",
			Summary: "Stops listening to messages published to channels that match one or more patterns.", Complexity: "O(N) where N is the number of patterns to unsubscribe.",
			Args:  []Arg{{Name: "pattern", Type: ArgPattern, Optional: true, Multiple: true}},
			Parse: func(a [][]byte) (Runner, error) { return unsubscribeCmd{a[1:], true}, nil }},
		&Command{Name: "publish", Arity: 3, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast | FlagMayReplicate, Group: g, Since: "2.0.0",
			Summary: "Posts a message to a channel.", Complexity: "O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).",
			Args:  []Arg{strArg("channel"), strArg("message")},
			Parse: simple(func(c *Ctx, a [][]byte) { c.W.Int(int64(c.S.pubsub().publish(a[1], a[2]))) })},
		&Command{Name: "pubsub", Arity: -2, Group: g, Since: "2.8.0", Summary: "A container for Pub/Sub commands.", Complexity: "Depends on subcommand.",
			Subs: []*Command{
				{Name: "channels", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Since: "2.8.0",
					Summary: "Returns the active channels.", Complexity: "O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)",
					Args: []Arg{{Name: "pattern", Type: ArgPattern, Optional: true}},
					Parse: func(a [][]byte) (Runner, error) {
						if len(a) > 3 {
							return nil, cmdError("ERR Unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.")
						}
						if len(a) == 3 {
							return pubsubChannelsCmd{a[2]}, nil
						}
						return pubsubChannelsCmd{}, nil
					}},
				{Name: "numsub", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Since: "2.8.0",
					Summary: "Returns a count of subscribers to channels.", Complexity: "O(N) for the NUMSUB subcommand, where N is the number of requested channels",
					Args: []Arg{{Name: "channel", Type: ArgString, Optional: true, Multiple: true}},
					Parse: simple(func(c *Ctx, a [][]byte) {
						ps := c.S.pubsub()
						ps.mu.RLock()
						defer ps.mu.RUnlock()
						c.W.Map(len(a) - 2)
						for _, ch := range a[2:] {
							c.W.Bulk(ch)
							c.W.Int(int64(len(ps.channels[string(ch)])))
						}
					})},
				{Name: "numpat", Arity: 2, Flags: FlagPubSub | FlagLoading | FlagStale, Since: "2.8.0",
					Summary: "Returns a count of unique pattern subscriptions.", Complexity: "O(1)",
					Parse: simple(func(c *Ctx, a [][]byte) {
						ps := c.S.pubsub()
						ps.mu.RLock()
						defer ps.mu.RUnlock()
						c.W.Int(int64(len(ps.patterns)))
					})},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Since: "6.2.0",
					Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)",
					Parse: simple(func(c *Ctx, a [][]byte) {
						writeHelp(c.W, "PUBSUB", []string{
							"CHANNELS [<pattern>]",
							"    Return the currently active channels matching a <pattern> (default: '*').",
							"NUMPAT",
							"    Return number of subscriptions to patterns.",
							"NUMSUB [<channel> ...]",
							"    Return the number of subscribers for the specified channels, excluding",
							"    pattern subscriptions(default: no channels).",
						})
					})},
			}},
	)
}

// writeHelp writes a HELP reply as Redis does.
func writeHelp(w *Writer, cmd string, lines []string) {
	all := append([]string{cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"}, lines...)
	all = append(all, "HELP", "    Print this help.")
	w.Array(len(all))
	for _, l := range all {
		w.Simple(l)
	}
}
