/* _gears: the built-in CPython module and the reactor entry points of the
 * wasmgears guest (python.wasm, wasm32-wasi, linked -mexec-model=reactor).
 *
 * The contract with the Go host is abi/abi.go; keep both in sync.
 *
 * Host imports (module "gears", all i32):
 *   take(dst)              copy the current invoke's payload (its length was
 *                          gears_invoke's len) to dst
 *   reply(ptr, len)        hand the current invoke's reply to the host (the
 *                          host copies it during the call)
 *   call(ptr, len) -> n    guest->host request, a RESP3 array frame whose
 *                          first element is the op name ("execute", "log",
 *                          "sleep", ...); n >= 0 is the length of the pending
 *                          RESP3 reply, n < 0 an error (-3: stopped)
 *   result(dst)            copy the pending call reply (exactly n bytes) to
 *                          dst and drop it
 *   yield() -> i32         periodic poll; 1 = raise gears.forcestopped
 * The host never calls the guest allocator: the guest sizes every buffer.
 *
 * Exports:
 *   _initialize()          crt1-reactor: C constructors (not on a snapshot)
 *   gears_init() -> i32    initialise CPython (home /usr/local, isolated, no
 *                          site, no signal handlers), import _gears,
 *                          time.sleep = _gears.sleep; 0 = ok
 *   gears_invoke(op, len) -> i32
 *                          0 ok | 1 Python exception (reply = formatted
 *                          traceback) | 2 gears.forcestopped (reply = the
 *                          same) | < 0 internal error
 *       op 0 EXEC  payload = source, exec'd in the persistent __main__ dict
 *       op 1 EVAL  payload = expression, reply = repr(value) (UTF-8)
 *       op >= 16   handler registered with _gears.register(op, fn):
 *                  reply = fn(payload) (bytes-like, str or None)
 *   gears_abort_info() -> u32  address of struct gears_abort_info
 *   wizer.initialize()     for toolchain/snapshot.sh only (removed by wizer
 *                          in python-snap.wasm)
 */
#ifndef Py_BUILD_CORE_BUILTIN
#  define Py_BUILD_CORE_MODULE 1
#endif
#define PY_SSIZE_T_CLEAN
#include "Python.h"
#include "pycore_object.h"   /* _Py_SetImmortal */
#include "pycore_ceval.h"    /* _PY_ASYNC_EXCEPTION_BIT, _Py_set_eval_breaker_bit */
#include <stdint.h>
#include <stdio.h>
#include <malloc.h>      /* malloc_usable_size: RG.PYSTATS accounting */
#include <string.h>
#include <wasi/api.h>    /* the wrapped clock/filestat calls (snapshot) */

#ifndef __wasi__
#  error "_gears is built for wasm32-wasi only"
#endif

#define GEARS_IMPORT(name) __attribute__((import_module("gears"), import_name(name)))
GEARS_IMPORT("take")   extern void    gears_host_take(void *dst);
GEARS_IMPORT("reply")  extern void    gears_host_reply(const void *src, int32_t len);
GEARS_IMPORT("call")   extern int32_t gears_host_call(const void *req, int32_t len);
GEARS_IMPORT("result") extern void    gears_host_result(void *dst);
GEARS_IMPORT("yield")  extern int32_t gears_host_yield(void);

/* keep in sync with abi/abi.go */
#define GEARS_ABI_VERSION 1
enum { OP_EXEC = 0, OP_EVAL = 1, OP_FIRST_HANDLER = 16, OP_LIMIT = 1 << 30 };
enum { ST_OK = 0, ST_PYERR = 1, ST_STOPPED = 2,
       ST_NOTINIT = -1, ST_INTERNAL = -2, ST_BADARG = -3 };
enum { CALL_STOPPED = -3 };
#define CODE_CACHE_MAX 1024
#define RESP_MAX_DEPTH 512

/* Read by the host after gears_init (wasm32 addresses / values). */
struct gears_abort_info {
    uint32_t version;             /* GEARS_ABI_VERSION */
    uint32_t eval_breaker_addr;   /* &tstate->eval_breaker */
    uint32_t async_exc_addr;      /* &tstate->async_exc */
    uint32_t exc_value;           /* the immortal gears.forcestopped type */
    uint32_t bit;                 /* _PY_ASYNC_EXCEPTION_BIT */
    uint32_t depth_addr;          /* &g_depth */
};

static struct gears_abort_info g_abort_info;
static PyObject *g_globals;        /* __main__.__dict__ (persistent namespace) */
static PyObject *g_handlers;       /* {op: callable} */
static PyObject *g_exec_cache;     /* {source bytes: code} */
static PyObject *g_eval_cache;
static PyObject *g_error;          /* gears.error */
static PyObject *g_flat_error;     /* gears.flat_error */
static PyObject *g_force_stopped;  /* gears.forcestopped, immortal */
static PyObject *g_format_exception; /* traceback.format_exception */
static int32_t g_depth;
static int g_reporting;            /* formatting an exception: ignore stop polls */

/* ------------------------------------------------------------------ */
/* Yield hook (guest/c/shadow/pycore_emscripten_signal.h)             */

#ifndef GEARS_YIELD_EVERY
#  define GEARS_YIELD_EVERY 1000
#endif
int32_t _gears_yield_countdown = GEARS_YIELD_EVERY;

static inline int
stop_wanted(void)
{
    _gears_yield_countdown = GEARS_YIELD_EVERY;
    return gears_host_yield() != 0 && g_force_stopped != NULL && g_globals != NULL && !g_reporting;
}

/* Eval loop, right before it tests eval_breaker: arming the asynchronous
 * exception here makes that very check raise it. */
void
_gears_yield(void)
{
    if (stop_wanted()) {
        PyThreadState *ts = _PyThreadState_GET();
        PyObject *old = ts->async_exc;
        ts->async_exc = g_force_stopped;          /* immortal: no INCREF */
        Py_XDECREF(old);
        _Py_set_eval_breaker_bit(ts, _PY_ASYNC_EXCEPTION_BIT);
    }
}

