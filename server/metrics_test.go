package server

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestMetricsScrape(t *testing.T) {
	s := startServer(t, "metrics-addr", "127.0.0.1:0")
	c := dial(t, s)
	runSteps(t, c, []step{{"set a 1", "OK"}, {"get a", `"1"`}, {"incr a", "(integer) 2"}, {"lpush a x", "!WRONGTYPE*"}})
	addr := s.MetricsAddr()
	if addr == nil {
		t.Fatal("metrics listener not started")
	}
	resp, err := http.Get("http://" + addr.String() + "/metrics")
	must(t, err)
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	must(t, err)
	text := string(body)
	for _, want := range []string{
		`wasmgears_commands_total{command="set"} 1`,
		`wasmgears_commands_total{command="get"} 1`,
		`wasmgears_command_errors_total{command="lpush"} 1`,
		`wasmgears_command_duration_seconds_bucket{command="get",le="+Inf"} 1`,
		`wasmgears_command_duration_seconds_count{command="incr"} 1`,
		"wasmgears_connected_clients 1",
		"wasmgears_connections_received_total 1",
		`wasmgears_keys{db="0"} 1`,
		"wasmgears_expired_keys_total 0",
		"wasmgears_pebble_disk_usage_bytes ",
		"wasmgears_pebble_memtable_size_bytes ",
		"wasmgears_pebble_compactions_total ",
		"wasmgears_pebble_read_amplification ",
		"go_goroutines ",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestMetricsOff(t *testing.T) {
	s := startServer(t) // metrics-addr ""
	if s.MetricsAddr() != nil {
		t.Fatal("metrics listener started with an empty metrics-addr")
	}
}
