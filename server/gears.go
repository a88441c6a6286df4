package server

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wasmgears/wasmgears/abi"
	"github.com/wasmgears/wasmgears/host"
	"github.com/wasmgears/wasmgears/storage"
)

// The gears engine is started in the background when the server starts
// (compiling python.wasm takes ~1.7 s, ~65 ms from the on-disk cache);
// RG.* commands wait for it.

type gearsState struct {
	once  sync.Once
	ready chan struct{}
	g     *host.Gears
	err   error
	cfg   *host.GearsConfig

	mu        sync.Mutex
	abandoned bool // shut down before the engine was ready: close it then
	restoring sync.WaitGroup
}

func (s *Server) gearsState() *gearsState {
	if v, ok := s.ext.Load(gearsKey{}); ok { // the hot path: every write asks
		return v.(*gearsState)
	}
	v, _ := s.ext.LoadOrStore(gearsKey{}, &gearsState{ready: make(chan struct{}), cfg: host.NewGearsConfig()})
	return v.(*gearsState)
}

type gearsKey struct{}

// startGears compiles the guest and starts the interpreter pool.
func (s *Server) startGears() {
	st := s.gearsState()
	st.once.Do(func() {
		f := strings.Fields(s.cfg.Get("gears"))
		for i := 0; i+1 < len(f); i += 2 {
			if r := st.cfg.Set(f[i], f[i+1], false); r.Err != "" {
				s.log.Error("gears config", "key", f[i], "err", r.Err)
			}
		}
		go func() {
			defer close(st.ready)
			dir := s.cfg.Get("wasm-cache-dir")
			if dir == "" {
				dir = filepath.Join(s.cfg.Get("dir"), "wasm-cache")
			}
			g, err := host.New(context.Background(), host.Options{
				CacheDir: dir, Logger: s.log, Config: st.cfg, Backend: (*gearsBackend)(s), DB: s.db,
				Activity: s.procs.activity,
			})
			if err != nil {
				s.log.Error("gears engine failed to start", "err", err)
			} else {
				// before ready: no RG.PYEXECUTE can race with the restore;
				// a shutdown waits for it (the keyspace must stay open)
				st.mu.Lock()
				skip := st.abandoned
				if !skip {
					st.restoring.Add(1)
				}
				st.mu.Unlock()
				if !skip {
					if rerr := g.Restore(context.Background()); rerr != nil {
						s.log.Error("restore gears sessions", "err", rerr)
					}
					st.restoring.Done()
				}
			}
			st.mu.Lock()
			if st.abandoned && g != nil {
				g.Close(context.Background())
				g, err = nil, fmt.Errorf("server is shutting down")
			}
			st.g, st.err = g, err
			st.mu.Unlock()
		}()
	})
}

// Gears waits for the gears engine.
func (s *Server) Gears() (*host.Gears, error) {
	st := s.gearsState()
	s.startGears()
	select {
	case <-st.ready:
	case <-s.shutdownc:
		return nil, fmt.Errorf("server is shutting down")
	}
	return st.g, st.err
}

func init() {
	registerConfig(
		&ConfigKey{Name: "io-threads", Default: "1", Usage: "GOMAXPROCS while no gears code runs (all CPUs while it does; 0 = all CPUs always)",
			Check: checkInt(0, 1024)},
		&ConfigKey{Name: "wasm-cache-dir", Usage: "wazero compilation cache (default: <dir>/wasm-cache)"},
		&ConfigKey{Name: "gears", Usage: `gears configuration at start, as RedisGears module arguments: "Name value ..." (see RG.CONFIGGET)`,
			Check: func(v string) (string, error) {
				if len(strings.Fields(v))%2 != 0 {
					return "", fmt.Errorf("want name/value pairs")
				}
				return v, nil
			}},
	)
	initHooks = append(initHooks, func(s *Server) error {
		n, _ := strconv.Atoi(s.cfg.Get("io-threads"))
		s.procs = newProcs(n)
		go s.procs.run(s.shutdownc, s.gearsState().ready)
		s.startGears()
		return nil
	})
	shutdownHooks = append(shutdownHooks, func(s *Server) {
		// Do not wait for a compile in progress (~2 s cold): the engine is
		// closed by its starter as soon as it is ready.
		st := s.gearsState()
		st.mu.Lock()
		st.abandoned = true
		st.mu.Unlock()
		st.restoring.Wait()
		st.mu.Lock()
		g := st.g
		st.mu.Unlock()
		if g != nil {
			g.Close(context.Background())
		}
	})
}

