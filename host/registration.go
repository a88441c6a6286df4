package host

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/wasmgears/wasmgears/abi"
	"github.com/wasmgears/wasmgears/storage"
)

// Registrations: executions fired by key events (KeysReader), triggers and
// command hooks (CommandReader) and stream entries (StreamReader).
//
// Modes: sync runs inside the command that fired it, under that command's
// hold of the keyspace lock (borrowed by the session's actor), before the
// reply; async and async_local queue the record on the registration's own
// worker, so a registration's executions run in order.

// Guest handler ops (guest/python/gearsreg.py).
const (
	opRegRun          = abi.OpFirstHandler + 2
	opRegOnRegistered = abi.OpFirstHandler + 3
	opRegUnregister   = abi.OpFirstHandler + 4
)

// maxSyncDepth bounds registrations firing registrations inline.
const maxSyncDepth = 32

// Registration is one registered pipeline.
type Registration struct {
	ID     string
	Reader string // KeysReader | StreamReader | CommandReader
	Mode   string // sync | async | async_local
	Desc   *string

	// KeysReader
	Prefix     string
	EventTypes []string // nil: every event
	KeyTypes   []string // nil: every type
	ReadValue  bool
	Commands   []string // nil: events of any command

	// CommandReader
	Trigger   string // trigger name (RG.TRIGGER) ...
	Hook      string // ... or the hooked command
	KeyPrefix string
	InOrder   bool
	keys      CommandInfo // the hooked command's key positions

	// StreamReader
	Batch      int
	DurationMS int
	OnFailed   string
	RetrySec   int
	Trim       bool

	session *Session
	stream  *streamState

	mu       sync.Mutex
	stats    RegStats
	queue    []regItem
	wake     chan struct{}
	stopped  bool
	pending  int
	idleCond *sync.Cond
	execIDs  []string // kept executions, oldest first (under Gears.mu)
}

// RegStats are RG.DUMPREGISTRATIONS' counters.
type RegStats struct {
	Triggered, Success, Failures, Aborted int64
	LastRunMS, TotalRunMS                 int64
	LastError                             *string
}

type regItem struct {
	fields [][]byte
	result chan *Execution // nil: nobody waits
	link   *Link           // the client command it belongs to, if any
}

// Session returns the registration's session.
func (r *Registration) Session() *Session { return r.session }

// Stats returns a copy of the counters.
func (r *Registration) Stats() RegStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

type regState struct {
	mu    sync.RWMutex
	byID  map[string]*Registration
	order []string
	depth int // sync nesting, under the keyspace lock
	idx   atomic.Pointer[regIndex]
}

func (rs *regState) list() []*Registration {
	rs.mu.RLock()
	defer rs.mu.RUnlock()
	return rs.listLocked()
}

func (rs *regState) listLocked() []*Registration {
	out := make([]*Registration, 0, len(rs.order))
	for _, id := range rs.order {
		if r := rs.byID[id]; r != nil {
			out = append(out, r)
		}
	}
	return out
}

// Registrations lists the registrations, oldest first.
func (g *Gears) Registrations() []*Registration { return g.regs.list() }

// Registration returns one by id.
func (g *Gears) Registration(id string) *Registration {
	g.regs.mu.RLock()
	defer g.regs.mu.RUnlock()
	return g.regs.byID[id]
}

