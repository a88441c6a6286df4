package host

import (
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

	mu        sync.Mutex
	status    string
	reply     []byte // RESP [[results],[errors]]
	nResults  int
	errors    []string
	started   time.Time
	duration  time.Duration
	abortOnce sync.Once
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
	max := int(g.cfg.Int("MaxExecutions"))
	// FIFO cap: drop the oldest finished executions.
	for i := 0; len(g.execs) > max && i < len(g.order); {
		id := g.order[i]
		old := g.execs[id]
		if old == nil {
			g.order = append(g.order[:i], g.order[i+1:]...)
			continue
		}
		if st := old.Status(); st == StatusDone || st == StatusAborted {
			delete(g.execs, id)
			g.order = append(g.order[:i], g.order[i+1:]...)
			continue
		}
		i++
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
	delete(g.execs, id)
	for i, x := range g.order {
		if x == id {
			g.order = append(g.order[:i], g.order[i+1:]...)
			break
		}
	}
	return nil
}

// Abort stops a running execution (gears.forcestopped in the guest).
func (e *Execution) Abort() {
	e.abortOnce.Do(func() { close(e.abortc) })
	e.mu.Lock()
	running := e.status == StatusRunning
	e.mu.Unlock()
	if running {
		e.session.inst.Stop()
	}
}

// runExecution runs e on its session's actor and records the outcome.
func (g *Gears) runExecution(ctx context.Context, e *Execution) {
	s := e.session
	limit := g.timeLimit()
	err := s.Do(ctx, func(ctx context.Context, in *Instance) error {
		e.mu.Lock()
		select {
		case <-e.abortc:
			e.mu.Unlock()
			return ErrStopped
		default:
		}
		e.status = StatusRunning
		e.started = time.Now()
		e.mu.Unlock()
		s.current = e
		defer func() { s.current = nil }()
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
		reply, err := in.Invoke(ctx, opRunExecution, []byte(e.ID))
		if err != nil {
			return err
		}
		e.mu.Lock()
		e.reply = reply
		e.mu.Unlock()
		return nil
	})
	e.finish(err, limit)
	switch e.Status() {
	case StatusDone:
		g.stats.ExecutionsDone.Add(1)
	default:
		g.stats.ExecutionsAbort.Add(1)
	}
}

func (e *Execution) finish(err error, limit time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.duration = time.Since(e.started)
	switch {
	case err == nil:
		e.status = StatusDone
		if v, _, derr := abi.Decode(e.reply); derr == nil && len(v.Elems) == 2 {
			e.nResults = len(v.Elems[0].Elems)
			for _, x := range v.Elems[1].Elems {
				e.errors = append(e.errors, string(x.Str))
			}
		}
	case errors.Is(err, ErrStopped):
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
	close(e.done)
}

// resultsReply encodes [[results...],[errors...]].
func resultsReply(results []abi.Value, errs []string) []byte {
	ev := make([]abi.Value, len(errs))
	for i, s := range errs {
		ev[i] = abi.BulkString(s)
	}
	return abi.Array(abi.Array(results...), abi.Array(ev...)).Encode()
}
