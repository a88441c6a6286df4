package server

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Transcripts checked against redis-server 7.0.15.
func TestZSetCommands(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	// a plain set as a ZUNIONSTORE/ZINTERSTORE input (every score 1)
	s.DB().Lock()
	tx := s.DB().Begin(0)
	_, err := tx.SAdd([]byte("s1"), [][]byte{[]byte("a"), []byte("d")})
	must(t, err)
	must(t, tx.Commit())
	s.DB().Unlock()
	runSteps(t, c, []step{
		{"zadd z 1 a 2 b 3 c", "(integer) 3"},
		{"zadd z 1.5 x 1e100 big -inf ninf", "(integer) 3"},
		{"zcard z", "(integer) 6"},
		{"zscore z a", "\"1\""},
		{"zscore z x", "\"1.5\""},
		{"zscore z big", "\"1e+100\""},
		{"zscore z ninf", "\"-inf\""},
		{"zscore z nosuch", "(nil)"},
		{"zscore nosuch a", "(nil)"},
		{"zmscore z a nosuch x", "[\"1\" (nil) \"1.5\"]"},
		{"zmscore nosuch a", "[(nil)]"},
		{"zrange z 0 -1", "[\"ninf\" \"a\" \"x\" \"b\" \"c\" \"big\"]"},
		{"zrange z 0 -1 withscores", "[\"ninf\" \"-inf\" \"a\" \"1\" \"x\" \"1.5\" \"b\" \"2\" \"c\" \"3\" \"big\" \"1e+100\"]"},
		{"zrange z -2 -1 withscores", "[\"c\" \"3\" \"big\" \"1e+100\"]"},
		{"zrange z 5 10", "[\"big\"]"},
		{"zrange z 0 -1 rev", "[\"big\" \"c\" \"b\" \"x\" \"a\" \"ninf\"]"},
		{"zrevrange z 0 1 withscores", "[\"big\" \"1e+100\" \"c\" \"3\"]"},
		{"zrange z (1 3 byscore withscores", "[\"x\" \"1.5\" \"b\" \"2\" \"c\" \"3\"]"},
		{"zrange z 3 (1 byscore rev", "[\"c\" \"b\" \"x\"]"},
		{"zrange z -inf +inf byscore limit 1 2", "[\"a\" \"x\"]"},
		{"zrange z +inf -inf byscore rev limit 0 2 withscores", "[\"big\" \"1e+100\" \"c\" \"3\"]"},
		{"zrange z 0 -1 limit 0 1", "!ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"},
		{"zrange z (1 2 bylex", "!ERR min or max not valid string range item"},
		{"zrange z a b byscore", "!ERR min or max is not a float"},
		{"zrange z - + bylex withscores", "!ERR syntax error, WITHSCORES not supported in combination with BYLEX"},
		{"zrange z 0 -1 byscore bylex", "!ERR syntax error"},
		{"zrange z a 1", "!ERR value is not an integer or out of range"},
		{"zrange z 0 -1 limit 0", "!ERR syntax error"},
		{"zrange z 0 -1 byscore limit 0 x", "!ERR value is not an integer or out of range"},
		{"zrange nosuch 0 -1", "[]"},
		{"zrangebyscore z 1 2 withscores", "[\"a\" \"1\" \"x\" \"1.5\" \"b\" \"2\"]"},
		{"zrangebyscore z (1 (3", "[\"x\" \"b\"]"},
		{"zrangebyscore z -inf +inf limit 2 -1", "[\"x\" \"b\" \"c\" \"big\"]"},
		{"zrangebyscore z -inf +inf limit -1 2", "[]"},
		{"zrangebyscore z 0 10 foo", "!ERR syntax error"},
		{"zrangebyscore z x 10", "!ERR min or max is not a float"},
		{"zrevrangebyscore z 3 1", "[\"c\" \"b\" \"x\" \"a\"]"},
		{"zrevrangebyscore z (3 -inf withscores limit 1 1", "[\"x\" \"1.5\"]"},
		{"zcount z 1 3", "(integer) 4"},
		{"zcount z (1 3", "(integer) 3"},
		{"zcount z -inf +inf", "(integer) 6"},
		{"zcount z a b", "!ERR min or max is not a float"},
		{"zcount nosuch 0 1", "(integer) 0"},
		{"zrank z a", "(integer) 1"},
		{"zrank z big", "(integer) 5"},
		{"zrevrank z a", "(integer) 4"},
		{"zrank z nosuch", "(nil)"},
		{"zrank nosuch a", "(nil)"},
		{"zincrby z 10 a", "\"11\""},
		{"zincrby z 1 new", "\"1\""},
		{"zincrby z x a", "!ERR value is not a valid float"},
		{"zincrby z nan a", "!ERR value is not a valid float"},
		{"zadd z incr 5 a", "\"16\""},
		{"zadd z xx nx 1 a", "!ERR XX and NX options at the same time are not compatible"},
		{"zadd z gt lt 1 a", "!ERR GT, LT, and/or NX options at the same time are not compatible"},
		{"zadd z nx gt 1 a", "!ERR GT, LT, and/or NX options at the same time are not compatible"},
		{"zadd z incr 1 a 2 b", "!ERR INCR option supports a single increment-element pair"},
		{"zadd z 1 a 2", "!ERR syntax error"},
		{"zadd z abc a", "!ERR value is not a valid float"},
		{"zadd z nan a", "!ERR value is not a valid float"},
		{"zadd z", "!ERR wrong number of arguments for 'zadd' command"},
		{"zadd z gt", "!ERR wrong number of arguments for 'zadd' command"},
		{"zadd z incr gt 0 a", "(nil)"},
		{"zadd z incr lt 100 a", "(nil)"},
		{"zadd z nx 100 a 7 n1", "(integer) 1"},
		{"zadd z xx 100 a 7 n2", "(integer) 0"},
		{"zadd z xx ch 101 a 7 n2", "(integer) 1"},
		{"zadd z gt ch 1 a 200 b", "(integer) 1"},
		{"zadd z lt 0 b", "(integer) 0"},
		{"zadd z ch 5 a 5 b 4 d", "(integer) 3"},
		{"zadd z 5 a", "(integer) 0"},
		{"zadd z 1 1.1 -2 2.2", "(integer) 2"},
		{"zscore z 1.1", "\"1\""},
		{"zadd ninfs 1 a", "(integer) 1"},
		{"zadd ninfs incr -inf a", "\"-inf\""},
		{"zadd ninfs incr +inf a", "!ERR resulting score is not a number (NaN)"},
		{"zrem z a nosuch d", "(integer) 2"},
		{"zrem nosuch a", "(integer) 0"},
		{"zrem z", "!ERR wrong number of arguments for 'zrem' command"},
		{"zrange z 0 -1 withscores", "[\"ninf\" \"-inf\" \"2.2\" \"-2\" \"1.1\" \"1\" \"new\" \"1\" \"x\" \"1.5\" \"c\" \"3\" \"b\" \"5\" \"n1\" \"7\" \"big\" \"1e+100\"]"},
		{"zpopmin z", "[\"ninf\" \"-inf\"]"},
		{"zpopmax z 2", "[\"big\" \"1e+100\" \"n1\" \"7\"]"},
		{"zpopmin z 0", "[]"},
		{"zpopmin z -1", "!ERR value is out of range, must be positive"},
		{"zpopmin z abc", "!ERR value is out of range, must be positive"},
		{"zpopmin z 1 2", "!ERR syntax error"},
		{"zpopmin nosuch", "[]"},
		{"zpopmin nosuch 2", "[]"},
		{"zadd lex 0 a 0 b 0 c 0 d 0 e", "(integer) 5"},
		{"zrangebylex lex - +", "[\"a\" \"b\" \"c\" \"d\" \"e\"]"},
		{"zrangebylex lex [b (d", "[\"b\" \"c\"]"},
		{"zrangebylex lex (b [d limit 1 5", "[\"d\"]"},
		{"zrevrangebylex lex + -", "[\"e\" \"d\" \"c\" \"b\" \"a\"]"},
		{"zrevrangebylex lex [d (a limit 0 2", "[\"d\" \"c\"]"},
		{"zrangebylex lex b d", "!ERR min or max not valid string range item"},
		{"zrangebylex lex [z +", "[]"},
		{"zrange lex [c - bylex rev", "[\"c\" \"b\" \"a\"]"},
		{"zlexcount lex - +", "(integer) 5"},
		{"zlexcount lex [b [c", "(integer) 2"},
		{"zlexcount lex (b (c", "(integer) 0"},
		{"zlexcount lex a b", "!ERR min or max not valid string range item"},
		{"zremrangebylex lex [a (c", "(integer) 2"},
		{"zrange lex 0 -1", "[\"c\" \"d\" \"e\"]"},
		{"zadd r 1 a 2 b 3 c 4 d 5 e", "(integer) 5"},
		{"zremrangebyrank r 0 1", "(integer) 2"},
		{"zremrangebyrank r -1 -1", "(integer) 1"},
		{"zremrangebyrank r a 1", "!ERR value is not an integer or out of range"},
		{"zrange r 0 -1", "[\"c\" \"d\"]"},
		{"zremrangebyscore r (3 +inf", "(integer) 1"},
		{"zremrangebyscore r a 1", "!ERR min or max is not a float"},
		{"zrange r 0 -1 withscores", "[\"c\" \"3\"]"},
		{"zremrangebyscore r -inf +inf", "(integer) 1"},
		{"zcard r", "(integer) 0"},
		{"zrangestore dst lex 0 -1", "(integer) 3"},
		{"zrange dst 0 -1", "[\"c\" \"d\" \"e\"]"},
		{"zrangestore dst lex - [c bylex", "(integer) 1"},
		{"zrange dst 0 -1", "[\"c\"]"},
		{"zrangestore dst nosuch 0 -1", "(integer) 0"},
		{"zcard dst", "(integer) 0"},
		{"zrangestore dst lex 0 -1 withscores", "!ERR syntax error"},
		{"zadd z1 1 a 2 b 3 c", "(integer) 3"},
		{"zadd z2 10 b 20 c 30 d", "(integer) 3"},

		{"zunionstore out 2 z1 z2", "(integer) 4"},
		{"zrange out 0 -1 withscores", "[\"a\" \"1\" \"b\" \"12\" \"c\" \"23\" \"d\" \"30\"]"},
		{"zunionstore out 2 z1 z2 weights 2 0.5", "(integer) 4"},
		{"zrange out 0 -1 withscores", "[\"a\" \"2\" \"b\" \"9\" \"d\" \"15\" \"c\" \"16\"]"},
		{"zunionstore out 2 z1 z2 aggregate max", "(integer) 4"},
		{"zrange out 0 -1 withscores", "[\"a\" \"1\" \"b\" \"10\" \"c\" \"20\" \"d\" \"30\"]"},
		{"zunionstore out 2 z1 z2 aggregate min weights 1 -1", "(integer) 4"},
		{"zrange out 0 -1 withscores", "[\"d\" \"-30\" \"c\" \"-20\" \"b\" \"-10\" \"a\" \"1\"]"},
		{"zinterstore out 2 z1 z2", "(integer) 2"},
		{"zrange out 0 -1 withscores", "[\"b\" \"12\" \"c\" \"23\"]"},
		{"zinterstore out 2 z1 z2 aggregate min", "(integer) 2"},
		{"zrange out 0 -1 withscores", "[\"b\" \"2\" \"c\" \"3\"]"},
		{"zinterstore out 3 z1 z2 s1", "(integer) 0"},
		{"zcard out", "(integer) 0"},
		{"zunionstore out 2 z1 s1", "(integer) 4"},
		{"zrange out 0 -1 withscores", "[\"d\" \"1\" \"a\" \"2\" \"b\" \"2\" \"c\" \"3\"]"},
		{"zinterstore out 2 z1 nosuch", "(integer) 0"},
		{"zunionstore out 0 z1", "!ERR at least 1 input key is needed for 'zunionstore' command"},
		{"zunionstore out 2 z1", "!ERR syntax error"},
		{"zunionstore out 1 z1 weights 1 2", "!ERR syntax error"},
		{"zunionstore out 1 z1 weights x", "!ERR weight value is not a float"},
		{"zunionstore out 1 z1 aggregate foo", "!ERR syntax error"},
		{"zunionstore out -1 z1", "!ERR at least 1 input key is needed for 'zunionstore' command"},
		{"zunionstore out x z1", "!ERR value is not an integer or out of range"},
		{"zinterstore out 1 z1 aggregate max withscores", "!ERR syntax error"},
		{"zunionstore z1 2 z1 z2", "(integer) 4"},
		{"zrange z1 0 -1 withscores", "[\"a\" \"1\" \"b\" \"12\" \"c\" \"23\" \"d\" \"30\"]"},
		{"set str v", "OK"},
		{"zunionstore out 2 z1 str", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"zadd str 1 a", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"zscore str a", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"zrange str 0 -1", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"zcard str", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"zrank str a", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"zpopmin str", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"zincrby str 1 a", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"zrangestore dst str 0 -1", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"zrandmember str", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"zscan str 0", "!WRONGTYPE Operation against a key holding the wrong kind of value"},
		{"zadd inf 1 a", "(integer) 1"},
		{"zunionstore out 2 inf inf weights +inf -inf", "(integer) 1"},
		{"zrange out 0 -1 withscores", "[\"a\" \"0\"]"},
		{"zadd sc 1 a 2 b 3 c", "(integer) 3"},
		{"zscan sc 0", "[\"0\" [\"a\" \"1\" \"b\" \"2\" \"c\" \"3\"]]"},
		{"zscan sc 0 match a*", "[\"0\" [\"a\" \"1\"]]"},
		{"zscan sc 0 count 0", "!ERR syntax error"},
		{"zscan sc x", "!ERR invalid cursor"},
		{"zscan sc 0 foo", "!ERR syntax error"},
		{"zscan nosuch 0", "[\"0\" []]"},
		{"zrandmember sc 0", "[]"},
		{"zrandmember sc 3 withscores x", "!ERR syntax error"},
		{"zrandmember sc 1 foo", "!ERR syntax error"},
		{"zrandmember nosuch", "(nil)"},
		{"zrandmember nosuch 2", "[]"},
		{"zrandmember sc x", "!ERR value is not an integer or out of range"},
	})
}

