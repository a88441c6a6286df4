package host

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// GearsKey is a built-in gears configuration key (RG.CONFIGGET/SET).
type GearsKey struct {
	Name    string
	Default string
	Runtime bool // settable with RG.CONFIGSET
	Numeric bool // replied as an integer
	Usage   string
}

// gearsKeys are RedisGears 1.2's keys (spec section 3) plus the sandbox's.
var gearsKeys = []GearsKey{
	{"MaxExecutions", "1000", true, true, "cap of the executions list (FIFO)"},
	{"MaxExecutionsPerRegistration", "100", true, true, "kept done executions per registration"},
	{"ProfileExecutions", "0", true, true, "step durations and profiling"},
	{"ExecutionThreads", "3", false, true, "size of the execution pool"},
	{"ExecutionMaxIdleTime", "5000", true, true, "ms an execution may wait idle"},
	{"SendMsgRetries", "3", true, true, "inter-shard message resend attempts (no cluster here)"},
	{"PythonAttemptTraceback", "1", true, true, "record tracebacks of failed records"},
	{"PythonInstallReqMaxIdleTime", "30000", true, true, "ms a requirement install may take"},
	{"OverridePythonAllocators", "1", false, true, "accepted for compatibility"},
	{"CreateVenv", "0", false, true, "accepted for compatibility (every session is isolated)"},
	{"DownloadDeps", "0", false, true, "accepted for compatibility (nothing is downloaded)"},
	{"ForeceDownloadDepsOnEnterprise", "0", false, true, "accepted for compatibility"},
	{"DependenciesUrl", "", false, false, "accepted for compatibility"},
	{"DependenciesSha256", "", false, false, "accepted for compatibility"},
	{"PythonInstallationDir", "/var/opt/redislabs/modules/rg", false, false, "accepted for compatibility"},
	// wasmgears' sandbox keys
	{"SandboxMemoryLimitMB", "256", false, true, "per-session linear memory cap (MiB)"},
	{"ExecutionTimeLimitMs", "0", true, true, "per-execution time limit in ms (0 = none); the execution is aborted"},
	{"SandboxStrictMode", "0", false, true, "1 = guests can be killed even in C loops (CPU-bound code 2.5-3.5x slower)"},
	{"InterpreterPoolSize", "2", true, true, "ready interpreters kept for new sessions"},
	{"BackgroundNice", "10", false, true, "nice increment of the threads running executions no client waits for (KeysReader without commands=, StreamReader); 0 = off"},
	{"RequirementMaxSizeMB", "50", true, true, "largest requirement archive (and its unpacked size) RG.PYIMPORTREQ accepts, MiB"},
}

// GearsKeys lists the built-in keys.
func GearsKeys() []GearsKey { return gearsKeys }

// GearsConfig holds built-in values and the "extra config" dictionary.
type GearsConfig struct {
	mu    sync.RWMutex
	vals  map[string]string // built-in, by canonical name
	extra map[string]string
	// ints are the numeric built-ins, parsed: every execution reads
	// several of them. The map itself never changes after NewGearsConfig.
	ints map[string]*atomic.Int64
}

// NewGearsConfig returns the defaults.
func NewGearsConfig() *GearsConfig {
	c := &GearsConfig{vals: map[string]string{}, extra: map[string]string{}, ints: map[string]*atomic.Int64{}}
	for _, k := range gearsKeys {
		c.vals[k.Name] = k.Default
		if k.Numeric {
			n, _ := strconv.ParseInt(k.Default, 10, 64)
			c.ints[k.Name] = new(atomic.Int64)
			c.ints[k.Name].Store(n)
		}
	}
	return c
}

func findKey(name string, fold bool) *GearsKey {
	for i := range gearsKeys {
		if gearsKeys[i].Name == name || (fold && strings.EqualFold(gearsKeys[i].Name, name)) {
			return &gearsKeys[i]
		}
	}
	return nil
}

// Get returns a built-in value (case-sensitive, as RedisGears) or an extra
// value; ok is false for unknown keys.
func (c *GearsConfig) Get(name string) (v string, builtin *GearsKey, ok bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if k := findKey(name, false); k != nil {
		return c.vals[k.Name], k, true
	}
	v, ok = c.extra[name]
	return v, nil, ok
}

// Int returns a numeric built-in value (0 for any other name).
func (c *GearsConfig) Int(name string) int64 {
	if v := c.ints[name]; v != nil {
		return v.Load()
	}
	return 0
}

// Extra returns a key of the extra dictionary (Python configGet).
func (c *GearsConfig) Extra(name string) (string, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	v, ok := c.extra[name]
	return v, ok
}

// SetReply is the outcome of setting one key, worded as RG.CONFIGSET.
type SetReply struct {
	OK  string // "OK" or "OK - value was saved in extra config dictionary"
	Err string // "(error) ..." text when not OK
}

// Set applies one RG.CONFIGSET pair (runtime true) or a load-time pair.
func (c *GearsConfig) Set(name, value string, runtime bool) SetReply {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := findKey(name, true)
	if k == nil {
		c.extra[name] = value
		return SetReply{OK: "OK - value was saved in extra config dictionary"}
	}
	if runtime && !k.Runtime {
		return SetReply{Err: fmt.Sprintf("(error) Config value %s not modifiable at runtime", name)}
	}
	if k.Numeric {
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil || n < 0 || (k.Name == "ExecutionThreads" && n == 0) {
			return SetReply{Err: fmt.Sprintf("(error) Failed setting config value %s", name)}
		}
		value = strconv.FormatInt(n, 10)
		c.ints[k.Name].Store(n)
	}
	c.vals[k.Name] = value
	return SetReply{OK: "OK"}
}

// ExtraKeys lists the extra dictionary's keys, sorted.
func (c *GearsConfig) ExtraKeys() []string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]string, 0, len(c.extra))
	for k := range c.extra {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
