package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// pycase is one RG.PYEXECUTE script and its rendered reply. want may end
// in "*" (prefix match) or start with "~" (substring match).
type pycase struct{ name, code, want string }

func runPy(t *testing.T, c *conn, cases []pycase) {
	t.Helper()
	for _, tc := range cases {
		got := c.pyexec(tc.code)
		ok := got == tc.want
		if w, pre := strings.CutSuffix(tc.want, "*"); pre {
			ok = strings.HasPrefix(got, w)
		} else if w, sub := strings.CutPrefix(tc.want, "~"); sub {
			ok = strings.Contains(got, w)
		}
		if !ok {
			t.Errorf("%s: %s\n got  %s\n want %s", tc.name, tc.code, got, tc.want)
		}
	}
}

func TestGearsReaders(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"set str hello", "OK"},
		{"hset h f v", "(integer) 1"},
		{"rpush l a b", "(integer) 2"},
		{"sadd set m", "(integer) 1"},
		{"zadd z 1 m", "(integer) 1"},
		{"xadd st 1-1 f v", `"1-1"`},
		{"xadd st 2-1 g w", `"2-1"`},
	})
	c.send("set", "bin", "\xff\xfe")
	if got := c.read(); got != "OK" {
		t.Fatal(got)
	}
	runPy(t, c, []pycase{
		// KeysReader record dicts (exact match: one key per run)
		{"string", "GB().run('str')", `[["{'key': 'str', 'value': 'hello', 'type': 'string', 'event': None}"] []]`},
		{"bytes", "GB().run('bin')", `[["{'key': 'bin', 'value': bytearray(b'\\xff\\xfe'), 'type': 'string', 'event': None}"] []]`},
		{"hash", "GB().run('h')", `[["{'key': 'h', 'value': {'f': 'v'}, 'type': 'hash', 'event': None}"] []]`},
		{"list", "GB().run('l')", `[["{'key': 'l', 'value': ['a', 'b'], 'type': 'list', 'event': None}"] []]`},
		{"set", "GB().run('set')", `[["{'key': 'set', 'value': None, 'type': 'set', 'event': None}"] []]`},
		{"zset", "GB().run('z')", `[["{'key': 'z', 'value': None, 'type': 'zset', 'event': None}"] []]`},
		{"stream is unknown", "GB().run('st')", `[["{'key': 'st', 'value': None, 'type': 'unknown', 'event': None}"] []]`},
		{"readValue=False", "GB().run('h', readValue=False)", `[["{'key': 'h', 'event': None}"] []]`},
		{"noScan missing key is empty", "GB().run('nokey', noScan=True)", `[["{'key': 'nokey', 'value': None, 'type': 'empty', 'event': None}"] []]`},
		{"noScan is exact", "GB().run('s*', noScan=True, readValue=False)", `[["{'key': 's*', 'event': None}"] []]`},
		{"glob", "GB().map(lambda r: r['key']).sort().run('[sz]*')", `[["set" "st" "str" "z"] []]`},
		{"glob class", "GB().map(lambda r: r['key']).run('?')", `[["h" "l" "z"] []]`},
		{"default arg", "GB('KeysReader', 'st*').map(lambda r: r['key']).sort().run()", `[["st" "str"] []]`},
		{"falsy arg uses default", "GB('KeysReader', 'h').map(lambda r: r['key']).run('')", `[["h"] []]`},
		{"regex not str", "GB().run(1)", "~gears.error: regex argument must be a string"},
		{"noScan not bool", "GB().run('x', noScan=1)", "~exactMatch value is not boolean"},
		{"readValue not bool", "GB().run('x', readValue='no')", "~readValue value is not boolean"},
		{"unknown kwargs ignored", "GB().map(lambda r: r['key']).run('h', batch=3)", `[["h"] []]`},
		// KeysOnlyReader
		{"keysonly", "GB('KeysOnlyReader').sort().run('s*')", `[["set" "st" "str"] []]`},
		{"keysonly count", "GB('KeysOnlyReader').count().run('*', count=1)", `[["7"] []]`},
		{"keysonly noScan", "GB('KeysOnlyReader').run('h', noScan=True)", `[["h"] []]`},
		{"keysonly noScan missing", "GB('KeysOnlyReader').run('nokey', noScan=True)", `[[] []]`},
		{"keysonly patternGenerator", "GB('KeysOnlyReader').run(patternGenerator=lambda: ('l', True))", `[["l"] []]`},
		{"keysonly mode kwarg", "GB('KeysOnlyReader').run(mode='async_local')", "~TypeError: createKeysOnlyReader() got an unexpected keyword argument 'mode'"},
		// StreamReader
		{"stream", "GB('StreamReader').run('st')", `[["{'key': 'st', 'id': '1-1', 'value': {'f': 'v'}}" "{'key': 'st', 'id': '2-1', 'value': {'g': 'w'}}"] []]`},
		{"stream fromId", "GB('StreamReader').map(lambda r: r['id']).run('st', fromId='1-1')", `[["2-1"] []]`},
		{"stream exact key", "GB('StreamReader').run('s*')", `[[] []]`},
		{"stream bad fromId", "GB('StreamReader').run('st', fromId='bad')", `[[] ["ERR Invalid stream ID specified as stream command argument"]]`},
		{"stream fromId type", "GB('StreamReader').run('st', fromId=1)", "~fromId argument must be a string"},
		// ShardsIDReader, PythonReader, CommandReader
		{"shards id", "GB('ShardsIDReader').run('ignored')", `[["1"] []]`},
		{"python reader", "def g():\n    yield 1\n    yield 'x'\nGB('PythonReader').run(g)", `[["1" "x"] []]`},
		{"python reader non-generator", "n = [0]\ndef f():\n    n[0] += 1\n    if n[0] > 3:\n        raise StopIteration\n    return n[0]\nGB('PythonReader').limit(2).run(f)", `[["1" "2"] []]`},
		{"python reader not fn", "GB('PythonReader').run()", "~gears.error: pyreader argument must be a function"},
		{"python reader builtin", "GB('PythonReader').run(iter)", "~pyreader argument must be a function"},
		{"command reader run", "GB('CommandReader').run()", "~Given reader do not support run or not exists"},
		{"unknown reader", "GB('JavaReader')", "~reader does not exists"},
		{"desc type", "GB('KeysReader', '*', 5)", "~desc argument must be a string"},
	})
}

