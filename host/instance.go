package host

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sync"
	"sync/atomic"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/wasmgears/wasmgears/abi"
)

// CallHandler serves a guest->host call (_gears.call / execute / log /
// sleep). req is a RESP3 array frame whose first element is the call name
// (abi.CallExecute, ...); the returned bytes must be one RESP3 frame (a
// RESP3 error frame becomes gears.error in Python). A non-nil error makes
// the guest raise gears.error("host call failed: -1"), or gears.forcestopped
// if the instance is being stopped. It runs on the goroutine inside Invoke
// and may call in.Invoke again (nested, re-entrant).
type CallHandler func(ctx context.Context, in *Instance, req []byte) ([]byte, error)

// InstanceConfig configures one interpreter.
type InstanceConfig struct {
	// Stdout and Stderr receive the guest's output (unbuffered); nil
	// discards it.
	Stdout, Stderr io.Writer
	// Site, if set, is mounted read-only at /usr/local/site and put on
	// sys.path (the session's requirements).
	Site fs.FS
	// OnCall serves guest->host calls; it can also be set later through
	// Instance.OnCall, before the first Invoke.
	OnCall CallHandler
}

type frame struct {
	req, reply []byte
}

// Instance is one long-lived interpreter.
type Instance struct {
	// OnCall serves guest->host calls; nil answers every call with an error.
	OnCall CallHandler

	eng    *Engine
	mod    api.Module
	fns    []api.Function // one per nesting depth: each owns a native stack
	stacks [][]uint64
	frames []frame // payload/reply of each nesting level (take/reply)
	pend   []byte  // reply of the last call, until result()
	broken error   // set once the instance trapped or was killed
	closed bool

	// ctxWith is ctxFrom with this instance in it (Invoke's last context)
	ctxFrom, ctxWith context.Context

	mu      sync.Mutex // guards running, cancel
	running bool       // an outermost Invoke is in progress
	cancel  context.CancelFunc
	stop    atomic.Bool // polled by gears.yield

	yields atomic.Int64

	memstats uint32 // address of the guest's allocator counters (0: none)
}

type instKey struct{}

func instOf(ctx context.Context) *Instance {
	in, _ := ctx.Value(instKey{}).(*Instance)
	return in
}

// NewInstance instantiates the guest and initialises CPython in it
// (_initialize + gears_init).
func (e *Engine) NewInstance(ctx context.Context, ic InstanceConfig) (*Instance, error) {
	in := &Instance{eng: e, OnCall: ic.OnCall}
	fsc := wazero.NewFSConfig().WithFSMount(e.stdlib, abi.GuestLibDir)
	switch {
	case ic.Site != nil:
		fsc = fsc.WithFSMount(ic.Site, abi.GuestSiteDir)
	case e.cfg.Snapshot:
		// the snapshot's wasi-libc knows exactly the preopens it was made with
		fsc = fsc.WithFSMount(emptyFS{}, abi.GuestSiteDir)
	}
	var start []string
	if !e.cfg.Snapshot {
		start = []string{abi.ExportInitialize}
	}
	stdout, stderr := ic.Stdout, ic.Stderr
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	mc := wazero.NewModuleConfig().
		WithName("").
		WithStartFunctions(start...).
		WithFSConfig(fsc).
		WithEnv("PYTHONHOME", abi.GuestHome).
		WithSysWalltime().WithSysNanotime().
		WithRandSource(crand.Reader).
		WithStdout(stdout).WithStderr(stderr)
	ictx := context.WithValue(ctx, instKey{}, in)
	ictx = experimental.WithMemoryAllocator(ictx, experimental.MemoryAllocatorFunc(allocateMemory))
	mod, err := e.rt.InstantiateModule(ictx, e.compiled, mc)
	if err != nil {
		return nil, fmt.Errorf("host: instantiate: %w", err)
	}
	in.mod = mod
	res, err := mod.ExportedFunction(abi.ExportInit).Call(ictx)
	if err != nil {
		mod.Close(ctx)
		return nil, fmt.Errorf("host: %s: %w", abi.ExportInit, err)
	}
	if st := int32(res[0]); st != abi.StatusOK {
		mod.Close(ctx)
		return nil, fmt.Errorf("host: %s returned %d (see the guest's stderr)", abi.ExportInit, st)
	}
	if f := mod.ExportedFunction(abi.ExportMemStats); f != nil {
		if res, err := f.Call(ictx); err == nil {
			in.memstats = uint32(res[0])
		}
	}
	return in, nil
}