// createRegistration serves the guest's reg_create:
// [reader, mode, desc, hasDesc, reader args...].
func (s *Session) createRegistration(raw [][]byte) ([]byte, error) {
	if len(raw) < 4 {
		return nil, fmt.Errorf("reg_create: short request")
	}
	r := &Registration{Reader: string(raw[0]), Mode: string(raw[1]), session: s, wake: make(chan struct{}, 1)}
	r.idleCond = sync.NewCond(&r.mu)
	if string(raw[3]) == "1" {
		d := string(raw[2])
		r.Desc = &d
	}
	a := raw[4:]
	var err error
	switch r.Reader {
	case "KeysReader":
		err = r.parseKeysArgs(a)
	case "CommandReader":
		if len(a) != 4 {
			return nil, fmt.Errorf("reg_create: CommandReader wants 4 arguments")
		}
		if string(a[0]) == "trigger" {
			r.Trigger = string(a[1])
		} else {
			r.Hook = strings.ToLower(string(a[1]))
		}
		r.KeyPrefix, r.InOrder = string(a[2]), string(a[3]) == "1"
		if x := s.g.findTrigger(r.Trigger); r.Trigger != "" && x != nil && (s.replacing == nil || x.session != s.replacing) {
			msg := "trigger already registered"
			for _, x := range s.pendingRegs {
				if x.Trigger == r.Trigger {
					msg = "trigger already registered in this session"
				}
			}
			return errorReply(msg), nil
		}
		for _, x := range s.pendingRegs {
			if r.Trigger != "" && x.Trigger == r.Trigger {
				return errorReply("trigger already registered in this session"), nil
			}
		}
		if r.Hook != "" {
			if msg := s.checkHook(r); msg != "" {
				return errorReply(msg), nil
			}
		}
	case "StreamReader":
		if len(a) != 6 {
			return nil, fmt.Errorf("reg_create: StreamReader wants 6 arguments")
		}
		r.Prefix = string(a[0])
		r.Batch, _ = strconv.Atoi(string(a[1]))
		r.DurationMS, _ = strconv.Atoi(string(a[2]))
		r.OnFailed = string(a[3])
		r.RetrySec, _ = strconv.Atoi(string(a[4]))
		r.Trim = string(a[5]) == "1"
	default:
		return errorReply("given reader does not exists or does not support register"), nil
	}
	if err != nil {
		return nil, err
	}
	if s.restoreIDs != nil {
		if len(s.restoreIDs) == 0 {
			return errorReply("session code registers more than it did before the restart"), nil
		}
		r.ID, s.restoreIDs = s.restoreIDs[0], s.restoreIDs[1:]
		s.g.bumpPlanSeq(r.ID)
	} else {
		r.ID = fmt.Sprintf("%s-%d", ShardID, s.g.planSeq.Add(1))
	}
	s.pendingRegs = append(s.pendingRegs, r)
	return abi.BulkString(r.ID).Encode(), nil
}

// optList decodes the guest's optional list: "0" | "1" n items...
func optList(a [][]byte) (list []string, rest [][]byte, err error) {
	if len(a) == 0 {
		return nil, nil, fmt.Errorf("missing list")
	}
	if string(a[0]) == "0" {
		return nil, a[1:], nil
	}
	if len(a) < 2 {
		return nil, nil, fmt.Errorf("bad list")
	}
	n, _ := strconv.Atoi(string(a[1]))
	if len(a) < 2+n {
		return nil, nil, fmt.Errorf("bad list length")
	}
	list = []string{}
	for _, x := range a[2 : 2+n] {
		list = append(list, string(x))
	}
	return list, a[2+n:], nil
}

func (r *Registration) parseKeysArgs(a [][]byte) error {
	if len(a) < 1 {
		return fmt.Errorf("reg_create: KeysReader args")
	}
	r.Prefix = string(a[0])
	var err error
	rest := a[1:]
	if r.EventTypes, rest, err = optList(rest); err != nil {
		return err
	}
	if r.KeyTypes, rest, err = optList(rest); err != nil {
		return err
	}
	if len(rest) < 1 {
		return fmt.Errorf("reg_create: readValue missing")
	}
	r.ReadValue = string(rest[0]) == "1"
	r.Commands, _, err = optList(rest[1:])
	return err
}

func (g *Gears) bumpPlanSeq(id string) {
	i := strings.LastIndexByte(id, '-')
	n, err := strconv.ParseInt(id[i+1:], 10, 64)
	if err != nil {
		return
	}
	for {
		cur := g.planSeq.Load()
		if cur >= n || g.planSeq.CompareAndSwap(cur, n) {
			return
		}
	}
}

// findTrigger returns the live CommandReader registration of a trigger
// name (from the dispatch index: no scan of the registrations).
func (g *Gears) findTrigger(name string) *Registration {
	if idx := g.regs.idx.Load(); idx != nil {
		return idx.triggers[name]
	}
	return nil
}

// commit makes a script's registrations live (after the script succeeded).
func (g *Gears) commitRegistrations(s *Session, regs []*Registration) {
	for _, r := range regs { // before events can reach it
		if r.Reader == "StreamReader" {
			r.stream = &streamState{dirty: map[string]bool{}, reread: map[string]bool{}, buf: map[string][]streamEntry{}, status: "OK"}
		}
	}
	g.regs.mu.Lock()
	if g.regs.byID == nil {
		g.regs.byID = map[string]*Registration{}
	}
	for _, r := range regs {
		g.regs.byID[r.ID] = r
		g.regs.order = append(g.regs.order, r.ID)
		s.regs = append(s.regs, r)
	}
	g.reindexLocked()
	g.regs.mu.Unlock()
	for _, r := range regs {
		if r.Reader == "StreamReader" {
			go r.streamWorker(g)
		} else {
			go r.worker(g)
		}
	}
	if g.regsChanged != nil {
		g.regsChanged()
	}
}

