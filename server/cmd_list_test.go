package server

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmgears/wasmgears/storage"
)

func TestListCommands(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"rpush l a b c", "(integer) 3"},
		{"lpush l z y", "(integer) 5"},
		{"lrange l 0 -1", `["y" "z" "a" "b" "c"]`},
		{"lrange l 1 2", `["z" "a"]`},
		{"lrange l -2 100", `["b" "c"]`},
		{"lrange l 3 1", `[]`},
		{"lrange l 10 20", `[]`},
		{"lrange nosuch 0 -1", `[]`},
		{"lrange l a 1", "!ERR value is not an integer or out of range"},
		{"llen l", "(integer) 5"},
		{"llen nosuch", "(integer) 0"},
		{"lindex l 0", `"y"`},
		{"lindex l -1", `"c"`},
		{"lindex l 5", "(nil)"},
		{"lindex l abc", "!ERR value is not an integer or out of range"},
		{"lpushx nosuch a", "(integer) 0"},
		{"rpushx nosuch a", "(integer) 0"},
		{"llen nosuch", "(integer) 0"},
		{"rpushx l d", "(integer) 6"},
		{"lpushx l x", "(integer) 7"},
		{"lpop l", `"x"`},
		{"rpop l", `"d"`},
		{"lpop l 2", `["y" "z"]`},
		{"rpop l 0", `[]`},
		{"lpop l -1", "!ERR value is out of range, must be positive"},
		{"lpop l abc", "!ERR value is out of range, must be positive"},
		{"lpop l 1 2", "!ERR wrong number of arguments for 'lpop' command"},
		{"lpop nosuch", "(nil)"},
		{"lpop nosuch 1", "(nil)"},
		{"rpop l 10", `["c" "b" "a"]`},
		{"llen l", "(integer) 0"},
		{"lpush", "!ERR wrong number of arguments for 'lpush' command"},
		{"lpush l", "!ERR wrong number of arguments for 'lpush' command"},
		// LSET / LINSERT / LREM / LTRIM
		{"rpush l a b c d e", "(integer) 5"},
		{"lset l 0 A", "OK"},
		{"lset l -1 E", "OK"},
		{"lset l 5 x", "!ERR index out of range"},
		{"lset nosuch 0 x", "!ERR no such key"},
		{"lset l x x", "!ERR value is not an integer or out of range"},
		{"lrange l 0 -1", `["A" "b" "c" "d" "E"]`},
		{"linsert l before b x", "(integer) 6"},
		{"linsert l after d y", "(integer) 7"},
		{"linsert l after E z", "(integer) 8"},
		{"linsert l before A w", "(integer) 9"},
		{"lrange l 0 -1", `["w" "A" "x" "b" "c" "d" "y" "E" "z"]`},
		{"linsert l before nosuch v", "(integer) -1"},
		{"linsert nosuch before a v", "(integer) 0"},
		{"linsert l middle a v", "!ERR syntax error"},
		{"ltrim l 1 0", "OK"},
		{"rpush l a b a c a d a", "(integer) 7"},
		{"lrem l 2 a", "(integer) 2"},
		{"lrange l 0 -1", `["b" "c" "a" "d" "a"]`},
		{"lrem l -1 a", "(integer) 1"},
		{"lrange l 0 -1", `["b" "c" "a" "d"]`},
		{"rpush l a a", "(integer) 6"},
		{"lrem l -2 a", "(integer) 2"},
		{"lrange l 0 -1", `["b" "c" "a" "d"]`},
		{"lrem l 0 a", "(integer) 1"},
		{"lrem l 0 zz", "(integer) 0"},
		{"lrem l x a", "!ERR value is not an integer or out of range"},
		{"lrange l 0 -1", `["b" "c" "d"]`},
		{"lindex l 2", `"d"`},
		{"rpush l e f g", "(integer) 6"},
		{"ltrim l 1 -2", "OK"},
		{"lrange l 0 -1", `["c" "d" "e" "f"]`},
		{"ltrim l -100 1", "OK"},
		{"lrange l 0 -1", `["c" "d"]`},
		{"rpush l x", "(integer) 3"},
		{"lrange l 0 -1", `["c" "d" "x"]`},
		{"ltrim l 5 10", "OK"},
		{"llen l", "(integer) 0"},
		{"lrem nosuch 0 a", "(integer) 0"},
		{"ltrim nosuch 0 1", "OK"},
		// LPOS
		{"rpush p a b c 1 2 3 c c", "(integer) 8"},
		{"lpos p c", "(integer) 2"},
		{"lpos p c rank 2", "(integer) 6"},
		{"lpos p c rank -1", "(integer) 7"},
		{"lpos p c count 0", `[(integer) 2 (integer) 6 (integer) 7]`},
		{"lpos p c count 2", `[(integer) 2 (integer) 6]`},
		{"lpos p c rank -1 count 2", `[(integer) 7 (integer) 6]`},
		{"lpos p c count 0 maxlen 3", `[(integer) 2]`},
		{"lpos p c rank 4", "(nil)"},
		{"lpos p z", "(nil)"},
		{"lpos p z count 0", `[]`},
		{"lpos nosuch z", "(nil)"},
		{"lpos nosuch z count 0", `[]`},
		{"lpos p c rank 0", "!ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"},
		{"lpos p c count -1", "!ERR COUNT can't be negative"},
		{"lpos p c maxlen -1", "!ERR MAXLEN can't be negative"},
		{"lpos p c rank x", "!ERR value is not an integer or out of range"},
		{"lpos p c foo", "!ERR syntax error"},
		// LMOVE / RPOPLPUSH
		{"ltrim p 1 0", "OK"},
		{"rpush src a b c", "(integer) 3"},
		{"lmove src dst left right", `"a"`},
		{"lmove src dst right left", `"c"`},
		{"lrange dst 0 -1", `["c" "a"]`},
		{"rpoplpush src dst", `"b"`},
		{"llen src", "(integer) 0"},
		{"lrange dst 0 -1", `["b" "c" "a"]`},
		{"rpoplpush dst dst", `"a"`},
		{"lrange dst 0 -1", `["a" "b" "c"]`},
		{"lmove dst dst left right", `"a"`},
		{"lrange dst 0 -1", `["b" "c" "a"]`},
		{"lmove nosuch dst left left", "(nil)"},
		{"rpoplpush nosuch dst", "(nil)"},
		{"lmove dst dst up left", "!ERR syntax error"},
		{"set str v", "OK"},
		{"lmove dst str left left", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"llen dst", "(integer) 3"},
		{"rpush one x", "(integer) 1"},
		{"rpoplpush one one", `"x"`},
		{"lrange one 0 -1", `["x"]`},
		// wrong types
		{"lpush str a", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"lpop str", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"llen str", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"lrange str 0 1", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"lindex str 0", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"lset str 0 a", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"lrem str 0 a", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"ltrim str 0 1", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"linsert str before a b", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"lpos str a", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"blpop str 0", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		// RESP3
		{"hello 3", "{*"},
		{"lpop nosuch 1", "(nil)"},
		{"lpop nosuch", "(nil)"},
		{"lrange dst 0 0", `["b"]`},
		{"blpop nosuch 0.01", "(nil)"},
	})
}

