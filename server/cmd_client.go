package server

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// CLIENT subcommands.

// snap packs what CLIENT LIST shows of another client: db, protocol and
// MULTI state, refreshed after each of its commands (afterCommand hook), so
// other goroutines read it without racing the client's own goroutine.
const (
	snapValid = 1 << 12
	snapMulti = 1 << 13
)

func packSnap(c *Client) uint64 {
	v := uint64(c.DB&0xff) | uint64(c.Proto&0xf)<<8 | snapValid
	if c.multi != nil {
		v |= snapMulti
	}
	return v
}

// db is the client's selected database as seen from any goroutine.
func (c *Client) db() int {
	v := c.snap.Load()
	if v&snapValid == 0 {
		return 0
	}
	return int(v & 0xff)
}

// proto is the client's protocol as seen from any goroutine.
func (c *Client) proto() int {
	v := c.snap.Load()
	if v&snapValid == 0 {
		return 2
	}
	return int(v >> 8 & 0xf)
}

func init() {
	initHooks = append(initHooks, func(s *Server) error {
		s.afterCommand = append(s.afterCommand, func(c *Client, cmd *Command, _ [][]byte, _ time.Duration, _ bool) {
			c.last.Store(cmd)
			if v := packSnap(c); c.snap.Load() != v {
				c.snap.Store(v)
			}
		})
		return nil
	})
}

// clientLine renders one CLIENT LIST line (without the newline). self is
// the client running CLIENT LIST/INFO, whose fields can be read directly.
func clientLine(c *Client, self *Client, selfCmd *Command) string {
	var b strings.Builder
	now := time.Now()
	laddr, fd := "", -1
	if c.conn != nil {
		if nc := c.conn.NetConn(); nc != nil {
			laddr = nc.LocalAddr().String()
			fd = connFD(nc)
		}
	}
	c.mu.Lock()
	name := c.Name
	libName, libVer := c.LibName, c.LibVer
	c.mu.Unlock()
	db, proto, multi := c.db(), c.proto(), -1
	if c.snap.Load()&snapMulti != 0 {
		multi = 0
	}
	cmd := c.last.Load()
	if c == self {
		db, proto = c.DB, c.Proto
		if c.multi != nil {
			multi = len(c.multi.cmds)
		} else {
			multi = -1
		}
		cmd = selfCmd
	}
	sub, psub, mon := 0, 0, false
	if a := c.async.Load(); a != nil {
		ps := c.s.pubsub()
		ps.mu.RLock()
		sub, psub, mon = len(a.channels), len(a.patterns), a.monitor
		ps.mu.RUnlock()
	}
	flags := ""
	if mon {
		flags += "O"
	}
	if sub+psub > 0 {
		flags += "P"
	}
	if multi >= 0 {
		flags += "x"
	}
	if c.watchDirty.Load() {
		flags += "d"
	}
	if flags == "" {
		flags = "N"
	}
	cmdName := "NULL"
	if cmd != nil {
		cmdName = cmd.Name
	}
	idle := now.UnixMilli() - c.lastActive.Load()
	fmt.Fprintf(&b, "id=%d addr=%s laddr=%s fd=%d name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=0 multi=%d",
		c.ID, c.Addr, laddr, fd, name, int64(now.Sub(c.Created).Seconds()), max(idle/1000, 0), flags, db, sub, psub, multi)
	fmt.Fprintf(&b, " qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=%s user=default redir=-1 resp=%d",
		cmdName, proto)
	if libName != "" || libVer != "" {
		fmt.Fprintf(&b, " lib-name=%s lib-ver=%s", libName, libVer)
	}
	return b.String()
}

// connFD returns the socket's file descriptor number, or -1.
func connFD(nc net.Conn) int {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	rc.Control(func(f uintptr) { fd = int(f) })
	return fd
}

// clientType is a CLIENT LIST/KILL TYPE value.
func clientTypeOK(t string) (string, bool) {
	switch strings.ToLower(t) {
	case "normal", "pubsub", "master":
		return strings.ToLower(t), true
	case "replica", "slave":
		return "replica", true
	}
	return "", false
}

func clientIsType(c *Client, t string) bool {
	pub := c.subscribed.Load() > 0
	switch t {
	case "normal":
		return !pub
	case "pubsub":
		return pub
	}
	return false
}

type clientListCmd struct {
	typ string
	ids []int64
}

