/* wasmgears replacement for Include/internal/pycore_emscripten_signal.h
 * (wasm32-wasi build only; toolchain/build.sh copies it over the original in
 * its private CPython source tree).
 *
 * CPython calls _Py_CHECK_EMSCRIPTEN_SIGNALS_PERIODICALLY() at every
 * eval-breaker check (loop back-edges, function entry) and
 * _Py_CHECK_EMSCRIPTEN_SIGNALS() from PyErr_CheckSignals(). Emscripten uses
 * them to poll for signals from JS. Here they become a cheap, regular call of
 * the host import gears.yield, which
 *   - lets the Go runtime stop the goroutine that runs the guest (compiled
 *     wasm is not preemptible, so without it a busy guest stalls every
 *     stop-the-world GC of the whole process), and
 *   - delivers stop requests (gears.forcestopped) without the host writing
 *     guest memory from another goroutine.
 * The functions live in guest/c/_gearsmodule.c. The same countdown is also
 * decremented by PyIter_Next (patched by build.sh), by RESUME_CHECK and by
 * PyErr_CheckSignals; the host is called only when it runs out.
 */
#ifndef Py_EMSCRIPTEN_SIGNAL_H
#define Py_EMSCRIPTEN_SIGNAL_H

#include <stdint.h>

extern int32_t _gears_yield_countdown;
/* eval loop: poll the host; on a stop request arm the async exception so
 * that the eval-breaker check that follows raises gears.forcestopped */
__attribute__((cold, noinline)) void _gears_yield(void);
/* C code: poll the host; -1 with gears.forcestopped set, or 0 */
int _gears_check_signals(void);

/* Only used in _PyErr_CheckSignalsTstate(), which returns int. It counts
 * down too, GEARS_SIGCHECK_WEIGHT at a time: C code calls PyErr_CheckSignals
 * once per unit of work (every int -> str conversion, every digit row of a
 * big-int multiplication, ...), and a host call each time made str()-heavy
 * code ~30% slower. A heavier weight than the eval loop's keeps the polls
 * frequent in loops whose units are large (big-int arithmetic). */
#ifndef GEARS_SIGCHECK_WEIGHT
#  define GEARS_SIGCHECK_WEIGHT 16
#endif
#define _Py_CHECK_EMSCRIPTEN_SIGNALS() \
    do { \
        if (__builtin_expect((_gears_yield_countdown -= GEARS_SIGCHECK_WEIGHT) < 0, 0) \
            && _gears_check_signals() < 0) { return -1; } \
    } while (0)

#define _Py_CHECK_EMSCRIPTEN_SIGNALS_PERIODICALLY() \
    do { if (__builtin_expect(--_gears_yield_countdown < 0, 0)) { _gears_yield(); } } while (0)

#endif /* Py_EMSCRIPTEN_SIGNAL_H */
