"""The API a wasmgears session sees (RedisGears 1.2): GearsBuilder and the
globals injected into every session, plus the guest side of executions.

An execution is created by run() (the host assigns its id) and run by the
host afterwards through the 'run_execution' handler, so that blocking and
UNBLOCKING RG.PYEXECUTE, RG.ABORTEXECUTION and limits all go through one
path. Records are pulled from the host in batches (one host call per batch,
never per record).

The builder mirrors RedisGears 1.2's GearsBuilder.py on top of its C
PyFlatExecution: the core operations take positional arguments only and
validate them with the C texts ("wrong number of args to map function",
"map argument must be a function"); the sugar operations wrap the user's
callbacks in lambdas (so they accept any callable, as RedisGears does).
"""
import collections
import copy
import itertools
import sys
import time
import types

import _gears
import gearsasync
import redisgears
from redisgears import GearsError, hostcall

# Handler op codes (see abi/abi.go: OpFirstHandler = 16; gearsreg.py uses
# 18-20; host/execution.go mirrors these).
OP_RUN_EXECUTION = 16
OP_RESET_SCRIPT = 17
OP_PROFILE_STATS = 24
OP_PROFILE_RESET = 25
OP_MEM_STATS = 26

_READERS = ('KeysReader', 'KeysOnlyReader', 'StreamReader', 'CommandReader',
            'ShardsIDReader', 'PythonReader')

_state = {'runs': 0}
_pending = {}  # execution id -> _Execution


def _is_fn(f):
    return isinstance(f, types.FunctionType)


def _nargs(args, n, op):
    if len(args) != n:
        raise GearsError('wrong number of args to %s function' % op)


def _fn_arg(f, what):
    if not _is_fn(f):
        raise GearsError('%s must be a function' % what)
    return f


