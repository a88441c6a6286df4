package host

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/wasmgears/wasmgears/abi"
)

// Session is one RG.PYEXECUTE: one interpreter, driven by exactly one
// goroutine at a time: whoever holds the session's token. Do runs work on
// the calling goroutine when the token is free (no goroutine switch);
// otherwise the work goes through the mailbox to the actor, or to the
// goroutine driving the session while it waits in a host call: a host call
// that blocks (sleep, the keyspace lock) keeps serving the mailbox,
// re-entering the guest on the same goroutine.
type Session struct {
	ID          string
	Description *string
	Created     time.Time

	g       *Gears
	inst    *Instance
	out     *logWriter
	mbox    chan *task
	quit    chan struct{}
	closeMu sync.Mutex // one close at a time
	stuck   bool       // close could not stop the guest
	wg      sync.WaitGroup
	// lmbox carries tasks whose sender holds the keyspace lock for them
	// (sync registrations): they may run while the driver waits for that
	// lock; the others (mbox) may not, they would wait for it too, nested
	// under the first wait, and never get it.
	lmbox chan *task
	// tok is the driving token (one slot); handoff and lhandoff pass a
	// task from the actor to the goroutine driving the session while it
	// waits serving.
	tok               chan struct{}
	handoff, lhandoff chan *task

	// lockHeld: the keyspace lock is held for this session's driver (its
	// own hold, an atomic() block's or a borrowed one); only the driving
	// goroutine reads or writes it.
	lockHeld      bool
	unlockFn      func() // lockServing's undo, made once
	atomic        bool
	atomicRelease func()
	// onCreate receives executions created by run() during a script.
	onCreate func(*Execution)
	// code is the script that created the session (persisted with it).
	code string
	// pendingRegs are the script's registrations until it succeeds;
	// regs the live ones (guarded by Gears.mu).
	pendingRegs []*Registration
	regs        []*Registration
	// restoreIDs, during a restore, are the registration ids to reuse.
	restoreIDs []string
	restoring  bool
	// replacing is the session an UPGRADE / REPLACE_WITH replaces: its
	// trigger names may be registered again.
	replacing *Session
	// current is the running execution (for aborts during host calls).
	current *Execution
	// client is the server's per-session client state (opaque here).
	Client any
	// site is the interpreter's /usr/local/site; reqs the session's
	// resolved requirements and wasm their instantiated modules
	// (requirements.go, wasmreq.go).
	site *siteSwitch
	reqs *reqSet
	wasm *wasmState
}

type task struct {
	fn   func(ctx context.Context, in *Instance) error
	ctx  context.Context
	err  error
	done chan struct{} // one slot: served
}

// lockServing makes sure the keyspace lock is held for the actor and
// returns the function that undoes it. While it waits for the lock it
// keeps serving the mailbox: a command holding the lock may be waiting
// for this very session to run a sync registration (DESIGN.md,
// Concurrency), and that task runs here, under the borrowed lock.
func (s *Session) lockServing() (release func()) {
	if s.lockHeld {
		return noRelease
	}
	b := s.g.backend
	if !b.TryLockKeyspace() {
		got := make(chan struct{})
		go func() {
			b.LockKeyspace()
			close(got)
		}()
		s.waitServing(got, -1, true)
	}
	s.lockHeld = true
	return s.unlockFn
}

func noRelease() {}

