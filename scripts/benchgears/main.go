// Command benchgears measures the sandbox side by side with native
// CPython and redis-server (part of `make bench`, not of `make test`):
// session start, RG.PYEXECUTE round trip, execute() cost per call, Python
// CPU in the sandbox vs native python3 (fast and strict engines), RSS per
// idle interpreter, and PING latency while a guest spins.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wasmgears/wasmgears/server"
)

var (
	native  = flag.String("python", "/usr/bin/python3", "native python for the CPU comparison")
	sameSrc = flag.String("python313", "", "native CPython 3.13.5 built from the guest's own source (default: the toolchain's build python, if `make toolchain` ran)")
	n       = flag.Int("n", 200, "samples per latency measurement")
	only    = flag.String("only", "", "comma-separated sections to run (session,requirements,roundtrip,execute,rss,ping,registrations,keys,cpu); empty: all")
)

func want(section string) bool {
	return *only == "" || strings.Contains(","+*only+",", ","+section+",")
}

func main() {
	flag.Parse()
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "benchgears")
	check(err)
	defer os.RemoveAll(tmp)
	cache := filepath.Join(tmp, "cache")

	fast, rdb := start(tmp, "fast", cache, "")
	defer fast.Shutdown()
	_, err = fast.Gears()
	check(err)

	fmt.Println("== wasmgears sandbox benchmarks (", runtime.NumCPU(), "cores )")
	for _, sec := range []struct {
		name string
		run  func()
	}{
		{"session", func() { sessionStart(ctx, rdb) }},
		{"requirements", func() { requirements(ctx, rdb) }},
		{"roundtrip", func() { roundTrip(ctx, rdb) }},
		{"execute", func() { executeCost(ctx, rdb) }},
		{"rss", func() { idleRSS(ctx, fast, rdb) }},
		{"ping", func() { pingWhileSpinning(ctx, rdb) }},
		{"registrations", func() { registrations(ctx, fast, rdb) }},
		{"keys", func() { keysReader(ctx, rdb) }},
	} {
		if want(sec.name) {
			sec.run()
		}
	}
	if !want("cpu") {
		return
	}
	strict, srdb := start(tmp, "strict", cache, "SandboxStrictMode 1")
	defer strict.Shutdown()
	_, err = strict.Gears()
	check(err)
	cpu(ctx, rdb, srdb)
}

func start(tmp, name, cache, gearsCfg string) (*server.Server, *redis.Client) {
	cfg := server.NewConfig()
	check(cfg.Set("port", "0"))
	check(cfg.Set("dir", filepath.Join(tmp, name)))
	check(cfg.Set("metrics-addr", ""))
	check(cfg.Set("wasm-cache-dir", cache))
	check(cfg.Set("gears", gearsCfg))
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	check(err)
	check(s.Listen())
	go s.Serve()
	return s, redis.NewClient(&redis.Options{Addr: s.Addr().String(), Protocol: 2, ReadTimeout: -1})
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchgears:", err)
		os.Exit(1)
	}
}

func pct(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }

// timeN times k calls of f, pausing gap between them (untimed) so that a
// background refill (the interpreter pool) can keep up, as in steady use.
func timeN(k int, gap time.Duration, f func()) []time.Duration {
	out := make([]time.Duration, k)
	for i := range out {
		t := time.Now()
		f()
		out[i] = time.Since(t)
		time.Sleep(gap)
	}
	return out
}

func pyexec(ctx context.Context, c *redis.Client, code string, extra ...any) (any, error) {
	return c.Do(ctx, append([]any{"RG.PYEXECUTE", code}, extra...)...).Result()
}

func sessionStart(ctx context.Context, c *redis.Client) {
	fmt.Println("-- new session ready to run code (RG.PYEXECUTE \"x = 1\", end to end)")
	for _, size := range []string{"2", "0"} {
		check(c.Do(ctx, "RG.CONFIGSET", "InterpreterPoolSize", size).Err())
		time.Sleep(500 * time.Millisecond) // let the pool refill
		gap := 40 * time.Millisecond       // steady state: the pool keeps up
		if size == "0" {
			gap = 0
		}
		ds := timeN(*n/2, gap, func() {
			_, err := pyexec(ctx, c, "x = 1")
			check(err)
		})
		fmt.Printf("   pool size %s: p50 %s  p99 %s\n", size, ms(pct(ds, .5)), ms(pct(ds, .99)))
	}
	check(c.Do(ctx, "RG.CONFIGSET", "InterpreterPoolSize", "2").Err())
}