func TestListBlocking(t *testing.T) {
	s := startServer(t)
	c1, c2 := dial(t, s), dial(t, s)
	runSteps(t, c1, []step{
		{"blpop k 0.05", "(nil)"},
		{"blpop k abc", "!ERR timeout is not a float or out of range"},
		{"blpop k -1", "!ERR timeout is negative"},
		{"brpop k", "!ERR wrong number of arguments for 'brpop' command"},
		{"rpush k a b", "(integer) 2"},
		{"blpop nosuch k 0", `["k" "a"]`},
		{"brpop nosuch k 0", `["k" "b"]`},
		{"llen k", "(integer) 0"},
		{"brpoplpush nosuch dst 0.05", "(nil)"},
		{"blmove nosuch dst left right 0.05", "(nil)"},
		{"blmove nosuch dst left middle 0", "!ERR syntax error"},
		// inside MULTI a blocking command does not block
		{"multi", "OK"},
		{"blpop k 0", "QUEUED"},
		{"blmove k dst left right 0", "QUEUED"},
		{"exec", "[(nil) (nil)]"},
	})

	// BLPOP blocks until another client pushes.
	c1.send(splitCmd("blpop k1 k2 0")...)
	waitBlocked(t, s, 1)
	runSteps(t, c2, []step{{"rpush k2 v", "(integer) 1"}})
	if got := c1.read(); got != `["k2" "v"]` {
		t.Fatalf("blpop: %s", got)
	}
	runSteps(t, c2, []step{{"llen k2", "(integer) 0"}})

	// BRPOP with a float timeout that passes while another write happens to
	// an unrelated key.
	c1.send(splitCmd("brpop k3 0.1")...)
	runSteps(t, c2, []step{{"rpush other x", "(integer) 1"}})
	if got := c1.read(); got != "(nil)" {
		t.Fatalf("brpop timeout: %s", got)
	}

	// BLMOVE blocks and moves.
	c1.send(splitCmd("blmove src dst right left 5")...)
	waitBlocked(t, s, 1)
	runSteps(t, c2, []step{{"rpush src a b", "(integer) 2"}})
	if got := c1.read(); got != `"b"` {
		t.Fatalf("blmove: %s", got)
	}
	runSteps(t, c2, []step{{"lrange dst 0 -1", `["b"]`}, {"lrange src 0 -1", `["a"]`}})

	// BRPOPLPUSH
	c1.send(splitCmd("brpoplpush empty dst 5")...)
	waitBlocked(t, s, 1)
	runSteps(t, c2, []step{{"lpush empty z", "(integer) 1"}})
	if got := c1.read(); got != `"z"` {
		t.Fatalf("brpoplpush: %s", got)
	}
	runSteps(t, c2, []step{{"lrange dst 0 -1", `["z" "b"]`}})

	// Two waiters, one push: one is served, the other keeps waiting.
	c3 := dial(t, s)
	c1.send(splitCmd("blpop q 5")...)
	c3.send(splitCmd("blpop q 5")...)
	waitBlocked(t, s, 2)
	runSteps(t, c2, []step{{"rpush q only", "(integer) 1"}})
	waitBlocked(t, s, 1)
	runSteps(t, c2, []step{{"rpush q second", "(integer) 1"}})
	got := []string{c1.read(), c3.read()}
	if !(got[0] == `["q" "only"]` && got[1] == `["q" "second"]`) && !(got[1] == `["q" "only"]` && got[0] == `["q" "second"]`) {
		t.Fatalf("two waiters: %v", got)
	}
}

