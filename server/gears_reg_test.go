package server

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// waitUntil polls cond (a command's rendered reply) until it equals want.
func waitUntil(t *testing.T, c *conn, cmd, want string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		if got = c.do(cmd); got == want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s: got %s, want %s", cmd, got, want)
}

func TestKeysReaderRegister(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	// records: {'key','value','type','event'}; prefix rule: trailing * = prefix
	code := `GB().foreach(lambda r: execute('rpush', 'log', '%s|%s|%s|%s' % (r['key'], r['event'], r['type'], r['value']))).register(prefix='user:*', eventTypes=['set', 'hset', 'del'])`
	if got := c.pyexec(code, "ID", "keys"); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{
		{"set user:1 alice", "OK"},
		{"set other x", "OK"},          // prefix does not match
		{"set user:1x y", "OK"},        // matches user:*
		{"incr user:n", "(integer) 1"}, // event incrby: filtered out
		{"hset user:h f v", "(integer) 1"},
		{"del user:1", "(integer) 1"},
	})
	waitUntil(t, c, "llen log", "(integer) 4")
	runSteps(t, c, []step{{"lrange log 0 -1", `["user:1|set|string|alice" "user:1x|set|string|y" "user:h|hset|hash|{'f': 'v'}" "user:1|del|empty|None"]`}})
	// exact prefix (no *) matches one key only; not a glob
	if got := c.pyexec(`GB().foreach(lambda r: execute('incr', 'exact')).register(prefix='a?c', readValue=False)`); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{{"set abc 1", "OK"}, {"set a?c 1", "OK"}})
	waitUntil(t, c, "get exact", `"1"`)

	dump := c.do("rg.dumpregistrations")
	for _, want := range []string{`"reader" "KeysReader"`, `"mode" "async"`, `"numTriggered" (integer) 4`, `"numSuccess" (integer) 4`,
		`"args" ["regex" "user:*" "eventTypes" ["set" "hset" "del"] "keyTypes" (nil) "hookCommands" (nil)]`, `"ExecutionThreadPool" "DefaultPool"`, `'sessionName':'keys'`} {
		if !strings.Contains(dump, want) {
			t.Errorf("dumpregistrations lacks %s:\n%s", want, dump)
		}
	}
	id := strings.Split(strings.TrimPrefix(dump, `[["id" "`), `"`)[0]
	runSteps(t, c, []step{
		{"rg.clearregistrationsstats", "OK"},
		{"rg.unregister nosuch", "!execution is not registered"},
		{"rg.unregister " + id, "OK"},
		// its last registration gone, the session is freed
		{"rg.pydumpsessions sessions keys nosuch", `["Session keys does not exists" "Session nosuch does not exists"]`},
		{"set user:2 b", "OK"},
		{"rg.pydumpsessions foo", "!Unknown option foo"},
	})
	if got := c.do("llen log"); got != "(integer) 4" {
		t.Errorf("unregistered registration still fires: llen = %s", got)
	}
	// argument checks
	pyexecErrors(t, c, map[string]string{
		"GB().register(mode='x')":                                          "unknown execution mode",
		"GB().register(mode=1)":                                            "execution mode must be a string",
		"GB().register(keyTypes=['nope'])":                                 "unknown key type",
		"GB().register(readValue=1)":                                       "readValue value is not boolean",
		"GB().register(onRegistered=1)":                                    "OnRegistered argument must be a function",
		"GB('PythonReader').register()":                                    "given reader does not exists or does not support register",
		"GB('CommandReader').register()":                                   "no trigger or hook argument was given",
		"GB('CommandReader').register(trigger=1)":                          "trigger argument is not string",
		"GB('CommandReader').register(trigger='t', hook='hset')":           "trigger argument can not be given with keyprefix or hook",
		"GB('StreamReader').register(mode='sync', onFailedPolicy='abort')": "ExecutionMode sync can only be combined with OnFailedPolicy Continue",
	})
}