class GearsBuilder:
    def __init__(self, reader='KeysReader', defaultArg='*', desc=None):
        if not isinstance(reader, str) or reader not in _READERS:
            raise GearsError('the given reader does not exists')
        if desc is not None and not isinstance(desc, str):
            raise GearsError('desc argument must be a string')
        self.realReader = reader
        self.reader = reader
        self.defaultArg = defaultArg
        self.desc = desc
        self.steps = []

    # -- core operations (C PyFlatExecution: positional arguments only) ---
    def _step(self, kind, args):
        """A one-callback step (map, flatmap, filter, foreach, accumulate)."""
        _nargs(args, 1, kind)
        self.steps.append((kind, _fn_arg(args[0], kind + ' argument')))
        return self

    def map(self, *args):
        return self._step('map', args)

    def flatmap(self, *args):
        return self._step('flatmap', args)

    def filter(self, *args):
        return self._step('filter', args)

    def foreach(self, *args):
        return self._step('foreach', args)

    def accumulate(self, *args):
        return self._step('accumulate', args)

    def _groupby(self, kind, args):
        # both are checked with groupby's texts, as in RedisGears
        _nargs(args, 2, 'groupby')
        ex = _fn_arg(args[0], 'groupby extractor argument')
        red = _fn_arg(args[1], 'groupby reducer argument')
        self.steps.append((kind, red, ex))
        return self

    def localgroupby(self, *args):
        return self._groupby('localgroupby', args)

    def groupby(self, *args):
        return self._groupby('groupby', args)

    def batchgroupby(self, *args):
        _nargs(args, 2, 'batchgroupby')
        ex = _fn_arg(args[0], 'batchgroupby extractor argument')
        # RedisGears 1.2 checks the extractor twice and never the reducer:
        # a non-function reducer fails per key at run time.
        self.steps.append(('batchgroupby', args[1], ex))
        return self

    def repartition(self, *args):
        _nargs(args, 1, 'repartition')
        self.steps.append(('repartition', _fn_arg(args[0], 'repartition argument')))
        return self

    def collect(self, *args):
        _nargs(args, 0, 'collect')
        self.steps.append(('collect', None))
        return self

    def limit(self, *args):
        if len(args) < 1 or len(args) > 2:
            raise GearsError('wrong number of args to limit function')
        for a in args:
            if not isinstance(a, int):
                raise GearsError('limit argument must be a number')
        length = args[0]
        start = args[1] if len(args) > 1 else 0
        self.steps.append(('limit', None, start, length))
        return self

    # -- sugar (RedisGears' GearsBuilder.py) ------------------------------
    def __localAggregateby__(self, extractor, zero, aggregator):
        return self.localgroupby(lambda x: extractor(x),
                                 lambda k, a, r: aggregator(k, a if a else copy.deepcopy(zero), r))

    def aggregate(self, zero, seqOp, combOp):
        self.accumulate(lambda a, r: seqOp(a if a else copy.deepcopy(zero), r))
        self.collect()
        return self.accumulate(lambda a, r: combOp(a if a else copy.deepcopy(zero), r))

    def aggregateby(self, extractor, zero, seqOp, combOp):
        self.__localAggregateby__(extractor, zero, seqOp)
        return self.groupby(lambda r: r['key'],
                            lambda k, a, r: combOp(k, a if a else copy.deepcopy(zero), r['value']))

    def count(self):
        self.accumulate(_count_local)
        self.collect()
        return self.accumulate(lambda a, r: r + (a if a else 0))

    def countby(self, extractor=lambda x: x):
        return self.aggregateby(extractor, 0, lambda k, a, r: 1 + a, lambda k, a, r: r + a)

    def avg(self, extractor=lambda x: float(x)):
        return self.map(extractor).aggregate((0, 0),
                                             lambda a, r: (a[0] + r, a[1] + 1),
                                             lambda a, r: (a[0] + r[0], a[1] + r[1])).map(lambda x: x[0] / x[1])

    def distinct(self):
        return self.aggregate(set(), lambda a, r: a | set([r]), lambda a, r: a | r).flatmap(lambda x: list(x))

    def sort(self, reverse=True):
        self.aggregate([], lambda a, r: a + [r], lambda a, r: a + r)
        self.map(lambda r: sorted(r, reverse=reverse))
        return self.flatmap(lambda r: r)

    # -- actions ---------------------------------------------------------
    def run(self, arg=None, convertToStr=True, collect=True, **kwargs):
        if convertToStr:
            self.map(lambda x: str(x))
        if collect:
            self.collect()
        arg = arg if arg else self.defaultArg
        if _state['runs'] >= 1:
            raise GearsError('Can not run more then 1 executions in a single script')
        reader = _make_reader(self.realReader, arg, kwargs)
        mode = kwargs.get('mode', 'async')
        if not isinstance(mode, str):
            raise GearsError('execution mode must be a string')
        if mode not in ('async', 'async_local'):
            raise GearsError('unknown execution mode')
        ex = _Execution(self.realReader, reader, list(self.steps), self.desc)
        eid = hostcall('exec_create', self.realReader, self.desc or '', ex.plan_frame())
        eid = eid.decode() if isinstance(eid, bytes) else eid
        _pending[eid] = ex
        _state['runs'] += 1
        return eid

    def register(self, prefix='*', convertToStr=True, collect=True, **kwargs):
        if self.reader in ('KeysOnlyReader', 'ShardsIDReader', 'PythonReader'):
            raise GearsError('given reader does not exists or does not support register')
        if convertToStr:
            to_str = lambda x: str(x)  # noqa: E731 (the plan shows '<lambda>', as RedisGears')
            to_str.gears_to_str = True  # _gears.reg_run calls str() itself
            self.map(to_str)
        if collect:
            self.collect()
        import gearsreg  # registrations live in their own module
        return gearsreg.register(self, prefix, kwargs)


GB = GearsBuilder


# -- readers -----------------------------------------------------------------

def _make_reader(name, arg, kwargs):
    """Validate run()'s reader arguments; return a no-arg factory of the
    record iterator (RedisGears' texts and order)."""
    if name == 'PythonReader':
        if not _is_fn(arg):
            raise GearsError('pyreader argument must be a function')
        return lambda: _python_reader(arg)
    if name == 'ShardsIDReader':
        return _shards_id_reader
    if name == 'KeysOnlyReader':
        return createKeysOnlyReader(arg, **kwargs)
    if not isinstance(arg, str):
        raise GearsError('regex argument must be a string')
    if name == 'StreamReader':
        fromId = kwargs.get('fromId', '0-0')
        if not isinstance(fromId, str):
            raise GearsError('fromId argument must be a string')
        return lambda: _stream_reader(arg, fromId)
    if name == 'KeysReader':
        noScan = kwargs.get('noScan', False)
        if not isinstance(noScan, bool):
            raise GearsError('exactMatch value is not boolean')
        readValue = kwargs.get('readValue', True)
        if not isinstance(readValue, bool):
            raise GearsError('readValue value is not boolean')
        return lambda: _keys_reader(arg, noScan, readValue)
    raise GearsError('Given reader do not support run or not exists')


