package server

import (
	"strconv"
	"strings"
	"testing"
)

func TestCommandIntrospection(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"command count", "(integer) " + strconv.Itoa(len(table))},
		{"command info get", `[["get" (integer) 2 [readonly fast] (integer) 1 (integer) 1 (integer) 1 [@read @string @fast] [] [["flags" [RO access] "begin_search" ["type" "index" "spec" ["index" (integer) 1]] "find_keys" ["type" "range" "spec" ["lastkey" (integer) 0 "keystep" (integer) 1 "limit" (integer) 0]]]] []]]`},
		{"command info nosuch", "[(nil)]"},
		{"command info mset", `[["mset" (integer) -3 [write denyoom] (integer) 1 (integer) -1 (integer) 2 [@write @string @slow] [] [["flags" [RW update] "begin_search" ["type" "index" "spec" ["index" (integer) 1]] "find_keys" ["type" "range" "spec" ["lastkey" (integer) -1 "keystep" (integer) 2 "limit" (integer) 0]]]] []]]`},
		{"command info config|get", `[["config|get" (integer) -3 [admin noscript loading stale] (integer) 0 (integer) 0 (integer) 0 [@admin @slow @dangerous] [] [] []]]`},
		{"command docs get", `["get" ["summary" "Returns the string value of a key." "since" "1.0.0" "group" "string" "complexity" "O(1)" "arguments" [["name" "key" "type" "key" "key_spec_index" (integer) 0]]]]`},
		{"command docs nosuch", "[]"},
		{"command getkeys set a b", `["a"]`},
		{"command getkeys mset a 1 b 2", `["a" "b"]`},
		{"command getkeys get a b", "!ERR Invalid number of arguments specified for command"},
		{"command getkeys ping x", "!ERR The command has no key arguments"},
		{"command getkeys nosuch x", "!ERR Invalid command specified"},
		{"command getkeys get", "!ERR wrong number of arguments for 'command|getkeys' command"},
		{"command getkeysandflags set a b", `[["a" [RW update]]]`},
		{"command list filterby pattern client|*", `["client|id" "client|getname" *`},
		{"command list filterby aclcat pubsub", `["psubscribe" "publish" "pubsub|channels" "pubsub|numsub" "pubsub|numpat" "punsubscribe" "subscribe" "unsubscribe"]`},
		{"command foo", "!ERR unknown subcommand 'foo'. Try COMMAND HELP."},
		{"command help", "[COMMAND <subcommand>*"},
	})
	// COMMAND DOCS set: the shape redis-cli 7.0 builds its hints from.
	want := `["set" ["summary" "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist." "since" "1.0.0" "group" "string" "complexity" "O(1)" "arguments" [` +
		`["name" "key" "type" "key" "key_spec_index" (integer) 0] ["name" "value" "type" "string"] ` +
		`["name" "condition" "type" "oneof" "flags" [optional] "arguments" [["name" "nx" "type" "pure-token" "token" "NX"] ["name" "xx" "type" "pure-token" "token" "XX"]]] ` +
		`["name" "get" "type" "pure-token" "token" "GET" "flags" [optional]] ` +
		`["name" "expiration" "type" "oneof" "flags" [optional] "arguments" [["name" "seconds" "type" "integer" "token" "EX"] ["name" "milliseconds" "type" "integer" "token" "PX"] ["name" "unix-time-seconds" "type" "unix-time" "token" "EXAT"] ["name" "unix-time-milliseconds" "type" "unix-time" "token" "PXAT"] ["name" "keepttl" "type" "pure-token" "token" "KEEPTTL"]]]]]]`
	if got := c.do("command docs set"); got != want {
		t.Errorf("command docs set:\n got %s\nwant %s", got, want)
	}
	// flags are status replies (redis-cli asserts that)
	c.send("command", "docs", "get")
	raw := make([]byte, 4096)
	n, _ := c.c.Read(raw)
	if !strings.Contains(string(raw[:n]), "$14\r\nkey_spec_index\r\n:0\r\n") {
		t.Errorf("raw docs: %q", raw[:n])
	}
	// containers list subcommands in docs and info
	if got := c.do("command docs config"); !strings.Contains(got, `"subcommands" ["config|get" ["summary"`) {
		t.Errorf("docs config: %s", got)
	}
	all := c.do("command")
	if strings.Count(all, `"get" (integer) 2`) != 1 {
		t.Errorf("COMMAND lacks get")
	}
	runSteps(t, c, []step{{"hello 3", "{*"}, {"command docs echo", `{"echo": {"summary": "Returns the given string." "since": "1.0.0" "group": "connection" "complexity": "O(1)" "arguments": [{"name": "message" "type": "string"}]}}`}})
}

func TestSynopsis(t *testing.T) {
	for name, want := range map[string]string{
		"set":       "key value [NX|XX] [GET] [EX seconds|PX milliseconds|EXAT unix-time-seconds|PXAT unix-time-milliseconds|KEEPTTL]",
		"subscribe": "channel [channel ...]",
		"mset":      "key value [key value ...]",
	} {
		if got := Synopsis(table[name].Args); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if got := Synopsis(lookupPath("client|list").Args); got != "[TYPE NORMAL|MASTER|REPLICA|PUBSUB] [ID client-id [client-id ...]]" {
		t.Errorf("client list: %q", got)
	}
}