// AllocStats returns the guest's allocator accounting (bytes Python took
// from the C allocator: total ever, peak, current; see gears_memstats in
// guest/c/_gearsmodule.c). It reads linear memory and is safe from any
// goroutine: the three words may be mid-update while the guest runs, which
// only makes the figures a moment stale.
func (in *Instance) AllocStats() (total, peak, curr int64, ok bool) {
	if in.memstats == 0 || in.closed {
		return 0, 0, 0, false
	}
	m := in.mod.Memory()
	t, ok1 := m.ReadUint64Le(in.memstats)
	p, ok2 := m.ReadUint64Le(in.memstats + 8)
	c, ok3 := m.ReadUint64Le(in.memstats + 16)
	return int64(t), int64(p), int64(c), ok1 && ok2 && ok3
}

// Close releases the instance. It must not be running (Kill it first).
func (in *Instance) Close(ctx context.Context) error {
	if in.closed {
		return nil
	}
	in.closed = true
	return in.mod.Close(ctx)
}

// Exec runs Python source in the instance's __main__ namespace.
func (in *Instance) Exec(ctx context.Context, src string) error {
	_, err := in.Invoke(ctx, abi.OpExec, []byte(src))
	return err
}

// Eval evaluates a Python expression and returns its repr().
func (in *Instance) Eval(ctx context.Context, expr string) (string, error) {
	r, err := in.Invoke(ctx, abi.OpEval, []byte(expr))
	return string(r), err
}

// Invoke runs one request (abi.OpExec, abi.OpEval or a registered handler
// op) and returns its reply, a fresh slice owned by the caller.
//
// Errors: *PyError for a Python exception (the instance stays usable; a
// stopped invoke matches ErrStopped); an error matching ErrBroken when the
// guest trapped or was killed (replace the instance).
//
// When ctx is cancelled or its deadline passes, the invoke is stopped
// cooperatively (as Stop). Invoke may be re-entered from OnCall on the same
// goroutine.
func (in *Instance) Invoke(ctx context.Context, op int32, payload []byte) ([]byte, error) {
	if in.closed {
		return nil, ErrClosed
	}
	if in.broken != nil {
		return nil, &BrokenError{in.broken}
	}
	depth := len(in.frames)
	if depth == 0 {
		if done := ctx.Done(); done != nil {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			defer context.AfterFunc(ctx, func() { in.Stop() })()
		}
		in.mu.Lock()
		in.running = true
		in.stop.Store(false)
		if in.eng.cfg.Strict {
			// wazero closes the module when this context is cancelled: only
			// Kill does that. The caller's ctx only stops cooperatively.
			ctx, in.cancel = context.WithCancel(context.WithoutCancel(ctx))
		}
		in.mu.Unlock()
		defer in.endOutermost()
	}
	for len(in.fns) <= depth {
		in.fns = append(in.fns, in.mod.ExportedFunction(abi.ExportInvoke))
		in.stacks = append(in.stacks, make([]uint64, 2))
	}
	if instOf(ctx) != in {
		// executions of one registration share a context: derive once
		if ctx != in.ctxFrom {
			in.ctxFrom, in.ctxWith = ctx, context.WithValue(ctx, instKey{}, in)
		}
		ctx = in.ctxWith
	}
	in.frames = append(in.frames, frame{req: payload})
	stack := in.stacks[depth]
	stack[0], stack[1] = api.EncodeI32(op), uint64(uint32(len(payload)))
	err := in.fns[depth].CallWithStack(ctx, stack)
	fr := in.frames[depth]
	in.frames[depth] = frame{}
	in.frames = in.frames[:depth]
	if err != nil {
		if in.broken == nil {
			in.broken = err
		}
		return nil, &BrokenError{err}
	}
	switch st := api.DecodeI32(stack[0]); st {
	case abi.StatusOK:
		return fr.reply, nil
	case abi.StatusPyError, abi.StatusStopped:
		return nil, newPyError(string(fr.reply), st == abi.StatusStopped)
	default:
		return nil, fmt.Errorf("host: %s returned internal status %d", abi.ExportInvoke, st)
	}
}