func TestZSetRESP3(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"hello 3", "{*"},
		{"zadd z3 1.1 a 2 b 1e100 c", "(integer) 3"},
		{"zscore z3 a", "(double) 1.1000000000000001"},
		{"zscore z3 nosuch", "(nil)"},
		{"zmscore z3 a nosuch c", "[(double) 1.1000000000000001 (nil) (double) 1e+100]"},
		{"zrange z3 0 -1 withscores", "[[\"a\" (double) 1.1000000000000001] [\"b\" (double) 2] [\"c\" (double) 1e+100]]"},
		{"zrange z3 0 0", "[\"a\"]"},
		{"zrangebyscore z3 -inf +inf withscores limit 0 1", "[[\"a\" (double) 1.1000000000000001]]"},
		{"zrevrange z3 0 0 withscores", "[[\"c\" (double) 1e+100]]"},
		{"zincrby z3 1 b", "(double) 3"},
		{"zadd z3 incr 1 b", "(double) 4"},
		{"zadd z3 xx incr 1 nosuch", "(nil)"},
		{"zpopmin z3", "[\"a\" (double) 1.1000000000000001]"},
		{"zpopmin z3 1", "[[\"b\" (double) 4]]"},
		{"zpopmax nosuch", "[]"},
		{"zpopmax nosuch 1", "[]"},
		{"zrandmember z3 1 withscores", "[[\"c\" (double) 1e+100]]"},
		{"zrandmember z3 -1 withscores", "[[\"c\" (double) 1e+100]]"},
		{"zscan z3 0", "[\"0\" [\"c\" \"1e+100\"]]"},
		{"zrandmember nosuch", "(nil)"},
	})
}

