// Package abi is the contract between the wasmgears host (package host) and
// the guest (guest/c/_gearsmodule.c inside python.wasm): the names of the
// imports and exports, invoke op codes, status and return codes, and the
// RESP3 frame codec used for every payload that is not raw source text.
//
// Guest imports (module "gears", every parameter and result is i32):
//
//	take(dst)            copy the current invoke's payload (its length was
//	                     gears_invoke's len) to dst
//	reply(ptr, len)      hand the current invoke's reply to the host; the
//	                     host copies it during the call
//	call(ptr, len) -> n  guest->host request: a RESP3 array frame whose first
//	                     element is the op name ("execute", "log", "sleep",
//	                     ...). n >= 0: length of the pending RESP3 reply;
//	                     n < 0: CallError or CallStopped
//	result(dst)          copy the pending call reply (exactly n bytes) to dst
//	                     and drop it
//	yield() -> i32       periodic poll from the eval loop, PyErr_CheckSignals
//	                     and PyIter_Next; YieldStop = raise gears.forcestopped
//
// Guest exports:
//
//	_initialize()                 reactor constructors (not on a snapshot)
//	gears_init() -> i32           initialise CPython; StatusOK on success
//	gears_invoke(op, len) -> i32  run one request, see the Status* codes
//	gears_abort_info() -> i32     address of the abort-info struct (optional)
//	wizer.initialize()            for toolchain/snapshot.sh (wizer removes it)
//
// The host never calls the guest allocator: the guest sizes every buffer and
// pulls payloads with take/result.
package abi

// Version is the ABI version; the guest exposes it as _gears.ABI_VERSION and
// in the first word of gears_abort_info.
const Version = 1

// Import module and names.
const (
	ImportModule = "gears"
	ImportTake   = "take"
	ImportReply  = "reply"
	ImportCall   = "call"
	ImportResult = "result"
	ImportYield  = "yield"
)

// Export names.
const (
	ExportInitialize = "_initialize"
	ExportInit       = "gears_init"
	ExportInvoke     = "gears_invoke"
	ExportAbortInfo  = "gears_abort_info"
	ExportMemStats   = "gears_memstats" // address of {int64 total, peak, curr}
	ExportWizerInit  = "wizer.initialize"
	ExportMemory     = "memory"
)

// Invoke op codes (first argument of gears_invoke).
const (
	// OpExec runs the payload (Python source) in the persistent __main__
	// namespace; compiled code is cached by source text. Reply: empty.
	OpExec int32 = 0
	// OpEval evaluates the payload (an expression); reply: repr(value).
	OpEval int32 = 1
	// OpFirstHandler is the first op that a guest handler can be registered
	// for with _gears.register(op, fn); reply = fn(payload).
	OpFirstHandler int32 = 16
	// OpLimit bounds handler ops (exclusive).
	OpLimit int32 = 1 << 30
)

// Status codes returned by gears_init / gears_invoke.
const (
	StatusOK       int32 = 0
	StatusPyError  int32 = 1 // Python exception; reply = formatted traceback text
	StatusStopped  int32 = 2 // gears.forcestopped; reply = formatted traceback text
	StatusNotInit  int32 = -1
	StatusInternal int32 = -2
	StatusBadArg   int32 = -3
)

// Return codes of the call import (negative values; >= 0 is a reply length).
const (
	CallError   int32 = -1 // the guest raises gears.error("host call failed: -1")
	CallStopped int32 = -3 // the guest raises gears.forcestopped
)

// Results of the yield import.
const (
	YieldContinue int32 = 0
	YieldStop     int32 = 1
)

// Host call op names (first element of a call request array).
const (
	CallExecute = "execute" // ["execute", command, args...] -> the command's reply
	CallLog     = "log"     // ["log", level, msg] -> +OK
	CallSleep   = "sleep"   // ["sleep", seconds as %.17g] -> +OK
)

// Guest filesystem layout.
const (
	GuestHome    = "/usr/local"      // PYTHONHOME
	GuestLibDir  = "/usr/local/lib"  // holds python313.zip (read-only)
	GuestSiteDir = "/usr/local/site" // session requirements (read-only, optional)
	StdlibZip    = "python313.zip"
)
