package host

// WASM-packaged requirements: a requirement's .wasm modules run beside the
// session's interpreter, each instance with its own linear memory capped
// like the session's (SandboxMemoryLimitMB), no imports but WASI without
// any filesystem, and stopped when the session's execution is aborted or
// the execution time limit passes. Bytes go in and out through the host
// call "wasm" (docs/requirements.md):
//
//	["wasm", "list"]                          -> array of module names
//	["wasm", "load", module]                  -> array of exported function names
//	["wasm", "call", module, fn, data, cap]   -> bulk: the function's output bytes
//	["wasm", "invoke", module, fn, int...]    -> integer: fn(ints...) (i32/i64 params)
//
// "call" is the bytes convention: fn(in_ptr, in_len, out_ptr, out_cap) ->
// out_len (i32). A negative out_len is an error code; out_len > out_cap asks
// for a larger buffer (the host retries once with that capacity). Buffers
// come from the module's exported gears_alloc(size) -> ptr when it has one
// (gears_free(ptr) is called after, if exported); otherwise the host grows
// the module's memory once for a scratch area it reuses (fine for modules
// that never grow memory themselves, such as -nostdlib C).

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmgears/wasmgears/abi"
)

// gearsPackage is the `gears` package added to every session's site dir.
var gearsPackage = map[string]string{
	"gears/__init__.py": `
"""wasmgears extensions to the RedisGears API (see docs/requirements.md)."""
`,
	"gears/wasm.py": `
"""Load the WASM modules of the session's WASM-packaged requirements.

    from gears import wasm
    m = wasm.load('crc32')            # <name>.wasm from a requirement
    m.call('crc32_bytes', b'data')    # bytes in, bytes out
    m.invoke('add', 2, 3)             # integer arguments, integer result

Each module is instantiated once per session, beside the interpreter, with
its own memory and the session's limits.
"""
from redisgears import hostcall as _call

__all__ = ['load', 'modules', 'Module']


class Module:
    def __init__(self, name):
        self.name = name
        self.exports = [e.decode() if isinstance(e, bytes) else e for e in _call('wasm', 'load', name)]

    def call(self, fn, data=b'', out_cap=None):
        """fn(in_ptr, in_len, out_ptr, out_cap) -> out_len; returns the output bytes."""
        if isinstance(data, str):
            data = data.encode()
        if out_cap is None:
            out_cap = max(4096, 2 * len(data) + 64)
        return _call('wasm', 'call', self.name, fn, bytes(data), int(out_cap))

    def invoke(self, fn, *args):
        """Call an export with integer arguments; returns its integer result (or None)."""
        return _call('wasm', 'invoke', self.name, fn, *[int(a) for a in args])

    def __getattr__(self, fn):
        if fn.startswith('_') or fn not in self.exports:
            raise AttributeError(fn)
        return lambda *a: self.invoke(fn, *a)

    def __repr__(self):
        return '<wasm module %s>' % self.name


_loaded = {}


def load(name):
    """Instantiate (once per session) the WASM module <name> of a requirement."""
    m = _loaded.get(name)
    if m is None:
        m = _loaded[name] = Module(name)
    return m


def modules():
    """Names of the WASM modules the session's requirements provide."""
    return sorted(x.decode() if isinstance(x, bytes) else x for x in _call('wasm', 'list'))
`,
}

// wasmRT is the runtime requirement modules run in (one per engine).
type wasmRT struct {
	once     sync.Once
	rt       wazero.Runtime
	err      error
	mu       sync.Mutex
	compiled map[[32]byte]wazero.CompiledModule
}

var wasmRTs sync.Map // *Gears -> *wasmRT

func (g *Gears) wasmRuntime(ctx context.Context) (*wasmRT, error) {
	v, _ := wasmRTs.LoadOrStore(g, &wasmRT{compiled: map[[32]byte]wazero.CompiledModule{}})
	w := v.(*wasmRT)
	w.once.Do(func() {
		rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(true)
		if p := g.eng.cfg.MemoryLimitPages; p > 0 {
			rc = rc.WithMemoryLimitPages(p)
		}
		w.rt = wazero.NewRuntimeWithConfig(context.WithoutCancel(ctx), rc)
		_, w.err = wasi_snapshot_preview1.Instantiate(context.WithoutCancel(ctx), w.rt)
	})
	return w, w.err
}

func (w *wasmRT) compile(ctx context.Context, code []byte) (wazero.CompiledModule, error) {
	sum := sha256.Sum256(code)
	w.mu.Lock()
	defer w.mu.Unlock()
	if c, ok := w.compiled[sum]; ok {
		return c, nil
	}
	c, err := w.rt.CompileModule(context.WithoutCancel(ctx), code)
	if err != nil {
		return nil, err
	}
	w.compiled[sum] = c
	return c, nil
}

