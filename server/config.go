package server

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// ConfigKey is one row of the configuration table: a redis.conf key, also a
// command-line flag (--key value) and, when Runtime, settable by CONFIG SET.
type ConfigKey struct {
	Name    string
	Default string
	Runtime bool
	Usage   string
	// Check validates (and may normalise) a value; nil accepts anything.
	Check func(v string) (string, error)
	// Apply is called after a run-time change; nil for passive keys.
	Apply func(s *Server, v string) error
}

var configKeys = map[string]*ConfigKey{}

func registerConfig(ks ...*ConfigKey) {
	for _, k := range ks {
		configKeys[k.Name] = k
	}
}

// ConfigKeys returns the table sorted by name.
func ConfigKeys() []*ConfigKey {
	out := make([]*ConfigKey, 0, len(configKeys))
	for _, k := range configKeys {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func checkInt(lo, hi int64) func(string) (string, error) {
	return func(v string) (string, error) {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < lo || n > hi {
			return "", fmt.Errorf("argument must be an integer between %d and %d", lo, hi)
		}
		return strconv.FormatInt(n, 10), nil
	}
}

func checkEnum(vals ...string) func(string) (string, error) {
	return func(v string) (string, error) {
		lv := strings.ToLower(v)
		for _, x := range vals {
			if lv == x {
				return lv, nil
			}
		}
		return "", fmt.Errorf("argument(s) must be one of the following: %s", strings.Join(vals, ", "))
	}
}

func init() {
	registerConfig(
		&ConfigKey{Name: "bind", Default: "127.0.0.1", Usage: "address to listen on"},
		&ConfigKey{Name: "port", Default: "6379", Usage: "TCP port", Check: checkInt(0, 65535)},
		&ConfigKey{Name: "dir", Default: "./data", Usage: "data directory (Pebble)"},
		&ConfigKey{Name: "requirepass", Runtime: true, Usage: "password clients must AUTH with (empty: none)"},
		&ConfigKey{Name: "appendfsync", Default: "everysec", Runtime: true, Usage: "always | everysec | no",
			Check: checkEnum("always", "everysec", "no"),
			Apply: func(s *Server, v string) error { return s.db.SetFsync(v) }},
		&ConfigKey{Name: "block-cache-mb", Default: "256", Usage: "Pebble block cache size in MiB (read at start)", Check: checkInt(8, 1<<20)},
		&ConfigKey{Name: "appendonly", Default: "yes", Usage: "always yes: every write goes to Pebble's WAL", Check: checkEnum("yes")},
		&ConfigKey{Name: "notify-keyspace-events", Runtime: true, Usage: "keyspace notification classes (K E g $ l s h z x e t m n A)",
			Check: checkNotifyFlags},
		&ConfigKey{Name: "maxclients", Default: "10000", Runtime: true, Usage: "maximum connected clients", Check: checkInt(1, 1<<20)},
		&ConfigKey{Name: "timeout", Default: "0", Runtime: true, Usage: "close idle clients after N seconds (0 = never)", Check: checkInt(0, 1<<31)},
		&ConfigKey{Name: "databases", Default: "16", Usage: "number of databases (fixed)", Check: checkEnum("16")},
		&ConfigKey{Name: "loglevel", Default: "notice", Runtime: true, Usage: "debug | verbose | notice | warning",
			Check: checkEnum("debug", "verbose", "notice", "warning")},
		&ConfigKey{Name: "metrics-addr", Default: "127.0.0.1:9180", Usage: "HTTP address for /metrics and the dashboard (empty: off)"},
		&ConfigKey{Name: "save", Default: "", Runtime: true, Usage: "accepted for compatibility; Pebble persists continuously"},
	)
}

// Config holds the current configuration values.
type Config struct {
	mu   sync.RWMutex
	vals map[string]string
	file string // the file Load read (CONFIG REWRITE target)
}

// File is the absolute path of the loaded config file, or "".
func (c *Config) File() string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.file
}

// NewConfig returns the defaults.
func NewConfig() *Config {
	c := &Config{vals: map[string]string{}}
	for _, k := range configKeys {
		c.vals[k.Name] = k.Default
	}
	return c
}

// Get returns a value.
func (c *Config) Get(name string) string {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.vals[name]
}

// Set validates and stores a value (no Apply: see Server.SetConfig).
func (c *Config) Set(name, v string) error {
	k, ok := configKeys[strings.ToLower(name)]
	if !ok {
		return fmt.Errorf("unknown config key %q", name)
	}
	if k.Check != nil {
		nv, err := k.Check(v)
		if err != nil {
			return fmt.Errorf("%s: %w", k.Name, err)
		}
		v = nv
	}
	c.mu.Lock()
	c.vals[k.Name] = v
	c.mu.Unlock()
	return nil
}

// Load reads a redis.conf-style file: "key value" lines, # comments,
// values optionally quoted.
func (c *Config) Load(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	defer f.Close()
	if abs, err := filepath.Abs(path); err == nil {
		c.mu.Lock()
		c.file = abs
		c.mu.Unlock()
	}
	return c.Parse(f, path)
}

// Parse reads redis.conf-style lines from r.
func (c *Config) Parse(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		key, val, _ := strings.Cut(line, " ")
		val = strings.TrimSpace(val)
		if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
			val = val[1 : len(val)-1]
		}
		if err := c.Set(key, val); err != nil {
			return fmt.Errorf("%s:%d: %w", name, n, err)
		}
	}
	return sc.Err()
}
