package server

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestClientCommands(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	runSteps(t, c, []step{
		{"client id", "(integer) *"},
		{"client getname", "(nil)"},
		{"client setname \"a b\"", "!ERR Client names cannot contain spaces, newlines or special characters."},
		{"client setname worker-1", "OK"},
		{"client getname", `"worker-1"`},
		{"client setinfo lib-name go-redis(x,go1.26)", "OK"},
		{"client setinfo lib-ver 9.23.0", "OK"},
		{"client setinfo foo bar", "!ERR Unrecognized option 'foo'"},
		{"client no-evict on", "OK"},
		{"client no-evict maybe", "!ERR syntax error"},
		{"client no-touch off", "OK"},
		{"client reply on", "OK"},
		{"client kill id 999999", "(integer) 0"},
		{"client kill id abc", "!ERR client-id should be greater than 0"},
		{"client kill 1.2.3.4:5", "!ERR No such client"},
		{"client kill type foo", "!ERR Unknown client type 'foo'"},
		{"client kill id 1 foo", "!ERR syntax error"},
		{"client list type foo", "!ERR Unknown client type 'foo'"},
		{"client list foo", "!ERR syntax error"},
		{"client", "!ERR wrong number of arguments for 'client' command"},
		{"client foo", "!ERR unknown subcommand 'foo'. Try CLIENT HELP."},
		{"client help", "[CLIENT <subcommand>*"},
		{"client setname \"\"", "OK"},
		{"client getname", "(nil)"},
	})
	line := c.do("client info")
	re := regexp.MustCompile(`^"id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=\d+ name= age=\d+ idle=\d+ flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=client\|info user=default redir=-1 resp=2 lib-name=go-redis\(x,go1\.26\) lib-ver=9\.23\.0\\n"$`)
	if !re.MatchString(line) {
		t.Errorf("client info: %s", line)
	}
}

func TestClientListAndKill(t *testing.T) {
	s := startServer(t)
	a, b := dial(t, s), dial(t, s)
	runSteps(t, b, []step{{"client setname bee", "OK"}, {"select 3", "OK"}, {"multi", "OK"}})
	runSteps(t, a, []step{{"subscribe x", "[*"}, {"unsubscribe x", "[*"}})
	list := dial(t, s)
	out := list.do("client list")
	lines := strings.Split(strings.TrimSuffix(strings.Trim(out, `"`), `\n`), `\n`)
	if len(lines) != 3 {
		t.Fatalf("client list: %s", out)
	}
	if !strings.Contains(lines[1], " name=bee ") || !strings.Contains(lines[1], " db=3 ") || !strings.Contains(lines[1], " flags=x ") ||
		!strings.Contains(lines[1], " cmd=multi ") {
		t.Errorf("client b: %s", lines[1])
	}
	if !strings.Contains(lines[2], "cmd=client|list") {
		t.Errorf("self: %s", lines[2])
	}
	if got := list.do("client list type pubsub"); got != `""` {
		t.Errorf("type pubsub: %s", got)
	}
	// kill b by address (old form) and a by id
	addrB := regexp.MustCompile(`addr=(\S+)`).FindStringSubmatch(lines[1])[1]
	idA := regexp.MustCompile(`id=(\d+)`).FindStringSubmatch(lines[0])[1]
	runSteps(t, list, []step{
		{"client kill " + addrB, "OK"},
		{"client kill id " + idA, "(integer) 1"},
		{"client kill id " + idA, "(integer) 0"},
	})
	for _, cn := range []*conn{a, b} {
		cn.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := readReply(cn.rd); err == nil {
			t.Error("killed client still connected")
		}
	}
	runSteps(t, list, []step{{"client kill skipme no id 1 type normal user nobody", "(integer) 0"}})
	id := strings.TrimPrefix(list.do("client id"), "(integer) ")
	list.send("client", "kill", "id", id, "skipme", "no")
	if got := list.read(); got != "(integer) 1" {
		t.Fatalf("kill self: %s", got)
	}
	if _, err := readReply(list.rd); err == nil {
		t.Error("self still connected")
	}
}
