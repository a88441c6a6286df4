package server

import (
	"fmt"
	"strings"
	"testing"
)

func TestSetCommands(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"sadd s a b c", "(integer) 3"},
		{"sadd s a d", "(integer) 1"},
		{"sadd s x x", "(integer) 1"},
		{"sadd s", "!ERR wrong number of arguments for 'sadd' command"},
		{"smembers s", `["a" "b" "c" "d" "x"]`},
		{"smembers nosuch", "[]"},
		{"scard s", "(integer) 5"},
		{"scard nosuch", "(integer) 0"},
		{"sismember s a", "(integer) 1"},
		{"sismember s z", "(integer) 0"},
		{"sismember nosuch z", "(integer) 0"},
		{"smismember s a z b", "[(integer) 1 (integer) 0 (integer) 1]"},
		{"smismember nosuch a", "[(integer) 0]"},
		{"smismember s", "!ERR wrong number of arguments for 'smismember' command"},
		{"srem s x z", "(integer) 1"},
		{"srem nosuch x", "(integer) 0"},
		{"srem s", "!ERR wrong number of arguments for 'srem' command"},
		{"sadd t c d e", "(integer) 3"},
		{"sinter s t", `["c" "d"]`},
		{"sinter s t nosuch", "[]"},
		{"sunion s t", `["a" "b" "c" "d" "e"]`},
		{"sunion s nosuch", `["a" "b" "c" "d"]`},
		{"sdiff s t", `["a" "b"]`},
		{"sdiff s nosuch", `["a" "b" "c" "d"]`},
		{"sdiff s s", "[]"},
		{"sdiff nosuch s", "[]"},
		{"sinter", "!ERR wrong number of arguments for 'sinter' command"},
		{"sinterstore d s t", "(integer) 2"},
		{"smembers d", `["c" "d"]`},
		{"sunionstore d s t", "(integer) 5"},
		{"sdiffstore d s t", "(integer) 2"},
		{"smembers d", `["a" "b"]`},
		{"sdiffstore s s t", "(integer) 2"},
		{"smembers s", `["a" "b"]`},
		{"sinterstore d s t", "(integer) 0"},
		{"exists d", "(integer) 0"},
		{"set str v", "OK"},
		{"sunionstore str s", "(integer) 2"},
		{"type str", "set"},
		{"sinterstore", "!ERR wrong number of arguments for 'sinterstore' command"},
		{"sinterstore d", "!ERR wrong number of arguments for 'sinterstore' command"},
		{"sintercard 2 s t", "(integer) 0"},
		{"sadd s c d", "(integer) 2"},
		{"sintercard 2 s t", "(integer) 2"},
		{"sintercard 2 s t limit 1", "(integer) 1"},
		{"sintercard 2 s t limit 0", "(integer) 2"},
		{"sintercard 1 s limit 1 limit 2", "(integer) 2"},
		{"sintercard 2 s nosuch", "(integer) 0"},
		{"sintercard 0 s", "!ERR numkeys should be greater than 0"},
		{"sintercard x s", "!ERR numkeys should be greater than 0"},
		{"sintercard 3 s t", "!ERR Number of keys can't be greater than number of args"},
		{"sintercard 1 s limit -1", "!ERR LIMIT can't be negative"},
		{"sintercard 1 s limit x", "!ERR LIMIT can't be negative"},
		{"sintercard 1 s limit", "!ERR syntax error"},
		{"sintercard 1 s foo", "!ERR syntax error"},
		{"sintercard 1", "!ERR wrong number of arguments for 'sintercard' command"},
		// SMOVE
		{"smove s t a", "(integer) 1"},
		{"smove s t a", "(integer) 0"},
		{"smove s t c", "(integer) 1"}, // already in t
		{"smembers s", `["b" "d"]`},
		{"smembers t", `["a" "c" "d" "e"]`},
		{"smove s s b", "(integer) 1"},
		{"smove s s z", "(integer) 0"},
		{"smove nosuch t a", "(integer) 0"},
		{"smove s new b", "(integer) 1"},
		{"smove s new d", "(integer) 1"},
		{"exists s", "(integer) 0"},
		{"smembers new", `["b" "d"]`},
		{"smove", "!ERR wrong number of arguments for 'smove' command"},
		// wrong types
		{"set str v", "OK"},
		{"smove new str b", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"smove nosuch str b", "(integer) 0"},
		{"smove str new b", "!WRONGTYPE*"},
		{"sadd str a", "!WRONGTYPE*"},
		{"srem str a", "!WRONGTYPE*"},
		{"smembers str", "!WRONGTYPE*"},
		{"sismember str a", "!WRONGTYPE*"},
		{"smismember str a", "!WRONGTYPE*"},
		{"scard str", "!WRONGTYPE*"},
		{"spop str", "!WRONGTYPE*"},
		{"srandmember str", "!WRONGTYPE*"},
		{"sinter new str", "!WRONGTYPE*"},
		{"sinter nosuch str", "!WRONGTYPE*"},
		{"sunion new str", "!WRONGTYPE*"},
		{"sdiff new str", "!WRONGTYPE*"},
		{"sinterstore d new str", "!WRONGTYPE*"},
		{"sintercard 2 new str", "!WRONGTYPE*"},
		{"sscan str 0", "!WRONGTYPE*"},
	})
}