func TestZSetFormatDouble(t *testing.T) {
	for _, tc := range []struct {
		f    float64
		want string
	}{{1.1, "1.1000000000000001"}, {1e100, "1e+100"}, {3, "3"}, {-0.5, "-0.5"}, {0.1, "0.10000000000000001"},
		{1e17, "1e+17"}, {1e16, "10000000000000000"}, {1.5e-7, "1.4999999999999999e-07"}, {123456789, "123456789"}} {
		if got := string(formatDouble(tc.f, false)); got != tc.want {
			t.Errorf("formatDouble(%v) = %s, want %s", tc.f, got, tc.want)
		}
	}
}

func TestZSetRandMember(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{{"zadd z 1 a 2 b 3 c", "(integer) 3"}})
	sorted := func(r string) string {
		f := strings.Fields(strings.Trim(r, "[]"))
		sort.Strings(f)
		return strings.Join(f, " ")
	}
	if got := sorted(c.do("zrandmember z 5")); got != `"a" "b" "c"` {
		t.Errorf("zrandmember 5: %s", got)
	}
	if got := sorted(c.do("zrandmember z 2")); strings.Count(got, `"`) != 4 || got == `"a" "a"` {
		t.Errorf("zrandmember 2: %s", got)
	}
	if got := c.do("zrandmember z -7"); strings.Count(got, `"`) != 14 {
		t.Errorf("zrandmember -7: %s", got)
	}
	if got := c.do("zrandmember z -2 withscores"); strings.Count(got, `"`) != 8 {
		t.Errorf("zrandmember -2 withscores: %s", got)
	}
	if got := c.do("zrandmember z"); got != `"a"` && got != `"b"` && got != `"c"` {
		t.Errorf("zrandmember: %s", got)
	}
}

