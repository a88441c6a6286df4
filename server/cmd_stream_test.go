package server

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wasmgears/wasmgears/storage"
)

// streamScript runs against both this server and, when
// WASMGEARS_COMPARE_REDIS=host:port is set, a real Redis 7.0 to compare
// replies. Lines starting with "~" are sent but their replies not compared
// (idle times).
var streamScript = []string{
	"xadd s 1-1 a 1",
	"xadd s 1-2 b 2",
	"xadd s 1-3 c 3",
	"xadd s 1-3 c 3",
	"xadd s 1-2 c 3",
	"xadd s 0-0 a b",
	"xadd s 0 a b",
	"xadd s 0-* a b",
	"xadd s abc a b",
	"xadd s 1-1-1 a b",
	"xadd s +5 a b",
	"xadd s \" 6\" a b",
	"xadd s 1--5 a b",
	"xadd s 7-* a b",
	"xadd s 7-* a b",
	"xadd s 4-* a b",
	"xadd s 7 a",
	"xadd s 7",
	"xadd s 8 a b c",
	"xadd s maxlen = 1 limit 10 9-1 a b",
	"xadd s maxlen 1 minid 5 9-1 a b",
	"xadd s maxlen -1 9-1 a b",
	"xadd s limit 5 9-1 a b",
	"xadd s limit -5 9-1 a b",
	"xadd s maxlen abc 9-1 a b",
	"xadd s nomkstream 9-1 a b",
	"xadd nos nomkstream 9-1 a b",
	"exists nos",
	"xlen s",
	"xlen nos",
	"xrange s - +",
	"xrange s - + count 2",
	"xrange s - + count 0",
	"xrange s - + count -1",
	"xrange s - + count",
	"xrange s - + foo 1",
	"xrange s (1-1 (7-0",
	"xrange s (1 +",
	"xrange s 1 1",
	"xrange s ( +",
	"xrange s (- +",
	"xrange s (18446744073709551615-18446744073709551615 +",
	"xrange s - (0-0",
	"xrange s 7 -",
	"xrange nos - +",
	"xrevrange s + -",
	"xrevrange s + - count 1",
	"xrevrange s (7-1 (1-1",
	"xdel s 5-0 99-0",
	"xdel s bad",
	"xdel nos bad",
	"xlen s",
	"xinfo stream s",
	"xtrim s maxlen 3",
	"xtrim s maxlen ~ 1",
	"xtrim s minid 7-1",
	"xtrim s",
	"xtrim s foo 1",
	"xtrim s maxlen = 1 limit 1",
	"xtrim nos maxlen 0",
	"xrange s - +",
	"xinfo stream s",
	"set str x",
	"xadd str 1 a b",
	"xlen str",
	"xrange str - +",
	"xread streams str 0",
	"xgroup create str g 0",
	// groups
	"del s",
	"xadd s 1-1 a 1",
	"xadd s 1-2 b 2",
	"xadd s 1-3 c 3",
	"xgroup create s g 0",
	"xgroup create s g 0",
	"xgroup create nokey g $",
	"xgroup create nokey2 g $ mkstream",
	"xinfo stream nokey2",
	"xgroup create s g3 0 entriesread -2",
	"xgroup create s g3 0 foo",
	"xgroup create s g3 (0",
	"xgroup create s g3 bad",
	"xgroup create nokey g3 bad",
	"xgroup destroy nokey g",
	"xgroup createconsumer s nog c",
	"xgroup setid s nog 0",
	"xgroup setid s nog bad",
	"xgroup delconsumer s nog c",
	"xgroup foo s g",
	"xgroup create s",
	"xreadgroup group g c1 count 2 streams s >",
	"xreadgroup group g c1 streams s 0",
	"xreadgroup group g c1 streams s 1-1",
	"xreadgroup group g c2 streams s 1-2",
	"xreadgroup group g c3 streams s >",
	"xreadgroup group g c3 streams s >",
	"xreadgroup group g c4 block 10 streams s >",
	"xpending s g",
	"~xpending s g - + 10",
	"xpending s g - + 0",
	"xpending s g - + 10 c2",
	"xpending s g - + 10 nobody",
	"xpending s g idle",
	"xpending s g - +",
	"xpending s nog",
	"xpending nos g",
	"xinfo groups s",
	"xinfo consumers s nog",
	"xinfo consumers nos g",
	"xinfo groups nos",
	"xinfo stream nos",
	"xgroup createconsumer s g c1",
	"xgroup createconsumer s g c9",
	"xgroup delconsumer s g c9",
	"xgroup delconsumer s g c1",
	"xpending s g",
	"xack s g 1-3 1-3 9-9",
	"xack s g bad",
	"xack s nog bad",
	"xack nos g 1",
	"xpending s g",
	"xgroup create s g2 $",
	"xpending s g2",
	"xgroup setid s g2 0 entriesread -5",
	"xgroup setid s g2 0 foo 5",
	"xgroup setid s g2 +",
	"xinfo groups s",
	"xgroup setid s g2 0",
	"xinfo groups s",
	"xclaim s g c9 0 1-1 force",
	"xclaim s g2 c9 0 1-1 force",
	"xclaim s g2 c9 0 1-2 force justid",
	"xclaim s g2 c9 0 1-2 retrycount 7 justid",
	"~xpending s g2 - + 10",
	"xpending s g2",
	"xclaim s g2 c9 abc 1-1",
	"xclaim s g2 c9 0 1-1 idle abc",
	"xclaim s g2 c9 0 1-1 foo",
	"xclaim s nog c9 0 1-1",
	"xclaim nos g c9 0 1-1",
	"xclaim s g2 c9 100000 1-1",
	"xautoclaim s g2 c10 0 0 count 1",
	"xautoclaim s g2 c10 0 0",
	"xautoclaim s g2 c10 0 0 justid",
	"xautoclaim s g2 c10 0 0 count 0",
	"xautoclaim s g2 c10 x 0",
	"xautoclaim s g2 c10 0 (1-1",
	"xautoclaim s nog c10 0 0",
	"xdel s 1-2",
	"xautoclaim s g2 c10 0 0",
	"xreadgroup group g2 c10 streams s 0",
	"xinfo groups s",
	"xgroup destroy s g2",
	"xgroup destroy s g2",
	"xreadgroup group nog c streams s >",
	"xreadgroup group g c streams s $",
	"xread streams s >",
	"xread group g c streams s >",
	"xread noack streams s 0",
	"xread streams s",
	"xread count 1 streams s 0",
	"xread streams s nos 0 0",
	"xread streams s 1-3",
	"xread streams s $",
	"xread block -1 streams s 0",
	"xread block 1.5 streams s 0",
	"xread count x streams s 0",
	"xread streams s bad",
	"xreadgroup group g c streams s",
	"xreadgroup group g c noack streams s >",
	"xsetid s 1-1",
	"xsetid s 5-5 entriesadded 1",
	"xsetid s 5-5 entriesadded -1",
	"xsetid s 5-5 maxdeletedid 6-0",
	"xsetid s 5-5 entriesadded 10 maxdeletedid 2-0",
	"xsetid nos 5-5",
	"xsetid s bad",
	"xinfo stream s",
	"~xinfo stream s full",
	"~xinfo stream s full count 1",
	"xinfo stream s foo",
	"xinfo foo s",
	// lag and entries-read
	"del l",
	"xadd l 1 a 1",
	"xadd l 2 a 1",
	"xadd l 3 a 1",
	"xgroup create l g 0",
	"xinfo groups l",
	"xreadgroup group g c count 1 streams l >",
	"xinfo groups l",
	"xdel l 2",
	"xinfo groups l",
	"xreadgroup group g c streams l >",
	"xinfo groups l",
	"xgroup create l g2 0 entriesread 1",
	"xinfo groups l",
	"xgroup create l g3 1",
	"xinfo groups l",
	"xadd l maxlen ~ 1 4 a 1",
	"xlen l",
	// odd ids, NOACK, XCLAIM of deleted entries, XAUTOCLAIM cursor
	"del o",
	"xadd o 1--05 a b",
	"xadd o 1--5 a b",
	"xgroup create o g 0",
	"xadd o 5 a 1",
	"xadd o 6 a 1",
	"xadd o 7 a 1",
	"xadd o 8 a 1",
	"xreadgroup group g c noack count 1 streams o >",
	"xpending o g",
	"xreadgroup group g c streams o >",
	"xdel o 6",
	"xclaim o g d 0 6 7 lastid 9",
	"xinfo groups o",
	"xautoclaim o g e 0 0 count 1",
	"xautoclaim o g e 0 0 count 1 justid",
	"xpending o g",
	"xreadgroup group g e streams o 0",
	"xreadgroup group g e count 1 streams o 7",
	"xgroup setid o g 0",
	"xreadgroup group g c count 2 streams o >",
	"xpending o g",
	"~xinfo consumers o g",
	"xread streams o nokey 0 0",
	"xread count 1 streams o nokey 0 0",
	"xtrim o minid ~ 100",
	"xtrim o maxlen ~ 0",
	"xtrim o maxlen ~ 0 limit 0",
	"xadd o minid 8 9 a b",
	"xrange o - +",
	"xgroup help",
	"xinfo help",
	"xadd o 18446744073709551615-18446744073709551615 a b",
	"xadd o * a b",
	"xadd o 18446744073709551615-* a b",
	"xsetid o 1",
}

