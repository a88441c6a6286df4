package server

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPubSubTwoConnections(t *testing.T) {
	s := startServer(t)
	sub, pub := dial(t, s), dial(t, s)
	runSteps(t, sub, []step{
		{"subscribe news sport", `["subscribe" "news" (integer) 1]`},
	})
	if got := sub.read(); got != `["subscribe" "sport" (integer) 2]` {
		t.Fatalf("second confirmation: %s", got)
	}
	runSteps(t, sub, []step{
		{"psubscribe n*", `["psubscribe" "n*" (integer) 3]`},
		{"get x", "!ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"},
		{"ping", `["pong" ""]`},
		{"ping hi", `["pong" "hi"]`},
	})
	runSteps(t, pub, []step{
		{"publish news hello", "(integer) 2"},
		{"publish nothing x", "(integer) 1"},
		{"publish other x", "(integer) 0"},
		{"pubsub channels", `["news" "sport"]`},
		{"pubsub channels s*", `["sport"]`},
		{"pubsub numsub news nope", `["news" (integer) 1 "nope" (integer) 0]`},
		{"pubsub numpat", "(integer) 1"},
		{"pubsub foo", "!ERR unknown subcommand 'foo'. Try PUBSUB HELP."},
	})
	for _, want := range []string{
		`["message" "news" "hello"]`,
		`["pmessage" "n*" "news" "hello"]`,
		`["pmessage" "n*" "nothing" "x"]`,
	} {
		if got := sub.read(); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
	}
	runSteps(t, sub, []step{
		{"unsubscribe news", `["unsubscribe" "news" (integer) 2]`},
		{"punsubscribe", `["punsubscribe" "n*" (integer) 1]`},
		{"unsubscribe", `["unsubscribe" "sport" (integer) 0]`},
		{"unsubscribe", `["unsubscribe" (nil) (integer) 0]`},
		{"set a b", "OK"}, // out of subscriber mode
	})
	runSteps(t, pub, []step{{"publish news x", "(integer) 0"}, {"pubsub numpat", "(integer) 0"}})
}

