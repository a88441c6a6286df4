"""Apply wasmgears' source patches to a CPython 3.13 tree (idempotent).

  python3 patch-cpython.py SRC

The gears.yield hook has three parts (the header shadow is the first, see
guest/c/shadow/pycore_emscripten_signal.h):
  1. RESUME_CHECK (specialised function entry) only polls the Emscripten
     signal clock; make it count down towards gears.yield too, or call-heavy
     code without loops (fib) would never yield.
  2. PyIter_Next counts down too, so C loops over iterators (sum(range(n)),
     max, min, any, all, str.join, ...) yield and can be stopped: on a stop
     request it returns NULL with gears.forcestopped set, which every caller
     already handles as "iteration failed".
"""
import sys

MARK = "wasmgears"


def patch(path, old, new):
    with open(path) as f:
        s = f.read()
    if MARK in s:
        return
    if s.count(old) != 1:
        sys.exit(f"patch-cpython: pattern not found exactly once in {path}")
    with open(path, "w") as f:
        f.write(s.replace(old, new))


def main():
    src = sys.argv[1]
    patch(f"{src}/Python/generated_cases.c.h",
          """            #if defined(__EMSCRIPTEN__)
            DEOPT_IF(_Py_emscripten_signal_clock == 0, RESUME);
            _Py_emscripten_signal_clock -= Py_EMSCRIPTEN_SIGNAL_HANDLING;
            #endif
""",
          """            DEOPT_IF(_gears_yield_countdown <= 0, RESUME);  /* wasmgears: poll gears.yield */
            _gears_yield_countdown--;
""")
    patch(f"{src}/Objects/abstract.c",
          """PyObject *
PyIter_Next(PyObject *iter)
{
    PyObject *result;
    result = (*Py_TYPE(iter)->tp_iternext)(iter);
""",
          """extern int32_t _gears_yield_countdown;   /* wasmgears: guest/c/_gearsmodule.c */
int _gears_check_signals(void);

PyObject *
PyIter_Next(PyObject *iter)
{
    PyObject *result;
    if (__builtin_expect(--_gears_yield_countdown < 0, 0) && _gears_check_signals() < 0) {
        return NULL;
    }
    result = (*Py_TYPE(iter)->tp_iternext)(iter);
""")


if __name__ == "__main__":
    main()