def _str(b):
    if b is None:
        return None
    try:
        return b.decode('utf-8')
    except UnicodeDecodeError:
        return bytearray(b)


def _keys_reader(pattern, noScan, readValue):
    """KeysReader records: one host call per batch of keys, whose record
    dicts _gears.keys_read builds in C; chain hands them out with no Python
    frame per record."""
    return itertools.chain.from_iterable(_keys_batches(pattern, noScan, readValue))


def _keys_batches(pattern, noScan, readValue):
    keys_read = _gears.keys_read
    cursor = '0'
    while True:
        cursor, batch = keys_read(cursor, pattern, noScan, readValue)
        yield batch
        if cursor == '0':
            return


def createKeysOnlyReader(pattern='*', count=1000, noScan=False, patternGenerator=None):
    """KeysOnlyReader (a PythonReader in RedisGears): SCAN ... COUNT count."""
    def keysOnlyReader():
        p, ns = pattern, noScan
        if patternGenerator is not None:
            p, ns = patternGenerator()
        if ns:
            if redisgears.executeCommand('exists', p) == 1:
                yield p
            return
        c = str(count)
        cursor, keys = redisgears.executeCommand('scan', '0', 'MATCH', str(p), 'COUNT', c)
        while cursor != '0':
            yield from keys
            cursor, keys = redisgears.executeCommand('scan', cursor, 'MATCH', str(p), 'COUNT', c)
        yield from keys
    return keysOnlyReader


def _shards_id_reader():
    # RedisGears: execute('RG.INFOCLUSTER') == 'no cluster mode' -> '1'
    yield '1'


def _stream_reader(key, fromId):
    try:
        res = redisgears.executeCommand('XREAD', 'STREAMS', key, fromId)
    except GearsError as e:  # a C reader in RedisGears: the reply's text only
        raise _gears.flat_error(str(e))
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

# Plan steps per operation as RG.GETEXECUTION shows them: (type, C callback
# name, which callback's repr is the arg: 0 = main, 1 = extractor, None).
_PLAN = {
    'map': [('map', 'RedisGearsPy_PyCallbackMapper', 0)],
    'flatmap': [('flatmap', 'RedisGearsPy_PyCallbackFlatMapper', 0)],
    'filter': [('filter', 'RedisGearsPy_PyCallbackFilter', 0)],
    'foreach': [('foreach', 'RedisGearsPy_PyCallbackForEach', 0)],
    'accumulate': [('accumulate', 'RedisGearsPy_PyCallbackAccumulate', 0)],
    'localgroupby': [('extractkey', 'RedisGearsPy_PyCallbackExtractor', 1),
                     ('accumulatebykey', 'RedisGearsPy_PyCallbackAccumulateByKey', 0),
                     ('map', 'RedisGearsPy_ToPyRecordMapper', None)],
    'groupby': [('extractkey', 'RedisGearsPy_PyCallbackExtractor', 1),
                ('repartition', '', None),
                ('accumulatebykey', 'RedisGearsPy_PyCallbackAccumulateByKey', 0),
                ('map', 'RedisGearsPy_ToPyRecordMapper', None)],
    'batchgroupby': [('extractkey', 'RedisGearsPy_PyCallbackExtractor', 1),
                     ('repartition', '', None),
                     ('group', '', None),
                     ('reduce', 'RedisGearsPy_PyCallbackReducer', 0),
                     ('map', 'RedisGearsPy_ToPyRecordMapper', None)],
    'repartition': [('extractkey', 'RedisGearsPy_PyCallbackExtractor', 0),
                    ('repartition', '', None)],
    'collect': [('collect', '', None)],
    'limit': [('limit', '', None)],
}


def _format_error(e, tb=True, skip=0):
    """An error record's text (RedisGears' getPyError): the traceback as a
    list literal, or 'Error type: ..., Value: ...'; flat errors verbatim.
    skip drops the engine's own frames (the callback was called from C in
    RedisGears, so its traceback starts in the user's function)."""
    if isinstance(e, _gears.flat_error):
        return str(e)
    if tb:
        import traceback
        t = e.__traceback__
        for _ in range(skip):
            if t is not None:
                t = t.tb_next
        return str(traceback.format_exception(type(e), e, _user_frames(t)))
    return 'Error type: %s, Value: %s' % (type(e), e)


