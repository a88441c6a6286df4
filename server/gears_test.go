package server

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// pyexec sends RG.PYEXECUTE with code (and extra args) and renders the reply.
func (c *conn) pyexec(code string, extra ...string) string {
	c.t.Helper()
	c.send(append([]string{"RG.PYEXECUTE", code}, extra...)...)
	return c.read()
}

// pyexecErrors runs each script and checks that its reply holds the text.
func pyexecErrors(t *testing.T, c *conn, want map[string]string) {
	t.Helper()
	for code, w := range want {
		if got := c.pyexec(code); !strings.Contains(got, w) {
			t.Errorf("%s: got %s, want %q", code, got, w)
		}
	}
}

func TestPyExecuteOptions(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"ID"}, "!ID is missing"},
		{[]string{"ID", "bad id!"}, "!ID must be compose of: ['A'-'Z' | 'a'-'z' | '0' - '9' | '-' | '_']"},
		{[]string{"DESCRIPTION"}, "!DESCRIPTION is missing"},
		{[]string{"REPLACE_WITH"}, "!REPLACE_WITH is missing"},
		{[]string{"FOO"}, "!Unknown arguments were given: FOO"},
		{[]string{"REQUIREMENTS", "redis==3"}, "!Could not satisfy requirements*"},
		{[]string{"ID", "ok_id-1", "DESCRIPTION", "d", "REQUIREMENTS"}, "OK"},
		{[]string{"UNBLOCKING"}, "OK"},
	} {
		got := c.pyexec("x = 1", tc.args...)
		if w, ok := strings.CutSuffix(tc.want, "*"); ok {
			if !strings.HasPrefix(got, w) {
				t.Errorf("%v: got %s, want %s", tc.args, got, tc.want)
			}
		} else if got != tc.want {
			t.Errorf("%v: got %s, want %s", tc.args, got, tc.want)
		}
	}
	runSteps(t, c, []step{
		{"multi", "OK"},
		{"rg.pyexecute \"x=1\"", "!ERR Command not allowed inside a transaction"},
		{"discard", "OK"},
		{"rg.pyexecute", "!ERR wrong number of arguments for 'rg.pyexecute' command"},
	})
}

func TestPyExecuteScriptErrors(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	got := c.pyexec("1/0")
	if !strings.HasPrefix(got, "!Traceback (most recent call last):") || !strings.Contains(got, "ZeroDivisionError: division by zero") {
		t.Errorf("exception reply = %s", got)
	}
	if got := c.pyexec("def f(:\n  pass"); !strings.Contains(got, "SyntaxError") {
		t.Errorf("syntax error reply = %s", got)
	}
	if got := c.pyexec("GB('NoSuchReader')"); !strings.Contains(got, "reader does not exists") {
		t.Errorf("bad reader reply = %s", got)
	}
	if got := c.pyexec("GB().run(); GB().run()"); !strings.Contains(got, "Can not run more then 1 executions in a single script") {
		t.Errorf("two runs reply = %s", got)
	}
	// the server keeps serving
	runSteps(t, c, []step{{"ping", "PONG"}})
}

// TestExecuteConversions checks execute()'s argument and reply conversions
// (spec 1.5): the script returns what it saw through a PythonReader run.
func TestExecuteConversions(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"set s hello", "OK"},
		{"set n 41", "OK"},
		{"rpush l a b", "(integer) 2"},
	})
	cases := []struct{ expr, want string }{
		{"execute('get', 's')", "'hello'"},
		{"execute('incr', 'n')", "42"},
		{"execute('get', 'missing')", "None"},
		{"execute('set', 'b', b'\\xff\\xfe')", "'OK'"},
		{"execute('get', 'b')", "bytearray(b'\\xff\\xfe')"},
		{"execute('set', 'i', 7) and execute('get', 'i')", "'7'"},
		{"execute('lrange', 'l', 0, -1)", "['a', 'b']"},
		{"execute('ping')", "'PONG'"},
		{"execute('echo', 3.5)", "'3.5'"},
		{"type(execute('get', 's')).__name__", "'str'"},
	}
	for _, tc := range cases {
		code := fmt.Sprintf("GB('PythonReader').run(lambda: (x for x in [repr(%s)]))", tc.expr)
		want := fmt.Sprintf("[[%q] []]", tc.want)
		if got := c.pyexec(code); got != want {
			t.Errorf("%s: got %s, want %s", tc.expr, got, want)
		}
	}
	// an error reply raises gears.error carrying the Redis message
	code := `
def f():
    try:
        execute('incr', 's')
    except Exception as e:
        yield type(e).__name__ + ': ' + str(e)
GB('PythonReader').run(f)`
	if got := c.pyexec(code); got != `[["error: ERR value is not an integer or out of range"] []]` {
		t.Errorf("error reply conversion: %s", got)
	}
	if got := c.pyexec("execute(1)"); !strings.Contains(got, "the given command must be a string") {
		t.Errorf("non-str command: %s", got)
	}
}