// Unregister removes a registration; abortPending drops its queued work.
func (g *Gears) Unregister(ctx context.Context, id string, abortPending bool) error {
	g.regs.mu.Lock()
	r := g.regs.byID[id]
	if r == nil {
		g.regs.mu.Unlock()
		return ErrorReply("execution is not registered")
	}
	delete(g.regs.byID, id)
	for i, x := range g.regs.order {
		if x == id {
			g.regs.order = append(g.regs.order[:i], g.regs.order[i+1:]...)
			break
		}
	}
	g.reindexLocked()
	g.regs.mu.Unlock()
	r.stop(abortPending)
	s := r.session
	s.Do(ctx, func(ctx context.Context, in *Instance) error {
		_, err := in.Invoke(ctx, opRegUnregister, []byte(id))
		return err
	})
	g.mu.Lock()
	for i, x := range s.regs {
		if x == r {
			s.regs = append(s.regs[:i], s.regs[i+1:]...)
			break
		}
	}
	left := len(s.regs)
	g.mu.Unlock()
	if left == 0 {
		g.forgetSession(s)
		s.close(ctx)
	} else {
		g.persistSession(s)
	}
	if g.regsChanged != nil {
		g.regsChanged()
	}
	return nil
}

// ClearStats resets every registration's counters.
func (g *Gears) ClearStats() {
	for _, r := range g.regs.list() {
		r.mu.Lock()
		r.stats = RegStats{}
		r.mu.Unlock()
	}
}

func (r *Registration) stop(abortPending bool) {
	r.mu.Lock()
	r.stopped = true
	if abortPending {
		r.queue = nil
	}
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// matchKey applies KeysReader's prefix rule: a trailing '*' is a prefix
// match, anything else an exact key (not a glob).
func matchPrefix(prefix string, key []byte) bool {
	if strings.HasSuffix(prefix, "*") {
		return strings.HasPrefix(string(key), prefix[:len(prefix)-1])
	}
	return string(key) == prefix
}

func keyTypeName(t storage.Type) string {
	switch t {
	case storage.TypeNone:
		return "empty"
	case storage.TypeStream:
		return "stream"
	}
	return t.String()
}

func (r *Registration) wants(ev storage.Event) bool {
	if r.Reader != "KeysReader" || !matchPrefix(r.Prefix, ev.Key) {
		return false
	}
	if r.EventTypes != nil && !containsFold(r.EventTypes, ev.Name) {
		return false
	}
	if r.KeyTypes != nil && !containsFold(r.KeyTypes, keyTypeName(ev.Type)) {
		return false
	}
	if r.Commands != nil && !containsFold(r.Commands, ev.Cmd) {
		return false
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// OnEvents is called by the server for every committed change while the
// keyspace lock is still held (by caller's actor when caller is a gears
// session, else by a client command or the expiry sweep). Sync
// registrations run now, under that hold; the others are queued.
//
// o.Link is the client command that wrote, when KeysReader registrations
// with commands= watch it: their executions are tied to it (get_command,
// override_reply) and the client's reply waits for the async ones.
func (g *Gears) OnEvents(evs []storage.Event, o Origin) {
	link := o.Link
	idx := g.regs.idx.Load()
	if idx == nil || len(idx.all) == 0 {
		return
	}
	regs := idx.all
	for _, ev := range evs {
		for _, r := range regs {
			if r.Reader == "StreamReader" {
				if ev.Name == "xadd" && matchPrefix(r.Prefix, ev.Key) {
					r.streamSignal(g, ev.Key)
				}
				continue
			}
			if !r.wants(ev) {
				continue
			}
			fields := [][]byte{ev.Key, []byte(ev.Name)}
			var l *Link
			if r.Commands != nil {
				l = link
			}
			if r.Mode == "sync" {
				g.runSync(r, fields, Origin{Caller: o.Caller, Link: l, NoAsync: o.NoAsync})
				continue
			}
			it := regItem{fields: fields, link: l}
			if l != nil {
				it.result = make(chan *Execution, 1)
				l.addWait(it.result)
			}
			r.enqueue(it)
		}
	}
}

func (r *Registration) enqueue(it regItem) {
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		if it.result != nil {
			close(it.result)
		}
		return
	}
	r.queue = append(r.queue, it)
	r.mu.Unlock()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}
