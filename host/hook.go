package host

import (
	"context"
	"strings"
	"sync"

	"github.com/wasmgears/wasmgears/abi"
)

// Command hooks (CommandReader.register(hook=...)) and the client link of
// KeysReader registrations with commands=.
//
// A hook replaces a client command: the server asks FindHook before it
// runs a command and, when one matches, runs the hook's execution instead;
// its single result is the reply. call_next() inside the hook goes down the
// chain (newest hook first) to the real command. Commands that gears
// functions run with execute() are never hooked (Redis' command filters
// with NOSELF, as RedisGears registers them).

// CommandInfo is what hooks need to know about a command.
type CommandInfo struct {
	NoScript, MovableKeys   bool
	FirstKey, LastKey, Step int
}

// Link ties executions to the client command that fired them: for a hook,
// the hook's place in its chain; for KeysReader commands=, the command
// whose reply its client waits for (get_command, override_reply).
type Link struct {
	Args [][]byte
	hook *Registration

	mu       sync.Mutex
	override []byte // RESP reply set by override_reply
	waits    []chan *Execution
}

// NewLink returns the link of a client command.
func NewLink(args [][]byte) *Link { return &Link{Args: args} }

// Override returns the reply override_reply() set (nil: none).
func (l *Link) Override() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.override
}

// Wait blocks until every async execution linked to the command finished:
// the client's reply waits for them, as RedisGears blocks the client.
func (l *Link) Wait(ctx context.Context) {
	l.mu.Lock()
	waits := l.waits
	l.waits = nil
	l.mu.Unlock()
	for _, ch := range waits {
		select {
		case <-ch:
		case <-ctx.Done():
			return
		}
	}
}

func (l *Link) addWait(ch chan *Execution) {
	l.mu.Lock()
	l.waits = append(l.waits, ch)
	l.mu.Unlock()
}

// regIndex is the dispatch index the server consults on every command:
// rebuilt whenever registrations change, read without locks.
type regIndex struct {
	all      []*Registration            // oldest first (OnEvents)
	hooks    map[string][]*Registration // by command, newest first
	linked   map[string]bool            // commands named by KeysReader commands=
	triggers map[string]*Registration   // RG.TRIGGER names
}

// reindexLocked rebuilds the index; the caller holds g.regs.mu.
func (g *Gears) reindexLocked() {
	regs := g.regs.listLocked()
	idx := &regIndex{all: regs, hooks: map[string][]*Registration{}, linked: map[string]bool{}, triggers: map[string]*Registration{}}
	for i := len(regs) - 1; i >= 0; i-- {
		r := regs[i]
		if r.Hook != "" {
			idx.hooks[r.Hook] = append(idx.hooks[r.Hook], r)
		}
		if r.Trigger != "" {
			idx.triggers[r.Trigger] = r
		}
		for _, c := range r.Commands {
			idx.linked[strings.ToLower(c)] = true
		}
	}
	g.regs.idx.Store(idx)
}

// Linked reports whether KeysReader registrations watch cmd's client.
func (g *Gears) Linked(cmd string) bool {
	idx := g.regs.idx.Load()
	return idx != nil && idx.linked[cmd]
}

// FindHook returns the hook that takes over the client command args (its
// name in lower case in cmd), or nil.
func (g *Gears) FindHook(cmd string, args [][]byte) *Registration {
	return g.hookAfter(cmd, nil, args)
}

// hookAfter returns the first hook of cmd's chain below after (nil: from
// the top) whose key prefix matches args.
func (g *Gears) hookAfter(cmd string, after *Registration, args [][]byte) *Registration {
	idx := g.regs.idx.Load()
	if idx == nil {
		return nil
	}
	chain := idx.hooks[cmd]
	i := 0
	if after != nil {
		for i < len(chain) && chain[i] != after {
			i++
		}
		i++
	}
	for ; i < len(chain); i++ {
		if chain[i].hookMatches(args) {
			return chain[i]
		}
	}
	return nil
}

