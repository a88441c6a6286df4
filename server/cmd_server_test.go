package server

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// infoFields parses an INFO reply as redis_exporter does.
func infoFields(t *testing.T, raw string) (sections []string, fields map[string]string) {
	t.Helper()
	s, err := strconv.Unquote(raw)
	if err != nil {
		t.Fatalf("info reply %s: %v", raw, err)
	}
	fields = map[string]string{}
	for _, line := range strings.Split(s, "\r\n") {
		switch {
		case line == "":
		case strings.HasPrefix(line, "# "):
			sections = append(sections, line[2:])
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok || strings.ContainsAny(line, "\n\r") {
				t.Errorf("bad info line %q", line)
			}
			fields[k] = v
		}
	}
	if !strings.HasSuffix(s, "\r\n") || strings.Contains(strings.ReplaceAll(s, "\r\n", ""), "\n") {
		t.Errorf("info is not CRLF-terminated lines: %q", s)
	}
	return sections, fields
}

func TestInfo(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"set a 1", "OK"}, {"set b 2 ex 100", "OK"}, {"get a", `"1"`}, {"get nope", "(nil)"}, {"foo", "!ERR unknown command 'foo', with args beginning with: "},
		{"select 2", "OK"}, {"set c 3", "OK"}, {"select 0", "OK"},
	})
	secs, f := infoFields(t, c.do("info"))
	if got := strings.Join(secs, ","); got != "Server,Clients,Memory,Persistence,Stats,Replication,CPU,Modules,Errorstats,Cluster,Keyspace" {
		t.Errorf("default sections: %s", got)
	}
	num := regexp.MustCompile(`^-?\d+(\.\d+)?$`)
	for _, k := range []string{"process_id", "tcp_port", "uptime_in_seconds", "connected_clients", "blocked_clients", "used_memory",
		"total_commands_processed", "instantaneous_ops_per_sec", "expired_keys", "keyspace_hits", "keyspace_misses", "aof_enabled",
		"rdb_changes_since_last_save", "rdb_last_save_time", "rdb_last_bgsave_time_sec", "used_cpu_sys", "used_cpu_user", "total_connections_received",
		"maxmemory", "total_system_memory", "mem_fragmentation_ratio", "connected_slaves", "master_repl_offset"} {
		if !num.MatchString(f[k]) {
			t.Errorf("%s = %q, want a number", k, f[k])
		}
	}
	for k, want := range map[string]string{
		"redis_version": RedisVersion, "wasmgears_version": Version, "role": "master", "aof_enabled": "1", "run_id": s.runID,
		"tcp_port":          portOf(s),
		"connected_clients": "1", "keyspace_misses": "1", "keyspace_hits": "1", "rdb_last_bgsave_status": "ok",
		"db0": "keys=2,expires=1,avg_ttl=0", "db2": "keys=1,expires=0,avg_ttl=0", "errorstat_ERR": "count=1",
	} {
		if f[k] != want {
			t.Errorf("%s = %q, want %q", k, f[k], want)
		}
	}
	secs, f = infoFields(t, c.do("info commandstats CPU"))
	if strings.Join(secs, ",") != "CPU,Commandstats" {
		t.Errorf("sections %v", secs)
	}
	if !regexp.MustCompile(`^calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0$`).MatchString(f["cmdstat_get"]) {
		t.Errorf("cmdstat_get = %q", f["cmdstat_get"])
	}
	if !strings.HasPrefix(f["cmdstat_select"], "calls=2,") {
		t.Errorf("cmdstat_select = %q", f["cmdstat_select"])
	}
	// the engine ready, INFO rg has its rg_python_stats subsection
	if _, err := s.Gears(); err != nil {
		t.Fatal(err)
	}
	secs, _ = infoFields(t, c.do("info everything"))
	if got := strings.Join(secs, ","); got != "Server,Clients,Memory,Persistence,Stats,Replication,CPU,Modules,Commandstats,Errorstats,Latencystats,Cluster,Keyspace,rg,rg_python_stats" {
		t.Errorf("everything: %v", got)
	}
	_, f = infoFields(t, c.do("info modules"))
	if !strings.HasPrefix(f["module"], "name=rg,ver=10213,") {
		t.Errorf("modules: %q", f["module"])
	}
	_, f = infoFields(t, c.do("info rg"))
	if f["rg_ready"] != "1" || f["rg_nregistrations"] != "0" {
		t.Errorf("info rg: %v", f)
	}
	runSteps(t, c, []step{
		{"info nosuch", `""`},
		{"config resetstat", "OK"},
		{"info errorstats", `"# Errorstats\r\n"`},
	})
}

