package server

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmgears/wasmgears/storage"
)

func TestKeyCommands(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"mset a 1 b 2 c 3", "OK"},
		{"exists a b nosuch a", "(integer) 3"},
		{"touch a nosuch", "(integer) 1"},
		{"del a nosuch a", "(integer) 1"},
		{"unlink b", "(integer) 1"},
		{"del", "!ERR wrong number of arguments for 'del' command"},
		{"exists", "!ERR wrong number of arguments for 'exists' command"},
		{"type c", "string"},
		{"type nosuch", "none"},
		{"hset h f v", "(integer) 1"},
		{"sadd s m", "(integer) 1"},
		{"type h", "hash"},
		{"type s", "set"},
		{"type", "!ERR wrong number of arguments for 'type' command"},
		{"keys *", `["c" "h" "s"]`},
		{"keys [hs]", `["h" "s"]`},
		{"keys", "!ERR wrong number of arguments for 'keys' command"},
		{"dbsize", "(integer) 3"},
		{"dbsize x", "!ERR wrong number of arguments for 'dbsize' command"},
		{"scan 0", `["0" ["c" "h" "s"]]`},
		{"scan 0 match h*", `["0" ["h"]]`},
		{"scan 0 type hash", `["0" ["h"]]`},
		{"scan 0 type HASH", `["0" ["h"]]`},
		{"scan 0 type nosuchtype", `["0" []]`},
		{"scan 0 count 0", "!ERR syntax error"},
		{"scan 0 count x", "!ERR value is not an integer or out of range"},
		{"scan 0 match", "!ERR syntax error"},
		{"scan 0 foo bar", "!ERR syntax error"},
		{"scan x", "!ERR invalid cursor"},
		{"scan -1", `["0" []]`},
		{"scan 1.5", "!ERR invalid cursor"},
		{"rename c c2", "OK"},
		{"get c2", `"3"`},
		{"rename nosuch x", "!ERR no such key"},
		{"rename c2 c2", "OK"},
		{"renamenx c2 h", "(integer) 0"},
		{"renamenx c2 c", "(integer) 1"},
		{"renamenx nosuch x", "!ERR no such key"},
		{"rename c h", "OK"},
		{"type h", "string"},
		{"rename", "!ERR wrong number of arguments for 'rename' command"},
		{"randomkey", `"*`},
		{"randomkey x", "!ERR wrong number of arguments for 'randomkey' command"},
		{"copy h h", "!ERR source and destination objects are the same"},
		{"copy s s2", "(integer) 1"},
		{"smembers s2", "[\"m\"]"},
		{"copy s s2", "(integer) 0"},
		{"sadd s m2", "(integer) 1"},
		{"copy s s2 replace", "(integer) 1"},
		{"scard s2", "(integer) 2"},
		{"copy s s db 1", "(integer) 1"},
		{"copy s s db 16", "!ERR DB index is out of range"},
		{"copy s s db x", "!ERR value is not an integer or out of range"},
		{"copy s s db", "!ERR syntax error"},
		{"copy s x foo", "!ERR syntax error"},
		{"copy nosuch x", "(integer) 0"},
		{"select 1", "OK"},
		{"smembers s", `["m" "m2"]`},
		{"dbsize", "(integer) 1"},
		{"select 0", "OK"},
		{"copy", "!ERR wrong number of arguments for 'copy' command"},
	})
}

