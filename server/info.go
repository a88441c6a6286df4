package server

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wasmgears/wasmgears/storage"
)

// INFO in Redis' exact format ("# Section" headers, key:value lines, CRLF)
// so that redis_exporter and the Redis Grafana dashboards read it.

// infoState holds the counters INFO needs beyond Server.stats.
type infoState struct {
	misses   atomic.Int64 // keymiss events
	readKeys atomic.Int64 // keys named by read-only commands
	peakMem  atomic.Uint64

	mu      sync.Mutex
	samples [16]int64 // ops/sec samples, as Redis' STATS_METRIC_COMMAND
	sampleI int
	lastOps int64
	lastAt  time.Time
}

type infoKey struct{}

func (s *Server) info() *infoState {
	v, _ := s.ext.Load(infoKey{})
	return v.(*infoState)
}

func init() {
	initHooks = append(initHooks, func(s *Server) error {
		st := &infoState{lastAt: time.Now()}
		s.ext.Store(infoKey{}, st)
		s.onEvents = append(s.onEvents, func(evs []storage.Event) {
			for i := range evs {
				if evs[i].Name == "keymiss" {
					st.misses.Add(1)
				}
			}
		})
		s.afterCommand = append(s.afterCommand, func(c *Client, cmd *Command, args [][]byte, _ time.Duration, failed bool) {
			if cmd.Flags&FlagReadonly != 0 && cmd.FirstKey > 0 && !failed {
				last := cmd.LastKey
				if last < 0 {
					last += len(args)
				}
				if n := (last-cmd.FirstKey)/max(cmd.Step, 1) + 1; n > 0 {
					st.readKeys.Add(int64(n))
				}
			}
		})
		go st.sample(s)
		return nil
	})
}

// sample records the command rate every 100ms until shutdown.
func (st *infoState) sample(s *Server) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-s.shutdownc:
			return
		case now := <-t.C:
			ops := s.stats.commands.Load()
			st.mu.Lock()
			if dt := now.Sub(st.lastAt).Seconds(); dt > 0 {
				st.samples[st.sampleI] = int64(float64(ops-st.lastOps) / dt)
				st.sampleI = (st.sampleI + 1) % len(st.samples)
			}
			st.lastOps, st.lastAt = ops, now
			st.mu.Unlock()
		}
	}
}

func (st *infoState) opsPerSec() int64 {
	st.mu.Lock()
	defer st.mu.Unlock()
	var sum int64
	for _, v := range st.samples {
		sum += v
	}
	return sum / int64(len(st.samples))
}

var defaultInfoSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "errorstats", "cluster", "keyspace"}
var allInfoSections = []string{"server", "clients", "memory", "persistence", "stats", "replication", "cpu", "modules", "commandstats", "errorstats", "latencystats", "cluster", "keyspace", "rg"}

// Info renders the INFO text for the given section names (any case;
// none = default).
func (s *Server) Info(names ...string) string { return s.infoText(false, names...) }

// infoText renders INFO; lockHeld says the caller already holds the
// keyspace lock (a gears atomic() block).
func (s *Server) infoText(lockHeld bool, names ...string) string {
	want := map[string]bool{}
	if len(names) == 0 {
		names = []string{"default"}
	}
	for _, n := range names {
		switch n = strings.ToLower(n); n {
		case "default":
			for _, x := range defaultInfoSections {
				want[x] = true
			}
		case "all", "everything":
			for _, x := range allInfoSections {
				want[x] = true
			}
		default:
			want[n] = true
		}
	}
	var b strings.Builder
	for _, sec := range allInfoSections {
		if !want[sec] {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		s.infoSection(&b, sec, lockHeld)
	}
	return b.String()
}

func kv(b *strings.Builder, k string, v any) {
	b.WriteString(k)
	b.WriteByte(':')
	switch x := v.(type) {
	case string:
		b.WriteString(x)
	case int:
		b.WriteString(strconv.Itoa(x))
	case int64:
		b.WriteString(strconv.FormatInt(x, 10))
	case uint64:
		b.WriteString(strconv.FormatUint(x, 10))
	case float64:
		b.WriteString(strconv.FormatFloat(x, 'f', 2, 64))
	default:
		fmt.Fprint(b, x)
	}
	b.WriteString("\r\n")
}

// bytesToHuman formats like Redis' bytesToHuman.
func bytesToHuman(n uint64) string {
	f := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatUint(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", f/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", f/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", f/(1<<30))
	default:
		return fmt.Sprintf("%.2fT", f/(1<<40))
	}
}

func (s *Server) tcpPort() int {
	if s.ln != nil {
		if a, ok := s.ln.Addr().(*net.TCPAddr); ok {
			return a.Port
		}
	}
	n, _ := strconv.Atoi(s.cfg.Get("port"))
	return n
}

func cstr[T int8 | uint8](a []T) string {
	bs := make([]byte, 0, len(a))
	for _, c := range a {
		if c == 0 {
			break
		}
		bs = append(bs, byte(c))
	}
	return string(bs)
}

func osName() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err == nil {
		return cstr(u.Sysname[:]) + " " + cstr(u.Release[:]) + " " + cstr(u.Machine[:])
	}
	return runtime.GOOS + " " + runtime.GOARCH
}