// waitBlocked polls until n clients are blocked.
func waitBlocked(t *testing.T, s *Server, n int) {
	t.Helper()
	for i := 0; i < 500; i++ {
		if s.waits.count() == n {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("blocked clients: %d, want %d", s.waits.count(), n)
}

// eventLog subscribes to the keyspace events of s.
func eventLog(t *testing.T, s *Server) func() string {
	var mu sync.Mutex
	var evs []string
	cancel := s.DB().Subscribe(func(es []storage.Event) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range es {
			evs = append(evs, e.Name+":"+string(e.Key))
		}
	})
	t.Cleanup(cancel)
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		s := strings.Join(evs, " ")
		evs = nil
		return s
	}
}

func TestListEvents(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	take := eventLog(t, s)
	for _, tc := range []struct{ cmd, events string }{
		{"rpush l a b c", "rpush:l"},
		{"lpush l z", "lpush:l"},
		{"lpushx nosuch z", ""},
		{"lpop l", "lpop:l"},
		{"rpop l 1", "rpop:l"},
		{"lset l 0 x", "lset:l"},
		{"linsert l before x y", "linsert:l"},
		{"lrem l 1 y", "lrem:l"},
		{"ltrim l 0 0", "ltrim:l"},
		{"lrange nosuch 0 1", "keymiss:nosuch"},
		{"llen nosuch", "keymiss:nosuch"},
		{"lpop nosuch", ""},
		{"lmove l d left right", "rpush:d lpop:l del:l"},
		{"rpoplpush d d", "lpush:d rpop:d"},
		{"blpop d 0", "lpop:d del:d"},
		{"rpush l a b", "rpush:l"},
		{"ltrim l 3 4", "ltrim:l del:l"},
		{"rpush l a", "rpush:l"},
		{"lrem l 0 a", "lrem:l del:l"},
	} {
		c.do(tc.cmd)
		if got := take(); got != tc.events {
			t.Errorf("%s: events %q, want %q", tc.cmd, got, tc.events)
		}
	}
}

// TestBlockedClientHangsUp: a client that disconnects while blocked is
// removed at once (it no longer counts in CLIENT LIST / INFO).
func TestBlockedClientHangsUp(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	b := dial(t, s)
	b.send("blpop", "nokey", "0")
	for i := 0; ; i++ {
		if strings.Contains(c.do("client list"), "cmd=blpop") || s.waits.count() == 1 {
			break
		}
		if i > 2000 {
			t.Fatal("client never blocked")
		}
		time.Sleep(time.Millisecond)
	}
	b.c.Close()
	for i := 0; len(s.Clients()) != 1; i++ {
		if i > 5000 {
			t.Fatalf("blocked client not freed after hang-up: %d clients", len(s.Clients()))
		}
		time.Sleep(time.Millisecond)
	}
	if n := s.waits.count(); n != 0 {
		t.Errorf("waiters left: %d", n)
	}
	// pipelined commands after a blocking one still work
	p := dial(t, s)
	p.send("blpop", "q", "0")
	p.send("ping")
	runSteps(t, c, []step{{"rpush q x", "(integer) 1"}})
	if got := p.read(); got != `["q" "x"]` {
		t.Errorf("blpop: %s", got)
	}
	if got := p.read(); got != "PONG" {
		t.Errorf("pipelined ping: %s", got)
	}
}
