package server

import (
	"strings"
	"testing"
	"time"
)

func TestAsyncAwait(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	for _, tc := range []struct{ code, want string }{
		// a coroutine step: awaits run on the session's loop
		{"import asyncio\nasync def slow(r):\n    await asyncio.sleep(0.01)\n    return r + 1\nGB('ShardsIDReader').map(lambda x: 1).map(slow).run()", `[["2"] []]`},
		// coroutines in filter/foreach/flatmap/accumulate/aggregateby reducers
		{"async def keep(r):\n    return r > 1\nGB('PythonReader').filter(keep).run(lambda: (x for x in [1, 2, 3]))", `[["2" "3"] []]`},
		{"async def acc(a, r):\n    return (a or 0) + r\nGB('PythonReader').accumulate(acc).run(lambda: (x for x in [1, 2, 3]))", `[["6"] []]`},
		{"async def red(k, a, r):\n    return (a or 0) + r\nGB('PythonReader').groupby(lambda r: 'k', red).map(lambda r: r['value']).run(lambda: (x for x in [1, 2, 3]))", `[["6"] []]`},
		// gearsFuture continued by a coroutine scheduled with runCoroutine
		{`import asyncio
def bg(r):
    f = gearsFuture()
    async def c():
        await asyncio.sleep(0.01)
        f.continueRun('done %s' % r)
    runCoroutine(c())
    return f
GB('PythonReader').map(bg).run(lambda: (x for x in ['a', 'b']))`, `[["done a" "done b"] []]`},
		// runCoroutine with a future to continue and a delay; continueFailed
		{`async def ok():
    return 'late'
async def bad():
    raise ValueError('boom')
def bg(r):
    f = gearsFuture()
    runCoroutine(ok() if r else bad(), f, delay=0.01)
    return f
GB('PythonReader').map(bg).run(lambda: (x for x in [1, 0]))`, `[["late"] ["['Traceback (most recent call last):\\n', '  File \"<string>\", line 4, in bad\\n', 'ValueError: boom\\n']"]]`},
		// createFuture / setFutureResults / setFutureException
		{`import asyncio
async def use(r):
    f = createFuture()
    if r:
        setFutureResults(f, r * 10)
    else:
        setFutureException(f, Exception('nope'))
    return await f
GB('PythonReader').map(use).run(lambda: (x for x in [4, 0]))`, `[["40"] ["['Traceback (most recent call last):\\n', '  File \"<string>\", line 8, in use\\n', 'Exception: nope\\n']"]]`},
		// isAsyncAllow: True in a step, False outside one
		{"execute('set', 'outside', str(isAsyncAllow()))\nGB('ShardsIDReader').map(lambda x: isAsyncAllow()).run()", `[["True"] []]`},
		// once only
		{"def f(r):\n    g = gearsFuture()\n    g.continueRun(1)\n    g.continueRun(2)\nGB('ShardsIDReader').map(f).run()", "Can not continue with the same future twice"},
		// a future nothing can complete fails instead of hanging
		{"GB('ShardsIDReader').map(lambda x: gearsFuture()).run()", "Future can not be completed: nothing is scheduled on the event loop"},
		// the spec's refusals
		{"gearsFuture()", "Future object can only be created inside certain execution steps"},
		{"GB('ShardsIDReader').map(lambda x: (gearsFuture(), gearsFuture())).run()", "Can not create async record twice on the same step"},
		{"GB('ShardsIDReader').batchgroupby(lambda x: gearsFuture(), lambda k, l: 1).run()", "Step does not support async"},
		{"async def k(r):\n    return 'k'\nGB('ShardsIDReader').groupby(k, lambda k, a, r: 1).run()", "coroutine are not allow on extractor"},
		{"import asyncio\nasync def f(r):\n    with atomic():\n        await asyncio.sleep(0.01)\nGB('ShardsIDReader').map(f).run()", "await is not allow inside atomic block"},
	} {
		if got := c.pyexec(tc.code); !strings.Contains(got, tc.want) {
			t.Errorf("%s\n got: %s\nwant: %s", tc.code, got, tc.want)
		}
	}
	runSteps(t, c, []step{{"get outside", `"False"`}})

	// an execution waiting in an await is aborted promptly
	id, _ := execID(t, c.pyexec("import asyncio\nasync def f(r):\n    await asyncio.sleep(100)\nGB('ShardsIDReader').map(f).run()", "UNBLOCKING"))
	waitContains(t, c, "rg.getexecution "+id, `"status" "running"`)
	start := time.Now()
	runSteps(t, c, []step{{"rg.abortexecution " + id, "OK"}})
	waitContains(t, c, "rg.getexecution "+id, `"status" "aborted"`)
	t.Logf("abort during await: %v", time.Since(start))

	// sync registrations fired inside MULTI may not go async
	code := `
async def f(r):
    return r
def g(r):
    execute('set', 'allow', str(isAsyncAllow()))
    return r
GB().map(g).map(f).register(prefix='m:*', mode='sync')
`
	if got := c.pyexec(code); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{
		{"set m:1 x", "OK"},
		{"get allow", `"True"`},
		{"multi", "OK"}, {"set m:2 x", "QUEUED"}, {"exec", "[OK]"},
		{"get allow", `"False"`},
	})
	waitContains(t, c, "rg.dumpregistrations", "Creating async record is not allowed")
}