func init() {
	// approximate trimming over emulated 100-entry nodes
	for i := 1; i <= 250; i++ {
		streamScript = append(streamScript, "xadd big "+itoa(int64(i))+" f v")
	}
	streamScript = append(streamScript,
		"xtrim big maxlen ~ 120", "xtrim big maxlen 140", "xtrim big maxlen ~ 30", "xlen big",
		"xtrim big minid ~ 240", "xtrim big minid ~ 260 limit 10", "xlen big", "xinfo stream big")
}

func TestStreamScript(t *testing.T) {
	s := startServer(t)
	for _, proto := range []string{"2", "3"} {
		c := dial(t, s)
		c.do("hello " + proto)
		c.do("flushall")
		var ref *conn
		if addr := os.Getenv("WASMGEARS_COMPARE_REDIS"); addr != "" {
			nc, err := net.Dial("tcp", addr)
			must(t, err)
			defer nc.Close()
			ref = &conn{t: t, c: nc, rd: bufio.NewReader(nc)}
			ref.do("hello " + proto)
			ref.do("flushall")
		}
		for _, line := range streamScript {
			cmp := !strings.HasPrefix(line, "~")
			line = strings.TrimPrefix(line, "~")
			got := c.do(line)
			if ref == nil {
				continue
			}
			want := ref.do(line)
			if cmp && got != want {
				t.Errorf("RESP%s %s\n got: %s\nwant: %s", proto, line, got, want)
			}
		}
	}
}