/* PyErr_CheckSignals() and PyIter_Next() (long C loops). */
int
_gears_check_signals(void)
{
    if (stop_wanted()) {
        PyErr_SetString(g_force_stopped, "execution was stopped");
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* Host calls                                                          */

/* Send req to the host; on success return the reply as a new PyMem buffer
 * (*out, *outlen; *out may be NULL for an empty reply). -1 with an
 * exception set on failure. */
static int
host_call(const char *req, Py_ssize_t len, char **out, Py_ssize_t *outlen)
{
    if (len > INT32_MAX) {
        PyErr_SetString(g_error, "host call request too large");
        return -1;
    }
    /* The host may re-enter gears_invoke from inside this call. */
    int32_t n = gears_host_call(req, (int32_t)len);
    if (n == CALL_STOPPED) {
        PyErr_SetString(g_force_stopped, "execution was stopped");
        return -1;
    }
    if (n < 0) {
        PyErr_Format(g_error, "host call failed: %d", (int)n);
        return -1;
    }
    *out = NULL;
    *outlen = n;
    if (n > 0) {
        *out = PyMem_Malloc(n);
        if (*out == NULL) {
            /* the host drops the pending reply at the next call */
            PyErr_NoMemory();
            return -1;
        }
        gears_host_result(*out);
    }
    return 0;
}

/* ---- RESP3 encoding ---------------------------------------------------- */

/* A growing output buffer (PyMem). */
typedef struct {
    char *p;
    Py_ssize_t len, cap;
} obuf;

static int
ob_grow(obuf *b, Py_ssize_t n)
{
    if (b->len + n <= b->cap) {
        return 0;
    }
    Py_ssize_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n) {
        if (cap > PY_SSIZE_T_MAX / 2) {
            PyErr_NoMemory();
            return -1;
        }
        cap *= 2;
    }
    char *p = PyMem_Realloc(b->p, cap);
    if (p == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static int
ob_put(obuf *b, const char *s, Py_ssize_t n)
{
    if (ob_grow(b, n) < 0) {
        return -1;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    return 0;
}

/* "<t><n>\r\n" (snprintf costs more than the rest of a small reply) */
static int
ob_head(obuf *b, char t, long long n)
{
    char tmp[24], *e = tmp + sizeof tmp, *q = e;
    unsigned long long u = n < 0 ? 0 - (unsigned long long)n : (unsigned long long)n;
    *--q = '\n';
    *--q = '\r';
    do {
        *--q = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (n < 0) {
        *--q = '-';
    }
    *--q = t;
    return ob_put(b, q, e - q);
}

/* a bulk string: "$<n>\r\n<s>\r\n" */
static int
ob_bulk(obuf *b, const char *s, Py_ssize_t n)
{
    if (ob_head(b, '$', n) < 0 || ob_grow(b, n + 2) < 0) {
        return -1;
    }
    memcpy(b->p + b->len, s, n);
    memcpy(b->p + b->len + n, "\r\n", 2);
    b->len += n + 2;
    return 0;
}

/* Encode [head..., items...] as an array of bulk strings: head are C
 * strings, items Python objects (bytes/bytearray raw, str as UTF-8,
 * anything else str()'ed). Returns a PyMem buffer or NULL with an
 * exception set. */
static char *
encode_request(const char **head, int nhead, PyObject *const *items, Py_ssize_t nitems,
               Py_ssize_t *outlen)
{
    obuf b = {0};
    int rc = ob_head(&b, '*', nhead + nitems);
    for (int i = 0; rc == 0 && i < nhead; i++) {
        rc = ob_bulk(&b, head[i], (Py_ssize_t)strlen(head[i]));
    }
    for (Py_ssize_t i = 0; rc == 0 && i < nitems; i++) {
        PyObject *o = items[i];
        if (PyBytes_Check(o)) {
            rc = ob_bulk(&b, PyBytes_AS_STRING(o), PyBytes_GET_SIZE(o));
        }
        else if (PyByteArray_Check(o)) {
            rc = ob_bulk(&b, PyByteArray_AS_STRING(o), PyByteArray_GET_SIZE(o));
        }
        else {
            PyObject *str = PyUnicode_Check(o) ? Py_NewRef(o) : PyObject_Str(o);
            Py_ssize_t n;
            const char *u = str != NULL ? PyUnicode_AsUTF8AndSize(str, &n) : NULL;
            rc = u != NULL ? ob_bulk(&b, u, n) : -1;
            Py_XDECREF(str);
        }
    }
    if (rc < 0) {
        PyMem_Free(b.p);
        return NULL;
    }
    *outlen = b.len;
    return b.p;
}

/* ---- RESP3 decoding of a reply --------------------------------------- */

typedef struct {
    const char *p, *end;
} reader;

static int
protocol_error(const char *what)
{
    PyErr_Format(g_error, "bad reply from host: %s", what);
    return -1;
}

/* Read the line at r->p (without CRLF). */
static int
read_line(reader *r, const char **line, Py_ssize_t *len)
{
    const char *s = r->p;
    for (const char *q = s; q + 1 < r->end; q++) {
        if (q[0] == '\r' && q[1] == '\n') {
            *line = s;
            *len = q - s;
            r->p = q + 2;
            return 0;
        }
    }
    return protocol_error("truncated line");
}

static int
parse_int(const char *s, Py_ssize_t n, long long *v)
{
    if (n <= 0 || n > 20) {
        return protocol_error("bad integer");
    }
    int neg = 0;
    Py_ssize_t i = 0;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
        if (n == 1) {
            return protocol_error("bad integer");
        }
    }
    unsigned long long x = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return protocol_error("bad integer");
        }
        unsigned long long nx = x * 10 + (unsigned)(s[i] - '0');
        if (nx / 10 != x) {
            return protocol_error("integer overflow");
        }
        x = nx;
    }
    if (x > (unsigned long long)LLONG_MAX + (neg ? 1 : 0)) {
        return protocol_error("integer overflow");
    }
    *v = neg ? (long long)(0 - x) : (long long)x;
    return 0;
}

/* str if valid UTF-8, else bytearray */
static PyObject *
text_or_bytearray(const char *s, Py_ssize_t n)
{
    PyObject *o = PyUnicode_DecodeUTF8(s, n, "strict");
    if (o == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
        PyErr_Clear();
        o = PyByteArray_FromStringAndSize(s, n);
    }
    return o;
}

/* Read a length-prefixed payload ("$<n>\r\n<bytes>\r\n"); *s = NULL for null */
static int
read_blob(reader *r, const char *line, Py_ssize_t ll, const char **s, Py_ssize_t *n)
{
    long long len;
    if (parse_int(line, ll, &len) < 0) {
        return -1;
    }
    if (len < 0) {
        *s = NULL;
        *n = 0;
        return 0;
    }
    if (len > r->end - r->p - 2 || r->p[len] != '\r' || r->p[len + 1] != '\n') {
        return protocol_error("truncated bulk string");
    }
    *s = r->p;
    *n = (Py_ssize_t)len;
    r->p += len + 2;
    return 0;
}

/* Read a non-null bulk string at r: *s, *n (what names it in the error). */
static int
read_bulk(reader *r, const char **s, Py_ssize_t *n, const char *what)
{
    const char *line;
    Py_ssize_t ll;
    if (r->p >= r->end || *r->p != '$') {
        return protocol_error(what);
    }
    r->p++;
    if (read_line(r, &line, &ll) < 0 || read_blob(r, line, ll, s, n) < 0) {
        return -1;
    }
    return *s == NULL ? protocol_error(what) : 0;
}

/* Decode one frame. Top-level error replies raise gears.error; errors
 * nested in aggregates become str (RedisGears 1.2 does the same). */
static PyObject *
decode(reader *r, int depth)
{
    if (depth > RESP_MAX_DEPTH) {
        protocol_error("nested too deeply");
        return NULL;
    }
    if (r->p >= r->end) {
        protocol_error("truncated reply");
        return NULL;
    }
    char t = *r->p++;
    const char *line, *s;
    Py_ssize_t ll, n;
    long long v;
    if (read_line(r, &line, &ll) < 0) {
        return NULL;
    }
    switch (t) {
    case '+':
        return text_or_bytearray(line, ll);
    case '-':
        if (depth == 0) {
            PyObject *msg = text_or_bytearray(line, ll);
            if (msg != NULL) {
                PyErr_SetObject(g_error, msg);
                Py_DECREF(msg);
            }
            return NULL;
        }
        return text_or_bytearray(line, ll);
    case ':':
        if (parse_int(line, ll, &v) < 0) {
            return NULL;
        }
        return PyLong_FromLongLong(v);
    case '$':
    case '=':
    case '!':
        if (read_blob(r, line, ll, &s, &n) < 0) {
            return NULL;
        }
        if (s == NULL) {
            Py_RETURN_NONE;
        }
        if (t == '=') {   /* verbatim: "txt:" + content */
            if (n < 4 || s[3] != ':') {
                protocol_error("bad verbatim string");
                return NULL;
            }
            s += 4;
            n -= 4;
        }
        if (t == '!' && depth == 0) {
            PyObject *msg = text_or_bytearray(s, n);
            if (msg != NULL) {
                PyErr_SetObject(g_error, msg);
                Py_DECREF(msg);
            }
            return NULL;
        }
        return text_or_bytearray(s, n);
    case '_':
        Py_RETURN_NONE;
    case '#':
        if (ll != 1 || (line[0] != 't' && line[0] != 'f')) {
            protocol_error("bad boolean");
            return NULL;
        }
        return PyLong_FromLong(line[0] == 't');
    case ',': {
        char tmp[64];
        if (ll <= 0 || ll >= (Py_ssize_t)sizeof(tmp)) {
            protocol_error("bad double");
            return NULL;
        }
        memcpy(tmp, line, ll);
        tmp[ll] = 0;
        if (strcmp(tmp, "inf") == 0 || strcmp(tmp, "+inf") == 0) {
            return PyFloat_FromDouble(Py_HUGE_VAL);
        }
        if (strcmp(tmp, "-inf") == 0) {
            return PyFloat_FromDouble(-Py_HUGE_VAL);
        }
        if (strcmp(tmp, "nan") == 0) {
            return PyFloat_FromDouble(Py_NAN);
        }
        char *endp;
        double d = PyOS_string_to_double(tmp, &endp, NULL);
        if (d == -1.0 && PyErr_Occurred()) {
            return NULL;
        }
        if (*endp) {
            protocol_error("bad double");
            return NULL;
        }
        return PyFloat_FromDouble(d);
    }
    case '(': {
        char *tmp = PyMem_Malloc(ll + 1);
        if (tmp == NULL) {
            return PyErr_NoMemory();
        }
        memcpy(tmp, line, ll);
        tmp[ll] = 0;
        PyObject *o = PyLong_FromString(tmp, NULL, 10);
        PyMem_Free(tmp);
        return o;
    }
    case '*':
    case '~':
    case '>':
    case '%': {
        if (parse_int(line, ll, &v) < 0) {
            return NULL;
        }
        if (v < 0) {
            if (t == '*') {
                Py_RETURN_NONE;   /* RESP2 null array */
            }
            protocol_error("negative aggregate length");
            return NULL;
        }
        long long count = (t == '%') ? 2 * v : v;
        /* every element takes at least 3 bytes: a cheap bound against
           absurd lengths */
        if (count > (r->end - r->p) / 3) {
            protocol_error("truncated aggregate");
            return NULL;
        }
        PyObject *list = PyList_New((Py_ssize_t)count);
        if (list == NULL) {
            return NULL;
        }
        for (long long i = 0; i < count; i++) {
            PyObject *e = decode(r, depth + 1);
            if (e == NULL) {
                Py_DECREF(list);
                return NULL;
            }
            PyList_SET_ITEM(list, (Py_ssize_t)i, e);
        }
        return list;
    }
    case '|': {   /* attributes: skip them, return the value that follows */
        if (parse_int(line, ll, &v) < 0) {
            return NULL;
        }
        for (long long i = 0; i < 2 * v; i++) {
            PyObject *e = decode(r, depth + 1);
            if (e == NULL) {
                return NULL;
            }
            Py_DECREF(e);
        }
        return decode(r, depth);
    }
    default:
        protocol_error("unknown type byte");
        return NULL;
    }
}

/* decode a whole frame: one value and nothing after it */
static PyObject *
decode_all(const char *p, Py_ssize_t n)
{
    reader r = {p, p + n};
    PyObject *res = decode(&r, 0);
    if (res != NULL && r.p != r.end) {
        Py_CLEAR(res);
        protocol_error("trailing bytes");
    }
    return res;
}

/* host call with a RESP request (head, then items): the raw reply in *rep
 * (PyMem_Free it) */
static int
call_request(const char **head, int nhead, PyObject *const *items, Py_ssize_t nitems,
             char **rep, Py_ssize_t *replen)
{
    Py_ssize_t reqlen;
    char *req = encode_request(head, nhead, items, nitems, &reqlen);
    if (req == NULL) {
        return -1;
    }
    int rc = host_call(req, reqlen, rep, replen);
    PyMem_Free(req);
    return rc;
}

/* host call with a RESP request; returns the decoded reply */
static PyObject *
call_decoded(const char **head, int nhead, PyObject *const *items, Py_ssize_t nitems)
{
    char *rep;
    Py_ssize_t replen;
    if (call_request(head, nhead, items, nitems, &rep, &replen) < 0) {
        return NULL;
    }
    PyObject *res = decode_all(rep, replen);
    PyMem_Free(rep);
    return res;
}

/* ------------------------------------------------------------------ */
/* Python-facing functions                                             */

/* decode(frame) -> the value, with execute()'s conversions: batches of
 * reader records are decoded here instead of in Python */
static PyObject *
gears_decode(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    PyObject *res = decode_all((const char *)view.buf, view.len);
    PyBuffer_Release(&view);
    return res;
}

/* ---- KeysReader batches ---------------------------------------------- */

/* Record dict keys and type names, interned once (gears_exec). */
static PyObject *g_s_key, *g_s_value, *g_s_type, *g_s_event, *g_s_zero, *g_s_one;
static struct { const char *name; PyObject *s; } g_types[] = {
    {"string", NULL}, {"hash", NULL}, {"list", NULL}, {"set", NULL},
    {"zset", NULL}, {"empty", NULL}, {"unknown", NULL}, {"module", NULL},
};

/* The type name as a shared str (new reference). */
static PyObject *
type_name(const char *s, Py_ssize_t n)
{
    for (size_t i = 0; i < sizeof g_types / sizeof g_types[0]; i++) {
        if ((Py_ssize_t)strlen(g_types[i].name) == n && memcmp(g_types[i].name, s, n) == 0) {
            return Py_NewRef(g_types[i].s);
        }
    }
    return text_or_bytearray(s, n);
}

/* Read an aggregate header "<t><n>\r\n" and return n (>= 0), or -1. */
static long long
read_agg(reader *r, char t)
{
    const char *line;
    Py_ssize_t ll;
    long long v;
    if (r->p >= r->end || *r->p != t) {
        protocol_error("unexpected KeysReader batch shape");
        return -1;
    }
    r->p++;
    if (read_line(r, &line, &ll) < 0 || parse_int(line, ll, &v) < 0) {
        return -1;
    }
    if (v < 0 || v > (r->end - r->p) / 3) {
        protocol_error("bad aggregate length");
        return -1;
    }
    return v;
}

/* A key's value as RedisGears 1.2 gives it to a step: string -> str
 * (bytearray when not UTF-8), hash -> dict, list -> list, other types ->
 * None. *value (a decoded reply, owned) is replaced. */
static int
shape_value(PyObject *type, PyObject **value)
{
    if (type == g_types[1].s && PyList_CheckExact(*value)) {   /* hash */
        PyObject *v = *value;
        Py_ssize_t m = PyList_GET_SIZE(v);
        PyObject *h = PyDict_New();
        if (h == NULL) {
            return -1;
        }
        for (Py_ssize_t i = 0; i + 1 < m; i += 2) {
            if (PyDict_SetItem(h, PyList_GET_ITEM(v, i), PyList_GET_ITEM(v, i + 1)) < 0) {
                Py_DECREF(h);
                return -1;
            }
        }
        Py_SETREF(*value, h);
    }
    else if (type != g_types[0].s && type != g_types[2].s) {   /* not string/list */
        Py_SETREF(*value, Py_NewRef(Py_None));
    }
    return 0;
}

/* One record [key, type, value] -> {'key', 'value', 'type', 'event'}
 * ({'key', 'event'} without readValue), shaped as RedisGears 1.2 does:
 * string -> str (bytearray when not UTF-8), hash -> dict, list -> list,
 * other types -> None. */
static PyObject *
decode_record(reader *r, int readValue)
{
    if (read_agg(r, '*') != 3) {
        if (!PyErr_Occurred()) {
            protocol_error("KeysReader record is not [key, type, value]");
        }
        return NULL;
    }
    PyObject *key = NULL, *type = NULL, *value = NULL, *d = NULL;
    const char *s;
    Py_ssize_t n;
    if ((key = decode(r, 2)) == NULL || read_bulk(r, &s, &n, "KeysReader record type") < 0 ||
        (value = decode(r, 2)) == NULL) {
        goto fail;
    }
    if ((d = PyDict_New()) == NULL || PyDict_SetItem(d, g_s_key, key) < 0) {
        goto fail;
    }
    if (readValue) {
        if ((type = type_name(s, n)) == NULL || shape_value(type, &value) < 0 ||
            PyDict_SetItem(d, g_s_value, value) < 0 || PyDict_SetItem(d, g_s_type, type) < 0) {
            goto fail;
        }
    }
    if (PyDict_SetItem(d, g_s_event, Py_None) < 0) {
        goto fail;
    }
    Py_DECREF(key);
    Py_XDECREF(type);
    Py_DECREF(value);
    return d;
fail:
    Py_XDECREF(key);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(d);
    return NULL;
}

/* keys_read(cursor, pattern, noScan, readValue) -> (next_cursor, [record])
 * One KeysReader batch: the host call and the record dicts, all in C. */
static PyObject *
gears_keys_read(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 4) {
        PyErr_SetString(PyExc_TypeError, "keys_read(cursor, pattern, noScan, readValue)");
        return NULL;
    }
    int noScan = PyObject_IsTrue(args[2]), readValue = PyObject_IsTrue(args[3]);
    if (noScan < 0 || readValue < 0) {
        return NULL;
    }
    static const char *head[] = {"keys_read"};
    PyObject *items[4] = {args[0], args[1], noScan ? g_s_one : g_s_zero, readValue ? g_s_one : g_s_zero};
    char *rep;
    Py_ssize_t replen;
    if (call_request(head, 1, items, 4, &rep, &replen) < 0) {
        return NULL;
    }
    reader r = {rep, rep + replen};
    PyObject *cursor = NULL, *list = NULL, *res = NULL;
    if (replen > 0 && rep[0] != '*') {   /* an error reply raises gears.error */
        PyObject *o = decode(&r, 0);
        if (o != NULL) {
            Py_DECREF(o);
            protocol_error("unexpected KeysReader reply");
        }
        goto done;
    }
    if (read_agg(&r, '*') != 2) {
        if (!PyErr_Occurred()) {
            protocol_error("KeysReader reply is not [cursor, records]");
        }
        goto done;
    }
    if ((cursor = decode(&r, 1)) == NULL) {
        goto done;
    }
    long long count = read_agg(&r, '*');
    if (count < 0 || (list = PyList_New((Py_ssize_t)count)) == NULL) {
        goto done;
    }
    for (long long i = 0; i < count; i++) {
        PyObject *d = decode_record(&r, readValue);
        if (d == NULL) {
            Py_CLEAR(list);
            goto done;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, d);
    }
    if (r.p != r.end) {
        protocol_error("trailing bytes");
        goto done;
    }
    res = PyTuple_Pack(2, cursor, list);
done:
    Py_XDECREF(cursor);
    Py_XDECREF(list);
    PyMem_Free(rep);
    return res;
}

/* ---- replies: records as RESP --------------------------------------- */

/* str as UTF-8 with surrogateescape: *keep holds the bytes when the fast
 * UTF-8 view fails (lone surrogates). */
static const char *
utf8_of(PyObject *s, Py_ssize_t *n, PyObject **keep)
{
    *keep = NULL;
    const char *u = PyUnicode_AsUTF8AndSize(s, n);
    if (u != NULL) {
        return u;
    }
    if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
        return NULL;
    }
    PyErr_Clear();
    *keep = PyUnicode_AsEncodedString(s, "utf-8", "surrogateescape");
    if (*keep == NULL) {
        return NULL;
    }
    *n = PyBytes_GET_SIZE(*keep);
    return PyBytes_AS_STRING(*keep);
}

