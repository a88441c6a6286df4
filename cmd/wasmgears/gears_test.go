package main

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestGuestPreemption runs against the real binary: while a session spins
// in Python (`while True: pass`) or in C (`sum(range(10**12))`), other
// clients are served, RG.ABORTEXECUTION stops the guest, and the
// per-execution time limit fires. Latency goals are measured by `make
// bench`; here the test only logs the PING percentiles it saw.
func TestGuestPreemption(t *testing.T) {
	if againstRedis {
		t.Skip("redis-server has no RedisGears module here")
	}
	s := start(t)
	c := s.client(2)
	ctx := ctxT(t)
	for _, spin := range []string{
		"def f():\n    while True:\n        pass\n    yield 1\n",
		"def f():\n    yield sum(range(10**12))\n",
	} {
		id, err := c.Do(ctx, "RG.PYEXECUTE", spin+"GB('PythonReader').run(f)", "UNBLOCKING").Text()
		noErr(t, err)
		other := s.client(3)
		var ds []time.Duration
		for i := 0; i < 200; i++ {
			t0 := time.Now()
			noErr(t, other.Ping(ctx).Err())
			ds = append(ds, time.Since(t0))
		}
		// still running after all those PINGs: the guest was not stopped by them
		if err := other.Do(ctx, "RG.GETRESULTS", id).Err(); err == nil || !strings.Contains(err.Error(), "execution is still running") {
			t.Fatalf("RG.GETRESULTS while spinning: %v", err)
		}
		slices.Sort(ds)
		t.Logf("%q: PING p50 %v p99 %v while the guest spins", strings.Split(spin, "\n")[1], ds[len(ds)/2], ds[len(ds)*99/100])
		noErr(t, other.Do(ctx, "RG.ABORTEXECUTION", id).Err())
		res, err := other.Do(ctx, "RG.GETRESULTS", id).Slice()
		noErr(t, err)
		eq(t, "aborted results", fmt.Sprint(res), "[[] [Execution was aborted]]")
	}
	noErr(t, c.Do(ctx, "RG.CONFIGSET", "ExecutionTimeLimitMs", "200").Err())
	res, err := c.Do(ctx, "RG.PYEXECUTE", "def f():\n    while True:\n        pass\n    yield 1\nGB('PythonReader').run(f)").Slice()
	noErr(t, err)
	eq(t, "time limit", fmt.Sprint(res), "[[] [Execution time limit of 200 ms exceeded]]")
	eq(t, "PING after", c.Ping(ctx).Val(), "PONG")
}