func (g *Gears) newSession(ctx context.Context, id string, desc *string) (*Session, error) {
	g.mu.Lock()
	closing := g.closing
	g.mu.Unlock()
	if closing {
		return nil, fmt.Errorf("new session %s: the server is shutting down", id)
	}
	pi, err := g.pool.get(ctx)
	if err != nil {
		return nil, fmt.Errorf("new session %s: %w", id, err)
	}
	s := &Session{ID: id, Description: desc, Created: time.Now(), g: g, inst: pi.inst, out: pi.out,
		mbox: make(chan *task), quit: make(chan struct{}), site: pi.site,
		lmbox: make(chan *task), tok: make(chan struct{}, 1), handoff: make(chan *task), lhandoff: make(chan *task)}
	s.unlockFn = func() {
		s.lockHeld = false
		g.backend.UnlockKeyspace()
	}
	s.tok <- struct{}{}
	pi.out.setSession(id)
	s.inst.OnCall = s.onCall
	g.mu.Lock()
	if g.live == nil {
		g.live = map[*Session]struct{}{}
	}
	g.live[s] = struct{}{}
	g.mu.Unlock()
	g.stats.SessionsCreated.Add(1)
	s.wg.Add(1)
	go s.actor()
	return s, nil
}

func (s *Session) actor() {
	defer s.wg.Done()
	for {
		select {
		case t := <-s.mbox:
			s.drive(t, s.handoff)
		case t := <-s.lmbox:
			s.drive(t, s.lhandoff)
		case <-s.quit:
			return
		}
	}
}

// drive serves t with the token, or hands it to the driver if that is
// waiting in a host call and may serve it.
func (s *Session) drive(t *task, handoff chan *task) {
	select {
	case <-s.tok:
		s.serve(t)
		s.tok <- struct{}{}
	case handoff <- t:
	}
}

func (s *Session) serve(t *task) {
	if a := s.g.activity; a != nil {
		bg := t.ctx.Value(backgroundKey{}) != nil
		a(1, bg)
		defer a(-1, bg)
	}
	t.err = t.fn(t.ctx, s.inst)
	if s.inst.Depth() == 0 {
		s.out.flush()
	}
	t.done <- struct{}{}
}

// Do runs fn on the session and waits for it: on the calling goroutine
// when nobody drives the session, else through the mailbox.
func (s *Session) Do(ctx context.Context, fn func(ctx context.Context, in *Instance) error) error {
	return s.do(ctx, fn, s.mbox)
}

// DoLocked is Do for a caller that holds the keyspace lock for fn (a sync
// registration): fn may run while the session waits for that lock.
func (s *Session) DoLocked(ctx context.Context, fn func(ctx context.Context, in *Instance) error) error {
	return s.do(ctx, fn, s.lmbox)
}

// tasks are reused: every execution makes one. A task's done receives
// exactly once, when it has been served.
var tasks = sync.Pool{New: func() any { return &task{done: make(chan struct{}, 1)} }}

func (s *Session) do(ctx context.Context, fn func(ctx context.Context, in *Instance) error, mbox chan *task) error {
	t := tasks.Get().(*task)
	t.fn, t.ctx = fn, ctx
	err := s.run(t, mbox)
	*t = task{done: t.done}
	tasks.Put(t)
	return err
}

// run serves t on this goroutine when it gets the token, else through
// mbox, and waits for it.
func (s *Session) run(t *task, mbox chan *task) error {
	select {
	case <-s.tok:
		select {
		case <-s.quit:
			s.tok <- struct{}{}
			return fmt.Errorf("session %s is closed", s.ID)
		default:
		}
		s.serve(t)
		s.tok <- struct{}{}
		<-t.done
		return t.err
	default:
	}
	select {
	case mbox <- t:
	case <-s.quit:
		return fmt.Errorf("session %s is closed", s.ID)
	}
	<-t.done
	return t.err
}

// waitServing blocks the actor until done is closed or d passes (d < 0:
// no timeout), serving the mailbox meanwhile. It reports whether done
// closed.
//
// locking: the wait is for the keyspace lock, so only tasks whose sender
// holds it are served.
func (s *Session) waitServing(done <-chan struct{}, d time.Duration, locking bool) bool {
	mbox, handoff := s.mbox, s.handoff
	if locking {
		mbox, handoff = nil, nil // a nil channel never receives
	}
	var tc <-chan time.Time
	if d >= 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		tc = t.C
	}
	for {
		select {
		case <-done:
			return true
		case <-tc:
			return false
		case t := <-mbox:
			s.serve(t)
		case t := <-handoff:
			s.serve(t)
		case t := <-s.lmbox:
			s.serve(t)
		case t := <-s.lhandoff:
			s.serve(t)
		}
	}
}

