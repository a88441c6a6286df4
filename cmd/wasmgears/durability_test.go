package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestDurabilityKill9: with appendfsync always every acknowledged write
// survives SIGKILL right after the last OK.
func TestDurabilityKill9(t *testing.T) {
	s := start(t, "--appendfsync", "always")
	ctx := ctxT(t)
	const writers, perWriter = 4, 100
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := s.client(2)
			for i := 0; i < perWriter; i++ {
				k := fmt.Sprintf("dur:%d:%d", w, i)
				if err := c.Set(ctx, k, k, 0).Err(); err != nil {
					t.Errorf("SET %s: %v", k, err)
					return
				}
			}
			// A few other kinds of writes, acknowledged before the kill too.
			if err := c.IncrBy(ctx, "dur:counter", perWriter).Err(); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	c := s.client(3)
	noErr(t, c.Set(ctx, "dur:last", "acked", 0).Err())
	noErr(t, c.Set(ctx, "dur:ttl", "v", time.Hour).Err())
	s.kill() // right after the last OK

	s.restart()
	c = s.client(3)
	ctx = ctxT(t)
	missing := 0
	for w := 0; w < writers; w++ {
		for i := 0; i < perWriter; i++ {
			k := fmt.Sprintf("dur:%d:%d", w, i)
			if v, err := c.Get(ctx, k).Result(); err != nil || v != k {
				missing++
				if missing < 5 {
					t.Errorf("after kill -9: GET %s = %q, %v", k, v, err)
				}
			}
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged keys lost", missing, writers*perWriter)
	}
	eq(t, "counter", c.Get(ctx, "dur:counter").Val(), fmt.Sprint(writers*perWriter))
	eq(t, "last", c.Get(ctx, "dur:last").Val(), "acked")
	if r := c.Do(ctx, "pttl", "dur:ttl"); !unknown(r.Err()) {
		if ms, _ := r.Int64(); ms <= 0 || ms > int64(time.Hour/time.Millisecond) {
			t.Fatalf("PTTL after restart = %d", ms)
		}
	}
	if r := c.Do(ctx, "dbsize"); !unknown(r.Err()) {
		eq(t, "DBSIZE after restart", r.Val(), any(int64(writers*perWriter+3)))
	}
}

// TestSIGTERM: SIGTERM shuts down cleanly (exit status 0) and the data is
// there after a restart, with the default appendfsync everysec.
func TestSIGTERM(t *testing.T) {
	s := start(t)
	ctx := ctxT(t)
	c := s.client(2)
	for i := 0; i < 200; i++ {
		noErr(t, c.Set(ctx, fmt.Sprint("term:", i), i, 0).Err())
	}
	noErr(t, c.Set(ctx, "term:gone", "v", 100*time.Millisecond).Err())
	if err := s.term(); err != nil {
		t.Fatalf("exit after SIGTERM: %v, want status 0", err)
	}
	if !againstRedis && !strings.Contains(s.logs.String(), "shut down") {
		t.Errorf("no shutdown log line:\n%s", s.logs.String())
	}
	s.restart()
	c = s.client(2)
	for i := 0; i < 200; i++ {
		eq(t, fmt.Sprint("term:", i), c.Get(ctx, fmt.Sprint("term:", i)).Val(), fmt.Sprint(i))
	}
	waitFor(t, 5*time.Second, "term:gone to expire after the restart", func() bool {
		return c.Get(ctx, "term:gone").Err() == redis.Nil
	})
}

// TestShutdownCommand: SHUTDOWN ends the process with status 0 and the data
// survives.
func TestShutdownCommand(t *testing.T) {
	s := start(t)
	ctx := ctxT(t)
	c := s.client(2)
	noErr(t, c.Set(ctx, "sd", "kept", 0).Err())
	err := c.Do(ctx, "shutdown").Err()
	if unknown(err) {
		t.Skip("SHUTDOWN not implemented yet: " + err.Error())
	}
	if err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("SHUTDOWN: %v", err)
	}
	if err := s.waitExit(30 * time.Second); err != nil {
		t.Fatalf("exit after SHUTDOWN: %v, want status 0", err)
	}
	s.restart()
	eq(t, "after SHUTDOWN and restart", s.client(3).Get(ctxT(t), "sd").Val(), "kept")
}

// TestConfigFile: the first argument is a redis.conf-style file.
func TestConfigFile(t *testing.T) {
	s := startWithConfig(t, "requirepass \"conf pass\"\nappendfsync always\n")
	ctx := ctxT(t)
	none := s.client(2)
	errIs(t, "no password", none.Ping(ctx).Err(), "NOAUTH")
	c := s.client(3, func(o *redis.Options) { o.Password = "conf pass" })
	noErr(t, c.Set(ctx, "conf", "ok", 0).Err())
	if r := c.Do(ctx, "config", "get", "appendfsync"); !unknown(r.Err()) {
		eq(t, "CONFIG GET appendfsync", fmt.Sprint(r.Val()), "map[appendfsync:always]")
		eq(t, "CONFIG GET dir", fmt.Sprint(c.ConfigGet(ctx, "dir").Val()["dir"]), s.Dir)
	}
	s.kill()
	s.restart()
	c = s.client(3, func(o *redis.Options) { o.Password = "conf pass" })
	eq(t, "after restart", c.Get(ctxT(t), "conf").Val(), "ok")

	// A bad file is refused with the file name and line.
	if againstRedis {
		return
	}
	bad := startConfigError(t, "port 1\nno-such-key 5\n")
	if !strings.Contains(bad, "redis.conf:2") || !strings.Contains(bad, "no-such-key") {
		t.Fatalf("bad config: %s", bad)
	}
}

// startConfigError runs the binary with a broken config file and returns
// its output (it must exit with an error).
func startConfigError(t *testing.T, body string) string {
	t.Helper()
	p := t.TempDir() + "/redis.conf"
	noErr(t, writeFile(p, body))
	out, err := exec.Command(binPath, p).CombinedOutput()
	if err == nil {
		t.Fatalf("server started with a broken config file:\n%s", out)
	}
	return string(out)
}

// TestMetricsEndpoint: /metrics answers in Prometheus' text format.
func TestMetricsEndpoint(t *testing.T) {
	if againstRedis {
		t.Skip("redis-server has no /metrics")
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	s := start(t, "--metrics-addr", addr)
	noErr(t, s.client(2).Set(ctxT(t), "m", "1", 0).Err())
	var resp *http.Response
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for {
		resp, err = http.Get("http://" + addr + "/metrics")
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Skipf("/metrics not served yet (metrics-addr %s): %v", addr, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	eq(t, "status", resp.StatusCode, 200)
	if !strings.Contains(string(body), "wasmgears_") {
		t.Fatalf("no wasmgears_ metrics:\n%.2000s", body)
	}
}