// gearsBackend implements host.Backend on the server.
type gearsBackend Server

func (b *gearsBackend) server() *Server { return (*Server)(b) }

func (b *gearsBackend) client(sess *host.Session) *Client {
	if c, ok := sess.Client.(*Client); ok {
		return c
	}
	s := b.server()
	// The host calls Execute/KeysRead with the keyspace lock held for
	// the session: its commands run under that hold.
	c := &Client{s: s, ID: s.nextID.Add(1), Addr: "gears:" + sess.ID, Created: time.Now(), Proto: 2, auth: true, lockHeld: true, session: sess, done: make(chan struct{})}
	c.Name = "gears-" + sess.ID
	c.w.Proto = 2
	sess.Client = c
	return c
}

// Execute runs a command for a session through the command table, as
// RedisGears' RM_Call does: RESP2 replies, never blocking.
func (b *gearsBackend) Execute(sess *host.Session, args [][]byte) []byte {
	s := b.server()
	c := b.client(sess)
	w := &Writer{Proto: 2}
	if len(args) == 0 {
		w.Array(0)
		return w.Bytes()
	}
	cmd := lookup(args[0])
	if cmd == nil {
		w.Error(unknownCommand(args))
		return w.Bytes()
	}
	if len(cmd.Subs) > 0 && len(args) >= 2 {
		if sub := cmd.Sub(args[1]); sub != nil {
			cmd = sub
		}
	}
	if !cmd.arityOK(len(args)) {
		w.Error(fmt.Sprintf("ERR wrong number of arguments for '%s' command", cmd.Name))
		return w.Bytes()
	}
	if cmd.Flags&FlagNoScript != 0 {
		w.Error("ERR This Redis command is not allowed from script")
		return w.Bytes()
	}
	s.call(c, cmd, args, w, true)
	return w.Bytes()
}

// KeysRead serves one KeysReader batch: [next-cursor, [[key, type, value]...]]
// (appendRecord), encoded straight from the records.
func (b *gearsBackend) KeysRead(sess *host.Session, cursor, pattern []byte, noScan, readValue, readAhead bool) []byte {
	c := b.client(sess)
	kdb := b.server().db
	recs, next, ok := c.keysNext.take(kdb, c.DB, cursor, pattern, noScan, readValue)
	c.keysNext = nil
	if !ok {
		var err error
		if recs, next, err = b.readKeys(sess, cursor, pattern, noScan, readValue); err != nil {
			return abi.Error("ERR " + err.Error()).Encode()
		}
	}
	if readAhead && !noScan && string(next) != "0" {
		c.keysNext = prefetchKeys(kdb, c.DB, next, pattern, readValue)
	}
	out := make([]byte, 0, 64*len(recs)+32)
	out = append(out, "*2\r\n"...)
	out = abi.AppendValue(out, abi.Bulk(next))
	out = abi.AppendArrayHeader(out, len(recs))
	for i := range recs {
		out = appendRecord(out, &recs[i])
	}
	return out
}