/* an error record: a bulk string */
static int
encode_error(obuf *b, PyObject *e)
{
    PyObject *keep;
    Py_ssize_t n;
    const char *s;
    if (!PyUnicode_Check(e)) {
        PyErr_SetString(PyExc_TypeError, "error records must be str");
        return -1;
    }
    if ((s = utf8_of(e, &n, &keep)) == NULL) {
        return -1;
    }
    int rc = ob_bulk(b, s, n);
    Py_XDECREF(keep);
    return rc;
}

static const char PY_RECORD[] = "$9\r\nPY RECORD\r\n";

/* One result record, after RedisGears' PythonRecord_SendReply: list ->
 * array, int -> integer (a bulk of its digits beyond 64 bits), float ->
 * "%f" bulk, str -> bulk ('+...' a status, '-...' an error, CRLF made
 * spaces), bytes -> bulk, anything else "PY RECORD". */
static int
encode_value(obuf *b, PyObject *r, int depth)
{
    if (PyUnicode_Check(r)) {
        Py_ssize_t n;
        PyObject *keep;
        const char *s = utf8_of(r, &n, &keep);
        if (s == NULL) {
            return -1;
        }
        int rc;
        if (n > 1 && (s[0] == '+' || s[0] == '-') && PyUnicode_GET_LENGTH(r) > 1) {
            /* a status or an error line: CRLF inside becomes a space */
            rc = ob_grow(b, n + 2);
            if (rc == 0) {
                char *q = b->p + b->len;
                Py_ssize_t w = 0;
                q[w++] = s[0];
                for (Py_ssize_t i = 1; i < n; i++) {
                    if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
                        q[w++] = ' ';
                        i++;
                    }
                    else {
                        q[w++] = s[i];
                    }
                }
                memcpy(q + w, "\r\n", 2);
                b->len += w + 2;
            }
        }
        else {
            rc = ob_bulk(b, s, n);
        }
        Py_XDECREF(keep);
        return rc;
    }
    if (PyDict_CheckExact(r)) {   /* the reader's record, mostly */
        return ob_put(b, PY_RECORD, sizeof PY_RECORD - 1);
    }
    if (PyList_Check(r)) {
        /* the guest's stack ends long before Python's recursion limit */
        if (depth >= RESP_MAX_DEPTH) {
            PyErr_SetString(PyExc_RecursionError, "maximum recursion depth exceeded while encoding a reply");
            return -1;
        }
        int rc = ob_head(b, '*', PyList_GET_SIZE(r));
        for (Py_ssize_t i = 0; rc == 0 && i < PyList_GET_SIZE(r); i++) {
            PyObject *x = Py_NewRef(PyList_GET_ITEM(r, i));
            rc = encode_value(b, x, depth + 1);
            Py_DECREF(x);
        }
        return rc;
    }
    if (PyLong_Check(r)) {
        int overflow;
        long long v = PyLong_AsLongLongAndOverflow(r, &overflow);
        if (v == -1 && PyErr_Occurred()) {
            return -1;
        }
        if (!overflow) {
            return ob_head(b, ':', v);
        }
        /* beyond 64 bits no client parses an integer reply: its digits */
        PyObject *s = PyObject_Str(r);
        if (s == NULL) {
            return -1;
        }
        Py_ssize_t n;
        const char *u = PyUnicode_AsUTF8AndSize(s, &n);
        int rc = u == NULL ? -1 : ob_bulk(b, u, n);
        Py_DECREF(s);
        return rc;
    }
    if (PyFloat_Check(r)) {
        char *s = PyOS_double_to_string(PyFloat_AS_DOUBLE(r), 'f', 6, 0, NULL);
        if (s == NULL) {
            return -1;
        }
        int rc = ob_bulk(b, s, (Py_ssize_t)strlen(s));
        PyMem_Free(s);
        return rc;
    }
    if (PyBytes_Check(r)) {
        return ob_bulk(b, PyBytes_AS_STRING(r), PyBytes_GET_SIZE(r));
    }
    if (PyByteArray_Check(r)) {
        return ob_bulk(b, PyByteArray_AS_STRING(r), PyByteArray_GET_SIZE(r));
    }
    return ob_put(b, PY_RECORD, sizeof PY_RECORD - 1);
}