func TestGearsGlobals(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"rg.configset MyKey hello", `[OK - value was saved in extra config dictionary]`},
		{"rg.configset MaxExecutions 10", "[OK]"},
		{"rg.configset ExecutionThreads 5", "[!(error) Config value ExecutionThreads not modifiable at runtime]"},
		{"rg.configget MaxExecutions MyKey nope", "[(integer) 10 \"hello\" !(error) Unsupported config parameter: nope]"},
	})
	code := `GB('PythonReader').run(lambda: (x for x in [configGet('MyKey'), str(configGet('MaxExecutions')), gearsConfigGet('nope', 'dflt'), hashtag()]))`
	if got := c.pyexec(code); got != `[["hello" "None" "dflt" "{06S}"] []]` {
		t.Errorf("config globals: %s", got)
	}
	if got := c.pyexec(`log('hello from a gear'); log('x', level='nosuch')`); !strings.Contains(got, "Log level should be one of the following : debug,verbose,notice,warning") {
		t.Errorf("log level error: %s", got)
	}
	if got := c.pyexec(`flat_error('PAUSE now')`); !strings.Contains(got, "gears.flat_error: PAUSE now") {
		t.Errorf("flat_error: %s", got)
	}
	// atomic(): the block runs alone; nesting is an error
	code = `
def f():
    with atomic():
        execute('set', 'a1', '1')
        execute('incr', 'a1')
        try:
            with atomic():
                pass
        except Exception as e:
            yield str(e)
    yield execute('get', 'a1')
GB('PythonReader').run(f)`
	if got := c.pyexec(code); got != `[["Already inside an atomic block" "2"] []]` {
		t.Errorf("atomic: %s", got)
	}
	// time.sleep works (served by the host)
	if got := c.pyexec(`import time; time.sleep(0.01); GB('PythonReader').run(lambda: (x for x in ['slept']))`); got != `[["slept"] []]` {
		t.Errorf("sleep: %s", got)
	}
}

// TestSessionIsolation tries to escape the sandbox; each attempt fails.
func TestSessionIsolation(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	probe := func(code string) string {
		return c.pyexec(fmt.Sprintf(`
def f():
    try:
%s
        yield 'escaped'
    except BaseException as e:
        yield 'blocked: ' + type(e).__name__
GB('PythonReader').run(f)`, code))
	}
	for name, code := range map[string]string{
		"passwd": "        open('/etc/passwd').read()",
		"socket": "        import socket; socket.socket(socket.AF_INET, socket.SOCK_STREAM).connect(('127.0.0.1', 6379))",
		"write":  "        open('/usr/local/lib/x', 'w').write('x')",
		"proc":   "        open('/proc/self/environ').read()",
	} {
		if got := probe(code); !strings.HasPrefix(got, `[["blocked: `) {
			t.Errorf("%s: %s", name, got)
		}
	}
	got := c.pyexec(`import os; GB('PythonReader').run(lambda: (x for x in [repr(sorted(os.listdir('/usr/local/site'))), repr(sorted(k for k in os.environ if k != 'PYTHONHOME'))]))`)
	if got != `[["['__pycache__', 'gears', 'gearsapi.py', 'gearsasync.py', 'gearsreg.py', 'redisgears.py']" "[]"] []]` {
		t.Errorf("visible filesystem/env: %s", got)
	}
	// a session cannot see another session's globals
	if got := c.pyexec("secret = 42", "ID", "s1"); got != "OK" {
		t.Fatal(got)
	}
	if got := c.pyexec(`GB('PythonReader').run(lambda: (x for x in [repr('secret' in globals())]))`); got != `[["False"] []]` {
		t.Errorf("globals leak: %s", got)
	}
}