func TestSyncRegistration(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	code := `GB().foreach(lambda r: execute('set', 'copy:' + r['key'], r['value'])).register(prefix='src:*', mode='sync')`
	if got := c.pyexec(code); got != "OK" {
		t.Fatal(got)
	}
	// sync: the copy exists when SET replies
	for i := 0; i < 50; i++ {
		runSteps(t, c, []step{{fmt.Sprintf("set src:%d v%d", i, i), "OK"}, {fmt.Sprintf("get copy:src:%d", i), fmt.Sprintf(`"v%d"`, i)}})
	}
	// inside MULTI too, atomically with the transaction
	runSteps(t, c, []step{{"multi", "OK"}, {"set src:m x", "QUEUED"}, {"get copy:src:m", "QUEUED"}, {"exec", `[OK "x"]`}})
	// a sync registration that fires itself is cut off, the server goes on
	if got := c.pyexec(`GB().foreach(lambda r: execute('incr', 'loop:x')).register(prefix='loop:*', mode='sync', eventTypes=['incrby'])`); got != "OK" {
		t.Fatal(got)
	}
	// INCR replies the value it set; the registrations' increments follow
	runSteps(t, c, []step{{"incr loop:x", "(integer) 1"}, {"get loop:x", `"33"`}, {"ping", "PONG"}})
	if dump := c.do("rg.dumpregistrations"); !strings.Contains(dump, "registration recursion too deep") {
		t.Errorf("recursion error not recorded: %s", dump)
	}
}

func TestTriggers(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	if got := c.pyexec(`GB('CommandReader').map(lambda x: '|'.join(x)).register(trigger='join')`, "ID", "t1"); got != "OK" {
		t.Fatal(got)
	}
	if got := c.pyexec(`GB('CommandReader').flatmap(lambda x: x[2:]).register(trigger='onkey', mode='sync')`); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{
		{"rg.trigger join a b", `["join|a|b"]`},
		{"rg.triggeronkey onkey k1 x y", `["y" "x"]`},
		{"rg.trigger nosuch", "!ERR subcommand not found"},
		{"rg.trigger", "!ERR wrong number of arguments for 'rg.trigger' command"},
		{"multi", "OK"}, {"rg.trigger join a", "QUEUED"}, {"rg.trigger onkey k z", "QUEUED"},
		{"exec", `[!ERR can not run a non-sync execution inside a MULTI/LUA (blocking is not allowed) or on loading. ["z"]]`},
	})
	if got := c.pyexec(`GB('CommandReader').register(trigger='join')`); !strings.Contains(got, "trigger already registered") {
		t.Errorf("duplicate trigger: %s", got)
	}
	if got := c.pyexec(`GB('CommandReader').map(lambda x: 1/0).register(trigger='bad')`); got != "OK" {
		t.Fatal(got)
	}
	if got := c.do("rg.trigger bad"); !strings.HasPrefix(got, "!ERR Could not trigger execution, ") || !strings.Contains(got, "ZeroDivisionError") {
		t.Errorf("failing trigger: %s", got)
	}
}