// readKeys reads one KeysReader batch now: the records and the next cursor.
func (b *gearsBackend) readKeys(sess *host.Session, cursor, pattern []byte, noScan, readValue bool) ([]storage.Record, []byte, error) {
	var recs []storage.Record
	next := []byte("0")
	err := b.readTx(sess, func(tx *storage.Tx) error {
		if noScan {
			r, err := tx.ReadRecord(pattern, readValue)
			if err == nil {
				if r == nil {
					r = &storage.Record{Key: pattern}
				}
				recs = append(recs, *r)
			}
			return err
		}
		var err error
		recs, next, err = scanBatch(tx, cursor, pattern, readValue)
		return err
	})
	return recs, next, err
}

// readTx runs a gears reader's reads for sess in one Tx (no keymiss
// events) and commits it: reads may expire keys lazily, and those
// deletions and their events must land.
func (b *gearsBackend) readTx(sess *host.Session, read func(tx *storage.Tx) error) error {
	s := b.server()
	c := b.client(sess)
	tx := s.db.Begin(c.DB)
	defer tx.Release() // what read kept from it is copied (storage/read.go)
	tx.SuppressKeymiss()
	err := read(tx)
	if cerr := tx.Commit(); cerr != nil {
		tx.Discard()
		return cmp.Or(err, cerr)
	}
	evs := tx.TakeEvents()
	s.touchWatched(evs)
	s.gearsEvents(c, evs)
	s.db.Deliver(evs)
	return err
}

// appendRecord appends a KeysReader record [key, type, value].
func appendRecord(dst []byte, r *storage.Record) []byte {
	return appendTypeValue(abi.AppendBulk(append(dst, "*3\r\n"...), r.Key), r)
}

// appendTypeValue appends a record's type name and value as RedisGears 1.2
// gives them: a string, a hash as a field/value array, a list; null for
// the other types.
func appendTypeValue(dst []byte, r *storage.Record) []byte {
	dst = abi.AppendBulkString(dst, recordType(r))
	switch r.Type {
	case storage.TypeString:
		return abi.AppendBulk(dst, r.Value)
	case storage.TypeHash, storage.TypeList:
		dst = abi.AppendArrayHeader(dst, len(r.Elems))
		for _, e := range r.Elems {
			dst = abi.AppendBulk(dst, e)
		}
		return dst
	}
	return abi.AppendValue(dst, abi.Null())
}

// recordType is the type name RedisGears 1.2 gives a record.
func recordType(r *storage.Record) string {
	switch r.Type {
	case storage.TypeNone:
		return "empty"
	case storage.TypeStream:
		return "unknown" // RedisGears 1.2 reports streams as 'unknown'
	}
	return r.Type.String()
}

func (b *gearsBackend) LockKeyspace()         { b.server().db.Lock() }
func (b *gearsBackend) TryLockKeyspace() bool { return b.server().db.TryLock() }
func (b *gearsBackend) UnlockKeyspace()       { b.server().db.Unlock() }

// ---- commands ----------------------------------------------------------

type pyexecuteCmd struct{ req host.PyExecuteRequest }

func isSessionID(id string) bool {
	for _, ch := range id {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_') {
			return false
		}
	}
	return id != ""
}

func parsePyExecute(a [][]byte) (Runner, error) {
	r := host.PyExecuteRequest{Code: string(a[1])}
	p := newArgp(a, 2)
	for p.more() {
		switch {
		case p.is("UNBLOCKING"):
			r.Unblocking = true
		case p.is("ID"):
			if !p.more() {
				return nil, cmdError("ID is missing")
			}
			r.ID = string(p.next())
			if !isSessionID(r.ID) {
				return nil, cmdError("ID must be compose of: ['A'-'Z' | 'a'-'z' | '0' - '9' | '-' | '_']")
			}
		case p.is("DESCRIPTION"):
			if !p.more() {
				return nil, cmdError("DESCRIPTION is missing")
			}
			d := string(p.next())
			r.Description = &d
		case p.is("UPGRADE"):
			r.Upgrade = true
		case p.is("REPLACE_WITH"):
			if !p.more() {
				return nil, cmdError("REPLACE_WITH is missing")
			}
			r.ReplaceWith = string(p.next())
		case p.is("FORCE_REINSTALL_REQUIREMENTS"):
			r.ForceReinst = true
		case p.is("REQUIREMENTS"):
			for p.more() {
				r.Requirements = append(r.Requirements, string(p.next()))
			}
		default:
			return nil, cmdError("Unknown arguments were given: " + string(p.peek()))
		}
	}
	return pyexecuteCmd{r}, nil
}

