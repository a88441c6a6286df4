package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func scrape(t *testing.T, s *Server) string {
	t.Helper()
	resp, err := http.Get("http://" + s.MetricsAddr().String() + "/metrics")
	must(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	must(t, err)
	return string(body)
}

// waitMetrics scrapes until every line of want is in /metrics.
func waitMetrics(t *testing.T, s *Server, want ...string) string {
	t.Helper()
	var text string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		text = scrape(t, s)
		missing := false
		for _, w := range want {
			if !strings.Contains(text, w) {
				missing = true
				break
			}
		}
		if !missing {
			return text
		}
	}
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("/metrics lacks %q", w)
		}
	}
	return text
}

func TestGearsMetrics(t *testing.T) {
	s := startServer(t, "metrics-addr", "127.0.0.1:0")
	c := dial(t, s)
	runSteps(t, c, []step{{"set k v", "OK"}})
	if got := c.pyexec("GB().map(lambda r: r['key']).run()"); got != `[["k"] []]` {
		t.Fatal(got)
	}
	if got := c.pyexec("def f(x):\n    raise Exception('boom')\nGB('ShardsIDReader').map(f).run()"); !strings.Contains(got, "boom") {
		t.Fatal(got)
	}
	id := strings.Trim(c.pyexec("def f():\n    while True:\n        pass\n    yield 1\nGB('PythonReader').run(f)", "UNBLOCKING"), `"`)
	waitMetrics(t, s, `wasmgears_executions{reader="PythonReader",status="running"} 1`, `wasmgears_interpreters{state="busy"} 1`)
	runSteps(t, dial(t, s), []step{{"rg.abortexecution " + id, "OK"}})
	code := `GB().foreach(lambda r: execute('incr', 'n')).register(prefix='user:*', mode='sync')`
	if got := c.pyexec(code, "ID", "counter"); got != "OK" {
		t.Fatal(got)
	}
	if got := c.pyexec(`GB('StreamReader').foreach(lambda r: execute('incr', 'sn')).register(prefix='s:*')`, "ID", "streams"); got != "OK" {
		t.Fatal(got)
	}
	runSteps(t, c, []step{{"set user:1 a", "OK"}, {"set user:2 b", "OK"}, {"xadd s:1 * f v", `"1*`}})
	waitUntil(t, c, "get sn", `"1"`)
	text := waitMetrics(t, s,
		`wasmgears_executions_total{reader="KeysReader",status="success"} 3`,
		`wasmgears_executions_total{reader="ShardsIDReader",status="failed"} 1`,
		`wasmgears_executions_total{reader="PythonReader",status="aborted"} 1`,
		`wasmgears_execution_duration_seconds_count{reader="KeysReader"} 3`, // the run() and two registered
		`wasmgears_execution_duration_seconds_bucket{reader="PythonReader",le="+Inf"} 1`,
		`wasmgears_registrations{mode="sync",reader="KeysReader"} 1`,
		`wasmgears_registrations{mode="async",reader="StreamReader"} 1`,
		`wasmgears_registration_success_total{reader="KeysReader",registration="0000000000000000000000000000000000000000-`,
		`wasmgears_registration_stream_lag_seconds{registration=`,
		`wasmgears_registration_paused{registration=`,
		`wasmgears_sessions 2`,
		`wasmgears_sessions_created_total `,
		`wasmgears_interpreters{state="ready"} `,
		`wasmgears_interpreters{state="busy"} 0`,
		`wasmgears_guest_memory_bytes `,
		`wasmgears_requirements_store_bytes 0`,
		`wasmgears_gears_ready 1`,
	)
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, "wasmgears_registration_triggered_total") && strings.Contains(l, "KeysReader") && !strings.HasSuffix(l, " 2") {
			t.Errorf("triggered: %s", l)
		}
		if strings.Contains(l, "user:") {
			t.Errorf("a key name in /metrics: %s", l)
		}
	}
	old := RequirementStoreBytes
	RequirementStoreBytes = func(*Server) int64 { return 12345 }
	defer func() { RequirementStoreBytes = old }()
	waitMetrics(t, s, "wasmgears_requirements_store_bytes 12345")
}