// wasmInst is one module instantiated for a session.
type wasmInst struct {
	mod     api.Module
	scratch uint32 // offset of the host's scratch area (0 = none yet)
	scrLen  uint32
}

// wasmState is a session's instantiated requirement modules.
type wasmState struct {
	mods map[string]*wasmInst
}

func (s *Session) closeWasm(ctx context.Context) {
	if s.wasm == nil {
		return
	}
	for _, m := range s.wasm.mods {
		m.mod.Close(context.WithoutCancel(ctx))
	}
	s.wasm = nil
}

// wasmCall serves the "wasm" host call.
func (s *Session) wasmCall(ctx context.Context, raw [][]byte) ([]byte, error) {
	if len(raw) == 0 {
		return errorReply("ERR wasm: missing sub-command"), nil
	}
	mods := s.reqs.wasmModules()
	switch string(raw[0]) {
	case "list":
		names := make([]string, 0, len(mods))
		for n := range mods {
			names = append(names, n)
		}
		sort.Strings(names)
		return encodeStrings(names), nil
	case "load", "call", "invoke":
	default:
		return errorReply("ERR wasm: unknown sub-command '" + string(raw[0]) + "'"), nil
	}
	if len(raw) < 2 {
		return errorReply("ERR wasm: missing module name"), nil
	}
	wi, err := s.wasmModule(ctx, string(raw[1]))
	if err != nil {
		return errorReply("ERR wasm: " + err.Error()), nil
	}
	switch string(raw[0]) {
	case "load":
		var names []string
		for n, d := range wi.mod.ExportedFunctionDefinitions() {
			_ = d
			names = append(names, n)
		}
		sort.Strings(names)
		return encodeStrings(names), nil
	case "call":
		if len(raw) != 5 {
			return errorReply("ERR wasm: call wants module, function, data, capacity"), nil
		}
		cap64, err := strconv.ParseUint(string(raw[4]), 10, 31)
		if err != nil {
			return errorReply("ERR wasm: bad output capacity"), nil
		}
		out, err := s.wasmBytes(ctx, wi, string(raw[2]), raw[3], uint32(cap64))
		if err != nil {
			return errorReply("ERR wasm: " + raw2str(raw[1]) + "." + raw2str(raw[2]) + ": " + err.Error()), nil
		}
		return abi.Bulk(out).Encode(), nil
	default: // invoke
		if len(raw) < 3 {
			return errorReply("ERR wasm: invoke wants module, function, args..."), nil
		}
		fn := wi.mod.ExportedFunction(string(raw[2]))
		if fn == nil {
			return errorReply("ERR wasm: " + raw2str(raw[1]) + " has no function " + raw2str(raw[2])), nil
		}
		def := fn.Definition()
		if len(def.ParamTypes()) != len(raw)-3 {
			return errorReply(fmt.Sprintf("ERR wasm: %s.%s takes %d arguments, got %d", raw[1], raw[2], len(def.ParamTypes()), len(raw)-3)), nil
		}
		args := make([]uint64, len(raw)-3)
		for i, a := range raw[3:] {
			v, err := strconv.ParseInt(string(a), 10, 64)
			if err != nil {
				return errorReply("ERR wasm: arguments must be integers"), nil
			}
			switch def.ParamTypes()[i] {
			case api.ValueTypeI32:
				args[i] = api.EncodeI32(int32(v))
			case api.ValueTypeI64:
				args[i] = api.EncodeI64(v)
			default:
				return errorReply("ERR wasm: only i32/i64 parameters can be passed"), nil
			}
		}
		res, err := s.wasmRun(ctx, wi, fn, args...)
		if err != nil {
			return errorReply("ERR wasm: " + raw2str(raw[1]) + "." + raw2str(raw[2]) + ": " + err.Error()), nil
		}
		if len(res) == 0 {
			return nullReply, nil
		}
		switch def.ResultTypes()[0] {
		case api.ValueTypeI32:
			return abi.Int(int64(api.DecodeI32(res[0]))).Encode(), nil
		case api.ValueTypeI64:
			return abi.Int(int64(res[0])).Encode(), nil
		}
		return abi.Int(int64(res[0])).Encode(), nil
	}
}

func raw2str(b []byte) string { return string(b) }

func encodeStrings(ss []string) []byte {
	vs := make([]abi.Value, len(ss))
	for i, s := range ss {
		vs[i] = abi.BulkString(s)
	}
	return abi.Array(vs...).Encode()
}

