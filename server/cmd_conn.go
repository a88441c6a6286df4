package server

import (
	"crypto/subtle"
	"strconv"
)

// Connection commands: PING ECHO SELECT QUIT RESET AUTH HELLO, and the
// transaction commands' table rows.

type pingCmd struct {
	msg    []byte
	hasMsg bool
}

func (p pingCmd) Run(c *Ctx) {
	if c.C.Proto < 3 && c.C.subscribed.Load() > 0 {
		c.W.Array(2)
		c.W.BulkString("pong")
		if p.hasMsg {
			c.W.Bulk(p.msg)
		} else {
			c.W.BulkString("")
		}
		return
	}
	if p.hasMsg {
		c.W.Bulk(p.msg)
		return
	}
	c.W.Simple("PONG")
}

type selectCmd struct{ db int }

func parseSelect(a [][]byte) (Runner, error) {
	n, err := strconv.Atoi(string(a[1]))
	if err != nil {
		return nil, errNotInteger
	}
	return selectCmd{n}, nil
}

func (s selectCmd) Run(c *Ctx) {
	if s.db < 0 || s.db >= 16 {
		c.W.Error("ERR DB index is out of range")
		return
	}
	c.C.DB = s.db
	c.W.OK()
}

type authCmd struct{ user, pass []byte }

func parseAuth(a [][]byte) (Runner, error) {
	if len(a) == 3 {
		return authCmd{a[1], a[2]}, nil
	}
	if len(a) != 2 {
		return nil, errSyntax
	}
	return authCmd{nil, a[1]}, nil
}

// check verifies a password; it returns the error text or "".
func (a authCmd) check(s *Server) string {
	want := s.cfg.Get("requirepass")
	if a.user != nil && string(a.user) != "default" {
		return "WRONGPASS invalid username-password pair or user is disabled."
	}
	if want == "" {
		if a.user == nil {
			return "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"
		}
		return ""
	}
	if subtle.ConstantTimeCompare([]byte(want), a.pass) != 1 {
		return "WRONGPASS invalid username-password pair or user is disabled."
	}
	return ""
}

func (a authCmd) Run(c *Ctx) {
	if msg := a.check(c.S); msg != "" {
		c.W.Error(msg)
		return
	}
	c.C.auth = true
	c.W.OK()
}

type helloCmd struct {
	proto   int
	auth    *authCmd
	setname []byte
}

func parseHello(a [][]byte) (Runner, error) {
	h := helloCmd{}
	p := newArgp(a, 1)
	if p.more() {
		v, err := strconv.Atoi(string(p.next()))
		if err != nil {
			return nil, cmdError("ERR Protocol version is not an integer or out of range")
		}
		h.proto = v
	}
	for p.more() {
		switch {
		case p.is("AUTH"):
			if p.left() < 2 {
				return nil, cmdError("ERR Syntax error in HELLO option 'auth'")
			}
			h.auth = &authCmd{p.next(), p.next()}
		case p.is("SETNAME"):
			if !p.more() {
				return nil, cmdError("ERR Syntax error in HELLO option 'setname'")
			}
			h.setname = p.next()
		default:
			return nil, cmdError("ERR Syntax error in HELLO option '" + string(p.peek()) + "'")
		}
	}
	return h, nil
}

