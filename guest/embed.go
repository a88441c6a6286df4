// Package guest holds everything that runs inside the sandbox. This file
// embeds the committed runtime artifact built by toolchain/build.sh
// (`make toolchain`): the CPython 3.13 wasm32-wasi reactor and its stdlib zip.
package guest

import (
	"embed"
	"io/fs"
)

//go:embed runtime/*.wasm runtime/python313.zip runtime/VERSION runtime/SHA256SUMS runtime/INPUTS.sha256
var runtimeFS embed.FS

func mustRead(name string) []byte {
	b, err := runtimeFS.ReadFile("runtime/" + name)
	if err != nil {
		panic("guest: embedded runtime file missing: " + name)
	}
	return b
}

var (
	pythonWasm  = mustRead("python.wasm")
	stdlibZip   = mustRead("python313.zip")
	snapshot, _ = runtimeFS.ReadFile("runtime/python-snap.wasm") // optional
)

// PythonWasm returns the interpreter module (a reactor: exports _initialize,
// gears_init, gears_invoke; imports module "gears", see package abi). The
// slice is shared: do not modify it.
func PythonWasm() []byte { return pythonWasm }

// PythonSnapshot returns python-snap.wasm, the wizer pre-initialised
// interpreter (CPython already initialised; do not run _initialize), or nil
// if the runtime was built without --snapshot.
func PythonSnapshot() []byte { return snapshot }

// StdlibZip returns python313.zip, to be mounted read-only as
// /usr/local/lib/python313.zip in the guest. The slice is shared: do not
// modify it.
func StdlibZip() []byte { return stdlibZip }

// Version returns the runtime's VERSION file (CPython and Debian package
// versions of the toolchain).
func Version() string { return string(mustRead("VERSION")) }

// Runtime returns the embedded runtime directory (python.wasm,
// python313.zip, VERSION, SHA256SUMS, INPUTS.sha256 and, when built,
// python-snap.wasm) as an fs.FS rooted at the directory.
func Runtime() fs.FS {
	sub, err := fs.Sub(runtimeFS, "runtime")
	if err != nil {
		panic(err)
	}
	return sub
}
