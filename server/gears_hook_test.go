package server

import (
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestCommandHooks(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	// RedisGears' documented example: hset adds a _last_modified_ field.
	hook := `
def add_last_modified(x):
    return call_next(*(x[1:] + ['_last_modified_', '42']))
GB('CommandReader').map(add_last_modified).register(hook='hset', keyprefix='h:', mode='sync')
`
	if got := c.pyexec(hook, "ID", "hook1"); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{
		{"hset h:1 f v", `"2"`}, // the reply is the hook's single result, converted to str
		{"hmget h:1 f _last_modified_", `["v" "42"]`},
		{"hset other f v", "(integer) 1"}, // keyprefix does not match: the real command
		{"hlen other", "(integer) 1"},
	})
	// stacking: the last registered hook runs first, call_next goes down
	top := `GB('CommandReader').map(lambda x: call_next(x[1], x[2] + '!', *x[3:])).register(hook='hset', mode='sync')`
	if got := c.pyexec(top, "ID", "hook2"); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{
		{"hset h:2 f v", `"2"`},
		{"hmget h:2 f! _last_modified_", `["v" "42"]`},
		{"hset plain f v", `"1"`}, // only the top hook matches (no prefix)
		{"hgetall plain", `["f!" "v"]`},
		// inside MULTI a sync hook runs under EXEC's lock
		{"multi", "OK"},
		{"hset h:3 a b", "QUEUED"},
		{"hget h:3 a!", "QUEUED"},
		{"exec", `["2" "b"]`},
	})
	// execute() from a gear is never hooked
	runSteps(t, c, []step{{`rg.pyexecute "GB('ShardsIDReader').map(lambda x: execute('hset', 'h:4', 'x', 'y')).run()"`, `[["1"] []]`}, {"hgetall h:4", `["x" "y"]`}})

	// errors: failing hook, results other than one, call_next outside a hook
	for code, want := range map[string]string{
		"GB('CommandReader').map(lambda x: 1/0).register(hook='get', mode='sync')":                         "division by zero",
		"GB('CommandReader').flatmap(lambda x: [1, 2]).register(hook='incr', mode='sync')":                 "!Command hook must return exactly one result",
		"GB('CommandReader').filter(lambda x: False).register(hook='strlen', mode='sync')":                 "!Command hook must return exactly one result",
		"GB('CommandReader').map(lambda x: call_next('a', 'b', 'c')).register(hook='append', mode='sync')": "gears.error: ERR wrong number of arguments for 'append' command",
	} {
		if got := c.pyexec(code); got != "OK" {
			t.Fatalf("%s: %s", code, got)
		}
		name := strings.SplitN(strings.SplitN(code, "hook='", 2)[1], "'", 2)[0]
		got := c.do(name + " k")
		if name == "append" {
			got = c.do("append k v")
		}
		if !strings.Contains(got, want) {
			t.Errorf("hooked %s: got %s, want %s", name, got, want)
		}
	}
	if got := c.do(`rg.pyexecute "call_next('x')"`); !strings.Contains(got, "gears.error: Can not get CommandHook ctx") {
		t.Errorf("call_next outside a hook: %s", got)
	}
	// registration errors
	pyexecErrors(t, c, map[string]string{
		"GB('CommandReader').register(hook='nosuch')":                     "Can not override an unexisting command",
		"GB('CommandReader').register(hook='multi')":                      "Can not override a command which are not allowed inside a script",
		"GB('CommandReader').register(hook='zunionstore', keyprefix='a')": "Can not override a command with moveable keys by key prefix",
		"GB('CommandReader').register(hook='hset', keyprefix=1)":          "keyprefix argument is not string",
	})
	dump := c.do("rg.dumpregistrations")
	if !strings.Contains(dump, `"args" ["trigger" "hset" "inorder" (integer) 0]`) {
		t.Errorf("dumpregistrations: no hook args:\n%s", dump)
	}
}

func TestAsyncHookAndStackingRule(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	// an async hook: the client waits for its execution; call_next takes
	// the keyspace lock itself
	code := `GB('CommandReader').map(lambda x: call_next(x[1], str(int(x[2]) * 10))).register(hook='set', keyprefix='n:', mode='async_local')`
	if got := c.pyexec(code, "ID", "ahook"); got != "OK" {
		t.Fatal(got)
	}
	parallel(t, s, 4, func(_ int, cc *conn) {
		for j := 0; j < 20; j++ {
			if got := cc.do("set n:x 3"); got != `"OK"` {
				t.Errorf("hooked set: %s", got)
				return
			}
		}
	})
	runSteps(t, c, []step{
		{"get n:x", `"30"`},
		{"multi", "OK"},
		{"set n:y 1", "QUEUED"},
		{"exec", `[!ERR can not run a non-sync execution inside a MULTI/LUA (blocking is not allowed) or on loading.]`},
	})
	// a hook can not be stacked on a non-sync one
	if got := c.pyexec(`GB('CommandReader').map(lambda x: 1).register(hook='set', mode='sync')`); !strings.Contains(got, "Can not override a none sync registration") {
		t.Errorf("stacking on async hook: %s", got)
	}
	if got := c.pyexec("GB('CommandReader').register(hook='get', mode='async')\nGB('CommandReader').register(hook='get', mode='sync')"); !strings.Contains(got, "Can not override a none sync registration which already created on this session") {
		t.Errorf("stacking in one session: %s", got)
	}
}

