package server

// The exposition against its real consumers: Debian's
// prometheus-redis-exporter reads INFO (and friends) from wasmgears, and
// Debian's prometheus scrapes /metrics. scripts/test-deps.sh installs
// both; the tests skip when they are absent.

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// startProc runs a helper binary until the test ends.
func startProc(t *testing.T, bin string, args ...string) *syncLog {
	logs := &syncLog{}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	must(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), logs.String())
		}
	})
	return logs
}

type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func httpGet(url string) (string, error) {
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return string(b), fmt.Errorf("%s: %s", url, resp.Status)
	}
	return string(b), err
}

func TestRedisExporter(t *testing.T) {
	bin, err := exec.LookPath("prometheus-redis-exporter")
	if err != nil {
		t.Skip("prometheus-redis-exporter is not installed (apt-get install prometheus-redis-exporter, or scripts/test-deps.sh): skipping")
	}
	s := startServer(t, "requirepass", "pw")
	c := dial(t, s)
	runSteps(t, c, []step{{"auth pw", "OK"}, {"set a 1", "OK"}, {"set b 2", "OK"}, {"hset h f v", "(integer) 1"}})
	listen := freeAddr(t)
	startProc(t, bin, "-redis.addr", "redis://"+s.Addr().String(), "-redis.password", "pw", "-web.listen-address", listen)
	var text string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if text, err = httpGet("http://" + listen + "/metrics"); err == nil && strings.Contains(text, "redis_up 1") {
			break
		}
	}
	for _, want := range []string{
		"redis_up 1",
		"redis_connected_clients ",
		`redis_db_keys{db="db0"} 3`,
		"redis_commands_processed_total ",
		"redis_memory_used_bytes ",
		"redis_uptime_in_seconds ",
		`redis_commands_total{cmd="set"} 2`,
		"redis_keyspace_hits_total ",
		`redis_instance_info{`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("redis_exporter's /metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("exporter output:\n%s", text)
	}
}

func TestPrometheusScrapes(t *testing.T) {
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Skip("prometheus is not installed (apt-get install prometheus, or scripts/test-deps.sh): skipping")
	}
	s := startServer(t, "metrics-addr", "127.0.0.1:0")
	c := dial(t, s)
	runSteps(t, c, []step{{"set a 1", "OK"}})
	if got := c.pyexec("GB().map(lambda r: r['key']).run()"); got != `[["a"] []]` {
		t.Fatal(got)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "prometheus.yml")
	must(t, os.WriteFile(conf, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: wasmgears
    static_configs:
      - targets: ["%s"]
`, s.MetricsAddr().String())), 0o644))
	listen := freeAddr(t)
	startProc(t, bin, "--config.file", conf, "--storage.tsdb.path", filepath.Join(dir, "data"),
		"--web.listen-address", listen, "--log.level", "warn")
	api := "http://" + listen + "/api/v1/"
	var targets struct {
		Data struct {
			ActiveTargets []struct {
				Health    string `json:"health"`
				LastError string `json:"lastError"`
			} `json:"activeTargets"`
		} `json:"data"`
	}
	up := false
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline) && !up; time.Sleep(250 * time.Millisecond) {
		body, err := httpGet(api + "targets")
		if err != nil || json.Unmarshal([]byte(body), &targets) != nil {
			continue
		}
		for _, tg := range targets.Data.ActiveTargets {
			if tg.LastError != "" {
				t.Fatalf("prometheus could not scrape /metrics: %s", tg.LastError)
			}
			up = up || tg.Health == "up"
		}
	}
	if !up {
		t.Fatalf("prometheus never saw the target up: %+v", targets)
	}
	// the samples are queryable by name
	for _, q := range []string{`wasmgears_commands_total{command="set"}`, `wasmgears_gears_ready`,
		`wasmgears_executions_total{reader="KeysReader",status="success"}`, `up{job="wasmgears"}`} {
		var res struct {
			Status string `json:"status"`
			Data   struct {
				Result []struct {
					Value []any `json:"value"`
				} `json:"result"`
			} `json:"data"`
		}
		var body string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
			body, err = httpGet(api + "query?query=" + url.QueryEscape(q))
			if err == nil && json.Unmarshal([]byte(body), &res) == nil && len(res.Data.Result) > 0 {
				break
			}
		}
		if len(res.Data.Result) == 0 {
			t.Errorf("prometheus has no %s: %s", q, body)
			continue
		}
		if v, _ := strconv.ParseFloat(fmt.Sprint(res.Data.Result[0].Value[1]), 64); v < 1 {
			t.Errorf("%s = %v", q, res.Data.Result[0].Value[1])
		}
	}
}
