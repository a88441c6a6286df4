package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmgears/wasmgears/abi"
)

// Backend is what the gears engine needs from the server: running commands
// for a session as a client would, and the keyspace lock.
type Backend interface {
	// Execute runs one command for s and returns its reply (RESP2 bytes,
	// as RedisGears' RM_Call sees it). If s holds the keyspace lock
	// (atomic block) the command runs under that hold.
	Execute(s *Session, args [][]byte) []byte
	// KeysRead serves KeysReader: one batch of records from cursor.
	KeysRead(s *Session, cursor, pattern []byte, noScan, readValue bool) []byte
	// LockKeyspace / UnlockKeyspace implement atomic().
	LockKeyspace(s *Session)
	UnlockKeyspace(s *Session)
}

// Options configure the gears engine.
type Options struct {
	CacheDir string // wazero compilation cache ("" = none)
	Logger   *slog.Logger
	Config   *GearsConfig
	Backend  Backend
}

// Gears is the engine: interpreters, sessions and executions.
type Gears struct {
	eng     *Engine
	log     *slog.Logger
	cfg     *GearsConfig
	backend Backend
	pool    *pool

	mu       sync.Mutex
	sessions map[string]*Session
	execs    map[string]*Execution
	order    []string // execution ids, oldest first (MaxExecutions FIFO)
	execSeq  atomic.Int64
	planSeq  atomic.Int64

	stats Stats
}

// Stats are engine counters for INFO and metrics.
type Stats struct {
	SessionsCreated atomic.Int64
	ExecutionsDone  atomic.Int64
	ExecutionsFail  atomic.Int64
	ExecutionsAbort atomic.Int64
}

// ShardID is the stand-alone node id RedisGears uses in ids.
const ShardID = "0000000000000000000000000000000000000000"

// New compiles the guest (cached on disk under opt.Dir) and starts the pool.
func New(ctx context.Context, opt Options) (*Gears, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Config == nil {
		opt.Config = NewGearsConfig()
	}
	cfg := Config{
		Strict:           opt.Config.Int("SandboxStrictMode") == 1,
		MemoryLimitPages: uint32(opt.Config.Int("SandboxMemoryLimitMB") * 16),
	}
	cfg.CacheDir = opt.CacheDir
	start := time.Now()
	eng, err := NewEngine(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("gears engine: %w", err)
	}
	g := &Gears{eng: eng, log: opt.Logger, cfg: opt.Config, backend: opt.Backend,
		sessions: map[string]*Session{}, execs: map[string]*Execution{}}
	g.pool = newPool(g)
	g.log.Info("gears engine ready", "compile", time.Since(start).Round(time.Millisecond), "strict", cfg.Strict)
	return g, nil
}

// Close stops every session and the pool.
func (g *Gears) Close(ctx context.Context) error {
	g.pool.close(ctx)
	g.mu.Lock()
	ss := make([]*Session, 0, len(g.sessions))
	for _, s := range g.sessions {
		ss = append(ss, s)
	}
	g.mu.Unlock()
	for _, s := range ss {
		s.close(ctx)
	}
	return g.eng.Close(ctx)
}

// Config returns the gears configuration.
func (g *Gears) Config() *GearsConfig { return g.cfg }

// StatsRef exposes the counters.
func (g *Gears) StatsRef() *Stats { return &g.stats }

// PoolReady is the number of ready interpreters.
func (g *Gears) PoolReady() int { return g.pool.count() }

func (g *Gears) nextExecID() string {
	return fmt.Sprintf("%s-%d", ShardID, g.execSeq.Add(1)-1)
}

// ErrorReply is a gears error sent to the client verbatim.
type ErrorReply string

func (e ErrorReply) Error() string { return string(e) }

// PyExecuteRequest is a parsed RG.PYEXECUTE.
type PyExecuteRequest struct {
	Code         string
	Unblocking   bool
	ID           string
	Description  *string
	Upgrade      bool
	ReplaceWith  string
	ForceReinst  bool
	Requirements []string
}

// PyExecuteResult is what RG.PYEXECUTE replies: exactly one field is set.
type PyExecuteResult struct {
	OK          bool
	ExecutionID string // UNBLOCKING
	Reply       []byte // blocking run: raw RESP [[results],[errors]]
}

// PyExecute runs a script in a new session.
func (g *Gears) PyExecute(ctx context.Context, req PyExecuteRequest) (PyExecuteResult, error) {
	if len(req.Requirements) > 0 {
		// Requirement resolution comes with the requirement store; none
		// can be satisfied yet.
		g.log.Warn("could not satisfy requirements", "missing", req.Requirements)
		return PyExecuteResult{}, ErrorReply(fmt.Sprintf("Could not satisfy requirements, look at the log file for more information. missing: %v", req.Requirements))
	}
	id := req.ID
	if id == "" {
		id = fmt.Sprintf("%x", randomBytes(20))
	}
	g.mu.Lock()
	if _, exists := g.sessions[id]; exists && !req.Upgrade {
		g.mu.Unlock()
		return PyExecuteResult{}, ErrorReply(fmt.Sprintf("Session %s already exists", id))
	}
	g.mu.Unlock()

	s, err := g.newSession(ctx, id, req.Description)
	if err != nil {
		return PyExecuteResult{}, err
	}
	var created []*Execution
	s.onCreate = func(e *Execution) { created = append(created, e) }
	err = s.Do(ctx, func(ctx context.Context, in *Instance) error {
		if limit := g.timeLimit(); limit > 0 {
			t := time.AfterFunc(limit, func() { in.Stop() })
			defer t.Stop()
		}
		if _, err := in.Invoke(ctx, opResetScript, nil); err != nil {
			return err
		}
		_, err := in.Invoke(ctx, abi.OpExec, []byte(req.Code))
		return err
	})
	s.onCreate = nil
	if err != nil {
		s.close(context.WithoutCancel(ctx))
		return PyExecuteResult{}, scriptError(err)
	}
	if len(created) == 0 {
		s.release(ctx)
		return PyExecuteResult{OK: true}, nil
	}
	e := created[0]
	if req.Unblocking {
		go func() {
			g.runExecution(context.WithoutCancel(ctx), e)
			s.release(context.Background())
		}()
		return PyExecuteResult{ExecutionID: e.ID}, nil
	}
	g.runExecution(ctx, e)
	s.release(ctx)
	if msg := e.failure(); msg != "" {
		return PyExecuteResult{}, ErrorReply(msg)
	}
	return PyExecuteResult{Reply: e.Reply()}, nil
}

// timeLimit is ExecutionTimeLimitMs (0 = none).
func (g *Gears) timeLimit() time.Duration {
	return time.Duration(g.cfg.Int("ExecutionTimeLimitMs")) * time.Millisecond
}

// scriptError turns a failed script into the error the client sees.
func scriptError(err error) error {
	var pe *PyError
	if errors.As(err, &pe) {
		if pe.Stopped {
			return ErrorReply("Execution was aborted (gears.forcestopped): the script was stopped")
		}
		return ErrorReply(pe.Traceback)
	}
	if errors.Is(err, ErrBroken) {
		return ErrorReply("the session's interpreter failed: " + err.Error())
	}
	return err
}

// Handler op codes of the guest API (guest/python/gearsapi.py).
const (
	opRunExecution = abi.OpFirstHandler
	opResetScript  = abi.OpFirstHandler + 1
)