func roundTrip(ctx context.Context, c *redis.Client) {
	time.Sleep(500 * time.Millisecond)
	ds := timeN(*n, 40*time.Millisecond, func() {
		_, err := pyexec(ctx, c, "execute('ping')")
		check(err)
	})
	fmt.Printf("-- RG.PYEXECUTE \"execute('ping')\" end to end: p50 %s  p99 %s\n", ms(pct(ds, .5)), ms(pct(ds, .99)))
}

func executeCost(ctx context.Context, c *redis.Client) {
	check(c.Set(ctx, "k", "v", 0).Err())
	const calls = 200000
	code := fmt.Sprintf(`
import time
def f():
    t = time.perf_counter()
    for _ in range(%d):
        execute('get', 'k')
    yield str((time.perf_counter() - t) / %d * 1e6)
GB('PythonReader').run(f)`, calls, calls)
	res, err := pyexec(ctx, c, code)
	check(err)
	us, _ := strconv.ParseFloat(res.([]any)[0].([]any)[0].(string), 64)
	fmt.Printf("-- execute('get','k') from Python: %.2f µs per call (%d calls, target <= 5)\n", us, calls)
	if path, err := exec.LookPath("redis-server"); err == nil {
		if r := luaCost(path, calls); r > 0 {
			fmt.Printf("   redis-server EVAL loop of redis.call('get','k'): %.2f µs per call (ratio %.2f)\n", r, us/r)
		}
	}
}