// ZSCAN pages through a big set with a cursor and sees every member once.
func TestZSetScan(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	args := []string{"zadd", "big"}
	for i := 0; i < 300; i++ {
		args = append(args, fmt.Sprint(i), fmt.Sprintf("m%03d", i))
	}
	c.send(args...)
	if got := c.read(); got != "(integer) 300" {
		t.Fatal(got)
	}
	seen := map[string]bool{}
	cursor := "0"
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("scan does not end")
		}
		r := c.do("zscan big " + cursor + " count 50")
		head, rest, _ := strings.Cut(strings.TrimPrefix(r, "["), " ")
		cursor = strings.Trim(head, `"`)
		f := strings.Fields(strings.Trim(rest, "[]"))
		for i := 0; i+1 < len(f); i += 2 {
			m := strings.Trim(f[i], `"`)
			if seen[m] {
				t.Fatalf("member %s twice", m)
			}
			seen[m] = true
			if want := fmt.Sprintf(`"%d"`, atoiTest(m[1:])); f[i+1] != want {
				t.Fatalf("score of %s: %s", m, f[i+1])
			}
		}
		if cursor == "0" {
			break
		}
	}
	if len(seen) != 300 {
		t.Fatalf("saw %d members", len(seen))
	}
	runSteps(t, c, []step{
		{"zscan big 0 match m29* count 1000", `["0" ["m290" "290" "m291" "291" "m292" "292" "m293" "293" "m294" "294" "m295" "295" "m296" "296" "m297" "297" "m298" "298" "m299" "299"]]`},
		{"zrank big m150", "(integer) 150"},
		{"zrevrank big m150", "(integer) 149"},
		{"zrange big 298 -1 withscores", `["m298" "298" "m299" "299"]`},
		{"zrange big 100 (102 byscore", `["m100" "m101"]`},
		{"zcount big (10 20", "(integer) 10"},
		{"zremrangebyrank big 0 -11", "(integer) 290"},
		{"zcard big", "(integer) 10"},
	})
}