func TestGearsOperations(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	py := func(body string) string { return "GB('PythonReader')" + body }
	src := "def src():\n    yield from [3, 1, 2]\n"
	runPy(t, c, []pycase{
		{"map", src + py(".map(lambda x: x * 10).run(src)"), `[["30" "10" "20"] []]`},
		{"flatmap list reversed", src + py(".flatmap(lambda x: [x, x + 100]).run(src)"), `[["103" "3" "101" "1" "102" "2"] []]`},
		{"flatmap tuple is one record", src + py(".flatmap(lambda x: (x, x)).run(src)"), `[["(3, 3)" "(1, 1)" "(2, 2)"] []]`},
		{"flatmap empty list", src + py(".flatmap(lambda x: []).run(src)"), `[[] []]`},
		{"filter", src + py(".filter(lambda x: x > 1).run(src)"), `[["3" "2"] []]`},
		{"filter error drops", src + py(".filter(lambda x: 1 / (x - 1)).run(src)"), "[[\"3\" \"2\"] [\"['Traceback (most recent call last):\\\\n', '  File \\\"<string>\\\", line 3, in <lambda>\\\\n', 'ZeroDivisionError: division by zero\\\\n']\"]]"},
		{"foreach", "seen = []\n" + src + py(".foreach(lambda x: seen.append(x)).map(lambda x: len(seen)).run(src)"), `[["1" "2" "3"] []]`},
		{"accumulate", src + py(".accumulate(lambda a, x: (a or 0) + x).run(src)"), `[["6"] []]`},
		{"accumulate empty", py(".accumulate(lambda a, x: 1).run(lambda: (x for x in []))"), `[[] []]`},
		{"accumulate error resets", src + py(".accumulate(lambda a, x: 1 / 0 if x == 1 else (a or 0) + x).run(src)"), "[[\"2\"] [*"},
		{"localgroupby", src + py(".localgroupby(lambda x: 'odd' if x % 2 else 'even', lambda k, a, x: (a or 0) + x).run(src)"), `[["{'key': 'odd', 'value': 4}" "{'key': 'even', 'value': 2}"] []]`},
		{"groupby non-str key repr", src + py(".groupby(lambda x: x % 2, lambda k, a, x: k).run(src)"), `[["{'key': '1', 'value': '1'}" "{'key': '0', 'value': '0'}"] []]`},
		{"batchgroupby", src + py(".batchgroupby(lambda x: 'k', lambda k, xs: [k] + xs).run(src)"), `[["{'key': 'k', 'value': ['k', 3, 1, 2]}"] []]`},
		{"repartition", src + py(".repartition(lambda x: str(x)).run(src)"), `[["3" "1" "2"] []]`},
		{"collect", src + py(".collect().run(src)"), `[["3" "1" "2"] []]`},
		{"limit", src + py(".limit(2).run(src)"), `[["3" "1"] []]`},
		{"limit offset", src + py(".limit(1, 1).run(src)"), `[["1"] []]`},
		{"limit not int", py(".limit('1')"), "~gears.error: limit argument must be a number"},
		{"limit arity", py(".limit()"), "~wrong number of args to limit function"},
		// sugar
		{"aggregate", src + py(".aggregate(0, lambda a, x: a + x, lambda a, x: a + x).run(src)"), `[["6"] []]`},
		{"aggregate builtin callbacks", "import operator\n" + src + py(".aggregate(0, operator.add, operator.add).run(src)"), `[["6"] []]`},
		{"aggregate falsy reset", src + py(".aggregate([], lambda a, x: [], lambda a, x: a + ['z']).run(src)"), `[["['z']"] []]`},
		{"aggregate empty", py(".aggregate(0, lambda a, x: a + x, lambda a, x: a + x).run(lambda: (x for x in []))"), `[[] []]`},
		{"aggregateby", src + py(".aggregateby(lambda x: 'all', 0, lambda k, a, x: a + x, lambda k, a, x: a + x).run(src)"), `[["{'key': 'all', 'value': 6}"] []]`},
		{"count", src + py(".count().run(src)"), `[["3"] []]`},
		{"count empty is no record", py(".count().run(lambda: (x for x in []))"), `[[] []]`},
		{"countby", py(".countby().run(lambda: (x for x in ['a', 'b', 'a']))"), `[["{'key': 'a', 'value': 2}" "{'key': 'b', 'value': 1}"] []]`},
		{"countby builtin extractor", py(".countby(str).run(lambda: (x for x in [1, 1]))"), `[["{'key': '1', 'value': 2}"] []]`},
		{"avg", src + py(".avg().run(src)"), `[["2.0"] []]`},
		{"distinct", py(".distinct().sort().run(lambda: (x for x in [1, 2, 1]))"), `[["1" "2"] []]`},
		{"sort default ascending", src + py(".sort().run(src)"), `[["1" "2" "3"] []]`},
		{"sort reverse=False descending", src + py(".sort(False).run(src)"), `[["3" "2" "1"] []]`},
		// validation
		{"builtin rejected", py(".map(str)"), "~gears.error: map argument must be a function"},
		{"method rejected", py(".filter([].append)"), "~filter argument must be a function"},
		{"arity", py(".map(lambda x: x, lambda x: x)"), "~wrong number of args to map function"},
		{"flatmap arity", py(".flatmap()"), "~wrong number of args to flatmap function"},
		{"foreach fn", py(".foreach(1)"), "~foreach argument must be a function"},
		{"accumulate fn", py(".accumulate(1)"), "~accumulate argument must be a function"},
		{"groupby extractor", py(".groupby(1, lambda k, a, r: a)"), "~groupby extractor argument must be a function"},
		{"groupby reducer", py(".localgroupby(lambda r: r, 1)"), "~groupby reducer argument must be a function"},
		{"groupby arity", py(".groupby(lambda r: r)"), "~wrong number of args to groupby function"},
		{"batchgroupby extractor", py(".batchgroupby(1, lambda k, l: l)"), "~batchgroupby extractor argument must be a function"},
		{"batchgroupby reducer unchecked", py(".batchgroupby(lambda r: 'k', 1).run(lambda: (x for x in [1]))"), "[[] [\"[\\\"TypeError: 'int' object is not callable\\\\n\\\"]\"]]"},
		{"repartition fn", py(".repartition(None)"), "~repartition argument must be a function"},
		{"collect arity", py(".collect(1)"), "~wrong number of args to collect function"},
		{"chainable", "b = GB('PythonReader')\nassert b.map(lambda x: x) is b and b.sort() is b\n" + "b.run(lambda: (x for x in [1]))", `[["1"] []]`},
		// coroutines
		{"coroutine map", "import asyncio\nasync def f(x):\n    await asyncio.sleep(0)\n    return x + 1\n" + py(".map(f).run(lambda: (x for x in [1]))"), `[["2"] []]`},
		{"coroutine extractor", "async def k(x):\n    return 'k'\n" + py(".groupby(k, lambda k, a, r: r).run(lambda: (x for x in [1]))"), `[[] ["coroutine are not allow on extractor"]]`},
		{"coroutine batch reducer", "async def r(k, l):\n    return l\n" + py(".batchgroupby(lambda x: 'k', r).run(lambda: (x for x in [1]))"), `[[] ["coroutine are not allow on reduce"]]`},
	})
}

