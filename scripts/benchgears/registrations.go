package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
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
// The SET rates come in three rounds of no registration, sync, async back
// to back, and each ratio is the median of the rounds' ratios: on a 2-core
// VM one run of the same thing varies by 10-20%, and the keyspace's state
// (a memtable flush) moves all three alike.
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
	median := func(xs []float64) float64 {
		s := slices.Clone(xs)
		slices.Sort(s)
		return s[len(s)/2]
	}
	if _, err := exec.LookPath("redis-benchmark"); err != nil {
		fmt.Println("-- registrations: redis-benchmark not installed, skipped")
		return
	}
	const n, rounds = 100000, 3
	set := func() float64 { return rps(port, "-t", "set", "-n", strconv.Itoa(n)) }
	var base, syncR, asyncR, lags []float64
	for range rounds {
		// no registration: as a server without gears work runs, once the
		// GOMAXPROCS governor is back at its idle size (server/procs.go)
		for i := 0; i < 500 && runtime.GOMAXPROCS(0) > 1; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		base = append(base, set())
		for _, mode := range []string{"sync", "async"} {
			_, err := pyexec(ctx, c, fmt.Sprintf("GB().register(prefix='key:*', mode='%s', convertToStr=False, collect=False)", mode), "ID", "bench-"+mode)
			check(err)
			t0 := time.Now()
			r := set()
			if mode == "sync" {
				syncR = append(syncR, r)
			} else {
				asyncR = append(asyncR, r)
				// the lag: until every queued execution has run
				for i := 0; i < 6000 && c.Do(ctx, "RG.DUMPEXECUTIONS").Err() == nil; i++ {
					if strings.Contains(fmt.Sprint(c.Do(ctx, "RG.DUMPREGISTRATIONS").Val()), fmt.Sprintf("numTriggered %d", n)) {
						break
					}
					time.Sleep(10 * time.Millisecond)
				}
				lags = append(lags, time.Since(t0).Seconds())
			}
			dump := fmt.Sprint(c.Do(ctx, "RG.DUMPREGISTRATIONS").Val())
			for _, id := range regexp.MustCompile(`\[id (\S+)`).FindAllStringSubmatch(dump, -1) {
				c.Do(ctx, "RG.UNREGISTER", id[1])
			}
		}
	}
	ratios := func(rs []float64) (out []float64) {
		for i := range rs {
			out = append(out, rs[i]/base[i])
		}
		return out
	}
	fmt.Printf("-- SET throughput with registrations (redis-benchmark -t set -n %d -c 50; %d rounds, medians)\n", n, rounds)
	fmt.Printf("   no registration        %9.0f rps  (rounds %.0f)\n", median(base), base)
	fmt.Printf("   no-op sync  registration %9.0f rps  ratio %.2f (target >= 0.5)  (rounds %.0f, ratios %.2f)\n", median(syncR), median(ratios(syncR)), syncR, ratios(syncR))
	fmt.Printf("   no-op async registration %9.0f rps  ratio %.2f (target >= 0.7); all executions done %.1f s after the first SET  (rounds %.0f, ratios %.2f)\n",
		median(asyncR), median(ratios(asyncR)), median(lags), asyncR, ratios(asyncR))

	runs := func(f func() float64) (float64, []float64) {
		var all []float64
		for range rounds {
			all = append(all, f())
		}
		return median(all), all
	}
	_, err := pyexec(ctx, c, "GB('CommandReader').map(lambda x: x[1]).register(trigger='bench', mode='async_local')")
	check(err)
	trig, tall := runs(func() float64 { return rps(port, "-n", "50000", "RG.TRIGGER", "bench", "a") })
	eval, eall := 0.0, []float64(nil)
	if path, err := exec.LookPath("redis-server"); err == nil {
		cmd := exec.Command(path, "--port", "7782", "--save", "", "--appendonly", "no")
		if cmd.Start() == nil {
			time.Sleep(300 * time.Millisecond)
			eval, eall = runs(func() float64 { return rps("7782", "-n", "50000", "EVAL", "return {ARGV[1]}", "0", "a") })
			cmd.Process.Kill()
			cmd.Wait()
		}
	}
	if eval > 0 {
		fmt.Printf("-- RG.TRIGGER of a one-map registration %.0f rps vs redis-server EVAL %.0f rps (medians of %d): ratio %.2f (target >= 0.5)  (runs %.0f vs %.0f)\n", trig, eval, rounds, trig/eval, tall, eall)
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
