package server

import (
	"strconv"
	"time"
)

// MONITOR streams every command the server runs to monitor clients, in
// Redis' format: +1700000000.123456 [0 127.0.0.1:1234] "set" "k" "v".

type monitorCmd struct{}

func (monitorCmd) Run(c *Ctx) {
	if c.C.conn == nil {
		c.W.Error("ERR MONITOR is not allowed here")
		return
	}
	if c.C.multi != nil || c.InMulti {
		c.W.Error("ERR MONITOR isn't allowed for DENY BLOCKING client")
		return
	}
	a := c.C.enterAsync()
	c.S.pubsub().setMonitor(a, true)
	c.W.OK()
}

// feedMonitors formats one command and queues it for every monitor.
func (s *Server) feedMonitors(ps *pubsub, c *Client, cmd *Command, args [][]byte) {
	if cmd.Flags&(FlagSkipMonitor|FlagAdmin) != 0 {
		return
	}
	now := time.Now()
	b := make([]byte, 0, 64)
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := now.Nanosecond() / 1000
	us6 := strconv.Itoa(us + 1000000) // zero padded to 6 digits
	b = append(b, us6[1:]...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(c.DB), 10)
	b = append(b, ' ')
	b = append(b, c.Addr...)
	b = append(b, ']')
	redact := cmd.Name == "auth" || cmd.Name == "hello" || cmd.Name == "migrate"
	for i, a := range args {
		b = append(b, ' ')
		if redact && i > 0 {
			b = append(b, `"(redacted)"`...)
			continue
		}
		b = appendRepr(b, a)
	}
	b = append(b, '\r', '\n')
	ps.mu.RLock()
	mons := make([]*clientAsync, 0, len(ps.monitors))
	for a := range ps.monitors {
		mons = append(mons, a)
	}
	ps.mu.RUnlock()
	for _, a := range mons {
		a.push(b)
	}
}

// appendRepr quotes a like Redis' sdscatrepr.
func appendRepr(b, a []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, ch := range a {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f {
				b = append(b, ch)
			} else {
				b = append(b, '\\', 'x', hex[ch>>4], hex[ch&15])
			}
		}
	}
	return append(b, '"')
}

func init() {
	register(&Command{Name: "monitor", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Group: "server",
		Summary: "Listens for all requests received by the server in real-time.", Complexity: "",
		Parse: func([][]byte) (Runner, error) { return monitorCmd{}, nil }})
}