func TestGearsRunAndResults(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	one := func(v string, opts string) string {
		return "GB('PythonReader').run(lambda: (x for x in [" + v + "])" + opts + ")"
	}
	runPy(t, c, []pycase{
		{"convertToStr=False int", one("1, True", ", convertToStr=False"), `[[(integer) 1 (integer) 1] []]`},
		{"float %lf", one("1.5, 2.0", ", convertToStr=False"), `[["1.500000" "2.000000"] []]`},
		{"str", one("'x', '+', '-'", ", convertToStr=False"), `[["x" "+" "-"] []]`},
		{"status", one("'+OK'", ", convertToStr=False"), `[[OK] []]`},
		{"error", one("'-ERR boom'", ", convertToStr=False"), `[[!ERR boom] []]`},
		{"status after str()", one("'+hi'", ""), `[[hi] []]`},
		{"bytes", one("b'ab'", ", convertToStr=False"), `[["ab"] []]`},
		{"nested list", one("[1, ['a', 2.5]]", ", convertToStr=False"), `[[[(integer) 1 ["a" "2.500000"]]] []]`},
		{"PY RECORD", one("{'a': 1}, None, (1,)", ", convertToStr=False"), `[["PY RECORD" "PY RECORD" "PY RECORD"] []]`},
		{"status CRLF", one("'+a\\r\\nb', '-E\\r\\n'", ", convertToStr=False"), `[[a b !E ] []]`},
		{"bytearray", one("bytearray(b'ab')", ", convertToStr=False"), `[["ab"] []]`},
		{"int beyond 64 bits", one("2**70, -2**63", ", convertToStr=False"), `[["1180591620717411303424" (integer) -9223372036854775808] []]`},
		{"lone surrogate", one("'a\\udcff'", ", convertToStr=False"), `[["a\xff"] []]`},
		{"self-referencing list", "l = []\nl.append(l)\n" + one("l", ", convertToStr=False"), "~RecursionError"},
		{"collect=False", one("1", ", collect=False"), `[["1"] []]`},
		{"mode async_local", one("1", ", mode='async_local'"), `[["1"] []]`},
		{"mode sync", one("1", ", mode='sync'"), "~gears.error: unknown execution mode"},
		{"mode not str", one("1", ", mode=1"), "~gears.error: execution mode must be a string"},
		{"one run per script", "GB().run()\nGB().run()", "~Can not run more then 1 executions in a single script"},
		{"flat_error verbatim", "def f(x):\n    flat_error('PAUSE please')\nGB('PythonReader').map(f).run(lambda: (x for x in [1]))", `[[] ["PAUSE please"]]`},
		{"redisgears.flatError", "def f(x):\n    raise redisgears.flatError('plain')\nGB('PythonReader').map(f).run(lambda: (x for x in [1]))", `[[] ["plain"]]`},
		{"error per record, others go on", "GB('PythonReader').map(lambda x: 10 // x).run(lambda: (x for x in [1, 0, 5]))", `[["10" "2"] ["['Traceback*`},
	})
	runSteps(t, c, []step{{"rg.configset PythonAttemptTraceback 0", "[OK]"}})
	runPy(t, c, []pycase{
		{"no traceback", "GB('PythonReader').map(lambda x: 1 / 0).run(lambda: (x for x in [1]))", `[[] ["Error type: <class 'ZeroDivisionError'>, Value: division by zero"]]`},
		{"gears.error", "GB('PythonReader').map(lambda x: execute('incr', 'nope', 'x')).run(lambda: (x for x in [1]))", `[[] ["Error type: <class 'gears.error'>, Value: ERR wrong number of arguments for 'incr' command"]]`},
	})
	runSteps(t, c, []step{{"rg.configset PythonAttemptTraceback 1", "[OK]"}})
}