func parseClientList(a [][]byte) (Runner, error) {
	var l clientListCmd
	p := newArgp(a, 2)
	for p.more() {
		switch {
		case p.left() >= 2 && p.is("TYPE"):
			t, ok := clientTypeOK(string(p.next()))
			if !ok {
				return nil, cmdError("ERR Unknown client type '" + string(a[p.i-1]) + "'")
			}
			l.typ = t
		case p.left() >= 2 && p.is("ID"):
			for p.more() {
				id, err := strconv.ParseInt(string(p.next()), 10, 64)
				if err != nil || id <= 0 {
					return nil, cmdError("ERR Invalid client ID")
				}
				l.ids = append(l.ids, id)
			}
		default:
			return nil, errSyntax
		}
	}
	return l, nil
}

func (l clientListCmd) Run(c *Ctx) {
	cls := c.S.Clients()
	sortClients(cls)
	var b strings.Builder
	for _, cl := range cls {
		if l.typ != "" && !clientIsType(cl, l.typ) {
			continue
		}
		if l.ids != nil && !containsID(l.ids, cl.ID) {
			continue
		}
		b.WriteString(clientLine(cl, c.C, c.Cmd))
		b.WriteByte('\n')
	}
	c.W.Verbatim(b.String())
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func sortClients(cls []*Client) {
	for i := 1; i < len(cls); i++ {
		for j := i; j > 0 && cls[j].ID < cls[j-1].ID; j-- {
			cls[j], cls[j-1] = cls[j-1], cls[j]
		}
	}
}

type clientKillCmd struct {
	old                   bool // CLIENT KILL addr
	id                    int64
	addr, laddr, typ, usr string
	skipme                bool
}

func parseClientKill(a [][]byte) (Runner, error) {
	k := clientKillCmd{skipme: true}
	if len(a) == 3 {
		k.old = true
		k.addr = string(a[2])
		return k, nil
	}
	p := newArgp(a, 2)
	for p.more() {
		if p.left() < 2 {
			return nil, errSyntax
		}
		opt := strings.ToLower(string(p.next()))
		v := string(p.next())
		switch opt {
		case "id":
			id, err := strconv.ParseInt(v, 10, 64)
			if err != nil || id <= 0 {
				return nil, cmdError("ERR client-id should be greater than 0")
			}
			k.id = id
		case "addr":
			k.addr = v
		case "laddr":
			k.laddr = v
		case "type":
			t, ok := clientTypeOK(v)
			if !ok {
				return nil, cmdError("ERR Unknown client type '" + v + "'")
			}
			k.typ = t
		case "user":
			k.usr = v
		case "skipme":
			switch strings.ToLower(v) {
			case "yes":
				k.skipme = true
			case "no":
				k.skipme = false
			default:
				return nil, errSyntax
			}
		default:
			return nil, errSyntax
		}
	}
	return k, nil
}

func (k clientKillCmd) matches(cl *Client) bool {
	if k.id != 0 && cl.ID != k.id {
		return false
	}
	if k.addr != "" && cl.Addr != k.addr {
		return false
	}
	if k.laddr != "" {
		if cl.conn == nil || cl.conn.NetConn().LocalAddr().String() != k.laddr {
			return false
		}
	}
	if k.typ != "" && !clientIsType(cl, k.typ) {
		return false
	}
	if k.usr != "" && k.usr != "default" {
		return false
	}
	return true
}

func (k clientKillCmd) Run(c *Ctx) {
	n := 0
	for _, cl := range c.S.Clients() {
		if !k.matches(cl) {
			continue
		}
		if cl == c.C {
			if k.skipme && !k.old {
				continue
			}
			c.C.closeAfterReply = true
		} else {
			cl.Kill()
		}
		n++
		if k.old {
			break
		}
	}
	if k.old {
		if n == 0 {
			c.W.Error("ERR No such client")
			return
		}
		c.W.OK()
		return
	}
	c.W.Int(int64(n))
}

func onOff(c *Ctx, v []byte) {
	switch strings.ToLower(string(v)) {
	case "on", "off":
		c.W.OK()
	default:
		c.W.Error("ERR syntax error")
	}
}

func init() {
	fl := FlagNoScript | FlagLoading | FlagStale
	register(&Command{Name: "client", Arity: -2, Group: "connection", Since: "2.4.0",
		Summary: "A container for client connection commands.", Complexity: "Depends on subcommand.",
		Subs: []*Command{
			{Name: "id", Arity: 2, Flags: fl, Since: "5.0.0", Summary: "Returns the unique client ID of the connection.", Complexity: "O(1)",
				Parse: simple(func(c *Ctx, a [][]byte) { c.W.Int(c.C.ID) })},
			{Name: "getname", Arity: 2, Flags: fl, Since: "2.6.9", Summary: "Returns the name of the connection.", Complexity: "O(1)",
				Parse: simple(func(c *Ctx, a [][]byte) {
					c.C.mu.Lock()
					n := c.C.Name
					c.C.mu.Unlock()
					if n == "" {
						c.W.Null()
						return
					}
					c.W.BulkString(n)
				})},
			{Name: "setname", Arity: 3, Flags: fl, Since: "2.6.9", Summary: "Sets the connection name.", Complexity: "O(1)",
				Args: []Arg{strArg("connection-name")},
				Parse: simple(func(c *Ctx, a [][]byte) {
					if !validClientName(a[2]) {
						c.W.Error("ERR Client names cannot contain spaces, newlines or special characters.")
						return
					}
					c.C.mu.Lock()
					c.C.Name = string(a[2])
					c.C.mu.Unlock()
					c.W.OK()
				})},
			{Name: "setinfo", Arity: 4, Flags: fl, Since: "7.2.0", Summary: "Sets information specific to the client or connection.", Complexity: "O(1)",
				Args: []Arg{{Name: "attr", Type: ArgOneOf, Args: []Arg{{Name: "libname", Type: ArgString, Token: "LIB-NAME"}, {Name: "libver", Type: ArgString, Token: "LIB-VER"}}}},
				Parse: simple(func(c *Ctx, a [][]byte) {
					attr := strings.ToLower(string(a[2]))
					if attr != "lib-name" && attr != "lib-ver" {
						c.W.Error("ERR Unrecognized option '" + string(a[2]) + "'")
						return
					}
					if !validClientName(a[3]) && len(a[3]) > 0 {
						c.W.Error("ERR " + attr + " cannot contain spaces, newlines or special characters.")
						return
					}
					c.C.mu.Lock()
					if attr == "lib-name" {
						c.C.LibName = string(a[3])
					} else {
						c.C.LibVer = string(a[3])
					}
					c.C.mu.Unlock()
					c.W.OK()
				})},
			{Name: "info", Arity: 2, Flags: fl, Since: "6.2.0", Summary: "Returns information about the connection.", Complexity: "O(1)",
				Parse: simple(func(c *Ctx, a [][]byte) { c.W.Verbatim(clientLine(c.C, c.C, c.Cmd) + "\n") })},
			{Name: "list", Arity: -2, Flags: FlagAdmin | fl, Since: "2.4.0", Summary: "Lists open connections.", Complexity: "O(N) where N is the number of client connections",
				Args: []Arg{{Name: "client-type", Type: ArgOneOf, Token: "TYPE", Optional: true, Args: []Arg{
					{Name: "normal", Type: ArgPureTok, Token: "NORMAL"}, {Name: "master", Type: ArgPureTok, Token: "MASTER"},
					{Name: "replica", Type: ArgPureTok, Token: "REPLICA"}, {Name: "pubsub", Type: ArgPureTok, Token: "PUBSUB"}}},
					{Name: "client-id", Type: ArgInteger, Token: "ID", Optional: true, Multiple: true}},
				Parse: parseClientList},
			{Name: "kill", Arity: -3, Flags: FlagAdmin | fl, Since: "2.4.0", Summary: "Terminates open connections.", Complexity: "O(N) where N is the number of client connections",
				Args: []Arg{{Name: "filter", Type: ArgOneOf, Args: []Arg{
					{Name: "ip:port", Type: ArgString},
					{Name: "new-format", Type: ArgOneOf, Multiple: true, Args: []Arg{
						{Name: "client-id", Type: ArgInteger, Token: "ID", Optional: true},
						{Name: "client-type", Type: ArgOneOf, Token: "TYPE", Optional: true, Args: []Arg{
							{Name: "normal", Type: ArgPureTok, Token: "NORMAL"}, {Name: "master", Type: ArgPureTok, Token: "MASTER"},
							{Name: "slave", Type: ArgPureTok, Token: "SLAVE"}, {Name: "replica", Type: ArgPureTok, Token: "REPLICA"},
							{Name: "pubsub", Type: ArgPureTok, Token: "PUBSUB"}}},
						{Name: "username", Type: ArgString, Token: "USER", Optional: true},
						{Name: "ip:port", Type: ArgString, Token: "ADDR", Optional: true},
						{Name: "ip:port", Type: ArgString, Token: "LADDR", Optional: true},
						{Name: "yes/no", Type: ArgString, Token: "SKIPME", Optional: true}}}}}},
				Parse: parseClientKill},
			{Name: "no-evict", Arity: 3, Flags: FlagAdmin | fl, Since: "7.0.0", Summary: "Sets the client eviction mode of the connection.", Complexity: "O(1)",
				Args:  []Arg{{Name: "enabled", Type: ArgOneOf, Args: []Arg{{Name: "on", Type: ArgPureTok, Token: "ON"}, {Name: "off", Type: ArgPureTok, Token: "OFF"}}}},
				Parse: simple(func(c *Ctx, a [][]byte) { onOff(c, a[2]) })},
			{Name: "no-touch", Arity: 3, Flags: fl, Since: "7.2.0", Summary: "Controls whether commands sent by the client affect the LRU/LFU of accessed keys.", Complexity: "O(1)",
				Args:  []Arg{{Name: "enabled", Type: ArgOneOf, Args: []Arg{{Name: "on", Type: ArgPureTok, Token: "ON"}, {Name: "off", Type: ArgPureTok, Token: "OFF"}}}},
				Parse: simple(func(c *Ctx, a [][]byte) { onOff(c, a[2]) })},
			{Name: "reply", Arity: 3, Flags: fl, Since: "3.2.0", Summary: "Instructs the server whether to reply to commands.", Complexity: "O(1)",
				Args: []Arg{{Name: "action", Type: ArgOneOf, Args: []Arg{{Name: "on", Type: ArgPureTok, Token: "ON"}, {Name: "off", Type: ArgPureTok, Token: "OFF"}, {Name: "skip", Type: ArgPureTok, Token: "SKIP"}}}},
				Parse: simple(func(c *Ctx, a [][]byte) {
					switch strings.ToLower(string(a[2])) {
					case "on":
						c.W.OK()
					case "off", "skip":
						c.W.Error("ERR CLIENT REPLY OFF|SKIP is not supported by wasmgears")
					default:
						c.W.Error("ERR syntax error")
					}
				})},
			{Name: "unpause", Arity: 2, Flags: FlagAdmin | fl, Since: "6.2.0", Summary: "Resumes processing commands from paused clients.", Complexity: "O(N) Where N is the number of paused clients",
				Parse: simple(func(c *Ctx, a [][]byte) { c.W.OK() })},
			{Name: "getredir", Arity: 2, Flags: fl, Since: "6.0.0", Summary: "Returns the client ID to which the connection's tracking notifications are redirected.", Complexity: "O(1)",
				Parse: simple(func(c *Ctx, a [][]byte) { c.W.Int(-1) })},
			{Name: "trackinginfo", Arity: 2, Flags: fl, Since: "6.2.0", Summary: "Returns information about server-assisted client-side caching for the connection.", Complexity: "O(1)",
				Parse: simple(func(c *Ctx, a [][]byte) {
					c.W.Map(3)
					c.W.BulkString("flags")
					c.W.Set(1)
					c.W.BulkString("off")
					c.W.BulkString("redirect")
					c.W.Int(-1)
					c.W.BulkString("prefixes")
					c.W.Array(0)
				})},
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Since: "5.0.0", Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)",
				Parse: simple(func(c *Ctx, a [][]byte) {
					writeHelp(c.W, "CLIENT", []string{
						"GETNAME", "    Return the name of the current connection.",
						"ID", "    Return the ID of the current connection.",
						"INFO", "    Return information about the current client connection.",
						"KILL <ip:port>", "    Kill connection made from <ip:port>.",
						"KILL <option> <value> [<option> <value> [...]]", "    Kill connections. Options are:",
						"    * ADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made from the specified address",
						"    * LADDR (<ip:port>|<unixsocket>:0)", "      Kill connections made to specified local address",
						"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Kill connections by type.",
						"    * USER <username>", "      Kill connections authenticated by <username>.",
						"    * SKIPME (YES|NO)", "      Skip killing current connection (default: yes).",
						"LIST [options ...]", "    Return information about client connections. Options:",
						"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)", "      Return clients of specified type.",
						"UNPAUSE", "    Stop the current client pause, resuming traffic.",
						"REPLY (ON|OFF|SKIP)", "    Control the replies sent to the current connection.",
						"SETNAME <name>", "    Assign the name <name> to the current connection.",
						"SETINFO <option> <value>", "    Set client meta attr. Options are:",
						"    * LIB-NAME: the client lib name.", "    * LIB-VER: the client lib version.",
						"TRACKINGINFO", "    Report tracking status for the current connection.",
						"NO-EVICT (ON|OFF)", "    Protect current client connection from eviction.",
						"NO-TOUCH (ON|OFF)", "    Will not touch LRU/LFU stats when this mode is on.",
					})
				})},
		}})
}