func TestStreamReaderRegister(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{{"xadd s:1 1-1 f old", `"1-1"`}}) // backlog, processed on registration
	code := `GB('StreamReader').foreach(lambda r: execute('rpush', 'seen', '%s %s %s' % (r['key'], r['id'], r['value']['f']))).register(prefix='s:*', batch=2)`
	if got := c.pyexec(code); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{{"xadd s:1 2-1 f a", `"2-1"`}})
	waitUntil(t, c, "llen seen", "(integer) 2") // backlog + a make a batch of 2
	runSteps(t, c, []step{{"xadd s:1 3-1 f b", `"3-1"`}})
	// batch=2: one new entry does not fire yet
	if got := c.do("llen seen"); got != "(integer) 2" {
		t.Errorf("partial batch fired: %s", got)
	}
	runSteps(t, c, []step{{"xadd s:1 4-1 f c", `"4-1"`}})
	waitUntil(t, c, "llen seen", "(integer) 4")
	runSteps(t, c, []step{{"lrange seen 0 -1", `["s:1 1-1 old" "s:1 2-1 a" "s:1 3-1 b" "s:1 4-1 c"]`}})
	// acknowledged and trimmed
	waitUntil(t, c, "xlen s:1", "(integer) 0")
	dump := c.do("rg.dumpregistrations")
	for _, want := range []string{`"reader" "StreamReader"`, `"args" ["batchSize" (integer) 2 "durationMS" (integer) 0 "stream" "s:*" "trimStream" (integer) 1 "onFailedPolicy" "CONTINUE" "retryInterval" (integer) 1]`, `"status" "OK"`} {
		if !strings.Contains(dump, want) {
			t.Errorf("dump lacks %s: %s", want, dump)
		}
	}
	id := strings.Split(strings.TrimPrefix(dump, `[["id" "`), `"`)[0]
	runSteps(t, c, []step{
		{"rg.pauseregistrations " + id, "OK"},
		{"rg.pauseregistrations nosuch", "!Execution nosuch does not exists on shard 0000000000000000000000000000000000000000"},
		{"xadd s:1 5-1 f d", `"5-1"`}, {"xadd s:1 6-1 f e", `"6-1"`},
	})
	if got := c.do("llen seen"); got != "(integer) 4" {
		t.Errorf("paused registration ran: %s", got)
	}
	runSteps(t, c, []step{{"rg.unpauseregistrations " + id, "OK"}})
	waitUntil(t, c, "llen seen", "(integer) 6")
	if got := c.pyexec(`GB().register(prefix='k')`); got != "OK" {
		t.Fatal(got)
	}
	if got := c.do("rg.pauseregistrations " + strings.Split(strings.Split(c.do("rg.dumpregistrations"), `"id" "`)[2], `"`)[0]); got != "!Reader KeysReader does not support pause" {
		t.Errorf("pause KeysReader: %s", got)
	}
}

// TestSyncFiresWhileSessionWaitsForLock: an async execution of session S
// runs commands (so it keeps waiting for the keyspace lock) while other
// clients' commands, holding the lock, fire a sync registration of the
// same S. The session serves the sync executions while it waits for the
// lock instead of deadlocking (DESIGN.md, Concurrency).
func TestSyncFiresWhileSessionWaitsForLock(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	code := `
GB().foreach(lambda r: execute('incr', 'synced')).register(prefix='sync:*', mode='sync')
def busy(r):
    for _ in range(3000):
        execute('incr', 'busy')
GB().foreach(busy).register(prefix='async:*')`
	if got := c.pyexec(code, "ID", "S"); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{{"set async:go 1", "OK"}})
	parallel(t, s, 4, func(_ int, cc *conn) {
		for i := 0; i < 100; i++ {
			if got := cc.do(fmt.Sprintf("set sync:%d x", i)); got != "OK" {
				t.Errorf("set: %s", got)
				return
			}
		}
	})
	runSteps(t, c, []step{{"get synced", `"400"`}})
	waitUntil(t, c, "get busy", `"3000"`)
}

// TestPyStats: RG.PYSTATS and INFO rg count what the guests' allocators
// hold: a session keeping 40 MB alive shows in CurrAllocated, and the
// bytes stay in TotalAllocated after the session is gone.
func TestPyStats(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	stats := func() (total, peak, curr int64) {
		got := c.do("rg.pystats")
		if _, err := fmt.Sscanf(got, `["TotalAllocated" (integer) %d "PeakAllocated" (integer) %d "CurrAllocated" (integer) %d]`, &total, &peak, &curr); err != nil {
			t.Fatalf("rg.pystats: %s (%v)", got, err)
		}
		return
	}
	_, _, before := stats()
	if got := c.pyexec("big = bytearray(40_000_000)\nGB().register(prefix='never:')", "ID", "holder"); got != "OK" {
		t.Fatal(got)
	}
	total, peak, curr := stats()
	if curr-before < 40_000_000 || peak < curr || total < curr {
		t.Fatalf("holding 40 MB: total %d peak %d curr %d (before %d)", total, peak, curr, before)
	}
	if info := c.do("info rg"); !strings.Contains(info, fmt.Sprintf(`rg_CurrAllocated:%d`, curr)[:20]) {
		t.Errorf("info rg lacks python stats: %s", info)
	}
	id := strings.Split(strings.TrimPrefix(c.do("rg.dumpregistrations"), `[["id" "`), `"`)[0]
	runSteps(t, c, []step{{"rg.unregister " + id, "OK"}})
	total2, _, curr2 := stats()
	if curr2 > curr-40_000_000 || total2 < 40_000_000 {
		t.Errorf("after the session closed: total %d curr %d", total2, curr2)
	}
}