// hookMatches applies keyprefix to the command's key arguments (COMMAND
// INFO's first/last/step); a command without keys in range is not hooked.
func (r *Registration) hookMatches(args [][]byte) bool {
	p := strings.TrimSuffix(r.KeyPrefix, "*")
	if r.KeyPrefix == "" || p == "" {
		return true
	}
	first, last, step := r.keys.FirstKey, r.keys.LastKey, r.keys.Step
	if last < 0 {
		last += len(args)
	}
	if first <= 0 || step <= 0 {
		return false
	}
	for i := first; i <= last && i < len(args); i += step {
		if strings.HasPrefix(string(args[i]), p) {
			return true
		}
	}
	return false
}

// checkHook validates a new hook registration as RedisGears does.
func (s *Session) checkHook(r *Registration) string {
	info, ok := s.g.backend.CommandInfo(r.Hook)
	switch {
	case !ok:
		return "Can not override an unexisting command"
	case info.NoScript:
		return "Can not override a command which are not allowed inside a script"
	case info.MovableKeys && r.KeyPrefix != "":
		return "Can not override a command with moveable keys by key prefix"
	}
	r.keys = info
	for _, x := range s.pendingRegs {
		if x.Hook == r.Hook && x.Mode != "sync" {
			return "Can not override a none sync registration which already created on this session"
		}
	}
	if idx := s.g.regs.idx.Load(); idx != nil {
		for _, x := range idx.hooks[r.Hook] {
			if x.Mode != "sync" && (s.replacing == nil || x.session != s.replacing) {
				return "Can not override a none sync registration"
			}
		}
	}
	return ""
}

// RunHook runs hook r in place of the client command args and returns its
// execution. A sync hook runs now: the caller holds the keyspace lock
// (inMulti: EXEC's). The others run on the registration's worker while the
// client waits.
func (g *Gears) RunHook(ctx context.Context, r *Registration, args [][]byte, inMulti bool) *Execution {
	link := &Link{Args: args, hook: r}
	if r.Mode == "sync" {
		return g.runSync(r, args, Origin{Link: link, NoAsync: inMulti})
	}
	if e, _ := g.runCalled(ctx, r, args, link); e != nil {
		return e
	}
	e := g.newRegExecution(r)
	e.finishWith(nil, "hook registration was removed")
	return e
}

// HookReply turns a hook's execution into the command's reply (RESP):
// its only result, or its first error.
func HookReply(e *Execution) []byte {
	_, errs, _ := e.Counts()
	if len(errs) > 0 {
		return errorReply(oneLine(errs[0]))
	}
	reply := e.Reply()
	if len(reply) < 4 {
		return errorReply("Command hook must return exactly one result")
	}
	res, n, err := abi.Decode(reply[4:])
	if err != nil || len(res.Elems) != 1 {
		return errorReply("Command hook must return exactly one result")
	}
	body := reply[4 : 4+n]
	hdr := strings.Index(string(body), "\r\n") + 2
	return body[hdr:]
}

func oneLine(s string) string {
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// callNext serves call_next(*args) inside a hook: the next hook of the
// chain, else the real command.
func (s *Session) callNext(raw [][]byte) []byte {
	e := s.current
	if e == nil || e.link == nil || e.link.hook == nil {
		return errorReply("Can not get CommandHook ctx")
	}
	h := e.link.hook
	args := append([][]byte{[]byte(h.Hook)}, raw...)
	defer s.lockServing()()
	if next := s.g.hookAfter(h.Hook, h, args); next != nil {
		ne := s.g.runSync(next, args, Origin{Caller: s, Link: &Link{Args: args, hook: next}, NoAsync: e.noAsync})
		return HookReply(ne)
	}
	return s.g.backend.Execute(s, args)
}

// getCommand serves get_command(): the linked client command's arguments.
func (s *Session) getCommand() []byte {
	e := s.current
	if e == nil || e.link == nil {
		return errorReply("Can not get command ctx")
	}
	return abi.Array(bulks(e.link.Args)...).Encode()
}

// overrideReply serves override_reply(value): reply is the value as RESP.
func (s *Session) overrideReply(reply []byte) []byte {
	e := s.current
	if e == nil || e.link == nil || e.link.hook != nil {
		return errorReply("Can not get command ctx")
	}
	l := e.link
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.override != nil {
		return errorReply("Can only override reply once")
	}
	l.override = append([]byte(nil), reply...)
	return okReply
}