/* [[results], [errors]] */
static int
encode_results(obuf *b, PyObject *results, PyObject *errors)
{
    Py_ssize_t n = PyList_GET_SIZE(results), m = PyList_GET_SIZE(errors);
    if (ob_put(b, "*2\r\n", 4) < 0 || ob_head(b, '*', n) < 0) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < n && i < PyList_GET_SIZE(results); i++) {
        PyObject *x = Py_NewRef(PyList_GET_ITEM(results, i));
        int rc = encode_value(b, x, 0);
        Py_DECREF(x);
        if (rc < 0) {
            return -1;
        }
    }
    if (ob_head(b, '*', m) < 0) {
        return -1;
    }
    for (Py_ssize_t i = 0; i < m && i < PyList_GET_SIZE(errors); i++) {
        if (encode_error(b, PyList_GET_ITEM(errors, i)) < 0) {
            return -1;
        }
    }
    return 0;
}

static PyObject *
ob_bytes(obuf *b, int rc)
{
    PyObject *res = rc < 0 ? NULL : PyBytes_FromStringAndSize(b->p, b->len);
    PyMem_Free(b->p);
    return res;
}

/* results_reply(results, errors) -> bytes: an execution's reply */
static PyObject *
gears_results_reply(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyList_Check(args[0]) || !PyList_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "results_reply(results: list, errors: list)");
        return NULL;
    }
    obuf b = {0};
    return ob_bytes(&b, encode_results(&b, args[0], args[1]));
}

/* reply(value) -> bytes: one record as RESP (override_reply) */
static PyObject *
gears_reply(PyObject *module, PyObject *value)
{
    obuf b = {0};
    return ob_bytes(&b, encode_value(&b, value, 0));
}

/* ---- registration executions (REG_RUN) -------------------------------- */

/* What gearsreg.py registers per registration with reg_add: its reader
 * kind and, when every step turns one record into at most one, the chain
 * of (STEP_*, callback) that reg_run runs here in C. Other executions (and
 * profiled ones) go to gearsreg._run. */
enum { REG_KEYS = 0, REG_KEYS_VALUE = 1, REG_COMMAND = 2, REG_STREAM = 3 };
/* STEP_STR: register()'s convertToStr map, str(record) without its lambda */
enum { STEP_MAP = 0, STEP_FILTER = 1, STEP_FOREACH = 2, STEP_STR = 3 };
/* REG_RUN flags (host/registration_run.go) */
enum { REGF_ASYNC = 1, REGF_PROFILE = 2, REGF_TB = 4 };
#define CTX_FREE_MAX 16

static PyObject *g_regs;         /* {registration id (bytes): (kind, chain, id)} */
static struct {
    PyObject *slow;              /* gearsreg._run(id, flags, record) */
    PyObject *cur;               /* gearsasync.cur: [StepCtx running now] */
    PyObject *ctx_type;          /* gearsasync.StepCtx */
    PyMemberDef *allowed, *future;   /* its slots */
    PyObject *wait;              /* (ctx, v) -> awaited coroutine/gearsFuture */
    PyObject *error;             /* (exc, tb) -> error record text */
    PyObject *future_type;       /* gearsasync.gearsFuture */
    PyObject *last_id, *last_entry;  /* the last id looked up, and its entry */
    PyObject *free[CTX_FREE_MAX];    /* idle StepCtx objects (executions nest) */
    int nfree;
} g_reg;

static PyMemberDef *
slot_of(PyObject *type, const char *name)
{
    PyObject *d = PyObject_GetAttrString(type, name);
    if (d == NULL) {
        return NULL;
    }
    PyMemberDef *m = NULL;
    if (Py_IS_TYPE(d, &PyMemberDescr_Type)) {
        m = ((PyMemberDescrObject *)d)->d_member;
    }
    Py_DECREF(d);
    if (m == NULL || m->type != Py_T_OBJECT_EX || (m->flags & Py_READONLY)) {
        PyErr_Format(PyExc_TypeError, "StepCtx.%s must be a writable slot", name);
        return NULL;
    }
    return m;
}

/* reg_setup(slow, cur, ctx_type, wait, error, future_type) */
static PyObject *
gears_reg_setup(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 6 || !PyType_Check(args[2]) || !PyType_Check(args[5])) {
        PyErr_SetString(PyExc_TypeError,
                        "reg_setup(slow, cur, ctx_type, wait, error, future_type)");
        return NULL;
    }
    if (!PyList_CheckExact(args[1]) || PyList_GET_SIZE(args[1]) != 1) {
        PyErr_SetString(PyExc_TypeError, "cur must be a one-item list");
        return NULL;
    }
    PyMemberDef *allowed = slot_of(args[2], "allowed"), *future = allowed ? slot_of(args[2], "future") : NULL;
    if (future == NULL) {
        return NULL;
    }
    Py_XSETREF(g_reg.slow, Py_NewRef(args[0]));
    Py_XSETREF(g_reg.cur, Py_NewRef(args[1]));
    Py_XSETREF(g_reg.ctx_type, Py_NewRef(args[2]));
    g_reg.allowed = allowed;
    g_reg.future = future;
    Py_XSETREF(g_reg.wait, Py_NewRef(args[3]));
    Py_XSETREF(g_reg.error, Py_NewRef(args[4]));
    Py_XSETREF(g_reg.future_type, Py_NewRef(args[5]));
    while (g_reg.nfree > 0) {
        Py_DECREF(g_reg.free[--g_reg.nfree]);
    }
    Py_RETURN_NONE;
}

