// Package server is the RESP front end of wasmgears: the command table,
// the Redis data commands, connection handling and observability.
package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"

	"github.com/wasmgears/wasmgears/storage"
)

// Server is a running wasmgears server.
type Server struct {
	cfg *Config
	db  *storage.DB
	log *slog.Logger

	ln    net.Listener
	rs    *redcon.Server
	start time.Time
	runID string

	clientsMu sync.Mutex
	clients   map[int64]*Client
	nextID    atomic.Int64

	waits   waitRegistry
	watches watchRegistry
	stats   *stats

	shutdownOnce sync.Once
	shutdownc    chan struct{}

	// hooks filled by optional parts (pub/sub, monitor, metrics, gears)
	afterCommand []func(c *Client, cmd *Command, args [][]byte, d time.Duration, failed bool)
	onEvents     []func([]storage.Event)
	onClose      []func(c *Client)
	ext          sync.Map // per-feature state, keyed by a feature's private key type
	procs        *procs   // GOMAXPROCS governor (procs.go)
}

// New opens the keyspace in cfg's dir and prepares a server.
func New(cfg *Config, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	cacheMB, _ := strconv.Atoi(cfg.Get("block-cache-mb"))
	db, err := storage.Open(cfg.Get("dir"), storage.Options{Fsync: cfg.Get("appendfsync"), Logger: log, CacheMB: cacheMB})
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, db: db, log: log, start: time.Now(), runID: newRunID(),
		clients: map[int64]*Client{}, shutdownc: make(chan struct{}),
	}
	s.stats = newStats()
	db.SetLockedHook(func(evs []storage.Event) {
		s.touchWatched(evs)
		s.gearsEvents(nil, evs)
	})
	db.Subscribe(func(evs []storage.Event) {
		s.waits.signal(evs)
		for _, f := range s.onEvents {
			f(evs)
		}
	})
	for _, f := range initHooks {
		if err := f(s); err != nil {
			db.Close()
			return nil, err
		}
	}
	return s, nil
}

// initHooks let optional parts of the package attach to a new Server.
var initHooks []func(s *Server) error

// DB returns the keyspace.
func (s *Server) DB() *storage.DB { return s.db }

// Config returns the live configuration.
func (s *Server) Config() *Config { return s.cfg }

// Addr is the listening address (after Listen).
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Listen binds the RESP listener.
func (s *Server) Listen() error {
	addr := net.JoinHostPort(s.cfg.Get("bind"), s.cfg.Get("port"))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	s.ln = guardListener{ln}
	s.rs = redcon.NewServerNetwork("tcp", addr, s.serveRESP, s.accept, s.closed)
	return nil
}

