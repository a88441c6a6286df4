"""The API a wasmgears session sees (RedisGears 1.2): GearsBuilder and the
globals injected into every session, plus the guest side of executions.

An execution is created by run() (the host assigns its id) and run by the
host afterwards through the 'run_execution' handler, so that blocking and
UNBLOCKING RG.PYEXECUTE, RG.ABORTEXECUTION and limits all go through one
path. Records are pulled from the host in batches (one host call per batch,
never per record).
"""
import copy
import sys
import traceback
import types

import _gears
import redisgears
from redisgears import GearsError, hostcall

# Handler op codes (see abi/abi.go: OpFirstHandler = 16).
OP_RUN_EXECUTION = 16

_READERS = ('KeysReader', 'KeysOnlyReader', 'StreamReader', 'CommandReader',
            'ShardsIDReader', 'PythonReader')

_state = {'runs': 0}
_pending = {}  # execution id -> _Execution


def _check_fn(f, op):
    if not isinstance(f, types.FunctionType):
        raise GearsError('%s argument must be a function' % op)


def _arity_ok(f, n):
    c = f.__code__
    if c.co_flags & 0x04:  # *args
        return c.co_argcount <= n
    required = c.co_argcount - len(f.__defaults__ or ())
    return required <= n <= c.co_argcount


def _check_arity(f, n, op):
    if not _arity_ok(f, n):
        raise GearsError('wrong number of args to %s function' % op)


class GearsBuilder:
    def __init__(self, reader='KeysReader', defaultArg='*', desc=None):
        if not isinstance(reader, str) or reader not in _READERS:
            raise GearsError('the given reader does not exists')
        if desc is not None and not isinstance(desc, str):
            raise GearsError('desc argument must be a string')
        self.reader = reader
        self.defaultArg = defaultArg
        self.desc = desc
        self.steps = []

    # -- core operations -------------------------------------------------
    def _add(self, kind, f, op, nargs, *extra):
        _check_fn(f, op)
        _check_arity(f, nargs, op)
        self.steps.append((kind, f) + extra)
        return self

    def map(self, f):
        return self._add('map', f, 'map', 1)

    def flatmap(self, f):
        return self._add('flatmap', f, 'flatmap', 1)

    def filter(self, f):
        return self._add('filter', f, 'filter', 1)

    def foreach(self, f):
        return self._add('foreach', f, 'foreach', 1)

    def accumulate(self, f):
        return self._add('accumulate', f, 'accumulate', 2)

    def localgroupby(self, extractor, reducer):
        _check_fn(extractor, 'extractor')
        _check_arity(extractor, 1, 'extractor')
        return self._add('localgroupby', reducer, 'reducer', 3, extractor)

    def groupby(self, extractor, reducer):
        _check_fn(extractor, 'extractor')
        _check_arity(extractor, 1, 'extractor')
        return self._add('groupby', reducer, 'reducer', 3, extractor)

    def batchgroupby(self, extractor, reducer):
        _check_fn(extractor, 'extractor')
        _check_arity(extractor, 1, 'extractor')
        return self._add('batchgroupby', reducer, 'reducer', 2, extractor)

    def repartition(self, extractor):
        return self._add('repartition', extractor, 'extractor', 1)

    def collect(self):
        self.steps.append(('collect', None))
        return self

    def limit(self, length, start=0):
        if not isinstance(length, int) or not isinstance(start, int):
            raise GearsError('limit argument must be a number')
        self.steps.append(('limit', None, start, length))
        return self

    # -- sugar -----------------------------------------------------------
    def aggregate(self, zero, seqOp, accumulateOp):
        _check_fn(seqOp, 'aggregate')
        _check_fn(accumulateOp, 'aggregate')
        self.accumulate(lambda a, r: seqOp(a if a else copy.deepcopy(zero), r))
        self.collect()
        return self.accumulate(lambda a, r: accumulateOp(a if a else copy.deepcopy(zero), r))

    def aggregateby(self, extractor, zero, seqOp, accumulateOp):
        self.localgroupby(extractor, lambda k, a, r: seqOp(k, a if a else copy.deepcopy(zero), r))
        return self.groupby(lambda r: r['key'],
                            lambda k, a, r: accumulateOp(k, a if a else copy.deepcopy(zero), r['value']))

    def count(self):
        self.accumulate(lambda a, r: 1 + (a if a else 0))
        self.collect()
        return self.accumulate(lambda a, r: r + (a if a else 0))

    def countby(self, extractor=lambda x: x):
        return self.aggregateby(extractor, 0, lambda k, a, r: 1 + a, lambda k, a, r: r + a)

    def avg(self, extractor=lambda x: float(x)):
        self.map(extractor)
        self.aggregate((0, 0), lambda a, r: (a[0] + r, a[1] + 1),
                       lambda a, r: (a[0] + r[0], a[1] + r[1]))
        return self.map(lambda x: x[0] / x[1])

    def distinct(self):
        return self.aggregate(set(), lambda a, r: a | {r}, lambda a, r: a | r).flatmap(lambda x: list(x))

    def sort(self, reverse=True):
        self.aggregate([], lambda a, r: a + [r], lambda a, r: a + r)
        self.map(lambda r: sorted(r, reverse=reverse))
        return self.flatmap(lambda r: r)

    # -- actions ---------------------------------------------------------
    def run(self, arg=None, convertToStr=True, collect=True, **kwargs):
        if self.reader == 'CommandReader':
            raise GearsError('Given reader do not support run or not exists')
        mode = kwargs.pop('mode', 'async')
        if not isinstance(mode, str):
            raise GearsError('execution mode must be a string')
        if mode not in ('async', 'async_local'):
            raise GearsError('unknown execution mode')
        if _state['runs'] >= 1:
            raise GearsError('Can not run more then 1 executions in a single script')
        if convertToStr:
            self.map(lambda x: str(x))
        if collect:
            self.collect()
        if arg is None:
            arg = self.defaultArg
        reader = _make_reader(self.reader, arg, kwargs)
        ex = _Execution(self.reader, reader, list(self.steps), self.desc)
        eid = hostcall('exec_create', self.reader, self.desc or '', ex.plan_frame())
        eid = eid.decode() if isinstance(eid, bytes) else eid
        _pending[eid] = ex
        _state['runs'] += 1
        return eid

    def register(self, prefix='*', convertToStr=True, collect=True, **kwargs):
        if self.reader in ('KeysOnlyReader', 'ShardsIDReader', 'PythonReader'):
            raise GearsError('given reader does not exists or does not support register')
        raise GearsError('register is not supported yet')