func TestKeysReaderCommandsLink(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	// commands=: the client waits for the async execution, which sees its
	// command and replaces its reply
	code := `
def f(r):
    cmd = get_command()
    execute('set', 'seen', ' '.join(cmd))
    override_reply('+overridden %s' % r['key'])
GB().foreach(f).register(prefix='c:*', commands=['set'], mode='async')
`
	if got := c.pyexec(code, "ID", "linked"); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{
		{"set c:1 v", "overridden c:1"},
		{"get seen", `"set c:1 v"`}, // done before the reply above was sent
		{"setex c:2 100 v", "OK"},   // not one of commands=: no link, no execution
		{"multi", "OK"},
		{"set c:3 v", "QUEUED"},
		{"exec", `[OK]`}, // in MULTI the link is dropped: override_reply fails
	})
	dump := waitContains(t, c, "rg.dumpregistrations", `"numFailures" (integer) 1`)
	if !strings.Contains(dump, "Can not get command ctx") || !strings.Contains(dump, `"hookCommands" ["set"]`) {
		t.Errorf("dumpregistrations:\n%s", dump)
	}
	// override once only; sync mode overrides inline
	code = `
def g(r):
    override_reply(7)
    override_reply(8)
GB().foreach(g).register(prefix='d:*', commands=['incr'], mode='sync')
`
	if got := c.pyexec(code); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{{"incr d:1", "(integer) 7"}, {"get d:1", `"1"`}})
	if dump := waitContains(t, c, "rg.dumpregistrations", "Can only override reply once"); dump == "" {
		t.Errorf("no once-only error:\n%s", dump)
	}
}

// waitContains polls cmd until its rendered reply contains want.
func waitContains(t *testing.T, c *conn, cmd, want string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	got := ""
	for time.Now().Before(deadline) {
		if got = c.do(cmd); strings.Contains(got, want) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("%s: %s never contained %s", cmd, got, want)
	return ""
}

func TestMaxExecutionsPerRegistration(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{{"rg.configset MaxExecutionsPerRegistration 3", "[OK]"}})
	if got := c.pyexec(`GB().map(lambda r: r['key']).register(prefix='m:*')`); got != "OK" {
		t.Fatal(got)
	}
	// RG.PYEXECUTE runs are not capped by it: this one stays listed
	// through all that follow
	runSteps(t, c, []step{{`rg.pyexecute "GB('ShardsIDReader').count().run()"`, `[["1"] []]`}})
	// enough executions that dropped ids are compacted out of the list
	for i := 0; i < 150; i++ {
		c.do("set m:" + strconv.Itoa(i) + " 1")
	}
	waitContains(t, c, "rg.dumpregistrations", `"numTriggered" (integer) 150`)
	got := c.do("rg.dumpexecutions")
	if n := strings.Count(got, `"registered" (integer) 1`); n != 3 {
		t.Errorf("kept %d registered executions, want 3:\n%s", n, got)
	}
	if n := strings.Count(got, `"registered" (integer) 0`); n != 1 {
		t.Errorf("kept %d RG.PYEXECUTE executions, want 1:\n%s", n, got)
	}
	// the newest ones, oldest first
	var keys []string
	for _, m := range regexp.MustCompile(`"executionId" "([^"]*)" "status" "done" "registered" \(integer\) 1`).FindAllStringSubmatch(got, -1) {
		keys = append(keys, c.do("rg.getresults "+m[1]))
	}
	if want := []string{`[["m:147"] []]`, `[["m:148"] []]`, `[["m:149"] []]`}; !slices.Equal(keys, want) {
		t.Errorf("kept executions' results %q, want %q", keys, want)
	}
}

// TestRegistrationTimeLimit: ExecutionTimeLimitMs and RG.ABORTEXECUTION
// stop a registered execution that never ends, as they stop RG.PYEXECUTE
// runs; the session serves the next event.
func TestRegistrationTimeLimit(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{{"rg.configset ExecutionTimeLimitMs 300", "[OK]"}})
	code := `
def f(r):
    if r['key'] == 'k:spin':
        while True:
            pass
    execute('set', 'after', r['key'])
GB().foreach(f).register(prefix='k:*', eventTypes=['set'], readValue=False)
`
	if got := c.pyexec(code); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{{"set k:spin 1", "OK"}, {"set k:next 1", "OK"}})
	waitUntil(t, c, "get after", `"k:next"`)
	waitContains(t, c, "rg.dumpregistrations", `"numAborted" (integer) 1`)
}
