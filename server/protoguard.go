package server

import (
	"errors"
	"io"
	"net"
	"strconv"
	"syscall"
)

// The RESP guard follows the framing of what each client sends and
// refuses, as Redis does, a bulk string longer than proto-max-bulk-len
// (512 MB) or a multibulk count above INT_MAX: the client gets
// "-ERR Protocol error: invalid bulk length" after the replies to its
// earlier commands, and the connection closes. redcon itself would wait
// for the announced bytes, holding the connection and its buffer.

const (
	protoMaxBulkLen  = 512 << 20
	protoMaxMultiLen = 1<<31 - 1
	maxHeaderLine    = 64 // longer "*"/"$" lines are left to redcon to refuse
)

type guardListener struct{ net.Listener }

func (l guardListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &guardConn{Conn: c}, nil
}

// guard states
const (
	gsStart    = iota // at the start of a command
	gsInline          // inside an inline command line
	gsMulti           // reading a "*<count>" line
	gsBulkHead        // expecting "$<len>"
	gsBulkLine        // reading a "$<len>" line
	gsBulkBody        // passing a bulk's bytes and CRLF
	gsOff             // malformed in a way redcon refuses itself
)

type guardConn struct {
	net.Conn
	st    int
	line  []byte
	bulks int64 // bulk strings left in the multibulk
	skip  int64 // bytes of the current bulk (+CRLF) left
	fail  string
}

// SyscallConn exposes the socket (CLIENT LIST's fd, hang-up detection).
func (c *guardConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errors.New("not a socket")
}

func (c *guardConn) Read(p []byte) (int, error) {
	if c.fail != "" {
		return c.refuse()
	}
	n, err := c.Conn.Read(p)
	if c.st == gsOff || n == 0 {
		return n, err
	}
	if k := c.scan(p[:n]); c.fail != "" {
		if k == 0 {
			return c.refuse()
		}
		return k, nil // the commands before it first; refuse on the next read
	}
	return n, err
}

func (c *guardConn) refuse() (int, error) {
	c.Conn.Write([]byte("-ERR Protocol error: " + c.fail + "\r\n"))
	return 0, io.EOF
}

// scan advances the framing over b; on a violation it sets c.fail and
// returns the offset of the command that carries it.
func (c *guardConn) scan(b []byte) int {
	cmdStart := 0
	for i := 0; i < len(b); i++ {
		switch c.st {
		case gsStart:
			cmdStart = i
			if b[i] == '*' {
				c.st, c.line = gsMulti, c.line[:0]
			} else {
				c.st = gsInline
				i-- // this byte may already end the line
			}
		case gsInline:
			if b[i] == '\n' {
				c.st = gsStart
			}
		case gsMulti, gsBulkLine:
			if b[i] != '\n' {
				if c.line = append(c.line, b[i]); len(c.line) > maxHeaderLine {
					c.st = gsOff
					return len(b)
				}
				continue
			}
			v, err := strconv.ParseInt(string(trimCR(c.line)), 10, 64)
			if err != nil {
				c.st = gsOff
				return len(b)
			}
			if c.st == gsMulti {
				if v > protoMaxMultiLen {
					c.fail = "invalid multibulk length"
					return cmdStart
				}
				c.bulks = v
				c.st = gsBulkHead
				if v <= 0 {
					c.st = gsStart
				}
				continue
			}
			if v > protoMaxBulkLen {
				c.fail = "invalid bulk length"
				return cmdStart
			}
			if v < 0 {
				c.st = gsOff
				return len(b)
			}
			c.skip, c.st = v+2, gsBulkBody
		case gsBulkHead:
			if b[i] != '$' {
				c.st = gsOff
				return len(b)
			}
			c.st, c.line = gsBulkLine, c.line[:0]
		case gsBulkBody:
			take := min(c.skip, int64(len(b)-i))
			c.skip -= take
			i += int(take) - 1
			if c.skip == 0 {
				if c.bulks--; c.bulks == 0 {
					c.st = gsStart
				} else {
					c.st = gsBulkHead
				}
			}
		}
	}
	return len(b)
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}
