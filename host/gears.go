package host

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wasmgears/wasmgears/abi"
	"github.com/wasmgears/wasmgears/guest"
	"github.com/wasmgears/wasmgears/storage"
)

// Backend is what the gears engine needs from the server: running commands
// for a session as a client would, and the keyspace lock.
//
// The host calls Execute and KeysRead only while the session holds the
// keyspace lock: its own (taken while serving the session's mailbox, see
// Session.lockServing), an atomic() block's, or one borrowed from the
// command whose event fired a sync registration.
type Backend interface {
	// Execute runs one command for s and returns its reply (RESP2 bytes,
	// as RedisGears' RM_Call sees it).
	Execute(s *Session, args [][]byte) []byte
	// KeysRead serves KeysReader: one batch of records from cursor.
	// readAhead: the session releases the keyspace lock after the call
	// (not inside atomic()), so the next batch may be read meanwhile.
	KeysRead(s *Session, cursor, pattern []byte, noScan, readValue, readAhead bool) []byte
	// AppendKeyRecord reads a key for a KeysReader record and appends to
	// dst its type name as RedisGears reports it (a bulk string) and its
	// value (string, hash as field/value array, list; null for the others).
	AppendKeyRecord(dst []byte, s *Session, key []byte) []byte
	// CommandInfo describes a command of the command table (hooks).
	CommandInfo(name string) (CommandInfo, bool)
	// The keyspace lock.
	LockKeyspace()
	TryLockKeyspace() bool
	UnlockKeyspace()
}

// Options configure the gears engine.
type Options struct {
	CacheDir string // wazero compilation cache ("" = none)
	Logger   *slog.Logger
	Config   *GearsConfig
	Backend  Backend
	// DB persists sessions with registrations (nil: nothing persists).
	DB *storage.DB
	// Activity, if set, hears +1 when a session starts running guest work
	// and -1 when it ends (the server sizes GOMAXPROCS with it).
	// background: the work is an execution of a registration worker on a
	// thread of lowered priority (BackgroundNice), which no client waits
	// for.
	Activity func(delta int, background bool)
}

// Gears is the engine: interpreters, sessions and executions.
type Gears struct {
	eng     *Engine
	log     *slog.Logger
	cfg     *GearsConfig
	backend Backend
	db      *storage.DB
	pool    *pool
	regs    regState

	mu       sync.Mutex
	sessions map[string]*Session   // sessions with registrations, by id
	live     map[*Session]struct{} // every session with an interpreter
	closing  bool
	restores sync.WaitGroup
	execs    map[string]*Execution
	order    []string // execution ids, oldest first (MaxExecutions FIFO); dropped ones linger (dropLocked)
	execSeq  atomic.Int64
	planSeq  atomic.Int64

	// closingSessions counts Session.close calls under way (under mu);
	// sessionsClosed hears the count reach 0; stuckSessions: a close
	// could not stop its guest
	closingSessions int
	sessionsClosed  *sync.Cond
	stuckSessions   bool

	// regsChanged, if set, hears about registrations added or removed.
	regsChanged func()
	// activity, if set, hears guest work start (+1) and end (-1).
	activity func(delta int, background bool)

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
		// Start interpreters from the wizer snapshot when it is built:
		// ~5 ms instead of ~28 ms per interpreter.
		Snapshot:         guest.PythonSnapshot() != nil,
		Strict:           opt.Config.Int("SandboxStrictMode") == 1,
		MemoryLimitPages: uint32(opt.Config.Int("SandboxMemoryLimitMB") * 16),
	}
	cfg.CacheDir = opt.CacheDir
	start := time.Now()
	eng, err := NewEngine(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("gears engine: %w", err)
	}
	g := &Gears{eng: eng, log: opt.Logger, cfg: opt.Config, backend: opt.Backend, db: opt.DB, activity: opt.Activity,
		sessions: map[string]*Session{}, execs: map[string]*Execution{}}
	g.sessionsClosed = sync.NewCond(&g.mu)
	precompileAPI(ctx, eng, g.log)
	g.pool = newPool(g)
	g.log.Info("gears engine ready", "compile", time.Since(start).Round(time.Millisecond), "strict", cfg.Strict, "snapshot", cfg.Snapshot)
	return g, nil
}

// Close stops every session and the pool.
func (g *Gears) Close(ctx context.Context) error {
	g.mu.Lock()
	g.closing = true
	g.mu.Unlock()
	g.restores.Wait()
	g.pool.close(ctx)
	// registration workers end (and their OS threads, see background)
	for _, r := range g.regs.list() {
		r.stop(true)
	}
	g.mu.Lock()
	ss := make([]*Session, 0, len(g.live))
	for s := range g.live {
		ss = append(ss, s)
	}
	g.mu.Unlock()
	stuck := false
	for _, s := range ss {
		if !s.close(ctx) {
			stuck = true
		}
	}
	// closes begun elsewhere (a released session) still use the runtime
	g.mu.Lock()
	for g.closingSessions > 0 {
		g.sessionsClosed.Wait()
	}
	stuck = stuck || g.stuckSessions
	g.mu.Unlock()
	if stuck {
		// A guest that neither yields nor can be killed still runs in its
		// linear memory: closing the runtime would pull it from under it.
		// The process is exiting anyway.
		return fmt.Errorf("gears: an interpreter did not stop; runtime left open")
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
	var buf [64]byte // ShardID (40), '-', 20 digits: one allocation, the string
	b := append(append(buf[:0], ShardID...), '-')
	return string(strconv.AppendInt(b, g.execSeq.Add(1)-1, 10))
}

// ErrorReply is a gears error sent to the client verbatim.
type ErrorReply string

func (e ErrorReply) Error() string { return string(e) }

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
