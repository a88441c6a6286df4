package server

import (
	"fmt"
	"strings"
	"testing"
)

func TestHashCommands(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"hset h a 1 b 2", "(integer) 2"},
		{"hset h a 10 c 3", "(integer) 1"},
		{"hset h a 1 a 2", "(integer) 0"},
		{"hget h a", `"2"`},
		{"hset h a 1 b", "!ERR wrong number of arguments for 'hset' command"},
		{"hset h a", "!ERR wrong number of arguments for 'hset' command"},
		{"hmset h a 1 b", "!ERR wrong number of arguments for 'hmset' command"},
		{"hmset h a 1 d 4", "OK"},
		{"hset dup x 1 x 2", "(integer) 1"},
		{"hgetall dup", `["x" "2"]`},
		{"hlen dup", "(integer) 1"},
		{"hsetnx h a 9", "(integer) 0"},
		{"hsetnx h e 5", "(integer) 1"},
		{"hsetnx fresh f v", "(integer) 1"},
		{"hsetnx h a", "!ERR wrong number of arguments for 'hsetnx' command"},
		{"hget h nosuch", "(nil)"},
		{"hget nosuch a", "(nil)"},
		{"hget h", "!ERR wrong number of arguments for 'hget' command"},
		{"hmget h a nosuch b", `["1" (nil) "2"]`},
		{"hmget nosuch a b", `[(nil) (nil)]`},
		{"hmget h", "!ERR wrong number of arguments for 'hmget' command"},
		{"hlen h", "(integer) 5"},
		{"hlen nosuch", "(integer) 0"},
		{"hkeys h", `["a" "b" "c" "d" "e"]`},
		{"hvals h", `["1" "2" "3" "4" "5"]`},
		{"hgetall h", `["a" "1" "b" "2" "c" "3" "d" "4" "e" "5"]`},
		{"hkeys nosuch", "[]"},
		{"hgetall nosuch", "[]"},
		{"hexists h a", "(integer) 1"},
		{"hexists h z", "(integer) 0"},
		{"hexists nosuch z", "(integer) 0"},
		{"hstrlen h a", "(integer) 1"},
		{"hstrlen h zz", "(integer) 0"},
		{"hstrlen nosuch zz", "(integer) 0"},
		{"hdel h a nosuch b", "(integer) 2"},
		{"hdel h a", "(integer) 0"},
		{"hdel nosuch a", "(integer) 0"},
		{"hdel h", "!ERR wrong number of arguments for 'hdel' command"},
		{"hlen h", "(integer) 3"},
		{"hdel h c d e", "(integer) 3"},
		{"exists h", "(integer) 0"},
		{"hset n i 10 f 1.5 s x", "(integer) 3"},
		{"hincrby n i 5", "(integer) 15"},
		{"hincrby n i -20", "(integer) -5"},
		{"hincrby n new 3", "(integer) 3"},
		{"hincrby fresh2 new 3", "(integer) 3"},
		{"hincrby n s 1", "!ERR hash value is not an integer"},
		{"hincrby n f 1", "!ERR hash value is not an integer"},
		{"hincrby n i x", "!ERR value is not an integer or out of range"},
		{"hincrby n i 9223372036854775807", "(integer) 9223372036854775802"},
		{"hincrby n i 9223372036854775807", "!ERR increment or decrement would overflow"},
		{"hincrby n i", "!ERR wrong number of arguments for 'hincrby' command"},
		{"hincrbyfloat n f 1.25", `"2.75"`},
		{"hincrbyfloat n f 0.1", `"2.85"`},
		{"hincrbyfloat n nf 3.0e3", `"3000"`},
		{"hincrbyfloat n s 1", "!ERR hash value is not a float"},
		{"hincrbyfloat n f x", "!ERR value is not a valid float"},
		{"hincrbyfloat n f inf", "!ERR value is NaN or Infinity"},
		{"hincrbyfloat n f", "!ERR wrong number of arguments for 'hincrbyfloat' command"},
		{"hget n nf", `"3000"`},
		{"hlen n", "(integer) 5"},
		{"dbsize", "(integer) 4"}, // dup fresh fresh2 n
		// wrong types
		{"set str v", "OK"},
		{"hset str a 1", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"hsetnx str a 1", "!WRONGTYPE*"},
		{"hget str a", "!WRONGTYPE*"},
		{"hmget str a", "!WRONGTYPE*"},
		{"hdel str a", "!WRONGTYPE*"},
		{"hlen str", "!WRONGTYPE*"},
		{"hexists str a", "!WRONGTYPE*"},
		{"hstrlen str a", "!WRONGTYPE*"},
		{"hkeys str", "!WRONGTYPE*"},
		{"hvals str", "!WRONGTYPE*"},
		{"hgetall str", "!WRONGTYPE*"},
		{"hincrby str a 1", "!WRONGTYPE*"},
		{"hincrbyfloat str a 1", "!WRONGTYPE*"},
		{"hscan str 0", "!WRONGTYPE*"},
		{"hrandfield str", "!WRONGTYPE*"},
		{"dbsize", "(integer) 5"},
	})
}