def _internal(filename):
    return filename.startswith(_SITE) or filename == _RG or filename.startswith('asyncio/')


_SITE = __file__.rsplit('/', 1)[0] + '/gears'
_RG = __file__.rsplit('/', 1)[0] + '/redisgears.py'


def _user_frames(t):
    """The traceback without the engine's frames (the event loop between a
    step and its coroutine, the gears modules)."""
    frames = []
    while t is not None:
        if not _internal(t.tb_frame.f_code.co_filename):
            frames.append(t)
        t = t.tb_next
    out = None
    for f in reversed(frames):
        out = types.TracebackType(out, f.tb_frame, f.tb_lasti, f.tb_lineno)
    return out


def _config_int(name, default):
    try:
        v = hostcall('gears_config', name)
        return int(v) if v is not None else default
    except Exception:
        return default


_ERR = object()
# a set: `type(v) in` a tuple costs two rich compares per record
_ASYNC = frozenset((types.CoroutineType, gearsasync.gearsFuture))
_INLINED = frozenset(('map', 'filter', 'foreach', 'accumulate'))

# count()'s local phase, as RedisGears writes it. The executor recognises
# it and counts without a Python call per record (_count_records).
_count_local = lambda a, r: 1 + (a if a else 0)  # noqa: E731 (the plan shows '<lambda>')


def _count_records(it):
    """What accumulate(_count_local) yields, counted in C: the number of
    records, or nothing for none (the callback is ours and cannot fail)."""
    c = itertools.count()
    collections.deque(zip(it, c), maxlen=0)
    n = next(c)
    if n:
        yield n


def _layout(steps):
    """(plan index of each step's first plan entry, number of plan slots).
    Registrations compute it once."""
    idxs = []
    idx = 2  # after the reader and RedisGearsPy_ToPyRecordMapper
    for s in steps:
        idxs.append(idx)
        idx += len(_PLAN[s[0]])
    return idxs, idx


def _wait_step(ctx, v):
    """Wait for the coroutine or gearsFuture a step returned; ctx is the
    step's StepCtx."""
    if not ctx.allowed:
        if type(v) is types.CoroutineType:
            v.close()
        raise GearsError('Creating async record is not allowed')
    return gearsasync.wait(v)