GB = GearsBuilder


# -- readers -----------------------------------------------------------------

def _make_reader(name, arg, kwargs):
    if name == 'KeysReader':
        if not isinstance(arg, str):
            raise GearsError('regex argument must be a string')
        noScan = kwargs.get('noScan', False)
        readValue = kwargs.get('readValue', True)
        if not isinstance(noScan, bool):
            raise GearsError('exactMatch value is not boolean')
        if not isinstance(readValue, bool):
            raise GearsError('readValue value is not boolean')
        return lambda: _keys_reader(arg, noScan, readValue)
    if name == 'KeysOnlyReader':
        return _keysonly_factory(arg, **kwargs)
    if name == 'StreamReader':
        fromId = kwargs.get('fromId', '0-0')
        if not isinstance(fromId, str):
            raise GearsError('fromId argument must be a string')
        return lambda: _stream_reader(arg, fromId)
    if name == 'ShardsIDReader':
        return lambda: iter(['1'])
    if name == 'PythonReader':
        if arg is None or arg == '*':
            raise GearsError('python reader function is not given')
        if not isinstance(arg, types.FunctionType):
            raise GearsError('pyreader argument must be a function')
        return lambda: _python_reader(arg)
    raise GearsError('the given reader does not exists')


def _str(b):
    if b is None:
        return None
    try:
        return b.decode('utf-8')
    except UnicodeDecodeError:
        return bytearray(b)


def _keys_reader(pattern, noScan, readValue):
    cursor = b'0'
    while True:
        cursor, batch = hostcall('keys_read', cursor, pattern, '1' if noScan else '0', '1' if readValue else '0')
        for rec in batch:
            key = _str(rec[0])
            if not readValue:
                yield {'key': key, 'event': None}
                continue
            t = rec[1].decode() if isinstance(rec[1], bytes) else rec[1]
            v = rec[2]
            if t == 'string':
                v = _str(v)
            elif t == 'hash':
                v = {_str(v[i]): _str(v[i + 1]) for i in range(0, len(v), 2)}
            elif t == 'list':
                v = [_str(x) for x in v]
            else:
                v = None
            yield {'key': key, 'value': v, 'type': t, 'event': None}
        if cursor in (b'0', '0', 0):
            return