func TestSintercardKeys(t *testing.T) {
	cmd := lookup([]byte("SINTERCARD"))
	args := [][]byte{[]byte("sintercard"), []byte("2"), []byte("s"), []byte("t"), []byte("limit"), []byte("1")}
	if got := fmt.Sprint(cmd.KeyPositions(args)); got != "[2 3]" {
		t.Fatalf("key positions %s", got)
	}
	if got := cmd.KeyPositions(args[:2]); got != nil {
		t.Fatalf("key positions %v", got)
	}
}

func TestSetPopRandom(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"sadd s a b c", "(integer) 3"},
		{"spop s 0", "[]"},
		{"spop s -1", "!ERR value is out of range, must be positive"},
		{"spop s x", "!ERR value is out of range, must be positive"},
		{"spop s 1 2", "!ERR syntax error"},
		{"spop nosuch", "(nil)"},
		{"spop nosuch 3", "[]"},
		{"srandmember s 0", "[]"},
		{"srandmember s 5", `["a" "b" "c"]`},
		{"srandmember s x", "!ERR value is not an integer or out of range"},
		{"srandmember s -9223372036854775808", "!ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"},
		{"srandmember s 1 2", "!ERR syntax error"},
		{"srandmember nosuch", "(nil)"},
		{"srandmember nosuch 3", "[]"},
		{"spop", "!ERR wrong number of arguments for 'spop' command"},
	})
	for range 20 {
		r := c.do("srandmember s")
		if r != `"a"` && r != `"b"` && r != `"c"` {
			t.Fatalf("srandmember: %s", r)
		}
		f := strings.Fields(strings.Trim(c.do("srandmember s 2"), "[]"))
		if len(f) != 2 || f[0] == f[1] {
			t.Fatalf("srandmember 2: %v", f)
		}
		if f := strings.Fields(strings.Trim(c.do("srandmember s -7"), "[]")); len(f) != 7 {
			t.Fatalf("srandmember -7: %v", f)
		}
	}
	seen := map[string]bool{}
	for range 3 {
		r := c.do("spop s")
		if seen[r] || r == "(nil)" {
			t.Fatalf("spop repeated %s", r)
		}
		seen[r] = true
	}
	runSteps(t, c, []step{{"exists s", "(integer) 0"}, {"spop s", "(nil)"}})

	var members []string
	for i := range 40 {
		members = append(members, fmt.Sprintf("m%02d", i))
	}
	runSteps(t, c, []step{{"sadd big " + strings.Join(members, " "), "(integer) 40"}})
	popped := map[string]bool{}
	for _, n := range []int{15, 15, 15} {
		f := strings.Fields(strings.Trim(c.do(fmt.Sprintf("spop big %d", n)), "[]"))
		for _, m := range f {
			if popped[m] {
				t.Fatalf("spop repeated %s", m)
			}
			popped[m] = true
		}
	}
	if len(popped) != 40 {
		t.Fatalf("popped %d", len(popped))
	}
	runSteps(t, c, []step{{"exists big", "(integer) 0"}, {"dbsize", "(integer) 0"}})
}