// TestInlinedSteps: without profiling, map/filter/foreach/accumulate run
// with the callback wrapper inlined; with ProfileExecutions=1 through
// _call. Both must give the same records, errors and side-effect order.
func TestInlinedSteps(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	code := `
def m(r):
    execute('rpush', 'order', 'm%d' % r)
    if r == 2:
        raise ValueError('map %d' % r)
    return r * 10
def f(r):
    execute('rpush', 'order', 'f%d' % r)
    return r != 30
def acc(a, r):
    execute('rpush', 'order', 'a%d' % r)
    if r == 50:
        raise ValueError('acc %d' % r)
    return (a or 0) + r
GB('PythonReader').map(m).filter(f).foreach(lambda r: execute('rpush', 'order', 'e%d' % r)).accumulate(acc).map(lambda a: a + 1).run(lambda: (x for x in range(1, 8)))
`
	var outs, orders []string
	for _, profile := range []string{"0", "1"} {
		runSteps(t, c, []step{{"rg.configset ProfileExecutions " + profile, "[OK]"}, {"del order", "(integer) 0"}})
		outs = append(outs, c.pyexec(code))
		orders = append(orders, c.do("lrange order 0 -1"))
		c.do("del order")
	}
	if outs[0] != outs[1] || orders[0] != orders[1] {
		t.Errorf("inlined and profiled steps differ:\n inlined %s %s\n profiled %s %s", outs[0], orders[0], outs[1], orders[1])
	}
	if !strings.HasPrefix(outs[0], `[["131"] [`) || strings.Count(outs[0], "ValueError") != 2 {
		t.Errorf("results: %s", outs[0])
	}
}

// count() counts without calling its accumulator per record unless
// profiling: both ways give the same records and errors, and no record for
// empty input.
func TestCountSteps(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	cases := []struct{ code, want string }{
		{"def m(r):\n    if r == 2:\n        raise ValueError('map %d' % r)\n    return r\nGB('PythonReader').map(m).count().run(lambda: (x for x in range(1, 8)))", `[["6"] [`},
		{"GB('PythonReader').count().run(lambda: (x for x in []))", `[[] []]`},
		{"GB('PythonReader').filter(lambda r: False).count().run(lambda: (x for x in range(5)))", `[[] []]`},
		{"GB('PythonReader').repartition(lambda r: r).count().run(lambda: (x for x in range(1000)))", `[["1000"] []]`},
	}
	for _, tc := range cases {
		var outs []string
		for _, profile := range []string{"0", "1"} {
			runSteps(t, c, []step{{"rg.configset ProfileExecutions " + profile, "[OK]"}})
			outs = append(outs, c.pyexec(tc.code))
		}
		if outs[0] != outs[1] {
			t.Errorf("%s: counted %s, profiled %s", tc.code, outs[0], outs[1])
		}
		if !strings.HasPrefix(outs[0], tc.want) {
			t.Errorf("%s: got %s, want %s...", tc.code, outs[0], tc.want)
		}
	}
}