func TestZSetBlocking(t *testing.T) {
	s := startServer(t)
	c1, c2 := dial(t, s), dial(t, s)
	runSteps(t, c1, []step{
		{"bzpopmin z 0.05", "(nil)"},
		{"zadd z 1 a 2 b", "(integer) 2"},
		{"bzpopmin nosuch z 0", `["z" "a" "1"]`},
		{"bzpopmax z 0", `["z" "b" "2"]`},
		{"bzpopmax z x", "!ERR timeout is not a float or out of range"},
		{"multi", "OK"},
		{"bzpopmin z 0", "QUEUED"},
		{"exec", "[(nil)]"},
	})
	c1.send(splitCmd("bzpopmax z 5")...)
	waitBlocked(t, s, 1)
	runSteps(t, c2, []step{{"zadd z 1.5 x", "(integer) 1"}})
	if got := c1.read(); got != `["z" "x" "1.5"]` {
		t.Fatalf("bzpopmax: %s", got)
	}
	runSteps(t, c1, []step{{"hello 3", "{*"}, {"zadd z 3 y", "(integer) 1"}, {"bzpopmin z 0", `["z" "y" (double) 3]`}})
}

func atoiTest(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func TestZSetEvents(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	take := eventLog(t, s)
	for _, tc := range []struct{ cmd, events string }{
		{"zadd z 1 a 2 b", "zadd:z"},
		{"zadd z 1 a", ""},
		{"zadd z xx 1 nosuch", ""},
		{"zadd nz xx 1 a", ""},
		{"zadd z incr 1 a", "zincr:z"},
		{"zincrby z 1 c", "zincr:z"},
		{"zrem z nosuch", ""},
		{"zrem z c", "zrem:z"},
		{"zscore nosuch a", "keymiss:nosuch"},
		{"zrange nosuch 0 -1", "keymiss:nosuch"},
		{"zcard nosuch", "keymiss:nosuch"},
		{"zpopmin z", "zpopmin:z"},
		{"zpopmax z", "zpopmax:z del:z"},
		{"zadd z 1 a 2 b 3 c 4 d", "zadd:z"},
		{"zremrangebyscore z 1 1", "zremrangebyscore:z"},
		{"zremrangebyrank z 0 0", "zremrangebyrank:z"},
		{"zremrangebylex z - +", "zremrangebylex:z del:z"},
		{"zadd z 1 a", "zadd:z"},
		{"zunionstore u 1 z", "zunionstore:u"},
		{"zinterstore u 2 z nosuch", "del:u"},
		{"zinterstore u 1 z", "zinterstore:u"},
		{"zrangestore u z 0 -1", "zrangestore:u"},
		{"zrem z a", "zrem:z del:z"},
	} {
		c.do(tc.cmd)
		if got := take(); got != tc.events {
			t.Errorf("%s: events %q, want %q", tc.cmd, got, tc.events)
		}
	}
}