func TestSetResp3(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	c.do("hello 3")
	// The renderer shows RESP3 sets as [...] too; check the raw type bytes.
	runSteps(t, c, []step{
		{"sadd s a b", "(integer) 2"},
		{"sismember s a", "(integer) 1"},
		{"smove s t a", "(integer) 1"},
		{"spop nosuch", "(nil)"},
	})
	for _, cmd := range []string{"smembers s", "sinter s", "sunion s t", "sdiff s", "spop nosuch 2", "smembers nosuch"} {
		c.send(splitCmd(cmd)...)
		b, err := c.rd.Peek(1)
		if err != nil {
			t.Fatal(err)
		}
		if b[0] != '~' {
			t.Errorf("%s: reply type %q, want a set", cmd, b[0])
		}
		c.read()
	}
	for _, cmd := range []string{"srandmember s 2", "smismember s a"} {
		c.send(splitCmd(cmd)...)
		if b, _ := c.rd.Peek(1); b[0] != '*' {
			t.Errorf("%s: reply type %q, want an array", cmd, b[0])
		}
		c.read()
	}
}

func TestSetScan(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"sadd s a b c", "(integer) 3"},
		{"sscan s 0", `["0" ["a" "b" "c"]]`},
		{"sscan s 0 match [ab]", `["0" ["a" "b"]]`},
		{"sscan nosuch 0", `["0" []]`},
		{"sscan nosuch 0 count 0", `["0" []]`},
		{"sscan s 0 count 0", "!ERR syntax error"},
		{"sscan s 0 count -1", "!ERR syntax error"},
		{"sscan s x", "!ERR invalid cursor"},
		{"sscan s 0 foo", "!ERR syntax error"},
	})
	var members []string
	for i := range 200 {
		members = append(members, fmt.Sprintf("m%03d", i))
	}
	runSteps(t, c, []step{{"sadd big " + strings.Join(members, " "), "(integer) 200"}})
	seen := map[string]int{}
	cur := "0"
	for i := 0; ; i++ {
		next, els := parseScanReply(t, c.do("sscan big "+cur+" count 30"))
		for _, m := range els {
			seen[m]++
		}
		// removing members already returned does not disturb the scan
		if len(els) > 0 {
			c.do("srem big " + els[0])
		}
		if next == "0" {
			break
		}
		if i > 50 {
			t.Fatal("sscan does not end")
		}
		cur = next
	}
	if len(seen) != 200 {
		t.Fatalf("saw %d members", len(seen))
	}
}

func TestSetEvents(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	r := recordEvents(t, s)
	eventSteps(t, c, r, []step{
		{"sadd s a b", "sadd:s"},
		{"sadd s a", ""},
		{"srem s z", ""},
		{"srem s a", "srem:s"},
		{"smembers nosuch", "keymiss:nosuch"},
		{"sismember nosuch a", "keymiss:nosuch"},
		{"scard nosuch", "keymiss:nosuch"},
		{"sinter s nosuch", "keymiss:nosuch"},
		{"sinterstore d s nosuch", ""},
		{"sadd t b c", "sadd:t"},
		{"sinterstore d s t", "sinterstore:d"},
		{"sunionstore d s t", "sunionstore:d"},
		{"sdiffstore d s t", "del:d"},
		{"sdiffstore d t s", "sdiffstore:d"},
		{"smove t s c", "srem:t sadd:s"},
		{"smove t s b", "srem:t del:t"},
		{"spop d", "spop:d del:d"},
		{"sadd p a b c", "sadd:p"},
		{"spop p 1", "spop:p"},
		{"spop p 5", "spop:p del:p"},
		{"spop nosuch", ""},
		{"srandmember s", ""},
		{"srem s b c", "srem:s del:s"},
	})
}