func (x pyexecuteCmd) Run(c *Ctx) {
	if c.InMulti {
		c.W.Error("Can not run gears inside a multi exec, lua, or when blocking is not allowed")
		return
	}
	g, err := c.S.Gears()
	if err != nil {
		c.W.Error("ERR gears engine unavailable: " + err.Error())
		return
	}
	res, err := g.PyExecute(context.Background(), x.req)
	switch {
	case err != nil:
		c.W.Error(err.Error())
	case res.ExecutionID != "":
		c.W.BulkString(res.ExecutionID)
	case res.Reply != nil:
		c.W.Raw(res.Reply)
	default:
		c.W.OK()
	}
}

// gearsCmd adapts a function that needs the engine into a Parser.
func gearsCmd(fn func(c *Ctx, g *host.Gears, a [][]byte)) Parser {
	return simple(func(c *Ctx, a [][]byte) {
		g, err := c.S.Gears()
		if err != nil {
			c.W.Error("ERR gears engine unavailable: " + err.Error())
			return
		}
		fn(c, g, a)
	})
}

func getResults(c *Ctx, g *host.Gears, a [][]byte, block bool) {
	e := g.Execution(string(a[1]))
	if e == nil {
		c.W.Error("execution plan does not exist")
		return
	}
	if block && !c.InMulti {
		select {
		case <-e.Done():
		case <-time.After(1000 * time.Second):
		case <-c.C.done:
			return
		}
	}
	select {
	case <-e.Done():
		c.W.Raw(e.Reply())
	default:
		c.W.Error("execution is still running")
	}
}

func dumpExecutions(c *Ctx, g *host.Gears, _ [][]byte) {
	es := g.Executions()
	c.W.Array(len(es))
	for _, e := range es {
		c.W.Array(6)
		c.W.BulkString("executionId")
		c.W.BulkString(e.ID)
		c.W.BulkString("status")
		c.W.BulkString(e.Status())
		c.W.BulkString("registered")
		if e.Registered {
			c.W.Int(1)
		} else {
			c.W.Int(0)
		}
	}
}

func getExecution(c *Ctx, g *host.Gears, a [][]byte) {
	if len(a) > 3 {
		c.W.Error("ERR wrong number of arguments for 'rg.getexecution' command")
		return
	}
	if len(a) == 3 {
		switch strings.ToUpper(string(a[2])) {
		case "SHARD":
		case "CLUSTER":
			// stand-alone: there is no cluster to ask
			c.W.Error("no cluster detected - use `RG.GETEXECUTION <id> [SHARD]` instead")
			return
		default:
			c.W.Error("unknown subcommand")
			return
		}
	}
	e := g.Execution(string(a[1]))
	if e == nil {
		c.W.Error("execution plan does not exist")
		return
	}
	status := e.Status()
	n, errs, total := e.Counts()
	if status != host.StatusDone && status != host.StatusAborted {
		n = -1
	}
	read, steps := e.Profile()
	profile := g.Config().Int("ProfileExecutions") == 1
	ms := func(d time.Duration) int64 {
		if !profile {
			return 0
		}
		return d.Milliseconds()
	}
	w := c.W
	w.Array(1)
	w.Array(4)
	w.BulkString("shard_id")
	w.BulkString(host.ShardID)
	w.BulkString("execution_plan")
	w.Array(16)
	w.BulkString("status")
	w.BulkString(status)
	w.BulkString("shards_received")
	w.Int(0)
	w.BulkString("shards_completed")
	w.Int(0)
	w.BulkString("results")
	w.Int(int64(n))
	w.BulkString("errors")
	w.Array(len(errs))
	for _, e := range errs {
		w.BulkString(e)
	}
	w.BulkString("total_duration")
	w.Int(ms(total))
	w.BulkString("read_duration")
	w.Int(ms(read))
	w.BulkString("steps")
	w.Array(len(steps))
	for _, st := range steps {
		w.Array(8)
		w.BulkString("type")
		w.BulkString(st.Type)
		w.BulkString("duration")
		w.Int(ms(st.Duration))
		w.BulkString("name")
		w.BulkString(st.Name)
		w.BulkString("arg")
		w.BulkString(st.Arg)
	}
}