// Serve handles connections until Shutdown.
func (s *Server) Serve() error {
	s.log.Info("ready to accept connections", "addr", s.ln.Addr().String(), "dir", s.cfg.Get("dir"))
	err := s.rs.Serve(s.ln)
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Done is closed when the server is shutting down.
func (s *Server) Done() <-chan struct{} { return s.shutdownc }

// Shutdown stops accepting, closes clients and closes the keyspace.
func (s *Server) Shutdown() error {
	var err error
	s.shutdownOnce.Do(func() {
		close(s.shutdownc)
		if s.rs != nil {
			s.rs.Close()
		}
		s.clientsMu.Lock()
		for _, c := range s.clients {
			c.Kill() // not conn.Close: that flushes redcon's buffer from this goroutine
		}
		s.clientsMu.Unlock()
		for _, f := range shutdownHooks {
			f(s)
		}
		err = s.db.Close()
		s.log.Info("shut down")
	})
	return err
}

var shutdownHooks []func(s *Server)

func (s *Server) accept(conn redcon.Conn) bool {
	maxc, _ := strconv.Atoi(s.cfg.Get("maxclients"))
	s.clientsMu.Lock()
	n := len(s.clients)
	s.clientsMu.Unlock()
	if n >= maxc {
		conn.WriteError("ERR max number of clients reached")
		s.stats.rejectedConns.Add(1)
		return false
	}
	c := newClient(s, conn)
	conn.SetContext(c)
	s.clientsMu.Lock()
	s.clients[c.ID] = c
	s.clientsMu.Unlock()
	s.stats.totalConns.Add(1)
	return true
}

func (s *Server) closed(conn redcon.Conn, err error) {
	c, _ := conn.Context().(*Client)
	if c == nil {
		return
	}
	c.close()
	s.clientsMu.Lock()
	delete(s.clients, c.ID)
	s.clientsMu.Unlock()
	for _, f := range s.onClose {
		f(c)
	}
}

// serveRESP is redcon's handler: one command of one connection.
func (s *Server) serveRESP(conn redcon.Conn, rc redcon.Command) {
	c := conn.Context().(*Client)
	if c.killed.Load() {
		conn.Close()
		return
	}
	c.w.Reset()
	a := c.async.Load()
	if a != nil {
		a.begin()
	}
	s.dispatch(c, rc.Args, &c.w)
	if a = c.async.Load(); a != nil { // subscriber/monitor: queued output
		a.reply(c, conn)
		return
	}
	if c.w.Len() > 0 {
		conn.WriteRaw(c.w.Bytes())
	}
	if c.closeAfterReply {
		conn.Close()
	}
}

// dispatch looks up, checks and runs one command, writing its reply to w.
func (s *Server) dispatch(c *Client, args [][]byte, w *Writer) {
	c.lastActive.Store(time.Now().UnixMilli())
	if len(args) == 0 {
		return
	}
	cmd := lookup(args[0])
	if cmd == nil {
		w.Error(unknownCommand(args))
		s.stats.errorReply("ERR")
		c.flagMulti()
		return
	}
	if len(cmd.Subs) > 0 && len(args) >= 2 {
		if sub := cmd.Sub(args[1]); sub != nil {
			cmd = sub
		} else if cmd.Parse == nil {
			w.Error(fmt.Sprintf("ERR unknown subcommand '%s'. Try %s HELP.", truncArg(args[1]), strings.ToUpper(cmd.Name)))
			s.stats.errorReply("ERR")
			return
		}
	}
	if !cmd.arityOK(len(args)) {
		w.Error(fmt.Sprintf("ERR wrong number of arguments for '%s' command", cmd.Name))
		s.stats.reject(cmd)
		c.flagMulti()
		return
	}
	if !c.authenticated() && cmd.Flags&FlagNoAuth == 0 {
		w.Error("NOAUTH Authentication required.")
		s.stats.reject(cmd)
		c.flagMulti()
		return
	}
	if c.multi != nil && !multiControl[cmd.Name] {
		c.queue(cmd, args, w)
		return
	}
	if msg := c.contextError(cmd); msg != "" {
		w.Error(msg)
		s.stats.reject(cmd)
		return
	}
	s.callClient(c, cmd, args, w)
}

// flagMulti makes a pending EXEC fail with EXECABORT after a command was
// rejected while queuing (as Redis' flagTransaction).
func (c *Client) flagMulti() {
	if c.multi != nil {
		c.multi.dirty = true
	}
}

// call parses and runs cmd; used by dispatch, EXEC and gears' execute().
func (s *Server) call(c *Client, cmd *Command, args [][]byte, w *Writer, inMulti bool) {
	start := time.Now()
	mark := w.Len()
	s.run(c, cmd, args, w, inMulti)
	d := time.Since(start)
	failed := w.Len() > mark && w.Bytes()[mark] == '-'
	s.stats.record(cmd, d, failed, w.Bytes()[mark:])
	c.lastCmd = cmd.Name
	for _, f := range s.afterCommand {
		f(c, cmd, args, d, failed)
	}
}

func (s *Server) run(c *Client, cmd *Command, args [][]byte, w *Writer, inMulti bool) {
	if cmd.Parse == nil {
		w.Error(fmt.Sprintf("ERR unknown subcommand or wrong number of arguments for '%s'", cmd.FullName()))
		return
	}
	r, err := cmd.Parse(args)
	if err != nil {
		(&Ctx{S: s, C: c, W: w, Cmd: cmd}).Err(err)
		return
	}
	ctx := &Ctx{S: s, C: c, W: w, Cmd: cmd, Args: args, InMulti: inMulti}
	if cmd.Flags&(FlagWrite|FlagReadonly) == 0 {
		r.Run(ctx)
		return
	}
	for {
		mark := w.Len()
		var wt *waiter
		evs, ok := s.runTx(ctx, r, func() {
			// still under the lock: register the wait so no write is lost
			if b := ctx.block; b != nil && !inMulti {
				if ctx.deadline.IsZero() && b.timeout > 0 {
					ctx.deadline = time.Now().Add(b.timeout)
				}
				wt = &waiter{ch: make(chan struct{}, 1)}
				s.waits.add(c.DB, b.keys, wt)
			}
		})
		s.db.Deliver(evs)
		if !ok || ctx.block == nil {
			return
		}
		b := ctx.block
		ctx.block = nil
		if inMulti {
			timeoutReply(ctx, b)
			return
		}
		woke := c.wait(wt, ctx.deadline)
		s.waits.remove(c.DB, b.keys, wt)
		w.Truncate(mark)
		if !woke {
			timeoutReply(ctx, b)
			return
		}
		ctx.retried = true
	}
}

func timeoutReply(ctx *Ctx, b *blockReq) {
	if b.onTime != nil {
		b.onTime(ctx)
	} else {
		ctx.W.NullArray()
	}
}

// runTx runs r in a keyspace transaction and commits it; before unlocking
// it calls locked. It returns the events to deliver. A client's
// transaction may run on another client's goroutine (storage.DB.Combine):
// the client waits meanwhile, and r only touches its own ctx.
func (s *Server) runTx(ctx *Ctx, r Runner, locked func()) (evs []storage.Event, ok bool) {
	if ctx.C.lockHeld {
		return s.txLocked(ctx, r, locked)
	}
	s.db.Combine(func() { evs, ok = s.txLocked(ctx, r, locked) })
	return evs, ok
}

// txLocked is runTx's body, under the keyspace lock.
func (s *Server) txLocked(ctx *Ctx, r Runner, locked func()) ([]storage.Event, bool) {
	mark := ctx.W.Len()
	tx := s.db.Begin(ctx.C.DB)
	tx.Cmd = ctx.Cmd.Name
	ctx.Tx = tx
	r.Run(ctx)
	ctx.Tx = nil
	if err := tx.Commit(); err != nil {
		tx.Discard()
		tx.Release()
		ctx.W.Truncate(mark)
		ctx.Err(fmt.Errorf("commit: %w", err))
		return nil, false
	}
	evs := tx.TakeEvents()
	tx.Release()
	s.touchWatched(evs)
	s.gearsEvents(ctx.C, evs)
	if locked != nil {
		locked()
	}
	return evs, true
}

// multiControl are the commands that run (not queue) inside MULTI.
var multiControl = map[string]bool{"exec": true, "discard": true, "multi": true, "watch": true, "quit": true, "reset": true}

func unknownCommand(args [][]byte) string {
	var b strings.Builder
	fmt.Fprintf(&b, "ERR unknown command '%s', with args beginning with: ", truncArg(args[0]))
	for _, a := range args[1:] {
		if b.Len() > 400 {
			break
		}
		fmt.Fprintf(&b, "'%s' ", truncArg(a))
	}
	return b.String()
}

func truncArg(a []byte) string {
	if len(a) > 128 {
		a = a[:128]
	}
	return string(a)
}

func newRunID() string { return fmt.Sprintf("%x", randBytes(20)) }