func (in *Instance) endOutermost() {
	in.mu.Lock()
	in.running = false
	in.stop.Store(false)
	if in.cancel != nil {
		in.cancel()
		in.cancel = nil
	}
	in.mu.Unlock()
	in.pend = nil
}

// Stop asks the running invoke to raise gears.forcestopped at the guest's
// next yield poll (eval loop, PyIter_Next, PyErr_CheckSignals; typically
// within microseconds). The request holds until the outermost invoke
// returns, so `except BaseException` cannot swallow it for long. It is
// race-free: no guest memory is written from the calling goroutine. Safe
// from any goroutine; false if nothing is running.
func (in *Instance) Stop() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if !in.running {
		return false
	}
	in.stop.Store(true)
	return true
}

// Kill terminates the running invoke even in C code that never yields. Only
// on a Strict engine; the instance is unusable afterwards (Invoke returns
// an error matching ErrBroken). Safe from any goroutine; false if nothing
// is running or the engine is not strict.
func (in *Instance) Kill() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.cancel == nil {
		return false
	}
	in.stop.Store(true)
	in.cancel()
	return true
}

// Broken returns the error that made the instance unusable, or nil.
func (in *Instance) Broken() error { return in.broken }

// Depth is the current Invoke nesting depth (0 when idle).
func (in *Instance) Depth() int { return len(in.frames) }

// MemoryBytes is the current size of the linear memory.
func (in *Instance) MemoryBytes() uint32 { return in.mod.Memory().Size() }

// Yields is the number of gears.yield polls so far.
func (in *Instance) Yields() int64 { return in.yields.Load() }

// ---- host functions (module "gears") -----------------------------------

// take(dst): copy the current invoke's payload to dst.
func hostTake(ctx context.Context, m api.Module, stack []uint64) {
	in := instOf(ctx)
	if !m.Memory().Write(api.DecodeU32(stack[0]), in.frames[len(in.frames)-1].req) {
		panic(errors.New("gears.take: out of range"))
	}
}

// reply(ptr, len): copy the current invoke's reply out of the guest.
func hostReply(ctx context.Context, m api.Module, stack []uint64) {
	in := instOf(ctx)
	b, ok := m.Memory().Read(api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	if !ok {
		panic(errors.New("gears.reply: out of range"))
	}
	in.frames[len(in.frames)-1].reply = append([]byte(nil), b...)
}

// call(ptr, len) -> n: a request from Python to the host.
func hostCall(ctx context.Context, m api.Module, stack []uint64) {
	in := instOf(ctx)
	b, ok := m.Memory().Read(api.DecodeU32(stack[0]), api.DecodeU32(stack[1]))
	if !ok {
		panic(errors.New("gears.call: out of range"))
	}
	in.pend = nil
	if in.stop.Load() {
		stack[0] = api.EncodeI32(abi.CallStopped)
		return
	}
	if in.OnCall == nil {
		stack[0] = api.EncodeI32(abi.CallError)
		return
	}
	// A copy: nested invokes may reuse or grow guest memory.
	resp, err := in.OnCall(ctx, in, append([]byte(nil), b...))
	if in.broken != nil {
		// a nested invoke trapped: unwind this level too (wazero turns the
		// panic into an error of the outer call)
		panic(in.broken)
	}
	switch {
	case in.stop.Load(), errors.Is(err, errStopped): // an abort may land before Stop
		stack[0] = api.EncodeI32(abi.CallStopped)
	case err != nil:
		stack[0] = api.EncodeI32(abi.CallError)
	default:
		in.pend = resp
		stack[0] = api.EncodeI32(int32(len(resp)))
	}
}

// result(dst): copy the pending call reply to dst and drop it.
func hostResult(ctx context.Context, m api.Module, stack []uint64) {
	in := instOf(ctx)
	if !m.Memory().Write(api.DecodeU32(stack[0]), in.pend) {
		panic(errors.New("gears.result: out of range"))
	}
	in.pend = nil
}

// yield() -> i32: periodic poll. Being a call into Go, it is also where the
// Go runtime can stop this goroutine for a GC.
func hostYield(ctx context.Context, m api.Module, stack []uint64) {
	in := instOf(ctx)
	in.yields.Add(1)
	if in.stop.Load() {
		stack[0] = api.EncodeI32(abi.YieldStop)
	} else {
		stack[0] = api.EncodeI32(abi.YieldContinue)
	}
}