// release frees the session if nothing keeps it (no registrations).
func (s *Session) release(ctx context.Context) {
	s.g.mu.Lock()
	keep := len(s.regs) > 0
	s.g.mu.Unlock()
	if !keep {
		s.close(ctx)
	}
}

// close stops the actor and frees the interpreter; false if the guest
// could not be stopped (it is left running). Callers may race (the server
// shutting down while an unblocking execution's session is released): the
// second waits for the first and gets its answer. Gears.Close waits for
// every close under way before it closes the runtime.
func (s *Session) close(ctx context.Context) bool {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	select {
	case <-s.quit:
		return !s.stuck
	default:
		close(s.quit)
	}
	g := s.g
	g.mu.Lock()
	delete(g.live, s)
	g.closingSessions++
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.stuckSessions = g.stuckSessions || s.stuck
		if g.closingSessions--; g.closingSessions == 0 {
			g.sessionsClosed.Broadcast()
		}
		g.mu.Unlock()
	}()
	// A running invoke must end before the instance can close: stop it
	// (and kill it in strict mode if it does not yield).
	stopped := make(chan struct{})
	go func() {
		s.wg.Wait()
		<-s.tok // and no goroutine drives it inline
		close(stopped)
	}()
	for i := 0; ; i++ {
		s.inst.Stop()
		select {
		case <-stopped:
		case <-time.After(100 * time.Millisecond):
			if i < 10 {
				continue
			}
			if !s.inst.Kill() {
				s.g.log.Error("session does not stop; leaving its interpreter behind", "session", s.ID)
				s.stuck = true
				return false
			}
			<-stopped
		}
		break
	}
	if s.atomic { // the guest died inside atomic(): release the lock
		s.atomic = false
		s.atomicRelease()
	}
	s.out.flush()
	s.closeWasm(ctx)
	retireMemory(s.inst)
	s.inst.Close(ctx)
	return true
}