// TestSessionsRunInParallel proves that two sessions run at the same time:
// each waits (bounded) until it sees the other one running. If sessions
// were serialised, neither would ever see the other.
func TestSessionsRunInParallel(t *testing.T) {
	s := startServer(t)
	code := `
import time
def f():
    execute('incr', 'running')
    seen = False
    for _ in range(2000000):
        if int(execute('get', 'running')) >= 2:
            seen = True
            break
    yield 'saw-other' if seen else 'alone'
GB('PythonReader').run(f)`
	got := make([]string, 2)
	parallel(t, s, len(got), func(i int, cc *conn) { got[i] = cc.pyexec(code) })
	for i, g := range got {
		if g != `[["saw-other"] []]` {
			t.Errorf("session %d: %s", i, g)
		}
	}
}

// TestAbortAndLimits: a runaway execution is aborted by RG.ABORTEXECUTION
// and by the time limit; the server carries on serving.
func TestAbortAndLimits(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	for _, loop := range []string{
		"def f():\n    while True:\n        pass\n    yield 1\n",
		"def f():\n    yield sum(range(10**12))\n",
	} {
		id := c.pyexec(loop+"GB('PythonReader').run(f)", "UNBLOCKING")
		id = strings.Trim(id, `"`)
		other := dial(t, s)
		// the server answers while the guest loops
		runSteps(t, other, []step{{"ping", "PONG"}, {"rg.getresults " + id, "!execution is still running"}})
		runSteps(t, other, []step{{"rg.abortexecution " + id, "OK"}})
		runSteps(t, other, []step{{"rg.getresults " + id, `[[] ["Execution was aborted"]]`}})
		if got := other.do("rg.dumpexecutions"); !strings.Contains(got, `"`+id+`" "status" "aborted"`) {
			t.Errorf("dumpexecutions: %s", got)
		}
	}
	runSteps(t, c, []step{{"rg.configset ExecutionTimeLimitMs 100", "[OK]"}})
	if got := c.pyexec("def f():\n    while True:\n        pass\n    yield 1\nGB('PythonReader').run(f)"); got != `[[] ["Execution time limit of 100 ms exceeded"]]` {
		t.Errorf("time limit: %s", got)
	}
	if got := c.pyexec("while True:\n    pass"); !strings.Contains(got, "stopped") {
		t.Errorf("script time limit: %s", got)
	}
	// memory cap: the allocation fails inside Python, the server survives
	if got := c.pyexec("x = bytearray(2**30)"); !strings.Contains(got, "MemoryError") {
		t.Errorf("memory cap: %s", got)
	}
	runSteps(t, c, []step{{"rg.configset ExecutionTimeLimitMs 0", "[OK]"}, {"ping", "PONG"}})
}

func TestExecutionCommands(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{{"set k v", "OK"}})
	id := strings.Trim(c.pyexec("GB().map(lambda r: r['key'] + '=' + r['value']).run()", "UNBLOCKING"), `"`)
	runSteps(t, c, []step{
		{"rg.getresultsblocking " + id, `[["k=v"] []]`},
		{"rg.getresults " + id, `[["k=v"] []]`},
		{"rg.getresults nosuch", "!execution plan does not exist"},
		{"rg.getexecution nosuch", "!execution plan does not exist"},
		{"rg.getexecution " + id + " foo", "!unknown subcommand"},
		{"rg.dropexecution nosuch", "!execution plan does not exist"},
		{"rg.abortexecution nosuch", "!execution does not exist"},
		{"rg.abortexecution " + id, "OK"},
		{"rg.getexecution " + id + " shard", `[["shard_id" "0000000000000000000000000000000000000000" "execution_plan" ["status" "done" "shards_received" (integer) 0 "shards_completed" (integer) 0 "results" (integer) 1 "errors" [] "total_duration" (integer) 0 "read_duration" (integer) 0 "steps" [["type" "reader" "duration" (integer) 0 "name" "KeysReader" "arg" ""] ["type" "map" "duration" (integer) 0 "name" "RedisGearsPy_ToPyRecordMapper" "arg" ""] ["type" "map" "duration" (integer) 0 "name" "RedisGearsPy_PyCallbackMapper" "arg" "<function <lambda> at 0x*`},
		{"rg.dropexecution " + id, "OK"},
		{"rg.getresults " + id, "!execution plan does not exist"},
		{"rg.pyexecuteremote x", `"Execute remote is not longer supported"`},
	})
	// ids are monotonic
	a := strings.Trim(c.pyexec("GB('ShardsIDReader').run()", "UNBLOCKING"), `"`)
	b := strings.Trim(c.pyexec("GB('ShardsIDReader').run()", "UNBLOCKING"), `"`)
	if a >= b && len(a) == len(b) {
		t.Errorf("execution ids not increasing: %s then %s", a, b)
	}
	_ = time.Now
}
