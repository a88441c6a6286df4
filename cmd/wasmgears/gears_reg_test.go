package main

import (
	"github.com/redis/go-redis/v9"

	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRegistrationsSurviveRestart: registrations (with their session code,
// ids and description) are persisted and restored when the real process
// restarts, after SIGTERM and after kill -9; onRegistered runs again;
// stream registrations resume from their consumer group.
func TestRegistrationsSurviveRestart(t *testing.T) {
	if againstRedis {
		t.Skip("redis-server has no RedisGears module here")
	}
	// always: the gears' own writes just before kill -9 must survive too
	s := start(t, "--appendfsync", "always")
	ctx := ctxT(t)
	c := s.client(2)
	code := `
GB().foreach(lambda r: execute('incr', 'hits')).register(prefix='k:*', onRegistered=lambda: execute('incr', 'onreg'))
GB('CommandReader').map(lambda x: 'pong:' + x[1]).register(trigger='ping2')
GB('StreamReader').foreach(lambda r: execute('rpush', 'entries', r['id'])).register(prefix='st')
GB('CommandReader').map(lambda x: call_next(*(x[1:] + ['by', 'hook']))).register(hook='hset', keyprefix='h:', mode='sync')
GB().foreach(lambda r: override_reply('+linked ' + r['key'])).register(prefix='o:*', commands=['set'], mode='async')`
	noErr(t, c.Do(ctx, "RG.PYEXECUTE", code, "ID", "persist", "DESCRIPTION", "kept").Err())
	noErr(t, c.Set(ctx, "k:1", "a", 0).Err())
	noErr(t, c.XAdd(ctx, xargs("st", "1-1")).Err())
	waitFor(t, 10*time.Second, "first events", func() bool {
		return c.Get(ctx, "hits").Val() == "1" && c.LLen(ctx, "entries").Val() == 1
	})
	before := fmt.Sprint(c.Do(ctx, "RG.DUMPREGISTRATIONS").Val())
	ids := regIDs(before)
	if len(ids) != 5 {
		t.Fatalf("registrations: %s", before)
	}

	for i, how := range []string{"SIGTERM", "kill -9"} {
		if how == "SIGTERM" {
			noErr(t, s.term())
		} else {
			s.kill()
		}
		s.restart()
		c = s.client(2)
		ctx = ctxT(t)
		waitFor(t, 20*time.Second, "restore after "+how, func() bool {
			return len(regIDs(fmt.Sprint(c.Do(ctx, "RG.DUMPREGISTRATIONS").Val()))) == 5
		})
		eq(t, "ids after "+how, strings.Join(regIDs(fmt.Sprint(c.Do(ctx, "RG.DUMPREGISTRATIONS").Val())), " "), strings.Join(ids, " "))
		eq(t, "trigger after "+how, fmt.Sprint(c.Do(ctx, "RG.TRIGGER", "ping2", "x").Val()), "[pong:x]")
		// the command hook and the commands= link are back too
		eq(t, "hooked hset after "+how, fmt.Sprint(c.Do(ctx, "HSET", "h:"+how, "f", "v").Val()), "2")
		eq(t, "hook's write after "+how, c.HGet(ctx, "h:"+how, "by").Val(), "hook")
		eq(t, "overridden reply after "+how, fmt.Sprint(c.Do(ctx, "SET", "o:"+how, "v").Val()), "linked o:"+how)
		noErr(t, c.Set(ctx, "k:2", "b", 0).Err())
		noErr(t, c.XAdd(ctx, xargs("st", "")).Err())
		sess := fmt.Sprint(c.Do(ctx, "RG.PYDUMPSESSIONS").Val())
		if !strings.Contains(sess, "persist") || !strings.Contains(sess, "kept") {
			t.Fatalf("sessions after %s: %s", how, sess)
		}
		// stream entries are processed at least once: a kill -9 between an
		// execution and its XACK makes the entry pending, so it runs again
		want := i + 2
		waitFor(t, 10*time.Second, "events after "+how, func() bool {
			return c.Get(ctx, "hits").Val() == fmt.Sprint(want) && distinct(c.LRange(ctx, "entries", 0, -1).Val()) == want
		})
	}
	// onRegistered ran at registration and after each restore
	eq(t, "onRegistered runs", c.Get(ctx, "onreg").Val(), "3")
	// every stream entry was processed, in order
	got := c.LRange(ctx, "entries", 0, -1).Val()
	if got[0] != "1-1" || distinct(got) != 3 || !sortedIDs(got) {
		t.Fatalf("stream entries processed: %v", got)
	}
	// RG.UNREGISTER is persisted too
	for _, id := range ids {
		noErr(t, c.Do(ctx, "RG.UNREGISTER", id).Err())
	}
	noErr(t, s.term())
	s.restart()
	c = s.client(2)
	ctx = ctxT(t)
	waitFor(t, 10*time.Second, "gears engine up", func() bool {
		return c.Do(ctx, "RG.PYDUMPSESSIONS").Err() == nil
	})
	eq(t, "sessions after unregister + restart", fmt.Sprint(c.Do(ctx, "RG.PYDUMPSESSIONS").Val()), "[]")
}

func distinct(l []string) int {
	m := map[string]bool{}
	for _, x := range l {
		m[x] = true
	}
	return len(m)
}

// sortedIDs: stream ids in non-decreasing order (re-runs repeat the last).
func sortedIDs(l []string) bool {
	for i := 1; i < len(l); i++ {
		a, b := strings.SplitN(l[i-1], "-", 2), strings.SplitN(l[i], "-", 2)
		if len(a[0]) > len(b[0]) || (len(a[0]) == len(b[0]) && a[0] > b[0]) {
			return false
		}
	}
	return true
}

func regIDs(dump string) []string {
	var ids []string
	for _, part := range strings.Split(dump, "[id ")[1:] {
		ids = append(ids, strings.Fields(part)[0])
	}
	return ids
}

func xargs(stream, id string) *redis.XAddArgs {
	return &redis.XAddArgs{Stream: stream, ID: id, Values: []string{"f", "v"}}
}