// TestTriggerStepsCAndPython runs one-to-one step chains both ways
// REG_RUN has: in C (_gears.reg_run) and, with ProfileExecutions on, in
// gearsapi._Execution. Each trigger must reply the same either way.
func TestTriggerStepsCAndPython(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	setup := `
import asyncio
class BadBool:
    def __bool__(self):
        raise ValueError('no truth')
async def later(x):
    await asyncio.sleep(0)
    return x[1]
def fut(x):
    f = gearsFuture()
    f.continueRun(x[1] + '!')
    return f
def fails(x):
    f = gearsFuture()
    f.continueFailed('went wrong')
    return f
def reg(name, gb):
    gb.register(trigger=name, mode='async_local')
reg('str', GB('CommandReader').map(lambda x: x[1]))
reg('dict', GB('CommandReader').map(lambda x: {'k': x[1]}))
reg('status', GB('CommandReader').map(lambda x: '+' + x[1]))
reg('errstr', GB('CommandReader').map(lambda x: '-' + x[1]))
reg('int', GB('CommandReader').map(lambda x: len(x)))
reg('float', GB('CommandReader').map(lambda x: 1.5))
reg('list', GB('CommandReader').map(lambda x: [x[1], 2, [3.0]]))
reg('none', GB('CommandReader').map(lambda x: None))
reg('bytes', GB('CommandReader').map(lambda x: x[1].encode()))
reg('surrogate', GB('CommandReader').map(lambda x: 'a\udcff'))
reg('drop', GB('CommandReader').filter(lambda x: False))
reg('chain', GB('CommandReader').filter(lambda x: len(x) > 1).map(lambda x: x[1:]).foreach(lambda x: x.append('f')).collect().map(lambda x: '|'.join(x)))
reg('nosteps', GB('CommandReader'))
reg('raise', GB('CommandReader').map(lambda x: 1/0))
reg('flat', GB('CommandReader').foreach(lambda x: flat_error('PAUSE flat')))
reg('badbool', GB('CommandReader').filter(lambda x: BadBool()))
reg('async', GB('CommandReader').map(later))
reg('future', GB('CommandReader').map(fut))
reg('futurefails', GB('CommandReader').map(fails))
reg('allowed', GB('CommandReader').map(lambda x: str(isAsyncAllow())))
`
	if got := c.pyexec(setup, "ID", "steps"); got != "OK" {
		t.Fatal(got)
	}
	// register() adds map(str) (convertToStr): results are strings
	cases := []struct{ trigger, want string }{
		{"rg.trigger str a", `["a"]`},
		{"rg.trigger dict a", `["{'k': 'a'}"]`},
		{"rg.trigger status ok", `[ok]`},
		{"rg.trigger errstr bad", `[!bad]`},
		{"rg.trigger int a b", `["3"]`},
		{"rg.trigger float", `["1.5"]`},
		{"rg.trigger list a", `["['a', 2, [3.0]]"]`},
		{"rg.trigger none", `["None"]`},
		{"rg.trigger bytes a", `["b'a'"]`},
		{"rg.trigger surrogate", `["a\xff"]`},
		{"rg.trigger drop a", `[]`},
		{"rg.trigger chain a b", `["a|b|f"]`},
		{"rg.trigger chain", `[]`},
		{"rg.trigger nosteps a", `["['nosteps', 'a']"]`},
		{"rg.trigger flat", `!ERR Could not trigger execution, PAUSE flat`},
		{"rg.trigger async a", `["a"]`},
		{"rg.trigger future a", `["a!"]`},
		{"rg.trigger futurefails", `!ERR Could not trigger execution, ['gears.error: went wrong\n']`},
		{"rg.trigger allowed", `["True"]`},
	}
	// error records: the traceback (or the short form) the same both ways
	errs := map[string]string{}
	for _, profile := range []string{"0", "1"} {
		runSteps(t, c, []step{{"rg.configset ProfileExecutions " + profile, "[OK]"}})
		for _, tc := range cases {
			if got := c.do(tc.trigger); got != tc.want {
				t.Errorf("ProfileExecutions %s: %s = %s, want %s", profile, tc.trigger, got, tc.want)
			}
		}
		for _, tb := range []string{"1", "0"} {
			runSteps(t, c, []step{{"rg.configset PythonAttemptTraceback " + tb, "[OK]"}})
			for cmd, want := range map[string]string{
				"rg.trigger raise":   map[string]string{"1": `File "<string>", line 32, in <lambda>\n', 'ZeroDivisionError: division by zero\n']`, "0": "Error type: <class 'ZeroDivisionError'>, Value: division by zero"}[tb],
				"rg.trigger badbool": map[string]string{"1": `in __bool__\n', 'ValueError: no truth\n']`, "0": "Error type: <class 'ValueError'>, Value: no truth"}[tb],
			} {
				got := c.do(cmd)
				if !strings.HasPrefix(got, "!ERR Could not trigger execution, ") || !strings.HasSuffix(got, want) {
					t.Errorf("ProfileExecutions %s, PythonAttemptTraceback %s: %s = %s", profile, tb, cmd, got)
				}
				if prev, ok := errs[cmd+tb]; ok && prev != got {
					t.Errorf("PythonAttemptTraceback %s: %s = %s in C, %s in Python", tb, cmd, prev, got)
				}
				errs[cmd+tb] = got
			}
		}
		runSteps(t, c, []step{{"rg.configset PythonAttemptTraceback 1", "[OK]"}})
	}
}