func (s *Server) infoSection(b *strings.Builder, sec string, lockHeld bool) {
	st := s.info()
	now := time.Now()
	switch sec {
	case "server":
		b.WriteString("# Server\r\n")
		kv(b, "redis_version", RedisVersion)
		kv(b, "redis_git_sha1", "00000000")
		kv(b, "redis_git_dirty", 0)
		kv(b, "redis_build_id", "0")
		kv(b, "redis_mode", "standalone")
		kv(b, "os", osName())
		kv(b, "arch_bits", strconv.Itoa(strconv.IntSize))
		kv(b, "monotonic_clock", "POSIX clock_gettime")
		kv(b, "multiplexing_api", "epoll")
		kv(b, "atomicvar_api", "c11-builtin")
		kv(b, "gcc_version", "0.0.0")
		kv(b, "process_id", os.Getpid())
		kv(b, "process_supervised", "no")
		kv(b, "run_id", s.runID)
		kv(b, "tcp_port", s.tcpPort())
		kv(b, "server_time_usec", now.UnixMicro())
		up := int64(now.Sub(s.start).Seconds())
		kv(b, "uptime_in_seconds", up)
		kv(b, "uptime_in_days", up/86400)
		kv(b, "hz", 10)
		kv(b, "configured_hz", 10)
		kv(b, "lru_clock", now.Unix()&(1<<24-1))
		exe, _ := os.Executable()
		kv(b, "executable", exe)
		kv(b, "config_file", s.cfg.File())
		kv(b, "io_threads_active", 0)
		kv(b, "wasmgears_version", Version)
		kv(b, "go_version", runtime.Version())
	case "clients":
		b.WriteString("# Clients\r\n")
		kv(b, "connected_clients", len(s.Clients()))
		kv(b, "cluster_connections", 0)
		kv(b, "maxclients", s.cfg.Get("maxclients"))
		kv(b, "client_recent_max_input_buffer", 0)
		kv(b, "client_recent_max_output_buffer", 0)
		kv(b, "blocked_clients", s.waits.count())
		kv(b, "tracking_clients", 0)
		kv(b, "clients_in_timeout_table", 0)
	case "memory":
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		used := ms.HeapAlloc + ms.StackInuse
		peak := st.peakMem.Load()
		for used > peak && !st.peakMem.CompareAndSwap(peak, used) {
			peak = st.peakMem.Load()
		}
		peak = max(peak, used)
		b.WriteString("# Memory\r\n")
		kv(b, "used_memory", used)
		kv(b, "used_memory_human", bytesToHuman(used))
		kv(b, "used_memory_rss", ms.Sys)
		kv(b, "used_memory_rss_human", bytesToHuman(ms.Sys))
		kv(b, "used_memory_peak", peak)
		kv(b, "used_memory_peak_human", bytesToHuman(peak))
		kv(b, "used_memory_peak_perc", fmt.Sprintf("%.2f%%", float64(used)*100/float64(max(peak, 1))))
		kv(b, "used_memory_overhead", ms.StackInuse)
		kv(b, "used_memory_startup", 0)
		kv(b, "used_memory_dataset", ms.HeapAlloc)
		kv(b, "used_memory_dataset_perc", fmt.Sprintf("%.2f%%", float64(ms.HeapAlloc)*100/float64(max(used, 1))))
		kv(b, "allocator_allocated", ms.HeapAlloc)
		kv(b, "allocator_active", ms.HeapInuse)
		kv(b, "allocator_resident", ms.HeapSys)
		total := totalSystemMemory()
		kv(b, "total_system_memory", total)
		kv(b, "total_system_memory_human", bytesToHuman(total))
		kv(b, "used_memory_lua", 0)
		kv(b, "used_memory_vm_eval", 0)
		kv(b, "used_memory_lua_human", "0B")
		kv(b, "used_memory_scripts_eval", 0)
		kv(b, "number_of_cached_scripts", 0)
		kv(b, "number_of_functions", 0)
		kv(b, "number_of_libraries", 0)
		kv(b, "used_memory_vm_functions", 0)
		kv(b, "used_memory_vm_total", 0)
		kv(b, "used_memory_vm_total_human", "0B")
		kv(b, "used_memory_functions", 0)
		kv(b, "used_memory_scripts", 0)
		kv(b, "used_memory_scripts_human", "0B")
		kv(b, "maxmemory", 0)
		kv(b, "maxmemory_human", "0B")
		kv(b, "maxmemory_policy", "noeviction")
		kv(b, "allocator_frag_ratio", float64(ms.HeapInuse)/float64(max(ms.HeapAlloc, 1)))
		kv(b, "allocator_frag_bytes", ms.HeapInuse-min(ms.HeapInuse, ms.HeapAlloc))
		kv(b, "mem_fragmentation_ratio", float64(ms.Sys)/float64(max(used, 1)))
		kv(b, "mem_fragmentation_bytes", ms.Sys-min(ms.Sys, used))
		kv(b, "mem_not_counted_for_evict", 0)
		kv(b, "mem_replication_backlog", 0)
		kv(b, "mem_total_replication_buffers", 0)
		kv(b, "mem_clients_slaves", 0)
		kv(b, "mem_clients_normal", 0)
		kv(b, "mem_cluster_links", 0)
		kv(b, "mem_aof_buffer", 0)
		kv(b, "mem_allocator", "go-"+runtime.Version())
		kv(b, "active_defrag_running", 0)
		kv(b, "lazyfree_pending_objects", 0)
		kv(b, "lazyfreed_objects", 0)
	case "persistence":
		m := s.db.Metrics()
		b.WriteString("# Persistence\r\n")
		kv(b, "loading", 0)
		kv(b, "async_loading", 0)
		kv(b, "current_cow_peak", 0)
		kv(b, "current_cow_size", 0)
		kv(b, "current_cow_size_age", 0)
		kv(b, "current_fork_perc", "0.00")
		kv(b, "current_save_keys_processed", 0)
		kv(b, "current_save_keys_total", 0)
		kv(b, "rdb_changes_since_last_save", 0)
		kv(b, "rdb_bgsave_in_progress", 0)
		kv(b, "rdb_last_save_time", now.Unix())
		kv(b, "rdb_last_bgsave_status", "ok")
		kv(b, "rdb_last_bgsave_time_sec", -1)
		kv(b, "rdb_current_bgsave_time_sec", -1)
		kv(b, "rdb_saves", 0)
		kv(b, "rdb_last_cow_size", 0)
		kv(b, "rdb_last_load_keys_expired", 0)
		kv(b, "rdb_last_load_keys_loaded", 0)
		kv(b, "aof_enabled", 1)
		kv(b, "aof_rewrite_in_progress", 0)
		kv(b, "aof_rewrite_scheduled", 0)
		kv(b, "aof_last_rewrite_time_sec", -1)
		kv(b, "aof_current_rewrite_time_sec", -1)
		kv(b, "aof_last_bgrewrite_status", "ok")
		kv(b, "aof_rewrites", 0)
		kv(b, "aof_rewrites_consecutive_failures", 0)
		kv(b, "aof_last_write_status", "ok")
		kv(b, "aof_last_cow_size", 0)
		kv(b, "module_fork_in_progress", 0)
		kv(b, "module_fork_last_cow_size", 0)
		kv(b, "aof_current_size", m.DiskSpaceUsage())
		kv(b, "aof_base_size", 0)
		kv(b, "aof_pending_rewrite", 0)
		kv(b, "aof_buffer_length", 0)
		kv(b, "aof_pending_bio_fsync", 0)
		kv(b, "aof_delayed_fsync", 0)
	case "stats":
		ps := s.pubsub()
		ps.mu.RLock()
		nch, npat := len(ps.channels), len(ps.patterns)
		ps.mu.RUnlock()
		misses := st.misses.Load()
		s.stats.mu.Lock()
		var errs int64
		for _, n := range s.stats.errs {
			errs += n
		}
		s.stats.mu.Unlock()
		cmds := s.stats.commands.Load()
		b.WriteString("# Stats\r\n")
		kv(b, "total_connections_received", s.stats.totalConns.Load())
		kv(b, "total_commands_processed", cmds)
		kv(b, "instantaneous_ops_per_sec", st.opsPerSec())
		kv(b, "total_net_input_bytes", 0)
		kv(b, "total_net_output_bytes", 0)
		kv(b, "total_net_repl_input_bytes", 0)
		kv(b, "total_net_repl_output_bytes", 0)
		kv(b, "instantaneous_input_kbps", "0.00")
		kv(b, "instantaneous_output_kbps", "0.00")
		kv(b, "instantaneous_input_repl_kbps", "0.00")
		kv(b, "instantaneous_output_repl_kbps", "0.00")
		kv(b, "rejected_connections", s.stats.rejectedConns.Load())
		kv(b, "sync_full", 0)
		kv(b, "sync_partial_ok", 0)
		kv(b, "sync_partial_err", 0)
		kv(b, "expired_keys", s.db.ExpiredTotal())
		kv(b, "expired_stale_perc", "0.00")
		kv(b, "expired_time_cap_reached_count", 0)
		kv(b, "expire_cycle_cpu_milliseconds", 0)
		kv(b, "evicted_keys", 0)
		kv(b, "evicted_clients", 0)
		kv(b, "total_eviction_exceeded_time", 0)
		kv(b, "current_eviction_exceeded_time", 0)
		kv(b, "keyspace_hits", max(st.readKeys.Load()-misses, 0))
		kv(b, "keyspace_misses", misses)
		kv(b, "pubsub_channels", nch)
		kv(b, "pubsub_patterns", npat)
		kv(b, "pubsubshard_channels", 0)
		kv(b, "latest_fork_usec", 0)
		kv(b, "total_forks", 0)
		kv(b, "migrate_cached_sockets", 0)
		kv(b, "slave_expires_tracked_keys", 0)
		kv(b, "active_defrag_hits", 0)
		kv(b, "active_defrag_misses", 0)
		kv(b, "active_defrag_key_hits", 0)
		kv(b, "active_defrag_key_misses", 0)
		kv(b, "total_active_defrag_time", 0)
		kv(b, "current_active_defrag_time", 0)
		kv(b, "tracking_total_keys", 0)
		kv(b, "tracking_total_items", 0)
		kv(b, "tracking_total_prefixes", 0)
		kv(b, "unexpected_error_replies", 0)
		kv(b, "total_error_replies", errs)
		kv(b, "dump_payload_sanitizations", 0)
		kv(b, "total_reads_processed", cmds)
		kv(b, "total_writes_processed", cmds)
		kv(b, "io_threaded_reads_processed", 0)
		kv(b, "io_threaded_writes_processed", 0)
		kv(b, "reply_buffer_shrinks", 0)
		kv(b, "reply_buffer_expands", 0)
	case "replication":
		b.WriteString("# Replication\r\n")
		kv(b, "role", "master")
		kv(b, "connected_slaves", 0)
		kv(b, "master_failover_state", "no-failover")
		kv(b, "master_replid", s.runID)
		kv(b, "master_replid2", strings.Repeat("0", 40))
		kv(b, "master_repl_offset", 0)
		kv(b, "second_repl_offset", -1)
		kv(b, "repl_backlog_active", 0)
		kv(b, "repl_backlog_size", 1048576)
		kv(b, "repl_backlog_first_byte_offset", 0)
		kv(b, "repl_backlog_histlen", 0)
	case "cpu":
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		var ch syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ch)
		tv := func(t syscall.Timeval) string {
			return fmt.Sprintf("%d.%06d", t.Sec, t.Usec)
		}
		b.WriteString("# CPU\r\n")
		kv(b, "used_cpu_sys", tv(ru.Stime))
		kv(b, "used_cpu_user", tv(ru.Utime))
		kv(b, "used_cpu_sys_children", tv(ch.Stime))
		kv(b, "used_cpu_user_children", tv(ch.Utime))
		kv(b, "used_cpu_sys_main_thread", tv(ru.Stime))
		kv(b, "used_cpu_user_main_thread", tv(ru.Utime))
	case "modules":
		b.WriteString("# Modules\r\n")
		// RedisGears 1.2.13's module line, so tools that look for it find it
		b.WriteString("module:name=rg,ver=10213,api=1,filters=1,usedby=[],using=[],options=[]\r\n")
	case "rg":
		b.WriteString("# rg\r\n")
		st := s.gearsState()
		select {
		case <-st.ready:
		default:
			kv(b, "rg_ready", 0)
			return
		}
		if g := st.g; g != nil {
			kv(b, "rg_ready", 1)
			kv(b, "rg_nexecutions", len(g.Executions()))
			kv(b, "rg_nregistrations", len(g.Registrations()))
			kv(b, "rg_nsessions", len(g.Sessions()))
			kv(b, "rg_interpreters_ready", g.PoolReady())
			m := g.MemStats() // the same figures as RG.PYSTATS
			b.WriteString("\r\n# rg_python_stats\r\n")
			kv(b, "rg_TotalAllocated", m.Total)
			kv(b, "rg_PeakAllocated", m.Peak)
			kv(b, "rg_CurrAllocated", m.Curr)
		}
	case "commandstats":
		b.WriteString("# Commandstats\r\n")
		type row struct {
			name string
			cs   *cmdStats
		}
		s.stats.mu.Lock()
		rows := make([]row, 0, len(s.stats.cmds))
		for c, cs := range s.stats.cmds {
			rows = append(rows, row{c.Name, cs})
		}
		s.stats.mu.Unlock()
		sort.Slice(rows, func(i, j int) bool { return rows[i].name < rows[j].name })
		for _, r := range rows {
			calls, usec := r.cs.calls.Load(), r.cs.usec.Load()
			per := 0.0
			if calls > 0 {
				per = float64(usec) / float64(calls)
			}
			kv(b, "cmdstat_"+r.name, fmt.Sprintf("calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d",
				calls, usec, per, r.cs.rejected.Load(), r.cs.failed.Load()))
		}
	case "errorstats":
		b.WriteString("# Errorstats\r\n")
		s.stats.mu.Lock()
		names := make([]string, 0, len(s.stats.errs))
		for n := range s.stats.errs {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			kv(b, "errorstat_"+n, "count="+strconv.FormatInt(s.stats.errs[n], 10))
		}
		s.stats.mu.Unlock()
	case "latencystats":
		b.WriteString("# Latencystats\r\n")
	case "cluster":
		b.WriteString("# Cluster\r\n")
		kv(b, "cluster_enabled", 0)
	case "keyspace":
		b.WriteString("# Keyspace\r\n")
		for n := 0; n < storage.NumDBs; n++ {
			keys := s.db.KeyCount(n)
			if keys <= 0 {
				continue
			}
			if !lockHeld {
				s.db.Lock()
			}
			exp := s.db.Begin(n).KeysWithExpiry(n)
			if !lockHeld {
				s.db.Unlock()
			}
			kv(b, "db"+strconv.Itoa(n), fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", keys, exp))
		}
	}
}

func totalSystemMemory() uint64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil {
		return 0
	}
	return uint64(si.Totalram) * uint64(si.Unit)
}