func TestStreamTranscript(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"xadd s 1-1 a 1", `"1-1"`},
		{"xadd s 1-2 b 2", `"1-2"`},
		{"xadd s 1-2 b 2", "!ERR The ID specified in XADD is equal or smaller than the target stream top item"},
		{"xadd s 0-0 a b", "!ERR The ID specified in XADD must be greater than 0-0"},
		{"xadd s x a b", "!ERR Invalid stream ID specified as stream command argument"},
		{"xadd s 1-* c 3", `"1-3"`},
		{"xadd s 2-* c 3", `"2-0"`},
		{"xlen s", "(integer) 4"},
		{"xrange s - + count 2", `[["1-1" ["a" "1"]] ["1-2" ["b" "2"]]]`},
		{"xrange s (1-2 +", `[["1-3" ["c" "3"]] ["2-0" ["c" "3"]]]`},
		{"xrevrange s + - count 1", `[["2-0" ["c" "3"]]]`},
		{"xrange s - + count 0", "(nil)"},
		{"xrange nokey - +", "[]"},
		{"xdel s 1-1 9-9", "(integer) 1"},
		{"xtrim s maxlen 2", "(integer) 1"},
		{"xrange s - +", `[["1-3" ["c" "3"]] ["2-0" ["c" "3"]]]`},
		{"xadd s nomkstream maxlen = 1 3-0 d 4", `"3-0"`},
		{"xadd nokey nomkstream 1 a b", "(nil)"},
		{"xlen s", "(integer) 1"},
		{"xread count 5 streams s nokey 0 0", `[["s" [["3-0" ["d" "4"]]]]]`},
		{"xread streams s 3-0", "(nil)"},
		{"xgroup create s g 0", "OK"},
		{"xgroup create s g 0", "!BUSYGROUP Consumer Group name already exists"},
		{"xreadgroup group g c1 streams s >", `[["s" [["3-0" ["d" "4"]]]]]`},
		{"xreadgroup group g c1 streams s >", "(nil)"},
		{"xreadgroup group g c1 streams s 0", `[["s" [["3-0" ["d" "4"]]]]]`},
		{"xreadgroup group nog c1 streams s >", "!NOGROUP No such key 's' or consumer group 'nog' in XREADGROUP with GROUP option"},
		{"xpending s g", `[(integer) 1 "3-0" "3-0" [["c1" "1"]]]`},
		{"xpending s g - + 10 c1", `[["3-0" "c1" (integer) *`},
		{"xack s g 3-0 3-0", "(integer) 1"},
		{"xpending s g", "[(integer) 0 (nil) (nil) (nil)]"},
		{"xgroup destroy s g", "(integer) 1"},
		{"del s", "(integer) 1"},
		{"xgroup create s g $", "!ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically."},
		{"xgroup create s g $ mkstream", "OK"},
		{"xlen s", "(integer) 0"},
	})
}