var execIDRe = regexp.MustCompile(`^"0{40}-(\d+)"$`)

func execID(t *testing.T, reply string) (string, int) {
	t.Helper()
	m := execIDRe.FindStringSubmatch(reply)
	if m == nil {
		t.Fatalf("not an execution id: %s", reply)
	}
	n, _ := strconv.Atoi(m[1])
	return strings.Trim(reply, `"`), n
}

func TestGearsExecutions(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{{"set k v", "OK"}})
	a, na := execID(t, c.pyexec("GB().run()", "UNBLOCKING"))
	_, nb := execID(t, c.pyexec("GB().run()", "UNBLOCKING"))
	if nb <= na {
		t.Errorf("ids not increasing: %d then %d", na, nb)
	}
	runSteps(t, c, []step{
		{"rg.getresultsblocking " + a, `[["{'key': 'k', 'value': 'v', 'type': 'string', 'event': None}"] []]`},
		{"rg.getexecution " + a + " CLUSTER", "!no cluster detected - use `RG.GETEXECUTION <id> [SHARD]` instead"},
		{"rg.getexecution " + a + " bad", "!unknown subcommand"},
		{"rg.getexecution", "!ERR wrong number of arguments for 'rg.getexecution' command"},
		{"rg.abortexecution", "!ERR wrong number of arguments for 'rg.abortexecution' command"},
		{"rg.getresults " + a + " x", "!ERR wrong number of arguments for 'rg.getresults' command"},
	})
	// the plan: reader, hidden record mapper, then the operations' steps
	id, _ := execID(t, c.pyexec("def f(r):\n    return r\nGB().map(f).groupby(lambda r: r['key'], lambda k, a, r: 1).run()", "UNBLOCKING"))
	c.do("rg.getresultsblocking " + id)
	got := c.do("rg.getexecution " + id + " shard")
	got = regexp.MustCompile(` at 0x[0-9a-f]+>`).ReplaceAllString(got, ">")
	want := `[["shard_id" "0000000000000000000000000000000000000000" "execution_plan" ["status" "done" "shards_received" (integer) 0 "shards_completed" (integer) 0 "results" (integer) 1 "errors" [] "total_duration" (integer) 0 "read_duration" (integer) 0 "steps" [` +
		`["type" "reader" "duration" (integer) 0 "name" "KeysReader" "arg" ""] ` +
		`["type" "map" "duration" (integer) 0 "name" "RedisGearsPy_ToPyRecordMapper" "arg" ""] ` +
		`["type" "map" "duration" (integer) 0 "name" "RedisGearsPy_PyCallbackMapper" "arg" "<function f>"] ` +
		`["type" "extractkey" "duration" (integer) 0 "name" "RedisGearsPy_PyCallbackExtractor" "arg" "<function <lambda>>"] ` +
		`["type" "repartition" "duration" (integer) 0 "name" "" "arg" ""] ` +
		`["type" "accumulatebykey" "duration" (integer) 0 "name" "RedisGearsPy_PyCallbackAccumulateByKey" "arg" "<function <lambda>>"] ` +
		`["type" "map" "duration" (integer) 0 "name" "RedisGearsPy_ToPyRecordMapper" "arg" ""] ` +
		`["type" "map" "duration" (integer) 0 "name" "RedisGearsPy_PyCallbackMapper" "arg" "<function GearsBuilder.run.<locals>.<lambda>>"] ` +
		`["type" "collect" "duration" (integer) 0 "name" "" "arg" ""]]]]]`
	if got != want {
		t.Errorf("plan:\n got  %s\n want %s", got, want)
	}
	// ProfileExecutions=1: real durations, measured in the guest
	runSteps(t, c, []step{{"rg.configset ProfileExecutions 1", "[OK]"}})
	id, _ = execID(t, c.pyexec("import time\ndef slow(r):\n    time.sleep(0.03)\n    return r\nGB('PythonReader').map(slow).run(lambda: (x for x in [1, 2]))", "UNBLOCKING"))
	c.do("rg.getresultsblocking " + id)
	got = c.do("rg.getexecution " + id)
	m := regexp.MustCompile(`"name" "RedisGearsPy_PyCallbackMapper" "arg" "<function slow`).FindStringIndex(got)
	dm := regexp.MustCompile(`\["type" "map" "duration" \(integer\) (\d+) "name" "RedisGearsPy_PyCallbackMapper" "arg" "<function slow`).FindStringSubmatch(got)
	tm := regexp.MustCompile(`"total_duration" \(integer\) (\d+)`).FindStringSubmatch(got)
	if m == nil || dm == nil || tm == nil {
		t.Fatalf("profiled plan: %s", got)
	}
	if d, _ := strconv.Atoi(dm[1]); d < 55 {
		t.Errorf("map step duration %d ms, want >= 60: %s", d, got)
	}
	if d, _ := strconv.Atoi(tm[1]); d < 55 {
		t.Errorf("total duration %d ms: %s", d, got)
	}
	runSteps(t, c, []step{{"rg.configset ProfileExecutions 0", "[OK]"}})

	// running: GETRESULTS / DROPEXECUTION refuse, DUMPEXECUTIONS shows it
	spin, _ := execID(t, c.pyexec("def f():\n    while True:\n        pass\n    yield 1\nGB('PythonReader').run(f)", "UNBLOCKING"))
	runSteps(t, c, []step{
		{"rg.getresults " + spin, "!execution is still running"},
		{"rg.dropexecution " + spin, "!can not drop a not yet finished execution, abort it first."},
	})
	// UNBLOCKING replies before the execution starts: "created", then "running"
	for i := 0; ; i++ {
		got := c.do("rg.dumpexecutions")
		if strings.Contains(got, `["executionId" "`+spin+`" "status" "running" "registered" (integer) 0]`) {
			break
		}
		if i > 1000 || !strings.Contains(got, `["executionId" "`+spin+`" "status" "created" "registered" (integer) 0]`) {
			t.Fatalf("dumpexecutions: %s", got)
		}
		time.Sleep(time.Millisecond)
	}
	t0 := time.Now()
	runSteps(t, c, []step{{"rg.abortexecution " + spin, "OK"}})
	// the goal is 100 ms (typically ~1 ms); the bound allows a loaded machine
	if d := time.Since(t0); d > 500*time.Millisecond {
		t.Errorf("abort took %v", d)
	} else {
		t.Logf("abort took %v", d)
	}
	runSteps(t, c, []step{
		{"rg.getresults " + spin, `[[] ["Execution was aborted"]]`},
		{"rg.abortexecution " + spin, "OK"}, // already done: OK
		{"rg.dropexecution " + spin, "OK"},
		{"rg.dropexecution " + spin, "!execution plan does not exist"},
	})
}