static PyObject *
reg_key(PyObject *id)
{
    if (!PyUnicode_Check(id)) {
        PyErr_SetString(PyExc_TypeError, "registration id must be str");
        return NULL;
    }
    return PyUnicode_AsUTF8String(id);
}

/* reg_add(id, kind, chain): what reg_run needs of a registration; chain
 * None or ((STEP_*, callback), ...). */
static PyObject *
gears_reg_add(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 3 || !PyLong_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "reg_add(id: str, kind: int, chain)");
        return NULL;
    }
    long kind = PyLong_AsLong(args[1]);
    if (kind < REG_KEYS || kind > REG_STREAM) {
        PyErr_SetString(PyExc_ValueError, "unknown reader kind");
        return NULL;
    }
    PyObject *chain = args[2];
    if (chain != Py_None) {
        if (!PyTuple_CheckExact(chain)) {
            PyErr_SetString(PyExc_TypeError, "chain must be a tuple or None");
            return NULL;
        }
        for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(chain); i++) {
            PyObject *s = PyTuple_GET_ITEM(chain, i);
            long k = -1;
            if (PyTuple_CheckExact(s) && PyTuple_GET_SIZE(s) == 2 && PyLong_Check(PyTuple_GET_ITEM(s, 0))) {
                k = PyLong_AsLong(PyTuple_GET_ITEM(s, 0));
            }
            if (k < STEP_MAP || k > STEP_STR || !PyCallable_Check(PyTuple_GET_ITEM(s, 1))) {
                PyErr_Clear();
                PyErr_SetString(PyExc_TypeError, "chain steps must be (STEP_*, callable)");
                return NULL;
            }
        }
    }
    PyObject *key = reg_key(args[0]);
    PyObject *entry = key ? Py_BuildValue("(lOO)", kind, chain, args[0]) : NULL;
    int rc = entry ? PyDict_SetItem(g_regs, key, entry) : -1;
    Py_XDECREF(key);
    Py_XDECREF(entry);
    if (rc < 0) {
        return NULL;
    }
    Py_CLEAR(g_reg.last_id);
    Py_CLEAR(g_reg.last_entry);
    Py_RETURN_NONE;
}

static PyObject *
gears_reg_remove(PyObject *module, PyObject *id)
{
    PyObject *key = reg_key(id);
    if (key == NULL || PyDict_Pop(g_regs, key, NULL) < 0) {
        Py_XDECREF(key);
        return NULL;
    }
    Py_DECREF(key);
    Py_CLEAR(g_reg.last_id);
    Py_CLEAR(g_reg.last_entry);
    Py_RETURN_NONE;
}

/* The payload's head [id, flags, fields...]: the registration's entry
 * (new reference), the flags and the number of fields left at r. The
 * last id looked up is remembered: a trigger or a key prefix under load
 * fires the same registration again and again. */
static PyObject *
reg_head(reader *r, long long *flags, long long *nfields)
{
    long long n = read_agg(r, '*');
    if (n < 0) {
        return NULL;
    }
    static const char bad[] = "REG_RUN payload is not [id, flags, fields...]";
    const char *line, *id;
    Py_ssize_t ll, idlen;
    if (n < 2) {
        protocol_error(bad);
        return NULL;
    }
    if (read_bulk(r, &id, &idlen, bad) < 0 ||
        r->p >= r->end || *r->p++ != ':' || read_line(r, &line, &ll) < 0 ||
        parse_int(line, ll, flags) < 0) {
        if (!PyErr_Occurred()) {
            protocol_error(bad);
        }
        return NULL;
    }
    *nfields = n - 2;
    PyObject *last = g_reg.last_id;
    if (last != NULL && PyBytes_GET_SIZE(last) == idlen && memcmp(PyBytes_AS_STRING(last), id, idlen) == 0) {
        return Py_NewRef(g_reg.last_entry);
    }
    PyObject *key = PyBytes_FromStringAndSize(id, idlen);
    if (key == NULL) {
        return NULL;
    }
    PyObject *entry = PyDict_GetItemWithError(g_regs, key);   /* borrowed */
    if (entry == NULL) {
        if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_KeyError, "registration %R is not in this session", key);
        }
        Py_DECREF(key);
        return NULL;
    }
    Py_XSETREF(g_reg.last_id, key);
    Py_XSETREF(g_reg.last_entry, Py_NewRef(entry));
    return Py_NewRef(entry);
}

/* The record of one execution from the payload's fields, as RedisGears
 * 1.2 gives it to the first step: KeysReader {'key', 'value', 'type',
 * 'event'} ({'key', 'event'} without readValue; the host read the type
 * and value under the lock), CommandReader the argument list, StreamReader
 * the raw [[key, id, [field, value, ...]], ...] (gearsreg._run shapes it). */
static PyObject *
reg_record(reader *r, long long nfields, int kind)
{
    if (kind == REG_COMMAND || kind == REG_STREAM) {
        if (kind == REG_STREAM && nfields != 1) {
            protocol_error("StreamReader REG_RUN payload");
            return NULL;
        }
        if (kind == REG_STREAM) {
            return decode(r, 1);
        }
        if (nfields > (r->end - r->p) / 3) {
            protocol_error("truncated REG_RUN payload");
            return NULL;
        }
        PyObject *list = PyList_New((Py_ssize_t)nfields);
        for (Py_ssize_t i = 0; list != NULL && i < nfields; i++) {
            PyObject *e = decode(r, 1);
            if (e == NULL) {
                Py_CLEAR(list);
                break;
            }
            PyList_SET_ITEM(list, i, e);
        }
        return list;
    }
    if (nfields != (kind == REG_KEYS_VALUE ? 4 : 2)) {
        protocol_error("KeysReader REG_RUN payload");
        return NULL;
    }
    PyObject *key = NULL, *event = NULL, *type = NULL, *value = NULL, *d = NULL;
    if ((key = decode(r, 1)) == NULL || (event = decode(r, 1)) == NULL) {
        goto done;
    }
    if (kind == REG_KEYS_VALUE) {
        const char *s;
        Py_ssize_t n;
        if (read_bulk(r, &s, &n, "KeysReader REG_RUN type") < 0 || (type = type_name(s, n)) == NULL ||
            (value = decode(r, 1)) == NULL || shape_value(type, &value) < 0) {
            goto done;
        }
    }
    if ((d = PyDict_New()) == NULL || PyDict_SetItem(d, g_s_key, key) < 0 ||
        (value != NULL && (PyDict_SetItem(d, g_s_value, value) < 0 ||
                           PyDict_SetItem(d, g_s_type, type) < 0)) ||
        PyDict_SetItem(d, g_s_event, event) < 0) {
        Py_CLEAR(d);
    }
done:
    Py_XDECREF(key);
    Py_XDECREF(event);
    Py_XDECREF(type);
    Py_XDECREF(value);
    return d;
}

/* [[results], [errors]] with at most one of each, as RESP bytes. */
static PyObject *
reg_reply(PyObject *result, PyObject *error)
{
    obuf b = {0};
    int rc;
    if (error != NULL) {
        rc = ob_put(&b, "*2\r\n*0\r\n*1\r\n", 12) < 0 || encode_error(&b, error) < 0 ? -1 : 0;
    }
    else if (result == NULL) {
        rc = ob_put(&b, "*2\r\n*0\r\n*0\r\n", 12);
    }
    else {
        rc = ob_put(&b, "*2\r\n*1\r\n", 8) < 0 || encode_value(&b, result, 0) < 0 ||
             ob_put(&b, "*0\r\n", 4) < 0 ? -1 : 0;
    }
    return ob_bytes(&b, rc);
}

/* Run rec (stolen) through chain; the execution's reply. Does what
 * gearsapi._Execution does per step: the StepCtx in cur[0] while the
 * callback runs (gearsFuture, isAsyncAllow), a coroutine or gearsFuture
 * it returns awaited, an exception made the execution's one error record.
 * gears.forcestopped and other BaseExceptions end the invoke. */