class _Execution:
    """One run of a pipeline: reader factory + steps. run() -> (results,
    errors); with profiling, self.read_ns and self.step_ns (per plan step)
    hold the time spent in the reader and in each step's callbacks."""

    def __init__(self, reader_name, reader, steps, desc, async_ok=True, layout=None):
        self.layout = layout or _layout(steps)
        self.reader_name = reader_name
        # the context of the step callback being called (gearsFuture,
        # isAsyncAllow): async allowed unless fired inside MULTI/EXEC
        self.step_ctx = gearsasync.StepCtx(True, async_ok)
        self.no_async_ctx = gearsasync.StepCtx(False, async_ok)
        self.reader = reader
        self.steps = steps
        self.desc = desc
        self.read_ns = 0
        self.step_ns = None

    def plan(self):
        out = [('reader', self.reader_name, ''), ('map', 'RedisGearsPy_ToPyRecordMapper', '')]
        for s in self.steps:
            for typ, name, which in _PLAN[s[0]]:
                arg = ''
                if which is not None:
                    f = s[1] if which == 0 else s[2]
                    arg = str(f)
                out.append((typ, name, arg))
        return out

    def plan_frame(self):
        """The plan as RG.GETEXECUTION shows it: type, name, arg per step."""
        flat = []
        for t in self.plan():
            flat += t
        return redisgears._resp(*flat)

    def run(self, profile=None, tb=None):
        if profile is None:
            profile = _config_int('ProfileExecutions', 0) == 1
        if tb is None:
            tb = _config_int('PythonAttemptTraceback', 1) == 1
        self.profile = profile
        self.tb = tb
        errors = []
        self.errors = errors
        self.read_ns = 0
        idxs, nslots = self.layout
        self.step_ns = [0] * nslots
        it = self.reader()
        if profile:
            it = self._timed_reader(it)
        for s, idx in zip(self.steps, idxs):
            it = self._apply(s, it, idx)
        results = []
        p = None
        if profile:  # the session's cProfile (RG.PYPROFILE)
            p = _profiler()
            p.enable()
        try:
            for r in it:
                results.append(r)
        except _gears.forcestopped:
            raise
        except BaseException as e:  # a reader failure ends the reading
            errors.append(_format_error(e, tb))
        finally:
            if p is not None:
                p.disable()
        return results, errors

    def _timed_reader(self, it):
        pc = time.perf_counter_ns
        while True:
            t0 = pc()
            try:
                r = next(it)
            except StopIteration:
                self.read_ns += pc() - t0
                return
            self.read_ns += pc() - t0
            yield r

    def _call(self, slot, f, *a):
        """Call a step callback: the result, or _ERR after recording the
        error. A coroutine or gearsFuture it returns is waited for on the
        session's event loop."""
        cur = gearsasync.cur
        sc = self.step_ctx
        prev = cur[0]
        sc.future = None
        cur[0] = sc
        try:
            if self.profile:
                pc = time.perf_counter_ns
                t0 = pc()
                try:
                    v = f(*a)
                    if type(v) in _ASYNC:
                        v = self._wait(v)
                finally:
                    self.step_ns[slot] += pc() - t0
                return v
            v = f(*a)
            if type(v) in _ASYNC:
                v = self._wait(v)
            return v
        except _gears.forcestopped:
            raise
        except Exception as e:
            self.errors.append(_format_error(e, self.tb, 1))
            return _ERR
        finally:
            cur[0] = prev

    def _wait(self, v):
        return _wait_step(self.step_ctx, v)

    def _key(self, slot, extractor, r):
        """An extractor's key: str, or repr() of anything else."""
        k = self._call_sync(slot, extractor, r, 'coroutine are not allow on extractor')
        if k is _ERR or isinstance(k, str):
            return k
        try:
            return repr(k)
        except Exception as e:
            self.errors.append(_format_error(e, self.tb, 1))
            return _ERR

    def _call_sync(self, slot, f, *a):
        """Like _call for callbacks where coroutines are refused."""
        msg = a[-1]
        a = a[:-1]
        cur = gearsasync.cur
        prev = cur[0]
        cur[0] = self.no_async_ctx
        try:
            if self.profile:
                pc = time.perf_counter_ns
                t0 = pc()
                try:
                    v = f(*a)
                finally:
                    self.step_ns[slot] += pc() - t0
            else:
                v = f(*a)
        except _gears.forcestopped:
            raise
        except Exception as e:
            self.errors.append(_format_error(e, self.tb, 1))
            return _ERR
        finally:
            cur[0] = prev
        if type(v) is types.CoroutineType:
            v.close()
            self.errors.append(msg)
            return _ERR
        return v

    def _apply(self, step, it, idx):
        kind = step[0]
        if kind in _INLINED and not self.profile:
            if step[1] is _count_local:
                return _count_records(it)
            return self._apply_inlined(kind, step[1], it)
        return self._apply_gen(step, it, idx)

    def _apply_inlined(self, kind, f, it):
        """map/filter/foreach/accumulate with _call's work inlined: one
        Python frame less per record (the KeysReader hot path)."""
        cur = gearsasync.cur
        sc = self.step_ctx
        errors = self.errors
        tb = self.tb
        acc = kind == 'accumulate'
        a, have = None, False
        for r in it:
            prev = cur[0]
            sc.future = None
            cur[0] = sc
            try:
                v = f(a, r) if acc else f(r)
                if type(v) in _ASYNC:
                    v = self._wait(v)
            except _gears.forcestopped:
                raise
            except Exception as e:
                errors.append(_format_error(e, tb, 1))
                a, have = None, False  # accumulate: a failure drops the accumulator
                continue
            finally:
                cur[0] = prev
            if acc:
                a, have = v, True
            elif kind == 'map':
                yield v
            elif kind == 'foreach' or v:
                yield r
        if have:
            yield a

    def _apply_gen(self, step, it, idx):
        kind, f = step[0], step[1]
        call = self._call
        if kind == 'map':
            for r in it:
                v = call(idx, f, r)
                if v is not _ERR:
                    yield v
        elif kind == 'flatmap':
            for r in it:
                v = call(idx, f, r)
                if v is _ERR:
                    continue
                if isinstance(v, list):
                    yield from reversed(v)  # RedisGears pops from the end
                else:
                    yield v
        elif kind == 'filter':
            for r in it:
                v = call(idx, f, r)
                if v is not _ERR and v:
                    yield r
        elif kind == 'foreach':
            for r in it:
                if call(idx, f, r) is not _ERR:
                    yield r
        elif kind == 'accumulate':
            # A failing call drops the accumulator: the next record starts
            # again from None, and nothing is emitted if the last one failed.
            a, have = None, False
            for r in it:
                v = call(idx, f, a, r)
                if v is _ERR:
                    a, have = None, False
                else:
                    a, have = v, True
            if have:
                yield a
        elif kind in ('localgroupby', 'groupby'):
            extractor = step[2]
            red = idx + 1 if kind == 'localgroupby' else idx + 2
            groups = {}
            for r in it:
                k = self._key(idx, extractor, r)
                if k is _ERR:
                    continue
                v = call(red, f, k, groups.get(k), r)
                if v is _ERR:
                    groups.pop(k, None)
                else:
                    groups[k] = v
            for k, v in groups.items():
                yield {'key': k, 'value': v}
        elif kind == 'batchgroupby':
            extractor = step[2]
            groups = {}
            for r in it:
                k = self._key(idx, extractor, r)
                if k is _ERR:
                    continue
                groups.setdefault(k, []).append(r)
            for k, rs in groups.items():
                v = self._call_sync(idx + 3, f, k, rs, 'coroutine are not allow on reduce')
                if v is not _ERR:
                    yield {'key': k, 'value': v}
        elif kind == 'repartition':
            for r in it:  # local execution: only the extractor runs
                if self._key(idx, f, r) is not _ERR:
                    yield r
        elif kind == 'collect':
            yield from it
        elif kind == 'limit':
            start, length = step[2], step[3]
            if length <= 0:
                return
            i = 0
            for r in it:
                if i >= start:
                    yield r
                i += 1
                if i >= start + length:
                    break


