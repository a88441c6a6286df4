package main

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

const keysN = 1_000_000

// loadKeys writes keysN string keys (kr:0 .. kr:N-1) with pipelined MSETs.
func loadKeys(ctx context.Context, c *redis.Client) {
	pipe := c.Pipeline()
	for i := 0; i < keysN; i += 1000 {
		args := make([]any, 0, 2000)
		for j := i; j < i+1000; j++ {
			args = append(args, fmt.Sprintf("kr:%d", j), fmt.Sprintf("value-%d", j))
		}
		pipe.MSet(ctx, args...)
		if i%50000 == 49000 {
			_, err := pipe.Exec(ctx)
			check(err)
		}
	}
	_, err := pipe.Exec(ctx)
	check(err)
}

// keysReader: GB().map(lambda r: r['value']).count().run() over 1M string
// keys, against the same work in native python3 + redis-py (SCAN/MGET)
// on redis-server.
func keysReader(ctx context.Context, c *redis.Client) {
	loadKeys(ctx, c)
	t0 := time.Now()
	res, err := pyexec(ctx, c, "GB().map(lambda r: r['value']).count().run('kr:*')")
	check(err)
	d := time.Since(t0)
	fmt.Printf("-- KeysReader over %d string keys: %v in %.2f s = %.0f keys/s (target >= 500k/s)\n", keysN, res, d.Seconds(), keysN/d.Seconds())

	path, err := exec.LookPath("redis-server")
	if err != nil {
		return
	}
	cmd := exec.Command(path, "--port", "7783", "--save", "", "--appendonly", "no")
	if cmd.Start() != nil {
		return
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	rc := redis.NewClient(&redis.Options{Addr: "127.0.0.1:7783"})
	for i := 0; rc.Ping(ctx).Err() != nil && i < 100; i++ {
		time.Sleep(20 * time.Millisecond)
	}
	loadKeys(ctx, rc)
	script := `
import time, redis
r = redis.Redis(port=7783)
t = time.perf_counter(); n = 0; cur = 0
while True:
    cur, keys = r.scan(cur, match='kr:*', count=10000)
    if keys:
        n += len([v for v in r.mget(keys)])
    if cur == 0:
        break
print(n, time.perf_counter() - t)`
	out, err := exec.Command(*native, "-c", script).CombinedOutput()
	if err != nil {
		fmt.Printf("   native python3 + redis-py: unavailable (%s)\n", strings.TrimSpace(string(out)))
		return
	}
	var n int
	var secs float64
	fmt.Sscanf(string(out), "%d %f", &n, &secs)
	fmt.Printf("   native python3 + redis-py SCAN/MGET on redis-server: %d keys in %.2f s = %.0f keys/s; ratio %.2f\n",
		n, secs, float64(n)/secs, (keysN/d.Seconds())/(float64(n)/secs))
}