// wasmModule instantiates (once per session) a requirement module.
func (s *Session) wasmModule(ctx context.Context, name string) (*wasmInst, error) {
	if s.wasm != nil {
		if m, ok := s.wasm.mods[name]; ok {
			return m, nil
		}
	}
	code, ok := s.reqs.wasmModules()[name]
	if !ok {
		return nil, fmt.Errorf("no module %q among the session's requirements", name)
	}
	w, err := s.g.wasmRuntime(ctx)
	if err != nil {
		return nil, err
	}
	c, err := w.compile(ctx, code)
	if err != nil {
		return nil, fmt.Errorf("compile %s: %w", name, err)
	}
	mc := wazero.NewModuleConfig().WithName("").WithStartFunctions("_initialize")
	mod, err := w.rt.InstantiateModule(context.WithoutCancel(ctx), c, mc)
	if err != nil {
		return nil, fmt.Errorf("instantiate %s: %w", name, err)
	}
	if s.wasm == nil {
		s.wasm = &wasmState{mods: map[string]*wasmInst{}}
	}
	wi := &wasmInst{mod: mod}
	s.wasm.mods[name] = wi
	return wi, nil
}

// wasmRun calls fn, stopped when the session's execution is aborted, the
// session closes or the execution time limit passes.
func (s *Session) wasmRun(ctx context.Context, wi *wasmInst, fn api.Function, args ...uint64) ([]uint64, error) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	defer cancel()
	if limit := s.g.timeLimit(); limit > 0 {
		var c2 context.CancelFunc
		ctx, c2 = context.WithTimeout(ctx, limit)
		defer c2()
	}
	var abort <-chan struct{}
	if e := s.current; e != nil {
		abort = e.abortc
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-abort:
		case <-s.quit:
		case <-done:
			return
		}
		cancel()
	}()
	start := time.Now()
	res, err := fn.Call(ctx, args...)
	if err != nil {
		if ctx.Err() != nil {
			// the module was closed by the cancellation: drop it
			for n, m := range s.wasm.mods {
				if m == wi {
					delete(s.wasm.mods, n)
				}
			}
			return nil, fmt.Errorf("stopped after %v", time.Since(start).Round(time.Millisecond))
		}
		return nil, err
	}
	return res, nil
}

// wasmBytes runs the bytes convention.
func (s *Session) wasmBytes(ctx context.Context, wi *wasmInst, name string, in []byte, outCap uint32) ([]byte, error) {
	fn := wi.mod.ExportedFunction(name)
	if fn == nil {
		return nil, fmt.Errorf("no such function")
	}
	if n := len(fn.Definition().ParamTypes()); n != 4 {
		return nil, fmt.Errorf("takes %d parameters; the bytes convention is fn(in_ptr, in_len, out_ptr, out_cap) -> out_len", n)
	}
	mem := wi.mod.Memory()
	if mem == nil {
		return nil, fmt.Errorf("module exports no memory")
	}
	for attempt := 0; attempt < 2; attempt++ {
		inPtr, outPtr, free, err := s.wasmBuffers(ctx, wi, uint32(len(in)), outCap)
		if err != nil {
			return nil, err
		}
		if !mem.Write(inPtr, in) {
			free()
			return nil, fmt.Errorf("input does not fit in memory")
		}
		res, err := s.wasmRun(ctx, wi, fn, uint64(inPtr), uint64(len(in)), uint64(outPtr), uint64(outCap))
		if err != nil {
			return nil, err
		}
		n := api.DecodeI32(res[0])
		switch {
		case n < 0:
			free()
			return nil, fmt.Errorf("returned error %d", n)
		case uint32(n) > outCap:
			free()
			outCap = uint32(n)
			continue
		}
		b, ok := mem.Read(outPtr, uint32(n))
		if !ok {
			free()
			return nil, fmt.Errorf("output out of bounds")
		}
		out := append([]byte(nil), b...)
		free()
		return out, nil
	}
	return nil, fmt.Errorf("output keeps growing")
}

func (s *Session) wasmBuffers(ctx context.Context, wi *wasmInst, inLen, outCap uint32) (inPtr, outPtr uint32, free func(), err error) {
	need := align8(inLen) + align8(outCap)
	if alloc := wi.mod.ExportedFunction("gears_alloc"); alloc != nil {
		res, err := s.wasmRun(ctx, wi, alloc, uint64(need))
		if err != nil {
			return 0, 0, nil, err
		}
		p := api.DecodeU32(res[0])
		if p == 0 {
			return 0, 0, nil, fmt.Errorf("gears_alloc(%d) failed", need)
		}
		free = func() {}
		if f := wi.mod.ExportedFunction("gears_free"); f != nil {
			free = func() { _, _ = f.Call(context.WithoutCancel(ctx), uint64(p)) }
		}
		return p, p + align8(inLen), free, nil
	}
	if wi.scrLen < need {
		mem := wi.mod.Memory()
		pages := (need + 0xffff) / 0x10000
		prev, ok := mem.Grow(pages)
		if !ok {
			return 0, 0, nil, fmt.Errorf("out of memory (%d bytes of buffers)", need)
		}
		wi.scratch, wi.scrLen = prev*0x10000, pages*0x10000
	}
	return wi.scratch, wi.scratch + align8(inLen), func() {}, nil
}

func align8(n uint32) uint32 { return (n + 7) &^ 7 }