_prof = {'p': None}


def _profiler():
    p = _prof['p']
    if p is None:
        import cProfile
        p = _prof['p'] = cProfile.Profile()
    return p


def _run_execution(payload):
    """Handler: run a created execution. Reply = RESP [[results],[errors]]
    followed by a stats frame [read_ns, [ns per plan step]] (profiling)."""
    eid = bytes(payload).decode()
    ex = _pending.pop(eid)
    profile = _config_int('ProfileExecutions', 0) == 1
    tb = _config_int('PythonAttemptTraceback', 1) == 1
    results, errors = ex.run(profile, tb)
    out = [_gears.results_reply(results, errors)]
    if profile:
        out.append(b'*2\r\n:%d\r\n*%d\r\n' % (ex.read_ns, len(ex.step_ns)))
        for n in ex.step_ns:
            out.append(b':%d\r\n' % n)
    return b''.join(out)


def _profile_stats(payload):
    """RG.PYPROFILE STATS: pstats text sorted by tottime (RedisGears ignores
    the requested order)."""
    import io
    import pstats
    p = _prof['p']
    s = io.StringIO()
    if p is None:
        return b''
    try:
        pstats.Stats(p, stream=s).sort_stats('tottime').print_stats()
    except TypeError:  # no data collected yet
        return b''
    return s.getvalue().encode('utf-8', 'surrogateescape')


def _profile_reset(payload):
    _prof['p'] = None
    return b'OK'


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
        'isAsyncAllow': gearsasync.isAsyncAllow,
        'gearsFuture': gearsasync.gearsFuture,
        'runCoroutine': gearsasync.runCoroutine,
        'createFuture': gearsasync.createFuture,
        'setFutureResults': gearsasync.setFutureResults,
        'setFutureException': gearsasync.setFutureException,
        'call_next': redisgears.callNext,
        'override_reply': redisgears.overrideReply,
        'get_command': redisgears.getCommand,
        'redisgears': redisgears,
        'Log': redisgears.log, 'ConfigGet': configGet, 'GearsConfigGet': gearsConfigGet,
    }


def _reset_script_state():
    _state['runs'] = 0


def bootstrap(main_globals):
    main_globals.update(session_globals())
    _gears.register(OP_RUN_EXECUTION, _run_execution)
    _gears.register(OP_RESET_SCRIPT, lambda p: _reset_script_state())
    _gears.register(OP_PROFILE_STATS, _profile_stats)
    _gears.register(OP_PROFILE_RESET, _profile_reset)