func TestPubSubRESP3AndReset(t *testing.T) {
	s := startServer(t)
	sub, pub := dial(t, s), dial(t, s)
	runSteps(t, sub, []step{
		{"hello 3", "{*"},
		{"subscribe ch", `["subscribe" "ch" (integer) 1]`},
		{"set k v", "OK"}, // RESP3 clients may run any command
	})
	runSteps(t, pub, []step{{"publish ch m1", "(integer) 1"}})
	if got := sub.read(); got != `["message" "ch" "m1"]` {
		t.Fatalf("push: %s", got)
	}
	// a push while the subscriber runs its own commands comes after the reply
	sub.send("get", "k")
	if got := sub.read(); got != `"v"` {
		t.Fatalf("get: %s", got)
	}
	runSteps(t, sub, []step{{"reset", "RESET"}})
	runSteps(t, pub, []step{{"publish ch m2", "(integer) 0"}})
	// closing a subscriber removes it
	sub2 := dial(t, s)
	runSteps(t, sub2, []step{{"subscribe gone", `["subscribe" "gone" (integer) 1]`}})
	sub2.c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for pub.do("pubsub numsub gone") != `["gone" (integer) 0]` {
		if time.Now().After(deadline) {
			t.Fatal("closed subscriber still counted")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestKeyspaceNotifications(t *testing.T) {
	s := startServer(t)
	sub, c := dial(t, s), dial(t, s)
	runSteps(t, sub, []step{{"psubscribe __key*__:*", `["psubscribe" "__key*__:*" (integer) 1]`}})
	runSteps(t, c, []step{
		{"set a 1", "OK"}, // notifications off: nothing published
		{"config set notify-keyspace-events KEA", "OK"},
		{"config get notify-keyspace-events", `["notify-keyspace-events" "AKE"]`},
		{"set a 2", "OK"},
		{"del a", "(integer) 1"},
		{"config set notify-keyspace-events Eg", "OK"},
		{"set a 3", "OK"}, // string class off
		{"expire a 100", "(integer) 1"},
		{"config set notify-keyspace-events Km", "OK"},
		{"get missing", "(nil)"},
		{"config set notify-keyspace-events \"\"", "OK"},
	})
	for _, want := range []string{
		`["pmessage" "__key*__:*" "__keyspace@0__:a" "set"]`,
		`["pmessage" "__key*__:*" "__keyevent@0__:set" "a"]`,
		`["pmessage" "__key*__:*" "__keyspace@0__:a" "del"]`,
		`["pmessage" "__key*__:*" "__keyevent@0__:del" "a"]`,
		`["pmessage" "__key*__:*" "__keyevent@0__:expire" "a"]`,
		`["pmessage" "__key*__:*" "__keyspace@0__:missing" "keymiss"]`,
	} {
		if got := sub.read(); got != want {
			t.Errorf("got %s\nwant %s", got, want)
		}
	}
}

func TestEventClass(t *testing.T) {
	for name, want := range map[string]int{
		"del": notifyGeneric, "rename_from": notifyGeneric, "expire": notifyGeneric, "set": notifyString,
		"incrbyfloat": notifyString, "lpush": notifyList, "rpop": notifyList, "hset": notifyHash, "sadd": notifySet,
		"zincr": notifyZSet, "xadd": notifyStream, "expired": notifyExpired, "keymiss": notifyKeyMiss, "new": notifyNew,
	} {
		if got := eventClass(name); got != want {
			t.Errorf("%s: class %d, want %d", name, got, want)
		}
	}
}

func TestMonitor(t *testing.T) {
	s := startServer(t)
	mon, c := dial(t, s), dial(t, s)
	runSteps(t, mon, []step{{"monitor", "OK"}})
	runSteps(t, c, []step{
		{"set k \"a b\\n\"", "OK"},
		{"config get port", "[*"}, // admin: not shown
		{"get k", "\"a b\\n\""},
	})
	l1, l2 := mon.read(), mon.read()
	if !strings.HasSuffix(l1, `] "set" "k" "a b\n"`) || !strings.Contains(l1, "[0 127.0.0.1:") || !strings.HasSuffix(l2, `"get" "k"`) {
		t.Fatalf("monitor lines:\n%s\n%s", l1, l2)
	}
	if ts, _, _ := strings.Cut(l1, " "); len(ts) != 17 || ts[10] != '.' {
		t.Errorf("timestamp %q", ts)
	}
	runSteps(t, mon, []step{{"reset", "RESET"}, {"ping", "PONG"}})
	runSteps(t, c, []step{{"set x y", "OK"}})
	runSteps(t, mon, []step{{"ping", "PONG"}}) // no monitor line in between
}

func TestPubSubPipelineAndConcurrentPublish(t *testing.T) {
	s := startServer(t)
	sub := dial(t, s)
	// replies buffered before the client turns async keep their order
	sub.send("set", "k", "v")
	sub.send("get", "k")
	sub.send("subscribe", "c")
	sub.send("ping")
	for _, want := range []string{"OK", `"v"`, `["subscribe" "c" (integer) 1]`, `["pong" ""]`} {
		if got := sub.read(); got != want {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	const pubs, n = 4, 200
	done := make(chan struct{})
	for p := 0; p < pubs; p++ {
		go func(p int) {
			defer func() { done <- struct{}{} }()
			c := dial(t, s)
			for i := 0; i < n; i++ {
				c.send("publish", "c", strconv.Itoa(p*n+i))
			}
			for i := 0; i < n; i++ {
				c.read()
			}
		}(p)
	}
	next := make([]int, pubs)
	for i := 0; i < pubs*n; i++ {
		got := sub.read()
		var v int
		if _, err := fmt.Sscanf(got, `["message" "c" "%d"]`, &v); err != nil {
			t.Fatalf("message %d: %s", i, got)
		}
		p := v / n
		if v%n != next[p] {
			t.Fatalf("publisher %d: got %d, want %d", p, v%n, next[p])
		}
		next[p]++
	}
	for p := 0; p < pubs; p++ {
		<-done
	}
}
