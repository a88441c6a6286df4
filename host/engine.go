// Package host runs the wasmgears guest (CPython 3.13, wasm32-wasi reactor,
// see package guest and package abi) in wazero, at the engine level: compile
// once, instantiate sandboxed interpreters, invoke them (re-entrantly), stop
// or kill them. Sessions, executions and registrations build on this.
//
// Concurrency: an Instance is driven by one goroutine at a time (the one
// inside Invoke), which may re-enter Invoke from inside its OnCall hook.
// Stop and Kill may be called from any goroutine. Different instances run in
// parallel.
package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/wasmgears/wasmgears/abi"
	"github.com/wasmgears/wasmgears/guest"
)

// Config configures an Engine. The zero value is usable.
type Config struct {
	// CacheDir holds wazero's on-disk compilation cache ("" = no cache).
	// With a warm cache, compiling python.wasm takes ~65 ms instead of ~1.7 s.
	CacheDir string
	// Strict compiles termination checks into the guest
	// (WithCloseOnContextDone), so that Kill can stop a guest stuck in C code
	// that never yields. CPU-bound Python runs 2.5-3.5x slower; see
	// RATIONALE.md.
	Strict bool
	// MemoryLimitPages caps every instance's linear memory, in 64 KiB pages
	// (0 = the wasm32 maximum, 4 GiB). The guest's floor is 320 pages
	// (20 MiB, of which ~5 MB are touched).
	MemoryLimitPages uint32
	// Wasm and Stdlib override the embedded runtime (guest.PythonWasm,
	// guest.StdlibZip).
	Wasm, Stdlib []byte
	// Snapshot uses the wizer pre-initialised guest (guest.PythonSnapshot,
	// or Wasm if set): CPython is already initialised in its memory image,
	// so a new instance costs a few ms instead of ~30 ms. Its hash seed is
	// fixed (0) and shared by every instance, and /usr/local/site is always
	// mounted (empty when unused) because the preopen table is frozen.
	Snapshot bool
}

// Engine is a compiled guest plus the wazero runtime that hosts its
// instances. It is safe for concurrent use.
type Engine struct {
	cfg      Config
	rt       wazero.Runtime
	compiled wazero.CompiledModule
	stdlib   fs.FS
}

// NewEngine compiles the guest (or loads it from the compilation cache).
func NewEngine(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Wasm == nil {
		cfg.Wasm = guest.PythonWasm()
		if cfg.Snapshot {
			if cfg.Wasm = guest.PythonSnapshot(); cfg.Wasm == nil {
				return nil, errors.New("host: no embedded snapshot (toolchain/build.sh --snapshot)")
			}
		}
	}
	if cfg.Stdlib == nil {
		cfg.Stdlib = guest.StdlibZip()
	}
	rc := wazero.NewRuntimeConfig().WithCloseOnContextDone(cfg.Strict)
	if cfg.MemoryLimitPages > 0 {
		rc = rc.WithMemoryLimitPages(cfg.MemoryLimitPages)
	}
	if cfg.CacheDir != "" {
		cache, err := wazero.NewCompilationCacheWithDir(cfg.CacheDir)
		if err != nil {
			return nil, fmt.Errorf("host: compilation cache: %w", err)
		}
		rc = rc.WithCompilationCache(cache)
	}
	rt := wazero.NewRuntimeWithConfig(ctx, rc)
	fail := func(err error) (*Engine, error) {
		rt.Close(ctx)
		return nil, err
	}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return fail(err)
	}
	if err := instantiateGearsModule(ctx, rt); err != nil {
		return fail(err)
	}
	compiled, err := rt.CompileModule(ctx, cfg.Wasm)
	if err != nil {
		return fail(fmt.Errorf("host: compile guest: %w", err))
	}
	for _, name := range []string{abi.ExportInit, abi.ExportInvoke} {
		if _, ok := compiled.ExportedFunctions()[name]; !ok {
			return fail(fmt.Errorf("host: guest does not export %s", name))
		}
	}
	return &Engine{
		cfg:      cfg,
		rt:       rt,
		compiled: compiled,
		stdlib:   &fileDirFS{name: abi.StdlibZip, data: cfg.Stdlib},
	}, nil
}

// Close releases the runtime and every instance still open.
func (e *Engine) Close(ctx context.Context) error { return e.rt.Close(ctx) }

// Strict reports whether the engine was compiled for Kill.
func (e *Engine) Strict() bool { return e.cfg.Strict }

func i32(v ...api.ValueType) []api.ValueType { return v }

// instantiateGearsModule defines the "gears" host module (abi package doc).
// The functions are stack-based Go module functions (~0.1 µs per call); the
// calling Instance travels in the context.
func instantiateGearsModule(ctx context.Context, rt wazero.Runtime) error {
	I := api.ValueTypeI32
	_, err := rt.NewHostModuleBuilder(abi.ImportModule).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostTake), i32(I), nil).Export(abi.ImportTake).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostReply), i32(I, I), nil).Export(abi.ImportReply).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostCall), i32(I, I), i32(I)).Export(abi.ImportCall).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostResult), i32(I), nil).Export(abi.ImportResult).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostYield), nil, i32(I)).Export(abi.ImportYield).
		Instantiate(ctx)
	return err
}
