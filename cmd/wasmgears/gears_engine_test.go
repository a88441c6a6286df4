package main

import (
	"fmt"
	"strings"
	"testing"
)

// TestGearsEngineBinary drives the GearsBuilder engine of the real binary
// with go-redis: readers, operations, result conversion and the execution
// commands, compared as whole replies.
func TestGearsEngineBinary(t *testing.T) {
	if againstRedis {
		t.Skip("redis-server has no RedisGears module here")
	}
	s := start(t)
	c := s.client(2)
	ctx := ctxT(t)
	noErr(t, c.MSet(ctx, "k:1", "a b", "k:2", "b c").Err())
	noErr(t, c.HSet(ctx, "h", "f", "v").Err())
	for _, tc := range []struct{ code, want string }{
		{"GB().map(lambda r: r['value']).flatmap(lambda v: v.split()).countby().map(lambda r: r['key'] + '=' + str(r['value'])).sort().run('k:*')", "[[a=1 b=2 c=1] []]"},
		{"GB().run('h')", "[[{'key': 'h', 'value': {'f': 'v'}, 'type': 'hash', 'event': None}] []]"},
		{"GB().count().run('nothing*')", "[[] []]"},
		{"GB('PythonReader').run(lambda: (x for x in [1, 2.5, [3]]), convertToStr=False)", "[[1 2.500000 [3]] []]"},
		{"GB('PythonReader').map(lambda x: 1 // x).run(lambda: (x for x in [0]))", "[[] [['Traceback (most recent call last):\\n', '  File \"<string>\", line 1, in <lambda>\\n', 'ZeroDivisionError: integer division or modulo by zero\\n']]]"},
	} {
		res, err := c.Do(ctx, "RG.PYEXECUTE", tc.code).Slice()
		noErr(t, err)
		eq(t, tc.code, fmt.Sprint(res), tc.want)
	}
	id, err := c.Do(ctx, "RG.PYEXECUTE", "GB('ShardsIDReader').run()", "UNBLOCKING").Text()
	noErr(t, err)
	if !strings.HasPrefix(id, strings.Repeat("0", 40)+"-") {
		t.Fatalf("execution id %q", id)
	}
	res, err := c.Do(ctx, "RG.GETRESULTSBLOCKING", id).Slice()
	noErr(t, err)
	eq(t, "shards id", fmt.Sprint(res), "[[1] []]")
	ex, err := c.Do(ctx, "RG.GETEXECUTION", id, "SHARD").Slice()
	noErr(t, err)
	if got := fmt.Sprint(ex); !strings.Contains(got, "status done") || !strings.Contains(got, "name ShardsIDReader") {
		t.Errorf("getexecution: %s", got)
	}
	err = c.Do(ctx, "RG.GETEXECUTION", id, "CLUSTER").Err()
	eq(t, "cluster", fmt.Sprint(err), "no cluster detected - use `RG.GETEXECUTION <id> [SHARD]` instead")
	noErr(t, c.Do(ctx, "RG.DROPEXECUTION", id).Err())
	eq(t, "dropped", fmt.Sprint(c.Do(ctx, "RG.GETRESULTS", id).Err()), "execution plan does not exist")
	plugins, err := c.Do(ctx, "RG.DUMPPLUGINS").Slice()
	noErr(t, err)
	eq(t, "plugins", fmt.Sprint(plugins), "[[GearsPythonPlugin 10000]]")
}
