# async/await in a step: each record waits on the session's event loop
# (here a timer standing in for slow I/O), and a gearsFuture is completed
# later by a coroutine scheduled with runCoroutine.
import asyncio

async def slow_double(x):
    await asyncio.sleep(0.01)
    return x * 2

def later(x):
    f = gearsFuture()

    async def finish():
        await asyncio.sleep(0.01)
        f.continueRun('%d!' % x)
    runCoroutine(finish())
    return f

GB('PythonReader').map(slow_double).map(later).run(lambda: (i for i in range(3)))