// StreamReader's pattern: XGROUP CREATE, XREADGROUP with id 0 (pending
// entries), then >, XACK, XTRIM.
func TestStreamReaderPattern(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"xgroup create st gears 0 mkstream", "OK"},
		{"xadd st 1-0 f v1", `"1-0"`},
		{"xadd st 2-0 f v2", `"2-0"`},
		{"xreadgroup group gears c count 10 streams st >", `[["st" [["1-0" ["f" "v1"]] ["2-0" ["f" "v2"]]]]]`},
		// restart: read pending entries with id 0
		{"xreadgroup group gears c count 10 streams st 0", `[["st" [["1-0" ["f" "v1"]] ["2-0" ["f" "v2"]]]]]`},
		{"xack st gears 1-0", "(integer) 1"},
		{"xreadgroup group gears c streams st 0", `[["st" [["2-0" ["f" "v2"]]]]]`},
		{"xdel st 2-0", "(integer) 1"},
		{"xreadgroup group gears c streams st 0", `[["st" [["2-0" (nil)]]]]`},
		{"xack st gears 2-0", "(integer) 1"},
		{"xreadgroup group gears c streams st 0", `[["st" []]]`},
		{"xtrim st maxlen 0", "(integer) 1"},
		{"xinfo groups st", `[["name" "gears" "consumers" (integer) 1 "pending" (integer) 0 "last-delivered-id" "2-0" "entries-read" (integer) 2 "lag" (integer) 0]]`},
	})
}

