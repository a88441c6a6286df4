"""Registrations: GearsBuilder.register() and the guest side of executions
fired by key events, stream entries and triggers (RedisGears 1.2).

register() validates its arguments as RedisGears does, then asks the host
to create the registration ('reg_create'); the host owns matching events,
queues, modes, statistics and persistence, and runs each execution through
the REG_RUN handler with the reader's record.
"""
import types

import _gears
import gearsapi
import gearsasync
from redisgears import GearsError, hostcall, _resp

OP_REG_RUN = 18
OP_REG_ON_REGISTERED = 19

_regs = {}  # registration id -> _Reg

_KEY_TYPES = ('empty', 'string', 'list', 'hash', 'set', 'zset', 'module', 'stream')


class _Reg:
    def __init__(self, reader, steps, desc, onRegistered):
        self.reader = reader
        self.steps = steps
        self.layout = gearsapi._layout(steps)
        self.desc = desc
        self.onRegistered = onRegistered


# _gears.reg_add's reader kinds and step codes (_gearsmodule.c REG_*, STEP_*)
_KIND = {'KeysReader': 0, 'CommandReader': 2, 'StreamReader': 3}
_STEP = {'map': 0, 'filter': 1, 'foreach': 2}
_STEP_STR = 3


def _chain(steps):
    """The steps as _gears.reg_run runs them in C: ((code, callback), ...)
    when each turns one record into at most one, else None. register()'s
    convertToStr map is STEP_STR: str() called from C."""
    if not all(s[0] in _STEP or s[0] == 'collect' for s in steps):
        return None
    return tuple((_STEP_STR if _is_to_str(s[1]) else _STEP[s[0]], s[1])
                 for s in steps if s[0] != 'collect')


def _is_to_str(f):
    return type(f) is types.FunctionType and getattr(f, 'gears_to_str', False) is True


def _str_list(v, what):
    if v is None:
        return None
    try:
        out = list(v)
    except TypeError:
        raise GearsError('%s argument must be a list' % what)
    for x in out:
        if not isinstance(x, str):
            raise GearsError('%s argument must be a list of strings' % what)
    return out


def _opt_list(v):
    """Encode an optional list for the host: '' = None, else items."""
    return ['0'] if v is None else ['1', str(len(v))] + v