func TestExpireCommands(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"set k v", "OK"},
		{"ttl k", "(integer) -1"},
		{"pttl k", "(integer) -1"},
		{"expiretime k", "(integer) -1"},
		{"ttl nosuch", "(integer) -2"},
		{"pttl nosuch", "(integer) -2"},
		{"pexpiretime nosuch", "(integer) -2"},
		{"expire nosuch 10", "(integer) 0"},
		{"expire k 10 xx", "(integer) 0"},
		{"expire k 10 nx", "(integer) 1"},
		{"expire k 10 nx", "(integer) 0"},
		{"ttl k", "(integer) 10"},
		{"expire k 5 gt", "(integer) 0"},
		{"expire k 20 gt", "(integer) 1"},
		{"expire k 30 lt", "(integer) 0"},
		{"expire k 5 lt", "(integer) 1"},
		{"ttl k", "(integer) 5"},
		{"expire k 10 NX", "(integer) 0"},
		{"expire k 10 xx gt", "(integer) 1"},
		{"persist k", "(integer) 1"},
		{"persist k", "(integer) 0"},
		{"persist nosuch", "(integer) 0"},
		{"expire k 10 gt", "(integer) 0"}, // no TTL counts as infinite
		{"expire k 10 lt", "(integer) 1"},
		{"expire k abc nx xx", "!ERR NX and XX, GT or LT options at the same time are not compatible"},
		{"expire k 10 nx gt", "!ERR NX and XX, GT or LT options at the same time are not compatible"},
		{"expire k 10 gt lt", "!ERR GT and LT options at the same time are not compatible"},
		{"expire k 10 foo", "!ERR Unsupported option foo"},
		{"expire k abc", "!ERR value is not an integer or out of range"},
		{"expire k 99999999999999999", "!ERR invalid expire time in 'expire' command"},
		{"pexpire k 9223372036854775807", "!ERR invalid expire time in 'pexpire' command"},
		{"expireat k 9223372036854775807", "!ERR invalid expire time in 'expireat' command"},
		{"expire k", "!ERR wrong number of arguments for 'expire' command"},
		{"expireat k 9999999999", "(integer) 1"},
		{"expiretime k", "(integer) 9999999999"},
		{"pexpiretime k", "(integer) 9999999999000"},
		{"pexpireat k 99999999999999", "(integer) 1"},
		{"pexpiretime k", "(integer) 99999999999999"},
		{"expire k -1", "(integer) 1"},
		{"exists k", "(integer) 0"},
		{"set k v", "OK"},
		{"pexpireat k 1", "(integer) 1"},
		{"exists k", "(integer) 0"},
		{"set k v", "OK"},
		{"expireat k 1 gt", "(integer) 0"},
		{"ttl", "!ERR wrong number of arguments for 'ttl' command"},
	})
	// Lazy and background expiry: poll until the key is gone.
	runSteps(t, c, []step{
		{"set e v", "OK"},
		{"hset eh f v", "(integer) 1"},
		{"pexpire e 30", "(integer) 1"},
		{"pexpire eh 30", "(integer) 1"},
	})
	waitGone(t, c, "e")
	waitGone(t, c, "eh")
	runSteps(t, c, []step{{"exists e eh", "(integer) 0"}, {"dbsize", "(integer) 1"}})
}

// waitGone polls TTL until the key has expired.
func waitGone(t *testing.T, c *conn, key string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for c.do("pttl "+key) != "(integer) -2" {
		if time.Now().After(deadline) {
			t.Fatalf("%s did not expire", key)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestFlushCommands(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"set a 1", "OK"},
		{"hset h f v", "(integer) 1"},
		{"sadd s m", "(integer) 1"},
		{"pexpire s 100000", "(integer) 1"},
		{"select 3", "OK"},
		{"set a 1", "OK"},
		{"sadd s m", "(integer) 1"},
		{"flushdb", "OK"},
		{"dbsize", "(integer) 0"},
		{"set a 1", "OK"},
		{"select 0", "OK"},
		{"dbsize", "(integer) 3"},
		{"flushdb async", "OK"},
		{"flushdb sync", "OK"},
		{"flushdb sync async", "!ERR syntax error"},
		{"flushdb foo", "!ERR syntax error"},
		{"dbsize", "(integer) 0"},
		{"keys *", "[]"},
		{"set a 1", "OK"},
		{"flushall async", "OK"},
		{"dbsize", "(integer) 0"},
		{"select 3", "OK"},
		{"dbsize", "(integer) 0"},
		{"get a", "(nil)"},
		{"flushall foo", "!ERR syntax error"},
		{"select 0", "OK"},
	})
	if n := s.DB().KeyCount(3); n != 0 {
		t.Fatalf("db 3 count %d", n)
	}

	// A flush touches the watched keys that existed.
	c2 := dial(t, s)
	runSteps(t, c, []step{{"set w 1", "OK"}, {"watch w", "OK"}})
	runSteps(t, c2, []step{{"flushall", "OK"}})
	runSteps(t, c, []step{{"multi", "OK"}, {"set w 2", "QUEUED"}, {"exec", "(nil)"}})
	runSteps(t, c, []step{{"watch nosuch", "OK"}})
	runSteps(t, c2, []step{{"flushdb", "OK"}})
	runSteps(t, c, []step{{"multi", "OK"}, {"set w 2", "QUEUED"}, {"exec", "[OK]"}})
}