func portOf(s *Server) string {
	a := s.Addr().String()
	return a[strings.LastIndexByte(a, ':')+1:]
}

func TestConfigCommands(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"config get maxclients", `["maxclients" "10000"]`},
		{"config get max* appendfsync", `["appendfsync" "everysec" "maxclients" "10000"]`},
		{"config get nosuch", "[]"},
		{"config set maxclients 50 timeout 10", "OK"},
		{"config get maxclients timeout", `["maxclients" "50" "timeout" "10"]`},
		{"config set port 5", "!ERR CONFIG SET failed (possibly related to argument 'port') - can't set immutable config"},
		{"config set nosuch 5", "!ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"},
		{"config set maxclients abc", "!ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into an integer"},
		{"config set timeout 1 timeout 2", "!ERR CONFIG SET failed (possibly related to argument 'timeout') - duplicate parameter"},
		{"config set notify-keyspace-events Q", "!ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class character. Use 'Ag$lshzxeKEtmdn'."},
		{"config set appendfsync sometimes", "!ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: always, everysec, no"},
		{"config set timeout 5 maxclients 0", "!ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument must be between 1 and 1048576 inclusive"},
		{"config get timeout", `["timeout" "10"]`}, // all or nothing
		{"config set timeout", "!ERR wrong number of arguments for 'config|set' command"},
		{"config set timeout 1 maxclients", "!ERR wrong number of arguments for 'config|set' command"},
		{"config rewrite", "!ERR The server is running without a config file"},
		{"config", "!ERR wrong number of arguments for 'config' command"},
		{"config foo", "!ERR unknown subcommand 'foo'. Try CONFIG HELP."},
		{"config help", "[CONFIG <subcommand>*"},
		{"hello 3", "{*"},
		{"config get timeout", `{"timeout": "10"}`},
	})
}

func TestConfigRewrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wasmgears.conf")
	must(t, os.WriteFile(path, []byte("# my server\nport 0\nmaxclients 100\ntimeout 5\n"), 0o600))
	cfg := NewConfig()
	must(t, cfg.Load(path))
	must(t, cfg.Set("dir", t.TempDir()))
	must(t, cfg.Set("metrics-addr", ""))
	must(t, cfg.Set("wasm-cache-dir", filepath.Join(os.TempDir(), "wasmgears-test-wasm-cache")))
	s, err := New(cfg, nil)
	must(t, err)
	must(t, s.Listen())
	go s.Serve()
	t.Cleanup(func() { s.Shutdown() })
	c := dial(t, s)
	runSteps(t, c, []step{
		{"config set maxclients 7 loglevel warning", "OK"},
		{"config rewrite", "OK"},
	})
	got, err := os.ReadFile(path)
	must(t, err)
	want := "# my server\nport 0\nmaxclients 7\ntimeout 5\n# Generated by CONFIG REWRITE\ndir " + cfg.Get("dir") + "\nloglevel warning\nmetrics-addr \"\"\n"
	if !strings.HasPrefix(string(got), want) {
		t.Errorf("rewritten:\n%s\nwant prefix:\n%s", got, want)
	}
	re := NewConfig()
	must(t, re.Load(path))
	if re.Get("maxclients") != "7" || re.Get("metrics-addr") != "" {
		t.Errorf("reload: %v", re.vals)
	}
}

func TestTimeAndShutdown(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	got := c.do("time")
	m := regexp.MustCompile(`^\["(\d+)" "(\d+)"\]$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("time: %s", got)
	}
	if sec, _ := strconv.ParseInt(m[1], 10, 64); sec < time.Now().Unix()-5 || sec > time.Now().Unix()+5 {
		t.Errorf("time: %s", got)
	}
	runSteps(t, c, []step{
		{"shutdown abort", "!ERR No shutdown in progress."},
		{"shutdown bogus", "!ERR syntax error"},
	})
	c.send("shutdown", "nosave")
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if r, err := readReply(c.rd); err == nil {
		t.Fatalf("shutdown replied %s", r)
	}
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server did not shut down")
	}
}
