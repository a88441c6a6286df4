package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wasmgears/wasmgears/server"
)

// registrations measures what registrations cost (after RedisGears 2's
// keyspace benchmarks): SET throughput with no registration, a no-op sync
// and a no-op async KeysReader registration, the async lag; RG.TRIGGER
// against EVAL on redis-server; StreamReader entries/s with batch=1000.
func registrations(ctx context.Context, s *server.Server, c *redis.Client) {
	port := s.Addr().String()[strings.LastIndex(s.Addr().String(), ":")+1:]
	rps := func(port string, args ...string) float64 {
		out, err := exec.Command("redis-benchmark", append([]string{"-p", port, "-c", "50", "-q"}, args...)...).CombinedOutput()
		if err != nil {
			return 0
		}
		m := regexp.MustCompile(`([0-9.]+) requests per second`).FindAllSubmatch(out, -1)
		if len(m) == 0 {
			return 0
		}
		v, _ := strconv.ParseFloat(string(m[len(m)-1][1]), 64)
		return v
	}
	if _, err := exec.LookPath("redis-benchmark"); err != nil {
		fmt.Println("-- registrations: redis-benchmark not installed, skipped")
		return
	}
	const n = "100000"
	fmt.Println("-- SET throughput with registrations (redis-benchmark -t set -n " + n + " -c 50)")
	base := rps(port, "-t", "set", "-n", n)
	fmt.Printf("   no registration        %9.0f rps\n", base)
	for _, mode := range []string{"sync", "async"} {
		_, err := pyexec(ctx, c, fmt.Sprintf("GB().register(prefix='key:*', mode='%s', convertToStr=False, collect=False)", mode), "ID", "bench-"+mode)
		check(err)
		t0 := time.Now()
		r := rps(port, "-t", "set", "-n", n)
		lag := ""
		if mode == "async" {
			// the lag: until every queued execution has run
			for i := 0; i < 6000 && c.Do(ctx, "RG.DUMPEXECUTIONS").Err() == nil; i++ {
				dump := fmt.Sprint(c.Do(ctx, "RG.DUMPREGISTRATIONS").Val())
				if strings.Contains(dump, "numTriggered "+n) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			lag = fmt.Sprintf("; all executions done %.1f s after the first SET", time.Since(t0).Seconds())
		}
		fmt.Printf("   no-op %-5s registration %9.0f rps  ratio %.2f (target %s)%s\n", mode, r, r/base, map[string]string{"sync": ">= 0.5", "async": ">= 0.7"}[mode], lag)
		dump := fmt.Sprint(c.Do(ctx, "RG.DUMPREGISTRATIONS").Val())
		for _, id := range regexp.MustCompile(`\[id (\S+)`).FindAllStringSubmatch(dump, -1) {
			c.Do(ctx, "RG.UNREGISTER", id[1])
		}
	}

	_, err := pyexec(ctx, c, "GB('CommandReader').map(lambda x: x[1]).register(trigger='bench', mode='async_local')")
	check(err)
	trig := rps(port, "-n", "50000", "RG.TRIGGER", "bench", "a")
	eval := 0.0
	if path, err := exec.LookPath("redis-server"); err == nil {
		cmd := exec.Command(path, "--port", "7782", "--save", "", "--appendonly", "no")
		if cmd.Start() == nil {
			time.Sleep(300 * time.Millisecond)
			eval = rps("7782", "-n", "50000", "EVAL", "return {ARGV[1]}", "0", "a")
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	if eval > 0 {
		fmt.Printf("-- RG.TRIGGER of a one-map registration %.0f rps vs redis-server EVAL %.0f rps: ratio %.2f (target >= 0.5)\n", trig, eval, trig/eval)
	}

	// StreamReader: 100k entries waiting, then a batch=1000 registration
	pipe := c.Pipeline()
	for i := 0; i < 100000; i++ {
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: "bench:stream", Values: []string{"f", "v"}})
		if i%5000 == 4999 {
			_, err := pipe.Exec(ctx)
			check(err)
		}
	}
	t0 := time.Now()
	_, err = pyexec(ctx, c, "GB('StreamReader').register(prefix='bench:stream', batch=1000, convertToStr=False, collect=False)")
	check(err)
	for i := 0; i < 12000 && c.XLen(ctx, "bench:stream").Val() > 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	d := time.Since(t0)
	fmt.Printf("-- StreamReader batch=1000: 100000 entries processed, acked and trimmed in %.2f s: %.0f entries/s (target >= 100k/s)\n", d.Seconds(), 100000/d.Seconds())
}
