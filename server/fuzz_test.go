package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzRESP feeds arbitrary bytes to a live server connection; afterwards
// the server must still answer PING on a fresh connection.
func FuzzRESP(f *testing.F) {
	for _, seed := range []string{
		"*1\r\n$4\r\nPING\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n",
		"PING\r\nset a b\r\nget a\r\n",
		"*1\r\n$x\r\n",
		"*-1\r\n",
		"*2\r\n$9\r\nsubscribe\r\n$1\r\nc\r\n*3\r\n$7\r\npublish\r\n$1\r\nc\r\n$1\r\nm\r\n",
		"*1\r\n$7\r\nmonitor\r\n*1\r\n$4\r\nping\r\n",
		"*2\r\n$5\r\nhello\r\n$1\r\n3\r\n*2\r\n$9\r\nsubscribe\r\n$1\r\nx\r\n",
		"*3\r\n$5\r\nblpop\r\n$1\r\nl\r\n$3\r\n0.1\r\n",
		"*1\r\n$5\r\nmulti\r\n*1\r\n$4\r\nexec\r\n",
		"*99999999999\r\n",
		"$5\r\nhello\r\n",
		"\"unbalanced\r\n",
		"*2\r\n$4\r\ninfo\r\n$3\r\nall\r\n*1\r\n$7\r\ncommand\r\n",
	} {
		f.Add([]byte(seed))
	}
	s := startServer(f)
	addr := s.Addr().String()
	f.Fuzz(func(t *testing.T, data []byte) {
		lower := bytes.ToLower(data)
		for _, bad := range []string{"shutdown", "config", "client", "rg.", "auth", "debug"} {
			if bytes.Contains(lower, []byte(bad)) {
				t.Skip("state-changing admin command")
			}
		}
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(200 * time.Millisecond))
		c.Write(data)
		c.(*net.TCPConn).CloseWrite() // EOF: the server closes after the input
		io.Copy(io.Discard, c)
		c.Close()
		if got := pingFresh(t, addr); got != "+PONG\r\n" {
			t.Fatalf("after %q the server answers PING with %q", data, got)
		}
	})
}

func pingFresh(t testing.TB, addr string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, "*1\r\n$4\r\nPING\r\n")
	line, _ := bufio.NewReader(c).ReadString('\n')
	return line
}

func TestProtocolErrors(t *testing.T) {
	s := startServer(t)
	other := dial(t, s)
	runSteps(t, other, []step{{"set a b", "OK"}})
	for _, bad := range []string{"*1\r\n$x\r\n", "*x\r\n", "*1\r\n:1\r\n"} {
		out := sendUntilClosed(t, s.Addr().String(), bad)
		if !strings.HasPrefix(string(out), "-ERR Protocol error: ") || !strings.HasSuffix(string(out), "\r\n") {
			t.Errorf("%q: got %q", bad, out)
		}
	}
	runSteps(t, other, []step{{"get a", `"b"`}})
	if got := pingFresh(t, s.Addr().String()); got != "+PONG\r\n" {
		t.Errorf("ping: %q", got)
	}
}

func TestInlineCommands(t *testing.T) {
	s := startServer(t)
	c, err := net.Dial("tcp", s.Addr().String())
	must(t, err)
	defer c.Close()
	io.WriteString(c, "PING\r\nset a \"b c\"\r\nget a\r\nPING hi\n")
	got := readReplies(t, c, 4)
	if want := `PONG OK "b c" "hi"`; strings.Join(got, " ") != want {
		t.Errorf("inline: %v, want %s", got, want)
	}
}

// TestProtocolLimits: a bulk over proto-max-bulk-len or a multibulk count
// over INT_MAX is refused as Redis 7 refuses it, after the replies to the
// commands before it; large bulks within the limit, split across writes,
// still pass.
func TestProtocolLimits(t *testing.T) {
	s := startServer(t)
	for bad, want := range map[string]string{
		"PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$600000000\r\n": "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n",
		"*3000000000\r\n":                          "-ERR Protocol error: invalid multibulk length\r\n",
		"*1\r\n$4\r\nPING\r\n*1\r\n$536870913\r\n": "+PONG\r\n-ERR Protocol error: invalid bulk length\r\n",
	} {
		if out := sendUntilClosed(t, s.Addr().String(), bad); string(out) != want {
			t.Errorf("%q: got %q, want %q", bad, out, want)
		}
	}
	// a 300 KB value written in pieces (headers split mid-line too)
	c, err := net.Dial("tcp", s.Addr().String())
	must(t, err)
	defer c.Close()
	val := strings.Repeat("x", 300<<10)
	msg := "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$" + strconv.Itoa(len(val)) + "\r\n" + val + "\r\nPING\r\n*2\r\n$6\r\nSTRLEN\r\n$3\r\nbig\r\n"
	for i := 0; i < len(msg); i += 7001 {
		io.WriteString(c, msg[i:min(i+7001, len(msg))])
	}
	got := readReplies(t, c, 3)
	if want := "OK PONG (integer) 307200"; strings.Join(got, " ") != want {
		t.Errorf("split large bulk: %v, want %s", got, want)
	}
}

// readReplies reads n rendered replies from a raw connection.
func readReplies(t *testing.T, c net.Conn, n int) []string {
	t.Helper()
	rd := bufio.NewReader(c)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got []string
	for i := 0; i < n; i++ {
		r, err := readReply(rd)
		must(t, err)
		got = append(got, r)
	}
	return got
}

// sendUntilClosed writes input on a fresh connection and returns all the
// server sends until it closes the connection.
func sendUntilClosed(t *testing.T, addr, input string) []byte {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	must(t, err)
	defer c.Close()
	io.WriteString(c, input)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	out, _ := io.ReadAll(c)
	return out
}