// luaCost runs the same loop in redis-server's Lua for scale.
func luaCost(path string, calls int) float64 {
	port := "7781"
	cmd := exec.Command(path, "--port", port, "--save", "", "--appendonly", "no")
	if cmd.Start() != nil {
		return 0
	}
	defer cmd.Process.Kill()
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:" + port})
	ctx := context.Background()
	for i := 0; c.Ping(ctx).Err() != nil; i++ {
		if i > 100 {
			return 0
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.Set(ctx, "k", "v", 0)
	t := time.Now()
	if err := c.Eval(ctx, fmt.Sprintf("for i=1,%d do redis.call('get','k') end return 1", calls), nil).Err(); err != nil {
		return 0
	}
	return float64(time.Since(t).Microseconds()) / float64(calls)
}

func rss() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	m := regexp.MustCompile(`VmRSS:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return v * 1024
}

func idleRSS(ctx context.Context, s *server.Server, c *redis.Client) {
	g, _ := s.Gears()
	runtime.GC()
	before, have := rss(), g.PoolReady()
	check(c.Do(ctx, "RG.CONFIGSET", "InterpreterPoolSize", "16").Err())
	for i := 0; g.PoolReady() < 16 && i < 600; i++ {
		time.Sleep(50 * time.Millisecond)
	}
	runtime.GC()
	after := rss()
	k := g.PoolReady() - have
	if k > 0 {
		fmt.Printf("-- RSS per idle interpreter (gears API loaded): %.1f MB (%d interpreters, target <= 8)\n", float64(after-before)/float64(k)/1e6, k)
	}
	check(c.Do(ctx, "RG.CONFIGSET", "InterpreterPoolSize", "2").Err())
}

func pingWhileSpinning(ctx context.Context, c *redis.Client) {
	for _, spin := range []string{
		"def f():\n    while True:\n        pass\n    yield 1\n",
		"def f():\n    yield sum(range(10**12))\n",
	} {
		id, err := pyexec(ctx, c, spin+"GB('PythonReader').run(f)", "UNBLOCKING")
		check(err)
		time.Sleep(100 * time.Millisecond)
		ds := timeN(*n*5, 0, func() {
			check(c.Ping(ctx).Err())
			runtime.GC() // stop-the-world GCs must not wait for the guest
		})
		t := time.Now()
		check(c.Do(ctx, "RG.ABORTEXECUTION", id).Err())
		name := strings.SplitN(spin, "\n", 3)[1]
		fmt.Printf("-- PING (+ runtime.GC) while a guest runs %q: p50 %s  p99 %s; abort took %s\n",
			strings.TrimSpace(name), ms(pct(ds, .5)), ms(pct(ds, .99)), ms(time.Since(t)))
	}
}

// nativeBench runs benchPy under a native python: ms per benchmark, and
// its version; nil if it cannot run.
func nativeBench(python string) (map[string]float64, string) {
	out, err := exec.Command(python, "-c", benchPy+"\nimport sys\nprint(sys.version.split()[0])\nfor k, v in run(): print(k, v)").Output()
	if err != nil {
		return nil, ""
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	m := map[string]float64{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		m[strings.Join(f[:len(f)-1], " ")] = v
	}
	return m, lines[0]
}

// cpu compares the sandbox with two native interpreters: the system's
// python3 (Debian's 3.11 is built with PGO and LTO) and, when the
// toolchain has built it, CPython 3.13.5 natively from the same Debian
// source package, -O3 and no PGO: the recipe's baseline,
// which isolates what WebAssembly and wazero cost.
func cpu(ctx context.Context, fast, strict *redis.Client) {
	fmt.Println("-- Python CPU, sandbox vs native (best of 3, ms; ratio = sandbox / native)")
	sys, sysVer := nativeBench(*native)
	if sys == nil {
		fmt.Println("   native python unavailable:", *native)
	}
	src := *sameSrc
	if src == "" {
		w := os.Getenv("WGBUILD")
		if w == "" {
			w = filepath.Join(os.TempDir(), "wgbuild")
		}
		src = filepath.Join(w, "native", "build", "python")
	}
	same, sameVer := nativeBench(src)
	code := benchPy + "\nGB('PythonReader').run(lambda: (f'{k} {v}' for k, v in run()))"
	res := func(c *redis.Client) map[string]float64 {
		r, err := pyexec(ctx, c, code)
		check(err)
		m := map[string]float64{}
		for _, x := range r.([]any)[0].([]any) {
			f := strings.Fields(x.(string))
			v, _ := strconv.ParseFloat(f[len(f)-1], 64)
			m[strings.Join(f[:len(f)-1], " ")] = v
		}
		return m
	}
	sb, st := res(fast), res(strict)
	fmt.Printf("   %-14s %8s %8s %6s %10s %6s %8s %6s\n", "benchmark", "sandbox", "system", "ratio", "same-src", "ratio", "strict", "ratio")
	ratio := func(a float64, m map[string]float64, k string) string {
		if m == nil || m[k] == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", a/m[k])
	}
	for _, k := range []string{"sumsq 5M", "dict/str 2M", "json 20k"} {
		fmt.Printf("   %-14s %8.0f %8.0f %6s %10.0f %6s %8.0f %6s\n", k, sb[k], sys[k], ratio(sb[k], sys, k),
			same[k], ratio(sb[k], same, k), st[k], ratio(st[k], sys, k))
	}
	fmt.Printf("   system: %s %s; same-src: ", *native, sysVer)
	if same != nil {
		fmt.Printf("%s %s (native, -O3, no PGO)", src, sameVer)
	} else {
		fmt.Printf("not built (make toolchain, or -python313)")
	}
	fmt.Println("; sandbox: CPython 3.13.5 wasm32-wasi in wazero; strict ratio against system")
}

// benchPy is the recipe's bench.py (reference/cpython-wasi/bench).
const benchPy = `
import time, json
def sumsq(n):
    s = 0
    for i in range(n):
        s += i * i
    return s
def dictstr(n):
    d = {}
    for i in range(n):
        k = "key" + str(i % 5000)
        d[k] = d.get(k, 0) + len(k)
    parts = [f"{k}={v}" for k, v in d.items()]
    return len(",".join(parts))
def jsonrt(n):
    obj = {"a": list(range(100)), "b": {"x": "y" * 50, "n": [1.5, 2.5, None, True]}}
    t = 0
    for _ in range(n):
        t += len(json.loads(json.dumps(obj)))
    return t
def best(fn, arg, reps=3):
    b = None
    for _ in range(reps):
        t = time.perf_counter()
        fn(arg)
        d = time.perf_counter() - t
        b = d if b is None or d < b else b
    return round(b * 1000, 1)
def run():
    return [("sumsq 5M", best(sumsq, 5_000_000)), ("dict/str 2M", best(dictstr, 2_000_000)), ("json 20k", best(jsonrt, 20_000))]
`