static PyObject *
reg_chain(PyObject *rec, PyObject *chain, long long flags)
{
    PyObject *ctx, *r = rec, *error = NULL, *res = NULL;
    if (PyList_GET_SIZE(g_reg.cur) != 1) {
        PyErr_SetString(PyExc_RuntimeError, "gearsasync.cur must hold one item");
        Py_DECREF(rec);
        return NULL;
    }
    if (g_reg.nfree > 0) {
        ctx = g_reg.free[--g_reg.nfree];
    }
    else if ((ctx = PyObject_CallFunctionObjArgs(g_reg.ctx_type, Py_True, Py_True, NULL)) == NULL) {
        Py_DECREF(rec);
        return NULL;
    }
    if (PyMember_SetOne((char *)ctx, g_reg.allowed, (flags & REGF_ASYNC) ? Py_True : Py_False) < 0) {
        goto done;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(chain);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *step = PyTuple_GET_ITEM(chain, i);
        long kind = PyLong_AsLong(PyTuple_GET_ITEM(step, 0));
        PyObject *v;
        if (kind == STEP_STR && PyUnicode_CheckExact(r)) {
            continue;   /* str(s) is s */
        }
        if (PyMember_SetOne((char *)ctx, g_reg.future, Py_None) < 0) {
            goto done;
        }
        PyObject *prev = Py_NewRef(PyList_GET_ITEM(g_reg.cur, 0));
        PyList_SetItem(g_reg.cur, 0, Py_NewRef(ctx));
        if (kind == STEP_STR) {
            v = PyObject_Str(r);
        }
        else {
            v = PyObject_CallOneArg(PyTuple_GET_ITEM(step, 1), r);
            if (v != NULL && (Py_IS_TYPE(v, &PyCoro_Type) || (PyObject *)Py_TYPE(v) == g_reg.future_type)) {
                Py_SETREF(v, PyObject_CallFunctionObjArgs(g_reg.wait, ctx, v, NULL));
            }
        }
        PyList_SetItem(g_reg.cur, 0, prev);   /* steals prev; ctx is still ours */
        int keep = 1;
        if (v != NULL && (kind == STEP_MAP || kind == STEP_STR)) {
            Py_SETREF(r, v);
            continue;
        }
        if (v != NULL) {
            keep = kind == STEP_FILTER ? PyObject_IsTrue(v) : 1;
            Py_DECREF(v);
        }
        if (v == NULL || keep < 0) {
            if (!PyErr_ExceptionMatches(PyExc_Exception)) {
                goto done;   /* gears.forcestopped, SystemExit, ... */
            }
            PyObject *exc = PyErr_GetRaisedException();
            error = PyObject_CallFunctionObjArgs(g_reg.error, exc,
                                                 (flags & REGF_TB) ? Py_True : Py_False, NULL);
            Py_DECREF(exc);
            if (error == NULL) {
                goto done;
            }
            keep = 0;
        }
        if (!keep) {
            Py_CLEAR(r);
            break;
        }
    }
    res = reg_reply(r, error);
done:
    if (g_reg.nfree < CTX_FREE_MAX) {
        g_reg.free[g_reg.nfree++] = ctx;
    }
    else {
        Py_DECREF(ctx);
    }
    Py_XDECREF(r);
    Py_XDECREF(error);
    return res;
}

/* reg_run(payload) -> reply: the REG_RUN handler. One-to-one chains run in
 * reg_chain; the rest goes to gearsreg._run. */
static PyObject *
gears_reg_run(PyObject *module, PyObject *payload)
{
    if (!PyBytes_Check(payload)) {
        PyErr_SetString(PyExc_TypeError, "reg_run(payload: bytes)");
        return NULL;
    }
    if (g_reg.slow == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "reg_setup was not called");
        return NULL;
    }
    const char *p = PyBytes_AS_STRING(payload);
    reader r = {p, p + PyBytes_GET_SIZE(payload)};
    long long flags, nfields;
    PyObject *entry = reg_head(&r, &flags, &nfields);
    if (entry == NULL) {
        return NULL;
    }
    /* the entry keeps the chain alive: a step may unregister its own
       registration */
    PyObject *chain = PyTuple_GET_ITEM(entry, 1), *res = NULL;
    int kind = (int)PyLong_AsLong(PyTuple_GET_ITEM(entry, 0));
    PyObject *rec = reg_record(&r, nfields, kind);
    if (rec != NULL && (chain == Py_None || kind == REG_STREAM || (flags & REGF_PROFILE))) {
        res = PyObject_CallFunction(g_reg.slow, "OLO", PyTuple_GET_ITEM(entry, 2), flags, rec);
        Py_DECREF(rec);
    }
    else if (rec != NULL) {
        res = reg_chain(rec, chain, flags);   /* steals rec */
    }
    Py_DECREF(entry);
    return res;
}

static PyObject *
gears_call(PyObject *module, PyObject *arg)
{
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    char *rep;
    Py_ssize_t n;
    int rc = host_call(view.buf, view.len, &rep, &n);
    PyBuffer_Release(&view);
    if (rc < 0) {
        return NULL;
    }
    PyObject *res = PyBytes_FromStringAndSize(rep ? rep : "", n);
    PyMem_Free(rep);
    return res;
}

static PyObject *
gears_execute(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs == 0) {
        return PyList_New(0);
    }
    if (!PyUnicode_Check(args[0])) {
        PyErr_SetString(g_error, "the given command must be a string");
        return NULL;
    }
    static const char *head[] = {"execute"};
    return call_decoded(head, 1, args, nargs);
}

static PyObject *
gears_sleep(PyObject *module, PyObject *arg)
{
    double secs = PyFloat_AsDouble(arg);
    if (secs == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    if (secs < 0 || secs != secs) {
        PyErr_SetString(PyExc_ValueError, "sleep length must be non-negative");
        return NULL;
    }
    char num[40];
    snprintf(num, sizeof num, "%.17g", secs);
    const char *head[] = {"sleep", num};
    PyObject *res = call_decoded(head, 2, NULL, 0);
    if (res == NULL) {
        return NULL;
    }
    Py_DECREF(res);
    Py_RETURN_NONE;
}

static PyObject *
gears_log(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2 || !PyUnicode_Check(args[0]) || !PyUnicode_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "log(level: str, msg: str)");
        return NULL;
    }
    static const char *head[] = {"log"};
    PyObject *res = call_decoded(head, 1, args, 2);
    if (res == NULL) {
        return NULL;
    }
    Py_DECREF(res);
    Py_RETURN_NONE;
}

