package server

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// grafanaMetrics returns the wasmgears_ metric names grafana/wasmgears.json
// queries (panel targets and template variables).
func grafanaMetrics(t *testing.T) []string {
	t.Helper()
	raw, err := os.ReadFile("../grafana/wasmgears.json")
	must(t, err)
	var dash map[string]any
	must(t, json.Unmarshal(raw, &dash))
	var exprs []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				if s, ok := y.(string); ok && (k == "expr" || k == "definition" || k == "query") {
					exprs = append(exprs, s)
				}
				walk(y)
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(dash)
	re := regexp.MustCompile(`\bwasmgears_[a-z0-9_]+`)
	seen := map[string]bool{}
	for _, e := range exprs {
		for _, m := range re.FindAllString(e, -1) {
			seen[m] = true
		}
	}
	var out []string
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func TestGrafanaDashboardMetricsExist(t *testing.T) {
	names := grafanaMetrics(t)
	if len(names) < 20 {
		t.Fatalf("only %d metrics found in the dashboard: %v", len(names), names)
	}
	s := startServer(t, "metrics-addr", "127.0.0.1:0")
	c := dial(t, s)
	// something of everything: a run, a sync, an async and a stream registration
	runSteps(t, c, []step{{"set k v", "OK"}, {"get k", `"v"`}, {"get nosuch", "(nil)"}})
	if got := c.pyexec("GB().map(lambda r: r['key']).run()"); got != `[["k"] []]` {
		t.Fatal(got)
	}
	for _, code := range []string{
		`GB().foreach(lambda r: execute('incr', 'n')).register(prefix='user:*', mode='sync')`,
		`GB().foreach(lambda r: execute('incr', 'm')).register(prefix='user:*')`,
		`GB('StreamReader').foreach(lambda r: execute('incr', 'sn')).register(prefix='s:*')`,
	} {
		if got := c.pyexec(code); got != "OK" {
			t.Fatal(got)
		}
	}
	runSteps(t, c, []step{{"set user:1 a", "OK"}, {"xadd s:1 * f v", `"1*`}})
	waitUntil(t, c, "get sn", `"1"`)
	want := []string{"wasmgears_executions_total{", "wasmgears_execution_duration_seconds_bucket{"}
	text := waitMetrics(t, s, want...)
	for _, name := range names {
		if !strings.Contains(text, "\n"+name+"{") && !strings.Contains(text, "\n"+name+" ") {
			t.Errorf("grafana/wasmgears.json queries %s, which /metrics does not export", name)
		}
	}
}