func TestStreamBlocking(t *testing.T) {
	s := startServer(t)
	a, b := dial(t, s), dial(t, s)
	b.do("hello 3")

	// XREAD BLOCK with $ is served by a later XADD.
	a.send("xread", "block", "0", "streams", "s", "$")
	time.Sleep(50 * time.Millisecond)
	if got := b.do("xadd s 1-0 a 1"); got != `"1-0"` {
		t.Fatal(got)
	}
	if got := a.read(); got != `[["s" [["1-0" ["a" "1"]]]]]` {
		t.Fatalf("xread: %s", got)
	}

	// $ keeps the id of the first run: an XDEL wake-up does not serve 1-0.
	a.send("xread", "block", "2000", "streams", "s", "$")
	time.Sleep(50 * time.Millisecond)
	b.do("xadd other 1-0 x y")
	b.do("xdel s 9-9")
	b.do("xadd s 2-0 b 2")
	if got := a.read(); got != `[["s" [["2-0" ["b" "2"]]]]]` {
		t.Fatalf("xread $: %s", got)
	}

	// timeout: null array; RESP3 null.
	if got := a.do("xread block 20 streams s $"); got != "(nil)" {
		t.Fatal(got)
	}
	if got := b.do("xread block 20 streams s $"); got != "(nil)" {
		t.Fatal(got)
	}

	// XREADGROUP BLOCK on a consumer group; RESP3 map reply.
	a.do("xgroup create s g $")
	b.send("xreadgroup", "group", "g", "c", "block", "0", "streams", "s", ">")
	time.Sleep(50 * time.Millisecond)
	a.do("xadd s 3-0 c 3")
	if got := b.read(); got != `{"s": [["3-0" ["c" "3"]]]}` {
		t.Fatalf("xreadgroup: %s", got)
	}
	if got := a.do("xpending s g"); got != `[(integer) 1 "3-0" "3-0" [["c" "1"]]]` {
		t.Fatal(got)
	}

	// the group goes away while blocked
	b.send("xreadgroup", "group", "g", "c", "block", "0", "streams", "s", ">")
	time.Sleep(50 * time.Millisecond)
	a.do("xgroup destroy s g")
	if got := b.read(); got != "!NOGROUP the consumer group this client was blocked on no longer exists" {
		t.Fatal(got)
	}
	// the key goes away while blocked
	a.do("xgroup create s g $")
	b.send("xreadgroup", "group", "g", "c", "block", "0", "streams", "s", ">")
	time.Sleep(50 * time.Millisecond)
	a.do("del s")
	if got := b.read(); got != "!UNBLOCKED the stream key no longer exists" {
		t.Fatal(got)
	}
}

func TestStreamEvents(t *testing.T) {
	s := startServer(t)
	var mu sync.Mutex
	var got []string
	cancel := s.DB().Subscribe(func(evs []storage.Event) {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range evs {
			if e.Name != "keymiss" {
				got = append(got, e.Name)
			}
		}
	})
	defer cancel()
	c := dial(t, s)
	for _, cmd := range []string{
		"xadd s maxlen 1 1 a b", "xadd s maxlen 1 2 a b", "xdel s 2", "xtrim s maxlen 0",
		"xgroup create s g 0", "xgroup createconsumer s g c", "xgroup delconsumer s g c", "xgroup setid s g 0",
		"xadd s 3 a b", "xreadgroup group g c2 streams s >", "xgroup destroy s g", "xsetid s 9",
	} {
		c.do(cmd)
	}
	want := "xadd xadd xtrim xdel xgroup-create xgroup-createconsumer xgroup-delconsumer xgroup-setid xadd xgroup-createconsumer xgroup-destroy xsetid"
	mu.Lock()
	g := strings.Join(got, " ")
	mu.Unlock()
	if g != want {
		t.Fatalf("events\n got: %s\nwant: %s", g, want)
	}
}

// TestStreamBatchPEL covers the PEL range scans of XREADGROUP '>' and
// XACK: entries delivered again after XGROUP SETID moved the group back
// change owner instead of being counted twice; batch acks with repeated
// and unknown ids (replies checked against redis-server 7.0.15).
func TestStreamBatchPEL(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	for i := 1; i <= 9; i++ {
		c.do(fmt.Sprintf("xadd s %d-1 f v", i))
	}
	runSteps(t, c, []step{
		{"xgroup create s g 0", "OK"},
		{"xreadgroup group g c1 count 5 streams s >", `[["s" [["1-1" ["f" "v"]] ["2-1" ["f" "v"]] ["3-1" ["f" "v"]] ["4-1" ["f" "v"]] ["5-1" ["f" "v"]]]]]`},
		{"xgroup setid s g 2-1", "OK"},
		{"xreadgroup group g c2 count 4 streams s >", `[["s" [["3-1" ["f" "v"]] ["4-1" ["f" "v"]] ["5-1" ["f" "v"]] ["6-1" ["f" "v"]]]]]`},
		{"xpending s g", `[(integer) 6 "1-1" "6-1" [["c1" "2"] ["c2" "4"]]]`},
		{"xack s g 1-1 2-1 3-1 3-1 4-1 5-1 6-1 7-1 9-9 1-1", "(integer) 6"},
		{"xpending s g", `[(integer) 0 (nil) (nil) (nil)]`},
	})
}
