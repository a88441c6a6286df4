package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// connFlags are the connection options every command takes.
type connFlags struct {
	host, user, password string
	port                 int
}

func (c *connFlags) add(fs *flag.FlagSet) {
	fs.StringVar(&c.host, "host", "localhost", "Redis host to connect to")
	fs.IntVar(&c.port, "port", 6379, "Redis port to connect to")
	fs.StringVar(&c.user, "user", "", "Redis ACL user")
	fs.StringVar(&c.password, "password", "", "Redis password (default $REDISCLI_AUTH)")
}

func (c *connFlags) addr() string { return net.JoinHostPort(c.host, strconv.Itoa(c.port)) }

// redisError is an error reply.
type redisError string

func (e redisError) Error() string { return string(e) }

// conn is a minimal RESP2 client: gears-cli needs byte-exact bulk
// arguments, upload progress and no dependencies.
type conn struct {
	nc net.Conn
	r  *bufio.Reader
	w  *bufio.Writer
}

// dial connects, authenticates and pings, with errors that say what to do.
func (c *connFlags) dial() (*conn, error) {
	nc, err := net.DialTimeout("tcp", c.addr(), 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to %s (%v): is the server running? Pass --host and --port", c.addr(), err)
	}
	cn := &conn{nc: nc, r: bufio.NewReaderSize(nc, 64<<10), w: bufio.NewWriterSize(nc, 64<<10)}
	pass := c.password
	if pass == "" {
		pass = os.Getenv("REDISCLI_AUTH")
	}
	if pass != "" {
		args := []string{"AUTH", pass}
		if c.user != "" {
			args = []string{"AUTH", c.user, pass}
		}
		if _, err := cn.do(args...); err != nil {
			cn.close()
			return nil, fmt.Errorf("authentication failed (%v): check --user and --password", err)
		}
	}
	if _, err := cn.do("PING"); err != nil {
		cn.close()
		if strings.HasPrefix(err.Error(), "NOAUTH") {
			return nil, fmt.Errorf("%s needs a password: pass --password (or set REDISCLI_AUTH)", c.addr())
		}
		return nil, fmt.Errorf("cannot talk to %s: %v", c.addr(), err)
	}
	return cn, nil
}

func (cn *conn) close() { cn.nc.Close() }

// do sends a command of strings and reads the reply.
func (cn *conn) do(args ...string) (any, error) {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	return cn.doBytes(b, nil)
}

// doBytes sends a command and reads the reply; p, if set, hears how many
// bytes were written.
func (cn *conn) doBytes(args [][]byte, p *progress) (any, error) {
	if err := cn.write(args, p); err != nil {
		return nil, err
	}
	v, err := cn.read()
	if err != nil {
		return nil, err
	}
	if e, ok := v.(redisError); ok {
		return nil, e
	}
	return v, nil
}

func (cn *conn) write(args [][]byte, p *progress) error {
	var hdr []byte
	hdr = fmt.Appendf(hdr, "*%d\r\n", len(args))
	if _, err := cn.w.Write(hdr); err != nil {
		return err
	}
	for _, a := range args {
		if _, err := fmt.Fprintf(cn.w, "$%d\r\n", len(a)); err != nil {
			return err
		}
		for off := 0; off < len(a); {
			n := min(len(a)-off, 256<<10)
			if _, err := cn.w.Write(a[off : off+n]); err != nil {
				return fmt.Errorf("sending to the server: %w", err)
			}
			off += n
			p.add(int64(n))
		}
		if _, err := cn.w.WriteString("\r\n"); err != nil {
			return err
		}
	}
	err := cn.w.Flush()
	p.done()
	return err
}

// read parses one RESP2 reply: string (simple), []byte (bulk), int64,
// []any, nil or redisError.
func (cn *conn) read() (any, error) {
	line, err := cn.r.ReadString('\n')
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("the server closed the connection")
		}
		return nil, err
	}
	line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
	if line == "" {
		return nil, errors.New("protocol error: empty line")
	}
	switch line[0] {
	case '+':
		return line[1:], nil
	case '-':
		return redisError(line[1:]), nil
	case ':':
		return strconv.ParseInt(line[1:], 10, 64)
	case '$':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		b := make([]byte, n+2)
		if _, err := io.ReadFull(cn.r, b); err != nil {
			return nil, err
		}
		return b[:n], nil
	case '*':
		n, err := strconv.Atoi(line[1:])
		if err != nil || n < 0 {
			return nil, err
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = cn.read(); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("protocol error: %q", line)
}

// str renders a reply value as text.
func str(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case []byte:
		return string(x)
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case redisError:
		return string(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = str(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return fmt.Sprint(v)
}