func configGetGears(c *Ctx, g *host.Gears, a [][]byte) {
	c.W.Array(len(a) - 1)
	for _, k := range a[1:] {
		if string(k) == "Plugin" { // no loadable plugins: the Python one is built in
			c.W.Array(0)
			continue
		}
		v, builtin, ok := g.Config().Get(string(k))
		switch {
		case !ok:
			c.W.Error("(error) Unsupported config parameter: " + string(k))
		case builtin != nil && builtin.Numeric:
			n, _ := strconv.ParseInt(v, 10, 64)
			c.W.Int(n)
		default:
			c.W.BulkString(v)
		}
	}
}

// pythonPluginKeys are the Python plugin's load-time keys: RG.CONFIGSET
// answers them with the plugin's text, not the core's.
var pythonPluginKeys = map[string]bool{
	"overridepythonallocators": true, "createvenv": true, "downloaddeps": true,
	"forecedownloaddepsonenterprise": true, "dependenciesurl": true,
	"dependenciessha256": true, "pythoninstallationdir": true,
}

func configSetGears(c *Ctx, g *host.Gears, a [][]byte) {
	n := (len(a)) / 2
	c.W.Array(n)
	for i := 1; i < len(a); i += 2 {
		if i+1 >= len(a) {
			c.W.Error("(error) Value was not given to " + string(a[i]))
			continue
		}
		name := string(a[i])
		if strings.EqualFold(name, "Plugin") {
			c.W.Error("(error) Config value " + name + " not modifiable at runtime")
			continue
		}
		if pythonPluginKeys[strings.ToLower(name)] {
			c.W.Error("(error) " + name + " is not configurable at runtime")
			continue
		}
		r := g.Config().Set(name, string(a[i+1]), true)
		if r.Err != "" {
			c.W.Error(r.Err)
		} else {
			c.W.Simple(r.OK)
		}
	}
}

// abortExecution stops an execution (OK also when it already finished).
func abortExecution(c *Ctx, g *host.Gears, a [][]byte) {
	e := g.Execution(string(a[1]))
	if e == nil {
		c.W.Error("execution does not exist")
		return
	}
	e.Abort()
	select {
	case <-e.Done():
	case <-time.After(2 * time.Second):
		// a guest that neither yields nor can be killed (SandboxStrictMode
		// 0) keeps running; RedisGears replies OK after asking too
	}
	c.W.OK()
}

func pyProfile(c *Ctx, g *host.Gears, a [][]byte) {
	sub := strings.ToUpper(string(a[1]))
	switch {
	case sub == "STATS" && (len(a) == 3 || len(a) == 4): // the order is ignored, as in RedisGears
		out, err := g.ProfileStats(context.Background(), string(a[2]))
		if err != nil {
			c.W.Error(err.Error())
			return
		}
		c.W.BulkString(out)
	case sub == "RESET" && len(a) == 3:
		if err := g.ProfileReset(context.Background(), string(a[2])); err != nil {
			c.W.Error(err.Error())
			return
		}
		c.W.OK()
	default:
		c.W.Error("Wrong subcommand given to RG.PYPROFILE")
	}
}