func (h helloCmd) Run(c *Ctx) {
	if h.proto != 0 && (h.proto < 2 || h.proto > 3) {
		c.W.Error("NOPROTO unsupported protocol version")
		return
	}
	if h.auth != nil {
		if msg := h.auth.check(c.S); msg != "" {
			c.W.Error(msg)
			return
		}
		c.C.auth = true
	}
	if !c.C.authenticated() {
		c.W.Error("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	if h.setname != nil {
		if !validClientName(h.setname) {
			c.W.Error("ERR Client names cannot contain spaces, newlines or special characters.")
			return
		}
		c.C.mu.Lock()
		c.C.Name = string(h.setname)
		c.C.mu.Unlock()
	}
	if h.proto != 0 {
		c.C.SetProto(h.proto)
	}
	w := c.W
	w.Map(7)
	w.BulkString("server")
	w.BulkString("redis")
	w.BulkString("version")
	w.BulkString(RedisVersion)
	w.BulkString("proto")
	w.Int(int64(c.C.Proto))
	w.BulkString("id")
	w.Int(c.C.ID)
	w.BulkString("mode")
	w.BulkString("standalone")
	w.BulkString("role")
	w.BulkString("master")
	w.BulkString("modules")
	w.Array(0)
}

// RedisVersion is the Redis version wasmgears reports (the feature level
// it implements); Version is wasmgears' own.
const RedisVersion = "7.0.15"

// Version is set by the build (-ldflags -X).
var Version = "0.1.0-dev"

func validClientName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

type resetCmd struct{}

func (resetCmd) Run(c *Ctx) {
	cl := c.C
	cl.multi = nil
	c.S.unwatch(cl)
	cl.DB = 0
	cl.SetProto(2)
	cl.auth = false
	cl.mu.Lock()
	cl.Name = ""
	cl.mu.Unlock()
	for _, f := range resetHooks {
		f(c)
	}
	c.W.Simple("RESET")
}

// resetHooks let other features (pub/sub, monitor) clear their state on RESET.
var resetHooks []func(c *Ctx)

func init() {
	const g = "connection"
	register(
		&Command{Name: "ping", Arity: -1, Flags: FlagFast, Group: g, Summary: "Returns the server's liveliness response.", Complexity: "O(1)",
			Args: []Arg{{Name: "message", Type: ArgString, Optional: true}},
			Parse: func(a [][]byte) (Runner, error) {
				if len(a) > 2 {
					return nil, cmdError("ERR wrong number of arguments for 'ping' command")
				}
				if len(a) == 2 {
					return pingCmd{a[1], true}, nil
				}
				return pingCmd{}, nil
			}},
		&Command{Name: "echo", Arity: 2, Flags: FlagFast, Group: g, Summary: "Returns the given string.", Complexity: "O(1)",
			Args: []Arg{strArg("message")}, Parse: simple(func(c *Ctx, a [][]byte) { c.W.Bulk(a[1]) })},
		&Command{Name: "select", Arity: 2, Flags: FlagLoading | FlagStale | FlagFast, Group: g, Summary: "Changes the selected database.", Complexity: "O(1)",
			Args: []Arg{intArg("index")}, Parse: parseSelect},
		&Command{Name: "quit", Arity: -1, Flags: FlagNoAuth | FlagLoading | FlagStale | FlagFast | FlagAllowBusy, Group: g, Summary: "Closes the connection.", Complexity: "O(1)",
			Parse: simple(func(c *Ctx, a [][]byte) { c.W.OK(); c.C.closeAfterReply = true })},
		&Command{Name: "reset", Arity: 1, Flags: FlagNoAuth | FlagLoading | FlagStale | FlagFast | FlagNoScript, Group: g, Since: "6.2.0",
			Summary: "Resets the connection.", Complexity: "O(1)", Parse: simple(func(c *Ctx, a [][]byte) { resetCmd{}.Run(c) })},
		&Command{Name: "auth", Arity: -2, Flags: FlagNoAuth | FlagLoading | FlagStale | FlagFast | FlagNoScript | FlagAllowBusy, Group: g,
			Summary: "Authenticates the connection.", Complexity: "O(N) where N is the number of passwords defined for the user",
			Args: []Arg{{Name: "username", Type: ArgString, Optional: true}, strArg("password")}, Parse: parseAuth},
		&Command{Name: "hello", Arity: -1, Flags: FlagNoAuth | FlagLoading | FlagStale | FlagFast | FlagNoScript | FlagAllowBusy, Group: g, Since: "6.0.0",
			Summary: "Handshakes with the Redis server.", Complexity: "O(1)",
			Args: []Arg{{Name: "arguments", Type: ArgBlock, Optional: true, Args: []Arg{intArg("protover"),
				{Name: "auth", Type: ArgBlock, Token: "AUTH", Optional: true, Args: []Arg{strArg("username"), strArg("password")}},
				{Name: "clientname", Type: ArgString, Token: "SETNAME", Optional: true}}}}, Parse: parseHello},
	)
	const t = "transactions"
	register(
		&Command{Name: "multi", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy, Group: t, Since: "1.2.0",
			Summary: "Starts a transaction.", Complexity: "O(1)", Parse: func([][]byte) (Runner, error) { return multiCmd{}, nil }},
		&Command{Name: "exec", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagSkipMonitor, Group: t, Since: "1.2.0",
			Summary: "Executes all commands in a transaction.", Complexity: "Depends on commands in the transaction", Parse: func([][]byte) (Runner, error) { return execCmd{}, nil }},
		&Command{Name: "discard", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy, Group: t, Since: "2.0.0",
			Summary: "Discards a transaction.", Complexity: "O(N), when N is the number of queued commands", Parse: func([][]byte) (Runner, error) { return discardCmd{}, nil }},
		&Command{Name: "watch", Arity: -2, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy, FirstKey: 1, LastKey: -1, Step: 1, Group: t, Since: "2.2.0",
			Summary: "Monitors changes to keys to determine the execution of a transaction.", Complexity: "O(1) for every key.",
			Args: []Arg{{Name: "key", Type: ArgKey, Multiple: true}}, Parse: func(a [][]byte) (Runner, error) {
				keys := make([][]byte, len(a)-1)
				for i, k := range a[1:] {
					keys[i] = append([]byte(nil), k...)
				}
				return watchCmd{keys}, nil
			}},
		&Command{Name: "unwatch", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast | FlagAllowBusy, Group: t, Since: "2.2.0",
			Summary: "Forgets about watched keys of a transaction.", Complexity: "O(1)", Parse: func([][]byte) (Runner, error) { return unwatchCmd{}, nil }},
	)
}
