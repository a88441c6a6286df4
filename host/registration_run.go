package host

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/wasmgears/wasmgears/abi"
)

// worker runs a registration's queued executions one after another.
func (r *Registration) worker(g *Gears) {
	ctx := g.background(r)
	for {
		r.mu.Lock()
		for len(r.queue) == 0 && !r.stopped {
			r.mu.Unlock()
			<-r.wake
			r.mu.Lock()
		}
		if len(r.queue) == 0 && r.stopped {
			r.mu.Unlock()
			return
		}
		it := r.queue[0]
		r.queue = r.queue[1:]
		r.pending++
		r.mu.Unlock()
		e := g.runRegistered(ctx, r, it.fields, nil, Origin{Link: it.link})
		r.mu.Lock()
		r.pending--
		r.idleCond.Broadcast()
		r.mu.Unlock()
		if it.result != nil {
			it.result <- e
		}
	}
}

// background lowers the OS priority of the calling worker by
// BackgroundNice when no client ever waits for r's executions (a KeysReader
// without commands=, a StreamReader): on a busy machine, client commands
// then get the CPU first and the executions take what is left, instead of
// both slowing down alike (RATIONALE.md, "Background executions"). It
// returns the context of the worker's executions: marked when the thread
// is niced, so that Options.Activity reports them as background work.
func (g *Gears) background(r *Registration) context.Context {
	ctx := context.Background()
	nice := int(g.cfg.Int("BackgroundNice"))
	if nice <= 0 || (r.Reader != "StreamReader" && (r.Reader != "KeysReader" || r.Commands != nil)) {
		return ctx
	}
	if err := lowerPriority(nice); err != nil {
		g.log.Warn("lower the priority of a registration worker", "registration", r.ID, "err", err)
		return ctx
	}
	return context.WithValue(ctx, backgroundKey{}, true)
}

// backgroundKey marks the context of a niced worker's executions.
type backgroundKey struct{}

// Drain waits until the registration's queue is empty and nothing runs
// (tests and RG.UNREGISTER use it).
func (r *Registration) Drain() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.queue) > 0 || r.pending > 0 {
		r.idleCond.Wait()
	}
}

// Origin is where a registration's execution comes from.
type Origin struct {
	// Caller is the gears session whose actor holds the keyspace lock (its
	// execute() wrote), nil for a client command or the expiry sweep.
	Caller *Session
	// Link is the client command the execution serves (hooks, KeysReader
	// commands=).
	Link *Link
	// NoAsync: inside MULTI/EXEC, where an execution may not go async
	// (isAsyncAllow() is False, gearsFuture() refused).
	NoAsync bool
}

// runSync runs a sync registration inline, on the keyspace lock held by
// the firing command (or by o.Caller's actor).
func (g *Gears) runSync(r *Registration, fields [][]byte, o Origin) *Execution {
	if g.regs.depth >= maxSyncDepth {
		e := g.newRegExecution(r)
		e.finishWith(nil, fmt.Sprintf("registration recursion too deep (more than %d nested sync executions)", maxSyncDepth))
		r.account(e)
		g.log.Warn("sync registration recursion limit", "registration", r.ID)
		return e
	}
	g.regs.depth++
	defer func() { g.regs.depth-- }()
	return g.runRegistered(context.Background(), r, fields, nil, o)
}

func bulks(fields [][]byte) []abi.Value {
	out := make([]abi.Value, len(fields))
	for i, f := range fields {
		out[i] = abi.Bulk(f)
	}
	return out
}

// REG_RUN frame flags (guest/python/gearsreg.py).
const (
	regAsyncOK   = 1 // the execution may go async (not inside MULTI/EXEC)
	regProfile   = 2 // ProfileExecutions=1
	regTraceback = 4 // PythonAttemptTraceback=1
)

// regFrame encodes REG_RUN's payload [id, flags, fields..., raw] for r:
// the record's fields as bulk strings, then raw (an encoded value, for
// StreamReader batches), then for a KeysReader reading values the key's
// type and value, read under the lock now.
func (g *Gears) regFrame(s *Session, r *Registration, fields [][]byte, raw []byte, o Origin) []byte {
	flags := int64(0)
	if !o.NoAsync {
		flags |= regAsyncOK
	}
	if g.cfg.Int("ProfileExecutions") == 1 {
		flags |= regProfile
	}
	if g.cfg.Int("PythonAttemptTraceback") == 1 {
		flags |= regTraceback
	}
	n, size := 2+len(fields), 32+len(r.ID)+len(raw)
	for _, f := range fields {
		size += 16 + len(f)
	}
	if raw != nil {
		n++
	}
	readValue := r.Reader == "KeysReader" && r.ReadValue && len(fields) == 2
	if readValue {
		n += 2
	}
	dst := abi.AppendArrayHeader(make([]byte, 0, size), n)
	dst = abi.AppendInt(abi.AppendBulkString(dst, r.ID), flags)
	for _, f := range fields {
		dst = abi.AppendBulk(dst, f)
	}
	dst = append(dst, raw...)
	if readValue {
		release := s.lockServing()
		dst = g.backend.AppendKeyRecord(dst, s, fields[0])
		release()
	}
	return dst
}

func (g *Gears) newRegExecution(r *Registration) *Execution {
	e := &Execution{ID: g.nextExecID(), Reader: r.Reader, session: r.session, Registered: true, reg: r,
		abortc: make(chan struct{}), done: make(chan struct{}), status: StatusCreated}
	g.addExecution(e)
	return e
}