// KeysReader records are built by the same C whichever path runs the
// steps: map/filter/foreach chains in C, others (and profiled executions)
// in Python. The records must read alike.
func TestKeysReaderRecordsCAndPython(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	// one-to-one steps (C), and a flatmap (Python)
	for _, code := range []string{
		`GB().map(lambda r: '%s|%s|%s|%s' % (r['key'], r['event'], r['type'], r['value'])).foreach(lambda x: execute('rpush', 'c', x)).register(prefix='k:*', mode='sync')`,
		`GB().flatmap(lambda r: ['%s|%s|%s|%s' % (r['key'], r['event'], r['type'], r['value'])]).foreach(lambda x: execute('rpush', 'py', x)).register(prefix='k:*', mode='sync')`,
		`GB().foreach(lambda r: execute('rpush', 'nv', '%s|%s|%s' % (r['key'], r['event'], sorted(r)))).register(prefix='k:*', mode='sync', readValue=False)`,
	} {
		if got := c.pyexec(code); got != "OK" {
			t.Fatal(got)
		}
	}
	want := `["k:s|set|string|v" "k:h|hset|hash|{'f': '1', 'g': '2'}" "k:l|rpush|list|['a', 'b']" "k:z|zadd|zset|None" "k:b|set|string|bytearray(b'\\xff')" "k:s|del|empty|None"]`
	for _, profile := range []string{"0", "1"} {
		runSteps(t, c, []step{
			{"rg.configset ProfileExecutions " + profile, "[OK]"},
			{"set k:s v", "OK"}, {"hset k:h f 1 g 2", "(integer) 2"}, {"rpush k:l a b", "(integer) 2"},
			{"zadd k:z 1 m", "(integer) 1"}, {"set k:b \xff", "OK"}, {"del k:s k:h k:l k:z k:b", "(integer) 5"},
			{"lrange c 0 5", want}, {"lrange py 0 5", want},
			{"lindex nv 0", `"k:s|set|['event', 'key']"`},
			{"del c py nv", "(integer) 3"},
		})
	}
}