def register(gb, prefix, kw):
    reader = gb.reader
    if 'regex' in kw:  # deprecated alias of prefix
        prefix = kw.pop('regex')
    mode = kw.get('mode', 'async')
    if not isinstance(mode, str):
        raise GearsError('execution mode must be a string')
    if mode not in ('async', 'async_local', 'sync'):
        raise GearsError('unknown execution mode')
    onRegistered = kw.get('onRegistered')
    if onRegistered is not None and not isinstance(onRegistered, types.FunctionType):
        raise GearsError('OnRegistered argument must be a function')
    readValue = True
    if reader == 'KeysReader':
        if not isinstance(prefix, str):
            raise GearsError('regex argument must be a string')
        eventTypes = _str_list(kw.get('eventTypes'), 'eventTypes')
        keyTypes = _str_list(kw.get('keyTypes'), 'keyTypes')
        if keyTypes is not None:
            for t in keyTypes:
                if t not in _KEY_TYPES:
                    raise GearsError('unknown key type')
        readValue = kw.get('readValue', True)
        if not isinstance(readValue, bool):
            raise GearsError('readValue value is not boolean')
        commands = _str_list(kw.get('commands'), 'commands')
        args = [prefix] + _opt_list(eventTypes) + _opt_list(keyTypes) + ['1' if readValue else '0'] + _opt_list(commands)
    elif reader == 'StreamReader':
        if not isinstance(prefix, str):
            raise GearsError('regex argument must be a string')
        batch = kw.get('batch', 1)
        duration = kw.get('duration', 0)
        policy = kw.get('onFailedPolicy', 'continue')
        retry = kw.get('onFailedRetryInterval', 1)
        trim = kw.get('trimStream', True)
        if not isinstance(batch, int) or batch <= 0:
            raise GearsError('batch argument must be a positive integer')
        if not isinstance(duration, int) or duration < 0:
            raise GearsError('duration argument must be a positive integer')
        if not isinstance(policy, str) or policy.lower() not in ('continue', 'abort', 'retry'):
            raise GearsError('onFailedPolicy must be one of: continue, abort, retry')
        if not isinstance(retry, int) or retry < 0:
            raise GearsError('onFailedRetryInterval must be a positive integer')
        if not isinstance(trim, bool):
            raise GearsError('trimStream value is not boolean')
        if mode == 'sync' and policy.lower() != 'continue':
            raise GearsError('ExecutionMode sync can only be combined with OnFailedPolicy Continue')
        args = [prefix, str(batch), str(duration), policy.lower(), str(retry), '1' if trim else '0']
    elif reader == 'CommandReader':
        trigger = kw.get('trigger')
        hook = kw.get('hook')
        keyprefix = kw.get('keyprefix')
        inorder = kw.get('inorder', False)
        if trigger is not None and (hook is not None or keyprefix is not None):
            raise GearsError('trigger argument can not be given with keyprefix or hook')
        if trigger is None and hook is None:
            raise GearsError('no trigger or hook argument was given')
        if trigger is not None and not isinstance(trigger, str):
            raise GearsError('trigger argument is not string')
        if hook is not None and not isinstance(hook, str):
            raise GearsError('hook argument is not string')
        if keyprefix is not None and not isinstance(keyprefix, str):
            raise GearsError('keyprefix argument is not string')
        if not isinstance(inorder, bool):
            raise GearsError('inorder argument is be boolean')
        args = ['trigger' if trigger is not None else 'hook', trigger if trigger is not None else hook,
                keyprefix or '', '1' if inorder else '0']
    else:
        raise GearsError('given reader does not exists or does not support register')
    rid = hostcall('reg_create', reader, mode, gb.desc if gb.desc is not None else '',
                   '1' if gb.desc is not None else '0', *args)
    rid = rid.decode() if isinstance(rid, bytes) else rid
    reg = _Reg(reader, list(gb.steps), gb.desc, onRegistered)
    _regs[rid] = reg
    kind = _KIND[reader] + (1 if reader == 'KeysReader' and readValue else 0)
    _gears.reg_add(rid, kind, _chain(reg.steps))
    return rid


def _run(rid, flags, rec):
    """REG_RUN for what _gears.reg_run leaves to Python: StreamReader
    batches, steps other than map/filter/foreach, profiled executions.
    reg_run decoded the record (the KeysReader dict, the CommandReader
    argument list, or StreamReader's [[key, id, [f, v, ...]], ...]);
    flags: 1 async allowed, 2 profile, 4 tracebacks. Reply = [[res],[errs]]."""
    reg = _regs[rid]
    if reg.reader == 'StreamReader':
        recs = [{'key': key, 'id': eid, 'value': {fv[i]: fv[i + 1] for i in range(0, len(fv), 2)}}
                for key, eid, fv in rec]
    else:
        recs = (rec,)
    ex = gearsapi._Execution(reg.reader, lambda: iter(recs), reg.steps, reg.desc, flags & 1 == 1, reg.layout)
    results, errors = ex.run(flags & 2 == 2, flags & 4 == 4)
    return _gears.results_reply(results, errors)


def _on_registered(payload):
    reg = _regs.get(bytes(payload).decode())
    if reg is not None and reg.onRegistered is not None:
        reg.onRegistered()


def _unregister(payload):
    rid = bytes(payload).decode()
    _regs.pop(rid, None)
    _gears.reg_remove(rid)


_gears.reg_setup(_run, gearsasync.cur, gearsasync.StepCtx, gearsapi._wait_step,
                 gearsapi._format_error, gearsasync.gearsFuture)
_gears.register(OP_REG_RUN, _gears.reg_run)
_gears.register(OP_REG_ON_REGISTERED, _on_registered)
_gears.register(OP_REG_ON_REGISTERED + 1, _unregister)