func TestHashResp3(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	c.do("hello 3")
	runSteps(t, c, []step{
		{"hset h a 1 b 2", "(integer) 2"},
		{"hgetall h", `{"a": "1" "b": "2"}`},
		{"hgetall nosuch", "{}"},
		{"hexists h a", "(integer) 1"},
		{"hsetnx h a 1", "(integer) 0"},
		{"hget h z", "(nil)"},
		{"hrandfield nosuch", "(nil)"},
		{"hrandfield nosuch 2", "[]"},
		{"hset one f v", "(integer) 1"},
		{"hrandfield one 2 withvalues", `[["f" "v"]]`},
		{"hrandfield one -2 withvalues", `[["f" "v"] ["f" "v"]]`},
	})
}

func TestHashScanAndRandom(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"hset h a 1 b 2 c 3", "(integer) 3"},
		{"hscan h 0", `["0" ["a" "1" "b" "2" "c" "3"]]`},
		{"hscan h 0 count 1", `["0" ["a" "1" "b" "2" "c" "3"]]`}, // small: one page
		{"hscan h 0 match b*", `["0" ["b" "2"]]`},
		{"hscan nosuch 0", `["0" []]`},
		{"hscan nosuch 0 count 0", `["0" []]`},
		{"hscan h 0 count 0", "!ERR syntax error"},
		{"hscan h 0 count x", "!ERR value is not an integer or out of range"},
		{"hscan h 0 match", "!ERR syntax error"},
		{"hscan h 0 novalues", "!ERR syntax error"},
		{"hscan h x", "!ERR invalid cursor"},
		{"hscan h", "!ERR wrong number of arguments for 'hscan' command"},
		{"hrandfield h 0", "[]"},
		{"hrandfield h 5", `["a" "b" "c"]`},
		{"hrandfield h 3 withvalues", `["a" "1" "b" "2" "c" "3"]`},
		{"hrandfield h x", "!ERR value is not an integer or out of range"},
		{"hrandfield h 1 foo", "!ERR syntax error"},
		{"hrandfield h 1 withvalues foo", "!ERR syntax error"},
		{"hrandfield h -9223372036854775808 withvalues", "!ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"},
		{"hrandfield nosuch", "(nil)"},
		{"hrandfield nosuch 3", "[]"},
		{"hrandfield", "!ERR wrong number of arguments for 'hrandfield' command"},
	})
	for range 20 {
		if r := c.do("hrandfield h"); r != `"a"` && r != `"b"` && r != `"c"` {
			t.Fatalf("hrandfield: %s", r)
		}
		r := c.do("hrandfield h 2")
		if len(strings.Fields(r)) != 2 || strings.Count(r, `"`) != 4 {
			t.Fatalf("hrandfield 2: %s", r)
		}
		f := strings.Fields(strings.Trim(r, "[]"))
		if f[0] == f[1] {
			t.Fatalf("hrandfield 2 repeats: %s", r)
		}
		r = c.do("hrandfield h -5 withvalues")
		if n := len(strings.Fields(r)); n != 10 {
			t.Fatalf("hrandfield -5 withvalues: %s", r)
		}
	}
	// A big hash is scanned in pages: each field exactly once.
	var args []string
	for i := range 300 {
		args = append(args, fmt.Sprintf("f%03d v%d", i, i))
	}
	runSteps(t, c, []step{{"hset big " + strings.Join(args, " "), "(integer) 300"}})
	seen := map[string]int{}
	cur, pages := "0", 0
	for {
		pages++
		next, els := parseScanReply(t, c.do("hscan big "+cur+" count 50"))
		if len(els)%2 != 0 {
			t.Fatalf("odd scan page %v", els)
		}
		for i := 0; i < len(els); i += 2 {
			seen[els[i]]++
		}
		if next == "0" {
			break
		}
		cur = next
	}
	if len(seen) != 300 || pages < 6 {
		t.Fatalf("saw %d fields in %d pages", len(seen), pages)
	}
	for k, n := range seen {
		if n != 1 {
			t.Fatalf("%s seen %d times", k, n)
		}
	}
}

func TestHashEvents(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	r := recordEvents(t, s)
	eventSteps(t, c, r, []step{
		{"hset h a 1 b 2", "hset:h"},
		{"hmset h a 1", "hset:h"},
		{"hsetnx h a 1", ""},
		{"hsetnx h c 1", "hset:h"},
		{"hincrby h n 1", "hincrby:h"},
		{"hincrbyfloat h f 1.5", "hincrbyfloat:h"},
		{"hincrby h a x", ""},
		{"hget h a", ""},
		{"hget nosuch a", "keymiss:nosuch"},
		{"hgetall nosuch", "keymiss:nosuch"},
		{"hlen nosuch", "keymiss:nosuch"},
		{"hdel h nosuch", ""},
		{"hdel h a b c n", "hdel:h"},
		{"hdel h f", "hdel:h del:h"},
		{"hdel h f", ""},
		{"hset h a 1", "hset:h"},
		{"pexpire h 1", "expire:h"},
	})
	waitGone(t, c, "h")
	if got := r.take(); !strings.Contains(strings.Join(got, " "), "expired:h") {
		t.Fatalf("events %v", got)
	}
}
