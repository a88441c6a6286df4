"""redisgears: the low-level gears API of a wasmgears session.

Names follow RedisGears 1.2's `redisgears` module. Everything here talks to
the host through the `_gears` built-in (see guest/c/_gearsmodule.c and
abi/abi.go): one RESP3 frame per host call.
"""
import _gears

GearsError = _gears.error
GearsForceStopped = _gears.forcestopped
GearsFlatError = _gears.flat_error

executeCommand = _gears.execute

_LOG_LEVELS = ('debug', 'verbose', 'notice', 'warning')


def _resp(*args):
    """Encode a host request as a RESP array of bulk strings."""
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode('utf-8', 'surrogateescape')
        elif not isinstance(a, (bytes, bytearray)):
            a = str(a).encode()
        out.append(b'$%d\r\n' % len(a))
        out.append(bytes(a))
        out.append(b'\r\n')
    return b''.join(out)


def hostcall(*args):
    """Call the host and decode its RESP3 reply (errors raise GearsError)."""
    return _decode(_gears.call(_resp(*args)))


def _decode(buf):
    v, _ = _parse(buf, 0)
    return v


def _parse(b, i):
    t = b[i:i + 1]
    j = b.index(b'\r\n', i)
    line = b[i + 1:j]
    i = j + 2
    if t in (b'+',):
        return line.decode(), i
    if t == b'-':
        raise GearsError(line.decode('utf-8', 'replace'))
    if t == b':':
        return int(line), i
    if t == b',':
        return float(line), i
    if t == b'#':
        return line == b't', i
    if t == b'_':
        return None, i
    if t in (b'$', b'='):
        n = int(line)
        if n < 0:
            return None, i
        s = b[i:i + n]
        if t == b'=':
            s = s[4:]
        return s, i + n + 2
    if t in (b'*', b'~', b'>'):
        n = int(line)
        if n < 0:
            return None, i
        out = []
        for _ in range(n):
            v, i = _parse(b, i)
            out.append(v)
        return out, i
    if t == b'%':
        n = int(line)
        out = {}
        for _ in range(n):
            k, i = _parse(b, i)
            v, i = _parse(b, i)
            out[k] = v
        return out, i
    raise GearsError('bad reply from host: %r' % t)


def log(msg, level='notice'):
    # legacy form log(level, msg)
    if level not in _LOG_LEVELS and msg in _LOG_LEVELS:
        msg, level = level, msg
    if level not in _LOG_LEVELS:
        raise GearsError('Log level should be one of the following : debug,verbose,notice,warning')
    if not isinstance(msg, str):
        raise GearsError('msg argument must be a string')
    _gears.log(level, msg)


def config_get(key):
    if not isinstance(key, str):
        raise GearsError('key argument must be a string')
    v = hostcall('config_get', key)
    return None if v is None else v.decode('utf-8', 'replace')


def getMyHashTag():
    # Stand-alone server: the tag of slot 0, as RedisGears replies.
    return '{06S}'


class atomicCtx:
    """`with atomic():` holds the keyspace lock for the block."""
    _depth = 0

    def __enter__(self):
        if atomicCtx._depth:
            raise GearsError('Already inside an atomic block')
        hostcall('atomic_begin')
        atomicCtx._depth = 1
        return self

    def __exit__(self, *exc):
        atomicCtx._depth = 0
        hostcall('atomic_end')
        return False


def callNext(*args):
    """Inside a command hook: run the next hook of the chain, or the real
    command, with args (without the command name)."""
    return _gears.decode(_gears.call(_resp('hook_next', *args)))


def getCommand():
    """The arguments of the client command linked to this execution."""
    from gearsapi import _str
    return [_str(a) for a in hostcall('get_command')]


def overrideReply(value):
    """Replace the reply of the client command linked to this execution
    (a str starting with '-' is an error, '+' a status)."""
    hostcall('override_reply', _gears.reply(value))


def isAsyncAllow():
    import gearsasync
    return gearsasync.isAsyncAllow()


def gearsFutureCtx():
    import gearsasync
    return gearsasync.gearsFuture()


def flatError(msg):
    return GearsFlatError(msg)