static PyObject *
gears_register(PyObject *module, PyObject *args)
{
    int op;
    PyObject *fn;
    if (!PyArg_ParseTuple(args, "iO:register", &op, &fn)) {
        return NULL;
    }
    if (op < OP_FIRST_HANDLER || op >= OP_LIMIT) {
        PyErr_Format(PyExc_ValueError, "op must be in [%d, %d)", OP_FIRST_HANDLER, OP_LIMIT);
        return NULL;
    }
    if (fn != Py_None && !PyCallable_Check(fn)) {
        PyErr_SetString(PyExc_TypeError, "handler must be callable or None");
        return NULL;
    }
    PyObject *key = PyLong_FromLong(op);
    if (key == NULL) {
        return NULL;
    }
    int rc;
    if (fn == Py_None) {
        rc = PyDict_Pop(g_handlers, key, NULL);
        rc = rc < 0 ? -1 : 0;
    }
    else {
        rc = PyDict_SetItem(g_handlers, key, fn);
    }
    Py_DECREF(key);
    if (rc < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
gears_depth(PyObject *module, PyObject *unused)
{
    return PyLong_FromLong(g_depth);
}

static PyMethodDef gears_methods[] = {
    {"call", gears_call, METH_O,
     "call(data) -> bytes: raw host call (data is a RESP3 request frame)."},
    {"decode", gears_decode, METH_O,
     "decode(frame) -> value: a RESP3 frame with execute()'s conversions."},
    {"keys_read", _PyCFunction_CAST(gears_keys_read), METH_FASTCALL,
     "keys_read(cursor, pattern, noScan, readValue) -> (cursor, [record]): "
     "one KeysReader batch as record dicts."},
    {"execute", _PyCFunction_CAST(gears_execute), METH_FASTCALL,
     "execute(command, *args): run a Redis command on the host, return its reply."},
    {"sleep", gears_sleep, METH_O, "sleep(seconds): sleep on the host."},
    {"log", _PyCFunction_CAST(gears_log), METH_FASTCALL,
     "log(level, msg): write a log line on the host."},
    {"register", gears_register, METH_VARARGS,
     "register(op, fn): fn(payload: bytes) -> bytes|str|None handles invoke op (>= 16); "
     "fn=None removes it."},
    {"depth", gears_depth, METH_NOARGS, "depth() -> current invoke nesting depth."},
    {"results_reply", _PyCFunction_CAST(gears_results_reply), METH_FASTCALL,
     "results_reply(results, errors) -> bytes: an execution's [[results], [errors]] as RESP."},
    {"reply", gears_reply, METH_O, "reply(value) -> bytes: one result record as RESP."},
    {"reg_setup", _PyCFunction_CAST(gears_reg_setup), METH_FASTCALL,
     "reg_setup(slow, cur, new_ctx, wait, error, reply, future_type): what reg_run calls back."},
    {"reg_add", _PyCFunction_CAST(gears_reg_add), METH_FASTCALL,
     "reg_add(id, kind, chain): a registration reg_run knows."},
    {"reg_remove", gears_reg_remove, METH_O, "reg_remove(id): forget a registration."},
    {"reg_run", gears_reg_run, METH_O,
     "reg_run(payload) -> bytes: the REG_RUN handler (map/filter/foreach chains run in C)."},
    {NULL, NULL, 0, NULL}
};

static int
gears_exec(PyObject *m)
{
    if (g_error == NULL) {
        g_error = PyErr_NewExceptionWithDoc("gears.error",
            "Error raised by the gears API (e.g. a command error reply).",
            PyExc_Exception, NULL);
        if (g_error == NULL) {
            return -1;
        }
        g_flat_error = PyErr_NewExceptionWithDoc("gears.flat_error",
            "Error recorded verbatim, without a traceback.", g_error, NULL);
        if (g_flat_error == NULL) {
            return -1;
        }
        g_force_stopped = PyErr_NewExceptionWithDoc("gears.forcestopped",
            "Raised when the host stops the running execution.",
            PyExc_BaseException, NULL);
        if (g_force_stopped == NULL) {
            return -1;
        }
        /* Immortal: the eval loop Py_DECREFs tstate->async_exc after raising
           it, and it may be armed any number of times without INCREF. */
        _Py_SetImmortal(g_force_stopped);
        g_handlers = PyDict_New();
        g_regs = PyDict_New();
        if (g_handlers == NULL || g_regs == NULL) {
            return -1;
        }
        if ((g_s_key = PyUnicode_InternFromString("key")) == NULL ||
            (g_s_value = PyUnicode_InternFromString("value")) == NULL ||
            (g_s_type = PyUnicode_InternFromString("type")) == NULL ||
            (g_s_event = PyUnicode_InternFromString("event")) == NULL ||
            (g_s_zero = PyUnicode_InternFromString("0")) == NULL ||
            (g_s_one = PyUnicode_InternFromString("1")) == NULL) {
            return -1;
        }
        for (size_t i = 0; i < sizeof g_types / sizeof g_types[0]; i++) {
            if ((g_types[i].s = PyUnicode_InternFromString(g_types[i].name)) == NULL) {
                return -1;
            }
        }
    }
    if (PyModule_AddObjectRef(m, "error", g_error) < 0 ||
        PyModule_AddObjectRef(m, "flat_error", g_flat_error) < 0 ||
        PyModule_AddObjectRef(m, "forcestopped", g_force_stopped) < 0 ||
        PyModule_AddObjectRef(m, "handlers", g_handlers) < 0 ||
        PyModule_AddIntConstant(m, "ABI_VERSION", GEARS_ABI_VERSION) < 0) {
        return -1;
    }
    return 0;
}

static PyModuleDef_Slot gears_slots[] = {
    {Py_mod_exec, gears_exec},
    {Py_mod_multiple_interpreters, Py_MOD_MULTIPLE_INTERPRETERS_NOT_SUPPORTED},
    {Py_mod_gil, Py_MOD_GIL_NOT_USED},
    {0, NULL}
};

static struct PyModuleDef gears_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_gears",
    .m_doc = "Bridge between the Python guest and the wasmgears host.",
    .m_size = 0,
    .m_methods = gears_methods,
    .m_slots = gears_slots,
};

PyMODINIT_FUNC
PyInit__gears(void)
{
    return PyModuleDef_Init(&gears_module);
}

/* ------------------------------------------------------------------ */
/* Reactor exports                                                     */

static int
run_init_code(void)
{
    /* CPython's time.sleep fails with ENOTSUP on this WASI: sleep on the host.
       /usr/local/site (the session's read-only requirements) goes on sys.path
       when the host mounted it. */
    static const char code[] =
        "import sys, time, _gears\n"
        "time.sleep = _gears.sleep\n"
        "def _wg_site():\n"
        "    import os\n"
        "    if os.path.isdir('/usr/local/site') and '/usr/local/site' not in sys.path:\n"
        "        sys.path.append('/usr/local/site')\n"
        "_wg_site()\n"
        "del _wg_site\n";
    PyObject *res = PyRun_String(code, Py_file_input, g_globals, g_globals);
    if (res == NULL) {
        return -1;
    }
    Py_DECREF(res);
    /* keep __main__ clean: only what the user creates */
    if (PyDict_PopString(g_globals, "sys", NULL) < 0 ||
        PyDict_PopString(g_globals, "time", NULL) < 0 ||
        PyDict_PopString(g_globals, "_gears", NULL) < 0) {
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* RG.PYSTATS: the bytes Python holds from the C allocator.            */
/* The raw domain (pymalloc's large blocks and every raw allocation) and
 * pymalloc's arenas are wrapped, as RedisGears accounts them through its
 * allocator override. The host reads the struct from linear memory
 * (gears_memstats export), so reading needs no invoke. */
static struct { int64_t total, peak, curr; } g_memstats;
static PyMemAllocatorEx g_raw_orig;
static PyObjectArenaAllocator g_arena_orig;

static inline void
mem_add(int64_t n)
{
    g_memstats.total += n;
    g_memstats.curr += n;
    if (g_memstats.curr > g_memstats.peak) {
        g_memstats.peak = g_memstats.curr;
    }
}

static void *
acct_malloc(void *ctx, size_t n)
{
    void *p = g_raw_orig.malloc(g_raw_orig.ctx, n);
    if (p != NULL) {
        mem_add((int64_t)malloc_usable_size(p));
    }
    return p;
}

static void *
acct_calloc(void *ctx, size_t nel, size_t elsize)
{
    void *p = g_raw_orig.calloc(g_raw_orig.ctx, nel, elsize);
    if (p != NULL) {
        mem_add((int64_t)malloc_usable_size(p));
    }
    return p;
}

static void *
acct_realloc(void *ctx, void *ptr, size_t n)
{
    int64_t old = ptr != NULL ? (int64_t)malloc_usable_size(ptr) : 0;
    void *p = g_raw_orig.realloc(g_raw_orig.ctx, ptr, n);
    if (p != NULL) {
        g_memstats.curr -= old;
        mem_add((int64_t)malloc_usable_size(p));
    }
    return p;
}

static void
acct_free(void *ctx, void *p)
{
    if (p != NULL) {
        g_memstats.curr -= (int64_t)malloc_usable_size(p);
    }
    g_raw_orig.free(g_raw_orig.ctx, p);
}

static void *
acct_arena_alloc(void *ctx, size_t n)
{
    void *p = g_arena_orig.alloc(g_arena_orig.ctx, n);
    if (p != NULL) {
        mem_add((int64_t)n);
    }
    return p;
}

static void
acct_arena_free(void *ctx, void *p, size_t n)
{
    if (p != NULL) {
        g_memstats.curr -= (int64_t)n;
    }
    g_arena_orig.free(g_arena_orig.ctx, p, n);
}

/* before Py_InitializeFromConfig: every block is seen from the start */
static void
install_accounting(void)
{
    static int done;
    if (done) {
        return;
    }
    done = 1;
    PyMem_GetAllocator(PYMEM_DOMAIN_RAW, &g_raw_orig);
    PyMemAllocatorEx raw = {NULL, acct_malloc, acct_calloc, acct_realloc, acct_free};
    PyMem_SetAllocator(PYMEM_DOMAIN_RAW, &raw);
    PyObject_GetArenaAllocator(&g_arena_orig);
    PyObjectArenaAllocator arena = {NULL, acct_arena_alloc, acct_arena_free};
    PyObject_SetArenaAllocator(&arena);
}

__attribute__((export_name("gears_memstats")))
uint32_t
gears_memstats(void)
{
    return (uint32_t)(uintptr_t)&g_memstats;
}

/* snapshot: fixed hash seed, so that the wizer snapshot (whose memory image
 * holds the initialised interpreter) does not depend on random bytes */
static int32_t
init_python(int snapshot)
{
    if (g_globals != NULL) {
        return ST_OK;
    }
    install_accounting();
    PyStatus status;
    PyConfig config;
    PyConfig_InitIsolatedConfig(&config);
    if (snapshot) {
        config.use_hash_seed = 1;
        config.hash_seed = 0;
    }
    config.install_signal_handlers = 0;
    config.site_import = 0;
    config.write_bytecode = 0;
    config.buffered_stdio = 0;
    status = PyConfig_SetString(&config, &config.home, L"/usr/local");
    if (PyStatus_Exception(status)) {
        goto fail;
    }
    status = PyConfig_SetString(&config, &config.program_name, L"python");
    if (PyStatus_Exception(status)) {
        goto fail;
    }
    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status)) {
        goto fail;
    }
    PyConfig_Clear(&config);

    PyObject *mod = PyImport_ImportModule("_gears");
    PyObject *main = PyImport_AddModule("__main__");    /* borrowed */
    if (mod == NULL || main == NULL) {
        goto pyfail;
    }
    Py_DECREF(mod);
    g_globals = Py_NewRef(PyModule_GetDict(main));
    g_exec_cache = PyDict_New();
    g_eval_cache = PyDict_New();
    if (g_exec_cache == NULL || g_eval_cache == NULL || run_init_code() < 0) {
        goto pyfail;
    }
    if (snapshot) {
        /* free in a snapshot; otherwise imported at the first exception
           (report_exception), as it adds ~30 ms to every start */
        PyObject *tb = PyImport_ImportModule("traceback");
        if (tb == NULL) {
            goto pyfail;
        }
        g_format_exception = PyObject_GetAttrString(tb, "format_exception");
        Py_DECREF(tb);
        if (g_format_exception == NULL) {
            goto pyfail;
        }
    }
    PyThreadState *ts = PyThreadState_Get();
    g_abort_info.version = GEARS_ABI_VERSION;
    g_abort_info.eval_breaker_addr = (uint32_t)(uintptr_t)&ts->eval_breaker;
    g_abort_info.async_exc_addr = (uint32_t)(uintptr_t)&ts->async_exc;
    g_abort_info.exc_value = (uint32_t)(uintptr_t)g_force_stopped;
    g_abort_info.bit = _PY_ASYNC_EXCEPTION_BIT;
    g_abort_info.depth_addr = (uint32_t)(uintptr_t)&g_depth;
    return ST_OK;
pyfail:
    PyErr_Print();
    Py_CLEAR(g_globals);
    return ST_INTERNAL;
fail:
    PyConfig_Clear(&config);
    fprintf(stderr, "gears_init: %s: %s\n", status.func ? status.func : "?",
            status.err_msg ? status.err_msg : "?");
    return ST_INTERNAL;
}

__attribute__((export_name("gears_init")))
int32_t
gears_init(void)
{
    return init_python(0);
}

/* While the wizer snapshot initialises, the clock and file times read as
 * fixed values (toolchain/build.sh's SOURCE_DATE_EPOCH), inode numbers as
 * 0: CPython's init leaves what it read in memory, which would make every
 * snapshot (and every build dir) differ.
 * build.sh links with --wrap for these three wasi-libc functions. */
#define SNAPSHOT_EPOCH_NS (1735689600ull * 1000000000ull)
static int g_snapshotting;

__wasi_errno_t __real___wasi_clock_time_get(__wasi_clockid_t, __wasi_timestamp_t, __wasi_timestamp_t *);
__wasi_errno_t __real___wasi_fd_filestat_get(__wasi_fd_t, __wasi_filestat_t *);
__wasi_errno_t __real___wasi_path_filestat_get(__wasi_fd_t, __wasi_lookupflags_t, const char *, __wasi_filestat_t *);

__wasi_errno_t
__wrap___wasi_clock_time_get(__wasi_clockid_t id, __wasi_timestamp_t precision, __wasi_timestamp_t *t)
{
    if (g_snapshotting) {
        *t = SNAPSHOT_EPOCH_NS;
        return __WASI_ERRNO_SUCCESS;
    }
    return __real___wasi_clock_time_get(id, precision, t);
}

static __wasi_errno_t
fixed_times(__wasi_errno_t err, __wasi_filestat_t *st)
{
    if (g_snapshotting && err == __WASI_ERRNO_SUCCESS) {
        /* and no device/inode numbers or link counts of the build dir */
        st->dev = st->ino = 0;
        st->nlink = 1;
        st->atim = st->mtim = st->ctim = SNAPSHOT_EPOCH_NS;
    }
    return err;
}

__wasi_errno_t
__wrap___wasi_fd_filestat_get(__wasi_fd_t fd, __wasi_filestat_t *st)
{
    return fixed_times(__real___wasi_fd_filestat_get(fd, st), st);
}

__wasi_errno_t
__wrap___wasi_path_filestat_get(__wasi_fd_t fd, __wasi_lookupflags_t flags, const char *path, __wasi_filestat_t *st)
{
    return fixed_times(__real___wasi_path_filestat_get(fd, flags, path, st), st);
}

/* wizer pre-initialisation (toolchain/snapshot.sh): C constructors + CPython
 * init; the snapshot is taken after this returns, wizer removes this export,
 * and the host must not run _initialize on the snapshot. */
extern void _initialize(void);   /* crt1-reactor.o */

__attribute__((export_name("wizer.initialize")))
void
gears_wizer_initialize(void)
{
    g_snapshotting = 1;
    _initialize();
    if (init_python(1) != ST_OK) {
        __builtin_trap();
    }
    g_snapshotting = 0;
}

__attribute__((export_name("gears_abort_info")))
uint32_t
gears_abort_info(void)
{
    return (uint32_t)(uintptr_t)&g_abort_info;
}

static PyObject *
get_code(PyObject *src, int mode)
{
    PyObject *cache = (mode == Py_eval_input) ? g_eval_cache : g_exec_cache;
    PyObject *code = PyDict_GetItemWithError(cache, src);   /* borrowed */
    if (code != NULL) {
        return Py_NewRef(code);
    }
    if (PyErr_Occurred()) {
        return NULL;
    }
    code = Py_CompileString(PyBytes_AS_STRING(src), "<string>", mode);
    if (code != NULL) {
        if (PyDict_GET_SIZE(cache) >= CODE_CACHE_MAX) {
            PyDict_Clear(cache);
        }
        if (PyDict_SetItem(cache, src, code) < 0) {
            Py_CLEAR(code);
        }
    }
    return code;
}

/* Send a result object back through gears.reply: 0, or -1 with an error. */
static int
send_reply(PyObject *res)
{
    if (res == Py_None) {
        gears_host_reply(NULL, 0);
        return 0;
    }
    if (PyUnicode_Check(res)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(res, &n);
        if (s == NULL) {
            return -1;
        }
        gears_host_reply(s, (int32_t)n);
        return 0;
    }
    Py_buffer v;
    if (PyObject_GetBuffer(res, &v, PyBUF_SIMPLE) < 0) {
        PyErr_Format(PyExc_TypeError,
                     "handler result must be bytes-like, str or None, not %.100s",
                     Py_TYPE(res)->tp_name);
        return -1;
    }
    gears_host_reply(v.buf, (int32_t)v.len);
    PyBuffer_Release(&v);
    return 0;
}

/* Consume the raised exception and reply with its formatted traceback. */
static int32_t
report_exception(void)
{
    PyObject *exc = PyErr_GetRaisedException();
    if (exc == NULL) {
        gears_host_reply("SystemError: error return without exception set\n", 49);
        return ST_PYERR;
    }
    g_reporting = 1;
    int32_t st = PyErr_GivenExceptionMatches(exc, g_force_stopped) ? ST_STOPPED : ST_PYERR;
    PyObject *text = NULL, *lines = NULL;
    if (g_format_exception == NULL) {
        /* imported on first use: it pulls in linecache, textwrap, ... which
           would add ~30 ms to every instance start */
        PyObject *tb = PyImport_ImportModule("traceback");
        if (tb != NULL) {
            g_format_exception = PyObject_GetAttrString(tb, "format_exception");
            Py_DECREF(tb);
        }
    }
    if (g_format_exception != NULL) {
        lines = PyObject_CallOneArg(g_format_exception, exc);
    }
    if (lines != NULL) {
        PyObject *empty = PyUnicode_FromStringAndSize(NULL, 0);
        if (empty != NULL) {
            text = PyUnicode_Join(empty, lines);
            Py_DECREF(empty);
        }
        Py_DECREF(lines);
    }
    if (text == NULL) {
        /* formatting failed: fall back to "Type: message" */
        PyErr_Clear();
        text = PyUnicode_FromFormat("%s: %S\n", _PyType_Name(Py_TYPE(exc)), exc);
        if (text == NULL) {
            PyErr_Clear();
            text = PyUnicode_FromFormat("%s: <exception str() failed>\n",
                                        _PyType_Name(Py_TYPE(exc)));
        }
    }
    Py_DECREF(exc);
    if (text == NULL || send_reply(text) < 0) {
        PyErr_Clear();
        gears_host_reply("Exception: <unprintable>\n", 25);
    }
    Py_XDECREF(text);
    g_reporting = 0;
    return st;
}

__attribute__((export_name("gears_invoke")))
int32_t
gears_invoke(int32_t op, int32_t len)
{
    if (g_globals == NULL) {
        return ST_NOTINIT;
    }
    if (len < 0 || op < 0) {
        return ST_BADARG;
    }
    PyObject *payload = PyBytes_FromStringAndSize(NULL, len);
    if (payload == NULL) {
        PyErr_Clear();
        return ST_INTERNAL;
    }
    if (len > 0) {
        gears_host_take(PyBytes_AS_STRING(payload));
    }
    g_depth++;
    PyObject *res = NULL;
    if (op == OP_EXEC || op == OP_EVAL) {
        PyObject *code = get_code(payload, op == OP_EXEC ? Py_file_input : Py_eval_input);
        if (code != NULL) {
            res = PyEval_EvalCode(code, g_globals, g_globals);
            Py_DECREF(code);
            if (res != NULL && op == OP_EVAL) {
                Py_SETREF(res, PyObject_Repr(res));
            }
            else if (res != NULL) {
                Py_SETREF(res, Py_None);
            }
        }
    }
    else if (op >= OP_FIRST_HANDLER) {
        PyObject *key = PyLong_FromLong(op);
        PyObject *fn = key ? PyDict_GetItemWithError(g_handlers, key) : NULL;
        Py_XDECREF(key);
        if (fn != NULL) {
            Py_INCREF(fn);
            res = PyObject_CallOneArg(fn, payload);
            Py_DECREF(fn);
        }
        else if (!PyErr_Occurred()) {
            PyErr_Format(PyExc_LookupError, "no handler registered for op %d", (int)op);
        }
    }
    else {
        PyErr_Format(PyExc_ValueError, "unknown op %d", (int)op);
    }
    g_depth--;
    Py_DECREF(payload);
    int32_t st = ST_OK;
    if (res == NULL || send_reply(res) < 0) {
        st = report_exception();
    }
    Py_XDECREF(res);
    return st;
}
