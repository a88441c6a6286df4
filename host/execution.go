package host

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/wasmgears/wasmgears/abi"
)

// Execution statuses (RedisGears' statusesNames).
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusDone    = "done"
	StatusAborted = "aborted"
)

// Step is one step of an execution plan as RG.GETEXECUTION shows it.
type Step struct {
	Type, Name, Arg string
	Duration        time.Duration
}

// Execution is one run of a GearsBuilder pipeline. Executions live in
// memory only (capped by MaxExecutions).
type Execution struct {
	ID         string
	Reader     string
	Desc       string
	Plan       []Step
	Registered bool

	session *Session
	abortc  chan struct{}
	done    chan struct{}

	mu         sync.Mutex
	status     string
	reply      []byte // RESP [[results],[errors]]
	nResults   int
	errors     []string
	started    time.Time
	duration   time.Duration
	readDur    time.Duration
	abortOnce  sync.Once
	inst       *Instance // the interpreter while running (for Kill)
	dropOnDone bool      // pushed out by MaxExecutions while running
	link       *Link     // the client command a registered execution serves
	reg        *Registration
	noAsync    bool // fired inside MULTI/EXEC
}

// Status returns the current status.
func (e *Execution) Status() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status
}

// Done is closed when the execution finished (done or aborted).
func (e *Execution) Done() <-chan struct{} { return e.done }

// Reply is the RESP [[results],[errors]] of a finished execution.
func (e *Execution) Reply() []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reply
}

// Counts returns the number of results and the errors.
func (e *Execution) Counts() (results int, errs []string, total time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.nResults, e.errors, e.duration
}

// Profile returns the time spent reading and in each plan step, measured
// in the guest while ProfileExecutions=1 (zero otherwise).
func (e *Execution) Profile() (read time.Duration, steps []Step) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.readDur, append([]Step(nil), e.Plan...)
}

// failure is set when the execution could not produce results at all.
func (e *Execution) failure() string { return "" }

// createExecution serves the guest's exec_create: [reader, desc, plan].
func (s *Session) createExecution(raw [][]byte) ([]byte, error) {
	if len(raw) != 3 {
		return nil, fmt.Errorf("exec_create: want 3 arguments")
	}
	g := s.g
	e := &Execution{ID: g.nextExecID(), Reader: string(raw[0]), Desc: string(raw[1]), session: s,
		abortc: make(chan struct{}), done: make(chan struct{}), status: StatusCreated}
	if v, _, err := abi.Decode(raw[2]); err == nil {
		for i := 0; i+2 < len(v.Elems); i += 3 {
			e.Plan = append(e.Plan, Step{Type: string(v.Elems[i].Str), Name: string(v.Elems[i+1].Str), Arg: string(v.Elems[i+2].Str)})
		}
	}
	g.addExecution(e)
	if s.onCreate != nil {
		s.onCreate(e)
	}
	return abi.BulkString(e.ID).Encode(), nil
}

func (g *Gears) addExecution(e *Execution) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.execs[e.ID] = e
	g.order = append(g.order, e.ID)
	if e.reg != nil {
		g.trimRegistration(e.reg, e.ID)
	}
	g.trimExecutions()
}

// trimRegistration applies MaxExecutionsPerRegistration to r's executions
// after id joined them: the oldest go first (a running one is marked and
// dropped when it finishes). Called with g.mu held.
func (g *Gears) trimRegistration(r *Registration, id string) {
	max := int(g.cfg.Int("MaxExecutionsPerRegistration"))
	r.execIDs = append(r.execIDs, id)
	for len(r.execIDs) > max {
		x := r.execIDs[0]
		r.execIDs = r.execIDs[1:]
		e := g.execs[x]
		if e == nil {
			continue // already dropped
		}
		if st := e.Status(); st == StatusDone || st == StatusAborted {
			g.dropLocked(x)
			continue
		}
		e.mu.Lock()
		e.dropOnDone = true
		e.mu.Unlock()
	}
}

// dropLocked removes an execution from the list; g.mu held. Its id stays
// in g.order, skipped by every reader, until stale ids outnumber live
// ones: a registration at MaxExecutionsPerRegistration drops its oldest
// execution on every new one, and removing it from the front each time
// moved the whole slice.
func (g *Gears) dropLocked(id string) {
	delete(g.execs, id)
	g.compactOrder()
}