// onCall serves the guest's host calls (on the actor goroutine).
func (s *Session) onCall(ctx context.Context, in *Instance, req []byte) ([]byte, error) {
	v, _, err := abi.Decode(req)
	if err != nil {
		return nil, fmt.Errorf("session %s: bad host call: %w", s.ID, err)
	}
	if v.Kind != abi.KindArray || len(v.Elems) == 0 {
		return nil, fmt.Errorf("session %s: host call is not an array", s.ID)
	}
	op := v.Elems[0].Str
	raw := make([][]byte, 0, len(v.Elems)-1)
	for _, a := range v.Elems[1:] {
		raw = append(raw, a.Str)
	}
	switch string(op) {
	case abi.CallExecute:
		if s.restoring {
			return errorReply("ERR commands are not run while a session is being restored"), nil
		}
		defer s.lockServing()()
		return s.g.backend.Execute(s, raw), nil
	case abi.CallLog:
		if len(raw) == 2 {
			s.g.log.Log(ctx, logLevel(string(raw[0])), "GEARS: "+string(raw[1]), "session", s.ID)
		}
		return okReply, nil
	case abi.CallSleep:
		if len(raw) != 1 {
			return nil, fmt.Errorf("sleep: want 1 argument")
		}
		sec, err := strconv.ParseFloat(string(raw[0]), 64)
		if err != nil || sec < 0 {
			return nil, fmt.Errorf("sleep: bad duration %q", raw[0])
		}
		var stop <-chan struct{}
		if e := s.current; e != nil {
			stop = e.abortc
		}
		if s.waitServing(stop, time.Duration(sec*float64(time.Second)), false) {
			return nil, errStopped
		}
		return okReply, nil
	case "config_get":
		if len(raw) == 1 {
			if v, ok := s.g.cfg.Extra(string(raw[0])); ok {
				return abi.Bulk([]byte(v)).Encode(), nil
			}
		}
		return nullReply, nil
	case "gears_config":
		if len(raw) == 1 {
			if v, _, ok := s.g.cfg.Get(string(raw[0])); ok {
				return abi.Bulk([]byte(v)).Encode(), nil
			}
		}
		return nullReply, nil
	case "atomic_begin":
		if s.atomic {
			return errorReply("Already inside an atomic block"), nil
		}
		s.atomicRelease = s.lockServing()
		s.atomic = true
		return okReply, nil
	case "atomic_end":
		if s.atomic {
			s.atomic = false
			s.atomicRelease()
		}
		return okReply, nil
	case "keys_read":
		if len(raw) != 4 {
			return nil, fmt.Errorf("keys_read: want 4 arguments")
		}
		kept := s.lockHeld // atomic() or a borrowed hold: still held after the call
		defer s.lockServing()()
		return s.g.backend.KeysRead(s, raw[0], raw[1], string(raw[2]) == "1", string(raw[3]) == "1", !kept), nil
	case "hook_next":
		return s.callNext(raw), nil
	case "get_command":
		return s.getCommand(), nil
	case "override_reply":
		if len(raw) != 1 {
			return nil, fmt.Errorf("override_reply: want 1 argument")
		}
		return s.overrideReply(raw[0]), nil
	case "wasm":
		return s.wasmCall(ctx, raw)
	case "reg_create":
		return s.createRegistration(raw)
	case "exec_create":
		if s.restoring { // restore mode: run() does nothing
			return abi.BulkString("").Encode(), nil
		}
		return s.createExecution(raw)
	}
	return errorReply("ERR unknown host call '" + string(op) + "'"), nil
}

var errStopped = fmt.Errorf("stopped")

var (
	okReply   = []byte("+OK\r\n")
	nullReply = []byte("_\r\n")
)

func errorReply(msg string) []byte { return []byte("-" + msg + "\r\n") }

func logLevel(l string) slog.Level {
	switch l {
	case "debug":
		return slog.LevelDebug - 4
	case "verbose":
		return slog.LevelDebug
	case "warning":
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// logWriter sends guest stdout/stderr lines to the server log, tagged with
// the session. Partial lines are kept until a newline or flush.
type logWriter struct {
	mu      sync.Mutex
	log     *slog.Logger
	session string
	bufs    map[string][]byte // per stream
}

// streamWriter is one stream (stdout/stderr) of a logWriter.
type streamWriter struct {
	w    *logWriter
	name string
}

func (w *logWriter) stream(name string) io.Writer { return streamWriter{w, name} }

func (s streamWriter) Write(p []byte) (int, error) { return s.w.write(s.name, p) }

func (w *logWriter) setSession(id string) {
	w.mu.Lock()
	w.session = id
	w.mu.Unlock()
}

func (w *logWriter) write(stream string, p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.bufs == nil {
		w.bufs = map[string][]byte{}
	}
	buf := append(w.bufs[stream], p...)
	for {
		i := bytes.IndexByte(buf, '\n')
		if i < 0 {
			break
		}
		w.emit(stream, buf[:i])
		buf = buf[i+1:]
	}
	if len(buf) > 64<<10 { // a huge line without newline: emit it anyway
		w.emit(stream, buf)
		buf = nil
	}
	w.bufs[stream] = buf
	return len(p), nil
}

func (w *logWriter) emit(stream string, line []byte) {
	w.log.Info(string(line), "session", w.session, "stream", stream)
}

// flush emits partial lines; called at the end of every invocation.
func (w *logWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for stream, buf := range w.bufs {
		if len(buf) > 0 {
			w.emit(stream, buf)
		}
		delete(w.bufs, stream)
	}
}
