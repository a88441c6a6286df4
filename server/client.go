package server

import (
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tidwall/redcon"

	"github.com/wasmgears/wasmgears/host"
)

// Client is one connection's state.
type Client struct {
	s       *Server
	conn    redcon.Conn
	ID      int64
	Addr    string
	Created time.Time

	mu      sync.Mutex // guards the fields CLIENT LIST reads from other goroutines
	Name    string
	LibName string
	LibVer  string

	DB    int
	Proto int
	auth  bool

	w               Writer
	lastActive      atomic.Int64
	lastCmd         string
	killed          atomic.Bool
	closeAfterReply bool
	done            chan struct{}

	// lockHeld: this is a gears session's client and its commands run
	// under the keyspace lock the session already holds.
	lockHeld bool
	session  *host.Session
	// keysNext: the next KeysReader batch, read ahead (gears_prefetch.go).
	keysNext *keysPrefetch
	// link: the running command is watched by KeysReader commands=.
	link *host.Link
	// inExec: EXEC is running the client's queued commands.
	inExec bool

	multi      *multiState
	watched    []waitKey
	watchDirty atomic.Bool
	// subscribed is the number of pub/sub channels+patterns (RESP2 sub mode).
	subscribed atomic.Int64

	// async is set once the client subscribes or monitors: its replies then
	// go through an output queue that other goroutines push to (pubsub.go).
	async     atomic.Pointer[clientAsync]
	closeOnce sync.Once
	// snap and last mirror db/proto/multi and the last command for CLIENT
	// LIST on other goroutines (set by an afterCommand hook, cmd_client.go).
	snap atomic.Uint64
	last atomic.Pointer[Command]
}

func newClient(s *Server, conn redcon.Conn) *Client {
	c := &Client{s: s, conn: conn, ID: s.nextID.Add(1), Addr: conn.RemoteAddr(), Created: time.Now(), Proto: 2, done: make(chan struct{})}
	c.w.Proto = 2
	c.lastActive.Store(time.Now().UnixMilli())
	return c
}

func (c *Client) authenticated() bool {
	return c.auth || c.s.cfg.Get("requirepass") == ""
}

// SetProto switches the client between RESP2 and RESP3.
func (c *Client) SetProto(p int) {
	c.Proto = p
	c.w.Proto = p
}

// Kill closes the client's connection from another goroutine.
func (c *Client) Kill() {
	if c.killed.CompareAndSwap(false, true) {
		c.conn.NetConn().Close()
		c.close()
	}
}

func (c *Client) close() {
	// Kill (another goroutine) and the connection's own close may race.
	c.closeOnce.Do(func() { close(c.done) })
}

// wait blocks until w is signalled (true), the deadline passes or the
// client goes away (false).
func (c *Client) wait(w *waiter, deadline time.Time) bool {
	var tc <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return false
		}
		t := time.NewTimer(d)
		defer t.Stop()
		tc = t.C
	}
	var gone <-chan struct{}
	if c.conn != nil {
		ch, stop := watchHangup(c.conn.NetConn())
		defer stop()
		gone = ch
	}
	select {
	case <-w.ch:
		return true
	case <-tc:
		return false
	case <-c.done:
		return false
	case <-gone: // the client hung up while blocked: free it, as Redis does
		c.Kill()
		return false
	case <-c.s.shutdownc:
		return false
	}
}

// contextError returns the error for a command that the client's state
// forbids (RESP2 subscriber mode).
func (c *Client) contextError(cmd *Command) string {
	if c.Proto < 3 && c.subscribed.Load() > 0 && !subModeAllowed[cmd.Name] {
		return fmt.Sprintf("ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context", cmd.FullName())
	}
	return ""
}

var subModeAllowed = map[string]bool{
	"subscribe": true, "psubscribe": true, "ssubscribe": true, "unsubscribe": true,
	"punsubscribe": true, "sunsubscribe": true, "ping": true, "quit": true, "reset": true,
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// Clients returns a snapshot of the connected clients.
func (s *Server) Clients() []*Client {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	out := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	return out
}