// compactOrder removes the ids of dropped executions from g.order once
// they are the majority (amortised O(1) per drop); g.mu held.
func (g *Gears) compactOrder() {
	if len(g.order) <= 2*len(g.execs)+64 {
		return
	}
	live := g.order[:0]
	for _, id := range g.order {
		if g.execs[id] != nil {
			live = append(live, id)
		}
	}
	clear(g.order[len(live):])
	g.order = live
}

// trimExecutions applies MaxExecutions as a FIFO: the oldest executions
// go first; a running one is marked and dropped when it finishes.
// Called with g.mu held.
func (g *Gears) trimExecutions() {
	max := int(g.cfg.Int("MaxExecutions"))
	if len(g.execs) <= max {
		return // nothing to push out (the common case: no scan)
	}
	live := 0
	for _, e := range g.execs {
		if !e.markedDrop() {
			live++
		}
	}
	for _, id := range g.order {
		if live <= max {
			break
		}
		old := g.execs[id]
		if old == nil || old.markedDrop() {
			continue
		}
		live--
		if st := old.Status(); st == StatusDone || st == StatusAborted {
			delete(g.execs, id)
			continue
		}
		old.mu.Lock()
		old.dropOnDone = true
		old.mu.Unlock()
	}
	g.compactOrder()
}

func (e *Execution) markedDrop() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.dropOnDone
}

// forget removes a finished execution that MaxExecutions pushed out.
func (g *Gears) forget(e *Execution) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.execs[e.ID] == e {
		g.dropLocked(e.ID)
	}
}

// Execution returns an execution by id.
func (g *Gears) Execution(id string) *Execution {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.execs[id]
}

// Executions lists executions, oldest first.
func (g *Gears) Executions() []*Execution {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]*Execution, 0, len(g.order))
	for _, id := range g.order {
		if e := g.execs[id]; e != nil {
			out = append(out, e)
		}
	}
	return out
}

// DropExecution removes a finished execution.
func (g *Gears) DropExecution(id string) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.execs[id]
	if e == nil {
		return ErrorReply("execution plan does not exist")
	}
	if st := e.Status(); st != StatusDone && st != StatusAborted {
		return ErrorReply("can not drop a not yet finished execution, abort it first.")
	}
	g.dropLocked(id)
	return nil
}

// killAfter is how long Abort waits for a guest to stop cooperatively
// before it kills the instance (only possible with SandboxStrictMode 1).
var killAfter = 100 * time.Millisecond

// Abort stops a running execution: gears.forcestopped is raised in the
// guest at its next yield poll. A guest stuck in C code that never polls
// is killed after killAfter when the engine is strict; its session then
// gets a fresh interpreter (see recoverInstance).
func (e *Execution) Abort() {
	e.abortOnce.Do(func() { close(e.abortc) })
	e.mu.Lock()
	in := e.inst
	e.mu.Unlock()
	if in == nil {
		return
	}
	in.Stop()
	go func() {
		select {
		case <-e.done:
		case <-time.After(killAfter):
			if in.Kill() {
				e.session.g.log.Warn("execution did not stop: interpreter killed", "execution", e.ID, "session", e.session.ID)
			} else {
				e.session.g.log.Error("execution does not yield and cannot be killed (SandboxStrictMode 0)", "execution", e.ID)
			}
		}
	}()
}

// runExecution runs e on its session's actor and records the outcome.
func (g *Gears) runExecution(ctx context.Context, e *Execution) {
	s := e.session
	limit := g.timeLimit()
	err := s.Do(ctx, func(ctx context.Context, in *Instance) error {
		err := g.invokeExecution(ctx, e, in, opRunExecution, []byte(e.ID), limit)
		if !in.closed && in.broken == nil {
			g.observeMemory()
		}
		if errors.Is(err, ErrBroken) {
			s.recoverInstance(ctx)
		}
		return err
	})
	e.finish(err, limit)
	switch e.Status() {
	case StatusDone:
		g.stats.ExecutionsDone.Add(1)
	default:
		g.stats.ExecutionsAbort.Add(1)
	}
}

