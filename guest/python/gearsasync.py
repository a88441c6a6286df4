"""async/await in gears functions: the session's event loop, gearsFuture,
runCoroutine, createFuture, setFutureResults, setFutureException.

RedisGears 1.2 runs coroutines on one asyncio loop thread. A WASI guest has
no threads, and asyncio's default loop needs selectors over sockets, so
every session has its own loop (_Loop): a BaseEventLoop whose "selector"
waits by sleeping on the host, where time passes, the session's mailbox is
served and RG.ABORTEXECUTION interrupts the wait. A step callback that
returns a coroutine or a gearsFuture runs the loop until that completes;
coroutines scheduled with runCoroutine make progress meanwhile.

What differs from RedisGears (see host/RATIONALE.md): the execution holds
its session while it waits, so a gearsFuture must be completed by the
session's own coroutines (there are no threads to complete it from); when
nothing could ever complete it, the step fails at once with
'Future can not be completed: nothing is scheduled on the event loop'
instead of hanging.
"""
import types

import _gears
from redisgears import GearsError

# asyncio is imported on first use: most sessions never await, and
# importing it costs every new session milliseconds.

_STUCK = 'Future can not be completed: nothing is scheduled on the event loop'


class _Stuck(Exception):
    pass


class _Selector:
    """The loop's only I/O source is time: select() sleeps on the host."""

    def select(self, timeout):
        if timeout is None:
            raise _Stuck(_STUCK)
        if timeout > 0:
            _gears.sleep(timeout)
        return ()

    def close(self):
        pass


_Loop = None


def _new_loop():
    global _Loop
    if _Loop is None:
        from asyncio import base_events

        class Loop(base_events.BaseEventLoop):
            def __init__(self):
                super().__init__()
                self._selector = _Selector()

            def _process_events(self, event_list):
                pass

            def _write_to_self(self):
                pass  # one thread: nothing to wake
        _Loop = Loop
    return _Loop()


def _events():
    from asyncio import events
    return events


_session_loop = [None]


def _loop():
    """The running loop, else the session's loop."""
    events = _events()
    loop = events._get_running_loop()
    if loop is not None:
        return loop
    loop = _session_loop[0]
    if loop is None or loop.is_closed():
        loop = _session_loop[0] = _new_loop()
    return loop


class StepCtx:
    """The step callback being called: whether it may go async and the
    gearsFuture it created."""
    __slots__ = ('supports', 'allowed', 'future')

    def __init__(self, supports, allowed):
        self.supports = supports
        self.allowed = allowed
        self.future = None


# cur[0] is the StepCtx of the callback running now (None outside steps).
cur = [None]


def isAsyncAllow():
    c = cur[0]
    return c is not None and c.supports and c.allowed


class gearsFuture:
    """A record that a step returns now and completes later with
    continueRun(value) or continueFailed(error)."""

    def __init__(self):
        c = cur[0]
        if c is None:
            raise GearsError('Future object can only be created inside certain execution steps')
        if not c.supports:
            raise GearsError('Step does not support async')
        if not c.allowed:
            raise GearsError('Creating async record is not allowed')
        if c.future is not None:
            raise GearsError('Can not create async record twice on the same step')
        c.future = self
        self._done = False
        self._value = None
        self._error = None
        self._waiter = None

    def _finish(self, value, error):
        if self._done:
            raise GearsError('Can not continue with the same future twice')
        self._done, self._value, self._error = True, value, error
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def continueRun(self, value):
        self._finish(value, None)

    def continueFailed(self, error):
        self._finish(None, error if isinstance(error, BaseException) else GearsError(str(error)))


def _guarded(c):
    """Run coroutine c, refusing awaits inside an atomic() block (the
    keyspace lock must not be held across a wait)."""
    import redisgears

    async def run():
        return await _Guard(c, redisgears.atomicCtx)
    return run()


class _Guard:
    def __init__(self, c, atomic):
        self.c = c
        self.atomic = atomic

    def __await__(self):
        c, send, exc = self.c, None, None
        while True:
            try:
                x = c.send(send) if exc is None else c.throw(exc)
            except StopIteration as e:
                return e.value
            send = exc = None
            if self.atomic._depth:
                exc = GearsError('await is not allow inside atomic block')
                continue
            try:
                send = yield x
            except BaseException as e:
                exc = e


def _drive(loop, fut):
    try:
        loop.run_until_complete(fut)
    except _Stuck:
        fut.cancel()
        raise GearsError(_STUCK) from None
    except BaseException:
        fut.cancel()
        raise
    return fut.result()


def wait(v):
    """Run the loop until the coroutine or gearsFuture v completes; its
    result, or its exception raised."""
    events = _events()
    outer = events._get_running_loop()
    if outer is None:
        return _wait_on(_loop(), v)
    # An execution started inside a running coroutine (a sync registration
    # fired by its execute()): run a loop of its own for the nested wait.
    events._set_running_loop(None)
    inner = _new_loop()
    try:
        return _wait_on(inner, v)
    finally:
        inner.close()
        events._set_running_loop(outer)


def _wait_on(loop, v):
    if isinstance(v, gearsFuture):
        if not v._done:
            v._waiter = loop.create_future()
            _drive(loop, v._waiter)
            v._waiter = None
        if v._error is not None:
            raise v._error
        return v._value
    return _drive(loop, loop.create_task(_guarded(v)))


def runCoroutine(cr, f=None, delay=0):
    """Schedule coroutine cr on the gears loop; with f (a gearsFuture) its
    result (or exception) continues f; delay: seconds to wait first."""
    if type(cr) is not types.CoroutineType:
        raise GearsError('given object is not a coroutine')

    import asyncio

    async def run():
        if delay:
            await asyncio.sleep(delay)
        try:
            res = await cr
        except Exception as e:
            if f is None:
                raise
            f.continueFailed(e)
            return
        if f is not None:
            f.continueRun(res)
    return _loop().create_task(run())


def createFuture():
    """An asyncio future bound to the gears loop."""
    return _loop().create_future()


def setFutureResults(f, res):
    f.get_loop().call_soon_threadsafe(_set_result, f, res)


def setFutureException(f, exc):
    f.get_loop().call_soon_threadsafe(_set_exception, f, exc)


def _set_result(f, res):
    if not f.done():
        f.set_result(res)


def _set_exception(f, exc):
    if not f.done():
        f.set_exception(exc if isinstance(exc, BaseException) else Exception(str(exc)))