func TestGearsMaxExecutions(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{{"rg.configset MaxExecutions 2", "[OK]"}})
	var ids []string
	for i := 0; i < 4; i++ {
		id, _ := execID(t, c.pyexec("GB('ShardsIDReader').run()", "UNBLOCKING"))
		c.do("rg.getresultsblocking " + id)
		ids = append(ids, id)
	}
	got := c.do("rg.dumpexecutions")
	want := `[["executionId" "` + ids[2] + `" "status" "done" "registered" (integer) 0] ["executionId" "` + ids[3] + `" "status" "done" "registered" (integer) 0]]`
	if got != want {
		t.Errorf("FIFO cap:\n got  %s\n want %s", got, want)
	}
	runSteps(t, c, []step{{"rg.getresults " + ids[0], "!execution plan does not exist"}})
	// a running execution pushed out of the list is dropped when it finishes
	spin, _ := execID(t, c.pyexec("def f():\n    while True:\n        pass\n    yield 1\nGB('PythonReader').run(f)", "UNBLOCKING"))
	for i := 0; i < 2; i++ {
		id, _ := execID(t, c.pyexec("GB('ShardsIDReader').run()", "UNBLOCKING"))
		c.do("rg.getresultsblocking " + id)
	}
	if got := c.do("rg.dumpexecutions"); !strings.Contains(got, spin) {
		t.Errorf("running execution dropped early: %s", got)
	}
	runSteps(t, c, []step{{"rg.abortexecution " + spin, "OK"}})
	if got := c.do("rg.dumpexecutions"); strings.Contains(got, spin) {
		t.Errorf("finished execution not dropped: %s", got)
	}
}