// TestKeyScanPaging checks that SCAN with a small COUNT visits every key
// exactly once, even with writes between calls.
func TestKeyScanPaging(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	for i := range 50 {
		c.do(fmt.Sprintf("set k%02d v", i))
	}
	seen := map[string]int{}
	cur := "0"
	for calls := 0; ; calls++ {
		if calls > 100 {
			t.Fatal("scan does not end")
		}
		r := c.do("scan " + cur + " count 7")
		next, keys := parseScanReply(t, r)
		for _, k := range keys {
			seen[k]++
		}
		c.do("set zz" + cur + " v") // keys added during the scan are fine
		if next == "0" {
			break
		}
		cur = next
	}
	for i := range 50 {
		if k := fmt.Sprintf("k%02d", i); seen[k] != 1 {
			t.Errorf("%s seen %d times", k, seen[k])
		}
	}
}

// parseScanReply splits a rendered ["cursor" [a b c]] reply.
func parseScanReply(t *testing.T, r string) (string, []string) {
	t.Helper()
	r = strings.TrimPrefix(r, `["`)
	cur, rest, ok := strings.Cut(r, `" [`)
	if !ok {
		t.Fatalf("bad scan reply %s", r)
	}
	rest = strings.TrimSuffix(rest, "]]")
	var out []string
	for _, f := range strings.Fields(rest) {
		out = append(out, strings.Trim(f, `"`))
	}
	return cur, out
}

// eventRecorder collects the keyspace events delivered by the server.
type eventRecorder struct {
	mu  sync.Mutex
	evs []string
}

func recordEvents(t *testing.T, s *Server) *eventRecorder {
	r := &eventRecorder{}
	cancel := s.DB().Subscribe(func(evs []storage.Event) {
		r.mu.Lock()
		defer r.mu.Unlock()
		for _, e := range evs {
			r.evs = append(r.evs, e.Name+":"+string(e.Key))
		}
	})
	t.Cleanup(cancel)
	return r
}

// take returns and clears the events recorded so far. Events are delivered
// before the reply is sent, so after a reply they are all there.
func (r *eventRecorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.evs
	r.evs = nil
	return e
}

// eventSteps runs commands and checks the events each one emitted.
func eventSteps(t *testing.T, c *conn, r *eventRecorder, steps []step) {
	t.Helper()
	r.take()
	for _, s := range steps {
		c.do(s.cmd)
		got := strings.Join(r.take(), " ")
		if got != s.want {
			t.Errorf("%s\n events: %s\n   want: %s", s.cmd, got, s.want)
		}
	}
}

func TestKeyEvents(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	r := recordEvents(t, s)
	eventSteps(t, c, r, []step{
		{"set a 1", "set:a"},
		{"del a nosuch", "del:a"},
		{"set a 1", "set:a"},
		{"unlink a", "del:a"},
		{"exists nosuch", "keymiss:nosuch"},
		{"type nosuch", "keymiss:nosuch"},
		{"ttl nosuch", "keymiss:nosuch"},
		{"touch nosuch", "keymiss:nosuch"},
		{"set a 1", "set:a"},
		{"exists a", ""},
		{"rename a b", "rename_from:a rename_to:b"},
		{"copy b c", "copy_to:c"},
		{"expire b 100", "expire:b"},
		{"pexpire b 100 nx", ""},
		{"persist b", "persist:b"},
		{"expire b 0", "del:b"},
	})
	// c expires: lazily on access or by the background sweep, which may
	// catch it before this step's events are read.
	c.do("pexpire c 1")
	all := r.take()
	if len(all) == 0 || all[0] != "expire:c" {
		t.Errorf("pexpire c 1: events %v", all)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !slices.Contains(all, "expired:c") {
		if time.Now().After(deadline) {
			t.Fatalf("no expired event: %v", all)
		}
		c.do("exists c")
		all = append(all, r.take()...)
		time.Sleep(5 * time.Millisecond)
	}
	eventSteps(t, c, r, []step{
		{"set a 1", "set:a"},
		{"flushall", ""},
	})
}