func pyStats(c *Ctx, g *host.Gears, _ [][]byte) {
	m := g.MemStats()
	c.W.Array(6)
	c.W.BulkString("TotalAllocated")
	c.W.Int(m.Total)
	c.W.BulkString("PeakAllocated")
	c.W.Int(m.Peak)
	c.W.BulkString("CurrAllocated")
	c.W.Int(m.Curr)
}

func init() {
	const grp = "gears"
	// No write/readonly flag: gears commands must not run under the
	// keyspace lock (the guest's execute() takes it).
	mk := func(name string, arity int, flags Flag, summary string, p Parser) *Command {
		flags &^= FlagWrite | FlagReadonly
		return &Command{Name: name, Arity: arity, Flags: flags | FlagNoScript, Group: grp, Since: "1.2.0", Summary: summary, Parse: p}
	}
	register(
		mk("rg.pyexecute", -2, FlagWrite|FlagNoMulti, "Runs a Python gear script in a new session.", parsePyExecute),
		mk("rg.getresults", 2, FlagReadonly, "Returns the results and errors of a finished execution.",
			gearsCmd(func(c *Ctx, g *host.Gears, a [][]byte) { getResults(c, g, a, false) })),
		mk("rg.getresultsblocking", 2, FlagReadonly, "Blocks until an execution finishes, then returns its results and errors.",
			gearsCmd(func(c *Ctx, g *host.Gears, a [][]byte) { getResults(c, g, a, true) })),
		mk("rg.dumpexecutions", 1, FlagReadonly, "Lists the executions.", gearsCmd(dumpExecutions)),
		mk("rg.getexecution", -2, FlagReadonly, "Returns an execution's plan and status.", gearsCmd(getExecution)),
		mk("rg.dropexecution", 2, FlagWrite, "Removes a finished execution.", gearsCmd(func(c *Ctx, g *host.Gears, a [][]byte) {
			if err := g.DropExecution(string(a[1])); err != nil {
				c.W.Error(err.Error())
				return
			}
			c.W.OK()
		})),
		mk("rg.abortexecution", 2, FlagWrite, "Aborts a running execution.", gearsCmd(abortExecution)),
		mk("rg.pyprofile", -2, FlagReadonly, "Returns or resets a session's cProfile statistics (ProfileExecutions=1).", gearsCmd(pyProfile)),
		mk("rg.pystats", 1, FlagReadonly, "Returns the Python interpreters' memory statistics.", gearsCmd(pyStats)),
		mk("rg.infocluster", 1, FlagReadonly, "Returns the cluster topology ('no cluster mode' stand-alone).", simple(func(c *Ctx, a [][]byte) {
			c.W.BulkString("no cluster mode")
		})),
		mk("rg.refreshcluster", 1, FlagReadonly, "Re-reads the cluster topology (no-op stand-alone).", simple(func(c *Ctx, a [][]byte) {
			c.W.OK()
		})),
		mk("rg.dumpplugins", 1, FlagReadonly, "Lists the loaded plugins and their versions.", simple(func(c *Ctx, a [][]byte) {
			c.W.Array(1)
			c.W.Array(2)
			c.W.BulkString("GearsPythonPlugin")
			c.W.Int(10000)
		})),
		mk("rg.configget", -2, FlagReadonly, "Returns gears configuration values.", gearsCmd(configGetGears)),
		mk("rg.configset", -2, FlagWrite, "Sets gears configuration values.", gearsCmd(configSetGears)),
		mk("rg.pyexecuteremote", -1, 0, "Legacy; not supported.", simple(func(c *Ctx, a [][]byte) {
			c.W.BulkString("Execute remote is not longer supported")
		})),
		mk("rg.pyfreeinterpreter", -1, 0, "Legacy; not supported.", simple(func(c *Ctx, a [][]byte) {
			c.W.BulkString("Free interpreter is not longer supported")
		})),
	)
}
