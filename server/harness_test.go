package server

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
)

// startServer runs an in-process server on a free loopback port with its
// own data dir; it is shut down when the test ends.
func startServer(t testing.TB, kv ...string) *Server {
	t.Helper()
	cfg := NewConfig()
	must(t, cfg.Set("port", "0"))
	must(t, cfg.Set("dir", t.TempDir()))
	must(t, cfg.Set("metrics-addr", ""))
	// one compilation cache for every test server: compiling python.wasm
	// takes ~2 s of CPU, loading it from the cache ~65 ms
	must(t, cfg.Set("wasm-cache-dir", filepath.Join(os.TempDir(), "wasmgears-test-wasm-cache")))
	for i := 0; i+1 < len(kv); i += 2 {
		must(t, cfg.Set(kv[i], kv[i+1]))
	}
	s, err := New(cfg, nil)
	must(t, err)
	must(t, s.Listen())
	go s.Serve()
	t.Cleanup(func() { s.Shutdown() })
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// conn is a minimal RESP client for tests: it sends commands written as
// text ("set name alice nx ex 10"; double quotes group words) and renders
// replies compactly: OK, (integer) 5, "bulk", (nil), [a b], {k: v},
// (double) 1.5, (true), !ERR message.
type conn struct {
	t  testing.TB
	c  net.Conn
	rd *bufio.Reader
}

func dial(t testing.TB, s *Server) *conn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr().String())
	must(t, err)
	t.Cleanup(func() { c.Close() })
	return &conn{t: t, c: c, rd: bufio.NewReader(c)}
}

// parallel runs fn on n new connections at once and waits for all.
func parallel(t testing.TB, s *Server, n int, fn func(i int, c *conn)) {
	t.Helper()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(i, dial(t, s))
		}()
	}
	wg.Wait()
}

// splitCmd splits a command line into words; "..." groups, \" escapes.
func splitCmd(line string) []string {
	var out []string
	var cur strings.Builder
	inq, have := false, false
	for i := 0; i < len(line); i++ {
		ch := line[i]
		switch {
		case ch == '\\' && inq && i+1 < len(line):
			i++
			switch line[i] {
			case 'n':
				cur.WriteByte('\n')
			case 'r':
				cur.WriteByte('\r')
			case 'x':
				n, _ := strconv.ParseUint(line[i+1:i+3], 16, 8)
				cur.WriteByte(byte(n))
				i += 2
			default:
				cur.WriteByte(line[i])
			}
		case ch == '"':
			inq = !inq
			have = true
		case unicode.IsSpace(rune(ch)) && !inq:
			if have {
				out = append(out, cur.String())
				cur.Reset()
				have = false
			}
		default:
			cur.WriteByte(ch)
			have = true
		}
	}
	if have {
		out = append(out, cur.String())
	}
	return out
}

// send writes one command without reading the reply.
func (c *conn) send(args ...string) {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := io.WriteString(c.c, b.String()); err != nil {
		c.t.Fatal(err)
	}
}

// do sends a text command and returns the rendered reply.
func (c *conn) do(line string) string {
	c.t.Helper()
	c.send(splitCmd(line)...)
	return c.read()
}

func (c *conn) read() string {
	c.t.Helper()
	c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	s, err := readReply(c.rd)
	if err != nil {
		c.t.Fatalf("read reply: %v", err)
	}
	return s
}

func readReply(rd *bufio.Reader) (string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("empty line")
	}
	body := line[1:]
	agg := func(n int, open, close string, pairs bool) (string, error) {
		parts := make([]string, 0, n)
		for i := 0; i < n; i++ {
			k, err := readReply(rd)
			if err != nil {
				return "", err
			}
			if pairs {
				v, err := readReply(rd)
				if err != nil {
					return "", err
				}
				k += ": " + v
			}
			parts = append(parts, k)
		}
		return open + strings.Join(parts, " ") + close, nil
	}
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return "!" + body, nil
	case ':':
		return "(integer) " + body, nil
	case ',':
		return "(double) " + body, nil
	case '#':
		return map[string]string{"t": "(true)", "f": "(false)"}[body], nil
	case '_':
		return "(nil)", nil
	case '$', '=':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return "(nil)", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(rd, buf); err != nil {
			return "", err
		}
		s := string(buf[:n])
		if line[0] == '=' {
			s = s[4:]
		}
		return strconv.Quote(s), nil
	case '*', '~', '>':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return "(nil)", nil
		}
		return agg(n, "[", "]", false)
	case '%':
		n, _ := strconv.Atoi(body)
		return agg(n, "{", "}", true)
	}
	return "", fmt.Errorf("bad reply line %q", line)
}

// step is one row of a transcript table: a command and its rendered reply.
// A want ending in "*" matches by prefix.
type step struct{ cmd, want string }

func runSteps(t *testing.T, c *conn, steps []step) {
	t.Helper()
	for _, s := range steps {
		got := c.do(s.cmd)
		if w, ok := strings.CutSuffix(s.want, "*"); ok && len(s.want) > 1 {
			if !strings.HasPrefix(got, w) {
				t.Errorf("%s\n got: %s\nwant: %s", s.cmd, got, s.want)
			}
			continue
		}
		if got != s.want {
			t.Errorf("%s\n got: %s\nwant: %s", s.cmd, got, s.want)
		}
	}
}