def _keysonly_factory(pattern='*', count=1000, noScan=False, patternGenerator=None):
    def gen():
        p, ns = pattern, noScan
        if patternGenerator is not None:
            p, ns = patternGenerator()
        if ns:
            if redisgears.executeCommand('exists', p) == 1:
                yield p
            return
        cursor = '0'
        while True:
            cursor, keys = redisgears.executeCommand('scan', cursor, 'MATCH', p, 'COUNT', count)
            for k in keys:
                yield k
            if cursor == '0':
                return
    return gen


def _stream_reader(key, fromId):
    res = redisgears.executeCommand('XREAD', 'STREAMS', key, fromId)
    if not res:
        return
    for _, entries in res:
        for eid, fields in entries:
            yield {'key': key, 'id': eid,
                   'value': {fields[i]: fields[i + 1] for i in range(0, len(fields), 2)}}


def _python_reader(fn):
    while True:
        r = fn()
        if isinstance(r, types.GeneratorType):
            yield from r
            return
        yield r


# -- execution ---------------------------------------------------------------

_STEP_TYPES = {'map': 'map', 'flatmap': 'flatmap', 'filter': 'filter', 'foreach': 'foreach',
               'accumulate': 'accumulate', 'localgroupby': 'accumulatebykey',
               'groupby': 'accumulatebykey', 'batchgroupby': 'group',
               'repartition': 'repartition', 'collect': 'collect', 'limit': 'limit'}


def _fn_name(f):
    return getattr(f, '__name__', '') if f is not None else ''


def _format_error(e):
    if isinstance(e, _gears.flat_error):
        return str(e)
    if _config_int('PythonAttemptTraceback', 1):
        return str(traceback.format_exception(type(e), e, e.__traceback__))
    return 'Error type: %s, Value: %s' % (type(e), e)


def _config_int(name, default):
    try:
        v = hostcall('gears_config', name)
        return int(v) if v is not None else default
    except Exception:
        return default


class _Execution:
    def __init__(self, reader_name, reader, steps, desc):
        self.reader_name = reader_name
        self.reader = reader
        self.steps = steps
        self.desc = desc

    def plan_frame(self):
        """The plan as RG.GETEXECUTION shows it: type, name, arg per step."""
        out = [b'reader', self.reader_name.encode(), b'']
        for s in self.steps:
            out += [_STEP_TYPES[s[0]].encode(), _fn_name(s[1]).encode(), b'']
        return redisgears._resp(*out)

    def run(self):
        errors = []
        it = self.reader()
        for s in self.steps:
            it = _apply(s, it, errors)
        results = []
        try:
            for r in it:
                results.append(r)
        except _gears.forcestopped:
            raise
        except BaseException as e:  # a reader failure ends the reading
            errors.append(_format_error(e))
        return results, errors


def _safe(errors, f, *a):
    """Call f; on exception record the error and return _ERR."""
    try:
        return f(*a)
    except _gears.forcestopped:
        raise
    except Exception as e:
        errors.append(_format_error(e))
        return _ERR


_ERR = object()