// recoverInstance replaces a session's broken (killed or trapped)
// interpreter with a fresh one from the pool, on the session's actor.
// The session's code is not re-run here: a session that owns
// registrations is restored by the registration layer (restoreHook).
func (s *Session) recoverInstance(ctx context.Context) {
	old := s.inst
	pi, err := s.g.pool.get(context.WithoutCancel(ctx))
	if err != nil {
		s.g.log.Error("cannot replace a broken interpreter", "session", s.ID, "err", err)
		return
	}
	pi.out.setSession(s.ID)
	pi.inst.OnCall = s.onCall
	s.inst = pi.inst
	s.out = pi.out
	old.Close(context.WithoutCancel(ctx))
	s.g.log.Warn("session interpreter replaced", "session", s.ID)
	if h := restoreHook; h != nil {
		if err := h(ctx, s); err != nil {
			s.g.log.Error("session restore failed", "session", s.ID, "err", err)
		}
	}
}

// restoreHook, if set, re-creates a session's state (its registrations)
// in a fresh interpreter after recoverInstance.
var restoreHook func(ctx context.Context, s *Session) error

func (e *Execution) finish(err error, limit time.Duration) {
	e.mu.Lock()
	e.duration = time.Since(e.started)
	if e.started.IsZero() {
		e.duration = 0
	}
	switch {
	case err == nil:
		e.status = StatusDone
		if nres, errs, n, ok := readReply(e.reply); ok {
			e.nResults, e.errors = nres, errs
			if n < len(e.reply) {
				e.setProfile(e.reply[n:])
				e.reply = e.reply[:n:n]
			}
		}
	case errors.Is(err, ErrStopped), errors.Is(err, ErrBroken) && e.isAborted():
		e.status = StatusAborted
		msg := "Execution was aborted"
		if limit > 0 && e.duration >= limit {
			msg = fmt.Sprintf("Execution time limit of %d ms exceeded", limit.Milliseconds())
		}
		e.errors = []string{msg}
		e.reply = resultsReply(nil, e.errors)
	default:
		e.status = StatusAborted
		if errors.Is(err, ErrBroken) {
			e.session.g.log.Error("interpreter broken during execution", "execution", e.ID, "err", err)
		}
		e.errors = []string{err.Error()}
		e.reply = resultsReply(nil, e.errors)
	}
	drop := e.dropOnDone
	close(e.done)
	e.mu.Unlock()
	if drop {
		e.session.g.forget(e)
	}
}

func (e *Execution) isAborted() bool {
	select {
	case <-e.abortc:
		return true
	default:
		return false
	}
}

// readReply reads an execution's reply [[results], [errors]] (a stats
// frame may follow): the number of results, the error texts and the
// reply's length. The results are only skipped: most executions have
// one or none, and no error.
func readReply(b []byte) (nResults int, errs []string, n int, ok bool) {
	if !bytes.HasPrefix(b, []byte("*2\r\n")) {
		return 0, nil, 0, false
	}
	n = 4
	nResults, m, err := abi.ArrayHeader(b[n:])
	n += m
	for i := 0; err == nil && i < nResults; i++ {
		m, err = abi.Skip(b[n:])
		n += m
	}
	nErrs := 0
	if err == nil {
		nErrs, m, err = abi.ArrayHeader(b[n:])
		n += m
	}
	for ; err == nil && nErrs > 0; nErrs-- {
		var v abi.Value
		v, m, err = abi.Decode(b[n:])
		errs, n = append(errs, string(v.Str)), n+m
	}
	if err != nil {
		return 0, nil, 0, false
	}
	return nResults, errs, n, true
}

// setProfile reads the guest's stats frame: [read_ns, [ns per plan step]].
func (e *Execution) setProfile(b []byte) {
	v, _, err := abi.Decode(b)
	if err != nil || len(v.Elems) != 2 {
		return
	}
	e.readDur = time.Duration(v.Elems[0].Int)
	for i, x := range v.Elems[1].Elems {
		if i < len(e.Plan) {
			e.Plan[i].Duration = time.Duration(x.Int)
		}
	}
	if len(e.Plan) > 0 && e.Plan[0].Type == "reader" {
		e.Plan[0].Duration = e.readDur
	}
}

// resultsReply encodes [[results...],[errors...]].
func resultsReply(results []abi.Value, errs []string) []byte {
	ev := make([]abi.Value, len(errs))
	for i, s := range errs {
		ev[i] = abi.BulkString(s)
	}
	return abi.Array(abi.Array(results...), abi.Array(ev...)).Encode()
}
