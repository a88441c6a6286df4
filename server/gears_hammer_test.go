package server

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestRegistrationHammer drives sync and async registrations of the same
// sessions from many clients at once — plain writes, MULTI/EXEC, triggers,
// RG.PYEXECUTE runs with atomic() blocks — and checks that everything
// completes (no deadlock between session actors and the keyspace lock) and
// that every event was seen exactly once by the sync registrations.
func TestRegistrationHammer(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	sessA := `
def sync_seen(r):
    execute('incr', 'sync_a')
def async_seen(r):
    with atomic():
        n = execute('get', 'async_a')
        execute('set', 'async_a', str(int(n or 0) + 1))
GB().foreach(sync_seen).register(prefix='h:*', eventTypes=['set'], mode='sync')
GB().foreach(async_seen).register(prefix='h:*', eventTypes=['set'], mode='async')
# a sync trigger whose write fires the sync and async registrations above
GB('CommandReader').foreach(lambda x: execute('set', 'h:t:' + x[1], 'v')).register(trigger='touch', mode='sync')
`
	if got := c.pyexec(sessA, "ID", "A"); got != "OK" {
		t.Fatal(got)
	}
	sessB := `
def b_seen(r):
    execute('incr', 'sync_b')
GB().foreach(b_seen).register(prefix='h:*', eventTypes=['set'], mode='sync')
GB('CommandReader').map(lambda x: execute('set', 'h:bt:' + x[1], 'v')).register(trigger='btouch', mode='async_local')
`
	if got := c.pyexec(sessB, "ID", "B"); got != "OK" {
		t.Fatal(got)
	}
	const clients, rounds = 8, 25
	writes := make(chan int, clients*rounds*8)
	var wg sync.WaitGroup
	done := make(chan struct{})
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cc := dial(t, s)
			for j := 0; j < rounds; j++ {
				k := fmt.Sprintf("%d-%d", i, j)
				var got string
				switch j % 5 {
				case 0:
					got = cc.do("set h:" + k + " v")
					writes <- 1
				case 1:
					cc.do("multi")
					cc.do("set h:m1:" + k + " v")
					cc.do("set h:m2:" + k + " v")
					got = cc.do("exec")
					writes <- 2
				case 2:
					got = cc.do("rg.trigger touch " + k)
					writes <- 1
				case 3:
					got = cc.do("rg.trigger btouch " + k)
					writes <- 1
				case 4:
					got = cc.pyexec("def f(x):\n    with atomic():\n        execute('set', 'h:p:" + k + "', 'v')\n        execute('set', 'h:q:" + k + "', 'v')\n    return 1\nGB('ShardsIDReader').map(f).run()")
					writes <- 2
				}
				if strings.HasPrefix(got, "!") {
					t.Errorf("client %d round %d: %s", i, j, got)
				}
			}
		}(i)
	}
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute): // a deadlock, not a slow run
		t.Fatal("hammer did not finish: deadlock between sessions and the keyspace lock?")
	}
	close(writes)
	total := 0
	for n := range writes {
		total += n
	}
	want := strconv.Itoa(total)
	runSteps(t, c, []step{
		{"get sync_a", `"` + want + `"`},
		{"get sync_b", `"` + want + `"`},
	})
	waitUntil(t, c, "get async_a", `"`+want+`"`)
}