def _apply(step, it, errors):
    kind, f = step[0], step[1]
    if kind == 'map':
        for r in it:
            v = _safe(errors, f, r)
            if v is not _ERR:
                yield v
    elif kind == 'flatmap':
        for r in it:
            v = _safe(errors, f, r)
            if v is _ERR:
                continue
            if isinstance(v, list):
                yield from reversed(v)  # RedisGears pops from the end
            else:
                yield v
    elif kind == 'filter':
        for r in it:
            v = _safe(errors, f, r)
            if v is not _ERR and v:
                yield r
    elif kind == 'foreach':
        for r in it:
            if _safe(errors, f, r) is not _ERR:
                yield r
    elif kind == 'accumulate':
        a, seen = None, False
        for r in it:
            seen = True
            v = _safe(errors, f, a, r)
            if v is not _ERR:
                a = v
        if seen:
            yield a
    elif kind in ('localgroupby', 'groupby'):
        extractor = step[2]
        groups = {}
        for r in it:
            k = _safe(errors, extractor, r)
            if k is _ERR:
                continue
            if not isinstance(k, str):
                k = repr(k)
            v = _safe(errors, f, k, groups.get(k), r)
            if v is not _ERR:
                groups[k] = v
        for k, v in groups.items():
            yield {'key': k, 'value': v}
    elif kind == 'batchgroupby':
        extractor = step[2]
        groups = {}
        for r in it:
            k = _safe(errors, extractor, r)
            if k is _ERR:
                continue
            if not isinstance(k, str):
                k = repr(k)
            groups.setdefault(k, []).append(r)
        for k, rs in groups.items():
            v = _safe(errors, f, k, rs)
            if v is not _ERR:
                yield {'key': k, 'value': v}
    elif kind == 'repartition':
        for r in it:  # local execution: only the extractor runs
            if _safe(errors, f, r) is not _ERR:
                yield r
    elif kind == 'collect':
        yield from it
    elif kind == 'limit':
        start, length = step[2], step[3]
        for i, r in enumerate(it):
            if i >= start + length:
                break
            if i >= start:
                yield r


def _reply(r, out):
    """A result record as RESP (RedisGears' PythonRecord_SendReply rules)."""
    if isinstance(r, list):
        out.append(b'*%d\r\n' % len(r))
        for x in r:
            _reply(x, out)
    elif isinstance(r, int):
        out.append(b':%d\r\n' % r)
    elif isinstance(r, float):
        s = b'%f' % r
        out.append(b'$%d\r\n%s\r\n' % (len(s), s))
    elif isinstance(r, str):
        if len(r) > 1 and r[0] == '+':
            out.append(b'+' + r[1:].encode('utf-8', 'surrogateescape').replace(b'\r\n', b' ') + b'\r\n')
        elif len(r) > 1 and r[0] == '-':
            out.append(b'-' + r[1:].encode('utf-8', 'surrogateescape').replace(b'\r\n', b' ') + b'\r\n')
        else:
            s = r.encode('utf-8', 'surrogateescape')
            out.append(b'$%d\r\n%s\r\n' % (len(s), s))
    elif isinstance(r, (bytes, bytearray)):
        out.append(b'$%d\r\n%s\r\n' % (len(r), bytes(r)))
    else:
        out.append(b'$9\r\nPY RECORD\r\n')


def _run_execution(payload):
    """Handler: run a created execution; reply = RESP [[results], [errors]]."""
    eid = bytes(payload).decode()
    ex = _pending.pop(eid)
    results, errors = ex.run()
    out = [b'*2\r\n*%d\r\n' % len(results)]
    for r in results:
        _reply(r, out)
    out.append(b'*%d\r\n' % len(errors))
    for e in errors:
        s = e.encode('utf-8', 'surrogateescape')
        out.append(b'$%d\r\n%s\r\n' % (len(s), s))
    return b''.join(out)


def configGet(key):
    return redisgears.config_get(key)


def gearsConfigGet(key, default=None):
    v = redisgears.config_get(key)
    return default if v is None else v


def flat_error(msg):
    raise _gears.flat_error(msg)


def session_globals():
    """The names RedisGears injects into every session's globals."""
    return {
        'GearsBuilder': GearsBuilder, 'GB': GB,
        'execute': redisgears.executeCommand,
        'atomic': redisgears.atomicCtx,
        'log': redisgears.log,
        'configGet': configGet, 'gearsConfigGet': gearsConfigGet,
        'hashtag': redisgears.getMyHashTag,
        'flat_error': flat_error,
        'isAsyncAllow': redisgears.isAsyncAllow,
        'redisgears': redisgears,
        'Log': redisgears.log, 'ConfigGet': configGet, 'GearsConfigGet': gearsConfigGet,
    }


def _reset_script_state():
    _state['runs'] = 0


def bootstrap(main_globals):
    main_globals.update(session_globals())
    _gears.register(OP_RUN_EXECUTION, _run_execution)
    _gears.register(OP_RUN_EXECUTION + 1, lambda p: _reset_script_state())