func TestGearsConfigAndIntrospection(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"rg.configget MaxExecutions MaxExecutionsPerRegistration ProfileExecutions ExecutionThreads ExecutionMaxIdleTime SendMsgRetries PythonAttemptTraceback PythonInstallReqMaxIdleTime OverridePythonAllocators CreateVenv DownloadDeps ForeceDownloadDepsOnEnterprise",
			"[(integer) 1000 (integer) 100 (integer) 0 (integer) 3 (integer) 5000 (integer) 3 (integer) 1 (integer) 30000 (integer) 1 (integer) 0 (integer) 0 (integer) 0]"},
		{"rg.configget PythonInstallationDir Plugin maxexecutions", `["/var/opt/redislabs/modules/rg" [] !(error) Unsupported config parameter: maxexecutions]`},
		{"rg.configget SandboxMemoryLimitMB ExecutionTimeLimitMs SandboxStrictMode", "[(integer) 256 (integer) 0 (integer) 0]"},
		{"rg.configset maxexecutions 5 ExecutionMaxIdleTime 20000", "[OK OK]"},
		{"rg.configget MaxExecutions ExecutionMaxIdleTime", "[(integer) 5 (integer) 20000]"},
		{"rg.configset ExecutionThreads 4 Plugin x CreateVenv 1 MaxExecutions abc SendMsgRetries", "[!(error) Config value ExecutionThreads not modifiable at runtime !(error) Config value Plugin not modifiable at runtime !(error) CreateVenv is not configurable at runtime !(error) Failed setting config value MaxExecutions !(error) Value was not given to SendMsgRetries]"},
		{"rg.configset myExtra 42", "[OK - value was saved in extra config dictionary]"},
		{"rg.configget myExtra", `["42"]`},
		{"rg.configset SandboxMemoryLimitMB 1", "[!(error) Config value SandboxMemoryLimitMB not modifiable at runtime]"},
		{"rg.infocluster", `"no cluster mode"`},
		{"rg.refreshcluster", "OK"},
		{"rg.dumpplugins", `[["GearsPythonPlugin" (integer) 10000]]`},
		{"rg.pydumpreqs", "[]"},
		{"rg.pyprofile stats nosuch", "!session does not exists"},
		{"rg.pyprofile reset nosuch", "!session does not exists"},
		{"rg.pyprofile foo x", "!Wrong subcommand given to RG.PYPROFILE"},
		{"rg.pyexecuteremote a b", `"Execute remote is not longer supported"`},
		{"rg.pyfreeinterpreter", `"Free interpreter is not longer supported"`},
	})
	// configGet sees only the extra dictionary
	runPy(t, c, []pycase{
		{"configGet", "GB('PythonReader').run(lambda: (x for x in [configGet('myExtra'), configGet('MaxExecutions'), gearsConfigGet('MaxExecutions', 'd'), gearsConfigGet('myExtra', 'd')]))", `[["42" "None" "d" "42"] []]`},
	})
	c.pyexec("GB('PythonReader').run(lambda: (x for x in [bytearray(1 << 20)]))")
	got := c.do("rg.pystats")
	m := regexp.MustCompile(`^\["TotalAllocated" \(integer\) (\d+) "PeakAllocated" \(integer\) (\d+) "CurrAllocated" \(integer\) (\d+)\]$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("pystats: %s", got)
	}
	if peak, _ := strconv.Atoi(m[2]); peak < 1<<20 {
		t.Errorf("pystats peak %d", peak)
	}
}

// TestGearsAbortKill: a guest stuck in a C loop that never yields is
// killed (SandboxStrictMode 1) after the cooperative stop fails; the
// execution ends aborted, the session's interpreter is replaced and the
// server keeps serving new sessions.
func TestGearsAbortKill(t *testing.T) {
	s := startServer(t, "gears", "SandboxStrictMode 1")
	c := dial(t, s)
	id, _ := execID(t, c.pyexec("import collections, itertools\ndef f():\n    collections.deque(itertools.count(), maxlen=0)\n    yield 1\nGB('PythonReader').run(f)", "UNBLOCKING"))
	time.Sleep(50 * time.Millisecond)
	runSteps(t, c, []step{{"rg.getresults " + id, "!execution is still running"}})
	t0 := time.Now()
	runSteps(t, c, []step{{"rg.abortexecution " + id, "OK"}})
	t.Logf("kill took %v", time.Since(t0))
	runSteps(t, c, []step{
		{"rg.getresults " + id, `[[] ["Execution was aborted"]]`},
		{"rg.dumpexecutions", `[["executionId" "` + id + `" "status" "aborted" "registered" (integer) 0]]`},
	})
	// the cooperative path still works in strict mode
	spin, _ := execID(t, c.pyexec("def f():\n    while True:\n        pass\n    yield 1\nGB('PythonReader').run(f)", "UNBLOCKING"))
	runSteps(t, c, []step{{"rg.abortexecution " + spin, "OK"}, {"rg.getresults " + spin, `[[] ["Execution was aborted"]]`}})
	runPy(t, c, []pycase{{"after kill", "GB('PythonReader').run(lambda: (x for x in ['alive']))", `[["alive"] []]`}})
}

// TestGearsPyProfile: a session that stays (it registered something) keeps
// a cProfile while ProfileExecutions=1; STATS ignores the order argument.
func TestGearsPyProfile(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{{"rg.configset ProfileExecutions 1", "[OK]"}})
	if got := c.pyexec("def work(x):\n    return sum(range(1000))\nGB('CommandReader').map(work).register(trigger='prof')", "ID", "profsess"); got != "OK" {
		t.Fatal(got)
	}
	c.do("rg.trigger prof")
	got := c.do("rg.pyprofile stats profsess cumtime")
	if !strings.Contains(got, "function calls") || !strings.Contains(got, "(work)") || !strings.Contains(got, "Ordered by: internal time") {
		t.Errorf("pyprofile stats: %s", got)
	}
	runSteps(t, c, []step{{"rg.pyprofile reset profsess", "OK"}, {"rg.pyprofile stats profsess", `""`}})
}

// A server shutting down while unblocking executions end: both close the
// executions' sessions. The runtime must outlive every close (a close still
// under way once read the interpreter's memory after the runtime unmapped
// it: SIGSEGV). A stress test: the window is narrow.
func TestShutdownWhileUnblockingSessionsEnd(t *testing.T) {
	for range 5 {
		s := startServer(t)
		c := dial(t, s)
		for range 6 {
			c.pyexec("GB('PythonReader').run(lambda: (x for x in range(300)))", "UNBLOCKING")
		}
		s.Shutdown()
	}
}