// runRegistered runs one execution of r for a record. A sync execution
// borrows the keyspace lock the current command holds; when o.Caller is
// r's own session the current goroutine is its actor and the guest is
// re-entered directly.
func (g *Gears) runRegistered(ctx context.Context, r *Registration, fields [][]byte, raw []byte, o Origin) *Execution {
	e := g.newRegExecution(r)
	e.link, e.noAsync = o.Link, o.NoAsync
	caller := o.Caller
	s := r.session
	sync := r.Mode == "sync"
	limit := g.timeLimit()
	fn := func(ctx context.Context, in *Instance) error {
		if sync {
			saved := s.lockHeld
			s.lockHeld = true // borrowed from the firing command
			defer func() { s.lockHeld = saved }()
		}
		return g.invokeExecution(ctx, e, in, opRegRun, g.regFrame(s, r, fields, raw, o), limit)
	}
	var err error
	switch {
	case caller == s && sync:
		err = fn(ctx, s.inst)
	case sync:
		err = s.DoLocked(ctx, fn)
	default:
		err = s.Do(ctx, fn)
	}
	e.finish(err, limit)
	r.account(e)
	return e
}

// invokeExecution runs op for execution e on in, on the goroutine driving
// e's session. RG.ABORTEXECUTION and the time limit stop the guest (and
// kill it in strict mode if it does not yield).
func (g *Gears) invokeExecution(ctx context.Context, e *Execution, in *Instance, op int32, payload []byte, limit time.Duration) error {
	s := e.session
	e.mu.Lock()
	select {
	case <-e.abortc:
		e.mu.Unlock()
		return ErrStopped
	default:
	}
	e.status = StatusRunning
	e.started = time.Now()
	e.inst = in
	e.mu.Unlock()
	prev := s.current
	s.current = e
	defer func() {
		s.current = prev
		e.mu.Lock()
		e.inst = nil
		e.mu.Unlock()
	}()
	if limit > 0 {
		t := time.AfterFunc(limit, e.Abort)
		defer t.Stop()
	}
	// An abort that raced with the status change above.
	select {
	case <-e.abortc:
		in.Stop()
	default:
	}
	reply, err := in.Invoke(ctx, op, payload)
	if err != nil {
		return err
	}
	e.mu.Lock()
	e.reply = reply
	e.mu.Unlock()
	return nil
}

// account updates the registration's statistics from a finished execution.
func (r *Registration) account(e *Execution) {
	_, errs, d := e.Counts()
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &r.stats
	st.Triggered++
	st.LastRunMS = d.Milliseconds()
	st.TotalRunMS += st.LastRunMS
	switch {
	case e.Status() == StatusAborted:
		st.Aborted++
		if len(errs) > 0 {
			st.LastError = &errs[0]
		}
	case len(errs) > 0:
		st.Failures++
		st.LastError = &errs[len(errs)-1]
	default:
		st.Success++
	}
}

// finishWith ends an execution that never ran with an error.
func (e *Execution) finishWith(results []abi.Value, msg string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.status = StatusDone
	e.errors = []string{msg}
	e.reply = resultsReply(results, e.errors)
	close(e.done)
}

// Trigger runs the CommandReader registration named args[0] (RG.TRIGGER's
// arguments: the trigger's name, then its own) and returns its execution.
// caller is the session whose actor holds the keyspace lock when a gear
// itself calls RG.TRIGGER (else nil).
func (g *Gears) Trigger(ctx context.Context, caller *Session, args [][]byte) (*Execution, error) {
	r := g.findTrigger(string(args[0]))
	if r == nil {
		return nil, ErrorReply("ERR subcommand not found")
	}
	if r.Mode == "sync" {
		return nil, errNeedLock
	}
	e, err := g.runCalled(ctx, r, args, nil)
	if err == nil && e == nil {
		err = ErrorReply("ERR subcommand not found")
	}
	return e, err
}

// runCalled runs an execution a client's command called for (a trigger,
// a hook): here, as RedisGears gives every call a fresh worker, or, for
// inorder registrations, on the registration's worker while the caller
// waits. nil, nil if the registration went away meanwhile.
func (g *Gears) runCalled(ctx context.Context, r *Registration, fields [][]byte, link *Link) (*Execution, error) {
	if !r.InOrder {
		return g.runRegistered(ctx, r, fields, nil, Origin{Link: link}), nil
	}
	ch := make(chan *Execution, 1)
	r.enqueue(regItem{fields: fields, result: ch, link: link})
	select {
	case e, ok := <-ch:
		if !ok {
			return nil, nil
		}
		return e, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// errNeedLock tells the server to run a sync trigger under the lock with
// TriggerSync.
var errNeedLock = errors.New("sync trigger: run under the keyspace lock")

// ErrSyncTrigger is matched by Trigger's error for sync registrations.
var ErrSyncTrigger = errNeedLock

// TriggerSync runs a sync trigger (args as Trigger's); the caller holds
// the keyspace lock (o.Caller: the gears session whose execute() called
// RG.TRIGGER).
func (g *Gears) TriggerSync(args [][]byte, o Origin) (*Execution, error) {
	r := g.findTrigger(string(args[0]))
	if r == nil {
		return nil, ErrorReply("ERR subcommand not found")
	}
	return g.runSync(r, args, o), nil
}

// TriggerMode reports the mode of a trigger ("" when none).
func (g *Gears) TriggerMode(name string) string {
	if r := g.findTrigger(name); r != nil {
		return r.Mode
	}
	return ""
}
