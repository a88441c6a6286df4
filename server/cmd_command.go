package server

import (
	"fmt"
	"sort"
	"strings"

	"github.com/wasmgears/wasmgears/storage"
)

// COMMAND, COMMAND COUNT/INFO/DOCS/GETKEYS/GETKEYSANDFLAGS/LIST, all read
// from the command table, in the shapes Redis 7.0 (and redis-cli's hints)
// expect.

// aclCategories derives a command's ACL categories from its flags and
// group, in Redis' category order.
func aclCategories(c *Command) []string {
	if len(c.Subs) > 0 && c.Parse == nil || strings.HasSuffix(c.Name, "|help") {
		return []string{"@slow"} // containers and HELP
	}
	has := map[string]bool{}
	if c.Flags&FlagWrite != 0 {
		has["write"] = true
	}
	if c.Flags&FlagReadonly != 0 {
		has["read"] = true
	}
	if g, ok := groupCategory[c.Group]; ok {
		has[g] = true
	}
	if c.Flags&FlagAdmin != 0 {
		has["admin"] = true
		has["dangerous"] = true
	}
	if c.Flags&FlagPubSub != 0 {
		has["pubsub"] = true
	}
	if c.Flags&FlagFast != 0 {
		has["fast"] = true
	} else {
		has["slow"] = true
	}
	if c.Flags&FlagBlocking != 0 {
		has["blocking"] = true
	}
	var out []string
	for _, cat := range aclCategoryOrder {
		if has[cat] {
			out = append(out, "@"+cat)
		}
	}
	return out
}

var aclCategoryOrder = []string{"keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap", "hyperloglog",
	"geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous", "connection", "transaction", "scripting"}

var groupCategory = map[string]string{
	"generic": "keyspace", "string": "string", "list": "list", "set": "set", "sorted-set": "sortedset",
	"hash": "hash", "stream": "stream", "pubsub": "pubsub", "transactions": "transaction",
	"connection": "connection", "scripting": "scripting", "geo": "geo", "hyperloglog": "hyperloglog", "bitmap": "bitmap",
}

// keySpecFlags are the key spec flags derived from the command flags.
func keySpecFlags(c *Command) []string {
	switch {
	case c.Flags&FlagWrite != 0 && c.Flags&FlagReadonly == 0:
		return []string{"RW", "update"}
	case c.Flags&FlagReadonly != 0:
		return []string{"RO", "access"}
	}
	return []string{"RO"}
}

func hasKeySpec(c *Command) bool { return c.FirstKey > 0 }

func writeCommandInfo(w *Writer, c *Command) {
	w.Array(10)
	w.BulkString(c.Name)
	w.Int(int64(c.Arity))
	names := c.Flags.Names()
	if c.Keys != nil && c.Flags&FlagMovableKeys == 0 {
		names = append(names, "movablekeys")
	}
	w.Set(len(names))
	for _, n := range names {
		w.Simple(n)
	}
	w.Int(int64(c.FirstKey))
	w.Int(int64(c.LastKey))
	w.Int(int64(c.Step))
	cats := aclCategories(c)
	w.Set(len(cats))
	for _, n := range cats {
		w.Simple(n)
	}
	w.Set(0) // tips
	if hasKeySpec(c) {
		w.Array(1)
		writeKeySpec(w, c)
	} else {
		w.Array(0)
	}
	w.Array(len(c.Subs))
	for _, s := range c.Subs {
		writeCommandInfo(w, s)
	}
}

func writeKeySpec(w *Writer, c *Command) {
	w.Map(3)
	w.BulkString("flags")
	f := keySpecFlags(c)
	w.Set(len(f))
	for _, n := range f {
		w.Simple(n)
	}
	w.BulkString("begin_search")
	w.Map(2)
	w.BulkString("type")
	w.BulkString("index")
	w.BulkString("spec")
	w.Map(1)
	w.BulkString("index")
	w.Int(int64(c.FirstKey))
	w.BulkString("find_keys")
	w.Map(2)
	w.BulkString("type")
	w.BulkString("range")
	w.BulkString("spec")
	w.Map(3)
	last := c.LastKey
	if last >= 0 {
		last -= c.FirstKey
	}
	w.BulkString("lastkey")
	w.Int(int64(last))
	w.BulkString("keystep")
	w.Int(int64(max(c.Step, 1)))
	w.BulkString("limit")
	w.Int(0)
}

func writeCommandDocs(w *Writer, c *Command) {
	n := 3
	if c.Complexity != "" {
		n++
	}
	if len(c.Args) > 0 {
		n++
	}
	if len(c.Subs) > 0 {
		n++
	}
	w.Map(n)
	w.BulkString("summary")
	w.BulkString(c.Summary)
	w.BulkString("since")
	w.BulkString(c.Since)
	w.BulkString("group")
	w.BulkString(c.Group)
	if c.Complexity != "" {
		w.BulkString("complexity")
		w.BulkString(c.Complexity)
	}
	if len(c.Args) > 0 {
		w.BulkString("arguments")
		writeArgs(w, c.Args)
	}
	if len(c.Subs) > 0 {
		w.BulkString("subcommands")
		w.Map(len(c.Subs))
		for _, s := range c.Subs {
			w.BulkString(s.Name)
			writeCommandDocs(w, s)
		}
	}
}

func writeArgs(w *Writer, args []Arg) {
	w.Array(len(args))
	for _, a := range args {
		var flags []string
		if a.Optional {
			flags = append(flags, "optional")
		}
		if a.Multiple {
			flags = append(flags, "multiple")
		}
		n := 2
		if a.Type == ArgKey {
			n++
		}
		if a.Token != "" {
			n++
		}
		if flags != nil {
			n++
		}
		if len(a.Args) > 0 {
			n++
		}
		w.Map(n)
		w.BulkString("name")
		w.BulkString(a.Name)
		w.BulkString("type")
		w.BulkString(string(a.Type))
		if a.Type == ArgKey {
			w.BulkString("key_spec_index")
			w.Int(int64(a.KeySpec))
		}
		if a.Token != "" {
			w.BulkString("token")
			w.BulkString(a.Token)
		}
		if flags != nil {
			w.BulkString("flags")
			w.Set(len(flags))
			for _, f := range flags {
				w.Simple(f)
			}
		}
		if len(a.Args) > 0 {
			w.BulkString("arguments")
			writeArgs(w, a.Args)
		}
	}
}

// Synopsis renders a command's arguments as redis-cli hints and the docs
// show them: "key value [NX|XX] [GET] [EX seconds|...]".
func Synopsis(args []Arg) string {
	parts := make([]string, 0, len(args))
	for _, a := range args {
		parts = append(parts, argSynopsis(a))
	}
	return strings.Join(parts, " ")
}

func argSynopsis(a Arg) string {
	var base string
	switch a.Type {
	case ArgPureTok:
		base = a.Token
	case ArgOneOf:
		subs := make([]string, len(a.Args))
		for i, s := range a.Args {
			subs[i] = argSynopsis(s)
		}
		base = strings.Join(subs, "|")
	case ArgBlock:
		base = Synopsis(a.Args)
	default:
		base = a.Name
	}
	tok := ""
	if a.Token != "" && a.Type != ArgPureTok {
		tok = a.Token + " "
	}
	s := tok + base
	if a.Multiple {
		s = tok + base + " [" + base + " ...]"
	}
	if a.Optional {
		s = "[" + s + "]"
	}
	return s
}

// lookupPath finds "name" or "parent|sub".
func lookupPath(name string) *Command {
	name = strings.ToLower(name)
	parent, sub, ok := strings.Cut(name, "|")
	c := table[parent]
	if c == nil || !ok {
		return c
	}
	return c.Sub([]byte(sub))
}

type commandGetKeys struct{ flags bool }

func (g commandGetKeys) Run(c *Ctx) {
	args := c.Args[2:]
	cmd := lookup(args[0])
	if cmd == nil {
		c.W.Error("ERR Invalid command specified")
		return
	}
	if len(cmd.Subs) > 0 && len(args) >= 2 {
		if sub := cmd.Sub(args[1]); sub != nil {
			cmd = sub
		}
	}
	if !cmd.arityOK(len(args)) {
		c.W.Error("ERR Invalid number of arguments specified for command")
		return
	}
	pos := cmd.KeyPositions(args)
	if len(pos) == 0 {
		if cmd.Keys != nil || cmd.Flags&FlagMovableKeys != 0 {
			c.W.Error("ERR Invalid arguments specified for command")
		} else {
			c.W.Error("ERR The command has no key arguments")
		}
		return
	}
	c.W.Array(len(pos))
	for _, p := range pos {
		if !g.flags {
			c.W.Bulk(args[p])
			continue
		}
		c.W.Array(2)
		c.W.Bulk(args[p])
		f := keySpecFlags(cmd)
		c.W.Set(len(f))
		for _, n := range f {
			c.W.Simple(n)
		}
	}
}

type commandList struct {
	by, val string
}

func parseCommandList(a [][]byte) (Runner, error) {
	if len(a) == 2 {
		return commandList{}, nil
	}
	if len(a) != 5 || !lowerEq(a[2], "filterby") {
		return nil, errSyntax
	}
	by := strings.ToLower(string(a[3]))
	switch by {
	case "module", "aclcat", "pattern":
	default:
		return nil, errSyntax
	}
	return commandList{by, string(a[4])}, nil
}

func (l commandList) Run(c *Ctx) {
	var out []string
	add := func(cmd *Command) {
		switch l.by {
		case "module":
			return
		case "aclcat":
			ok := false
			for _, cat := range aclCategories(cmd) {
				if strings.EqualFold(cat[1:], l.val) {
					ok = true
				}
			}
			if !ok {
				return
			}
		case "pattern":
			if !storage.Match([]byte(l.val), []byte(cmd.Name), true) {
				return
			}
		}
		out = append(out, cmd.Name)
	}
	for _, cmd := range Commands() {
		add(cmd)
		for _, s := range cmd.Subs {
			add(s)
		}
	}
	c.W.Strings(out)
}

func init() {
	fl := FlagLoading | FlagStale
	register(&Command{Name: "command", Arity: -1, Flags: fl, Group: "server", Since: "2.8.13",
		Summary: "Returns detailed information about all commands.", Complexity: "O(N) where N is the total number of Redis commands",
		Parse: simple(func(c *Ctx, a [][]byte) {
			if len(a) > 1 {
				c.W.Error(fmt.Sprintf("ERR unknown subcommand '%s'. Try COMMAND HELP.", truncArg(a[1])))
				return
			}
			cmds := Commands()
			c.W.Array(len(cmds))
			for _, cmd := range cmds {
				writeCommandInfo(c.W, cmd)
			}
		}),
		Subs: []*Command{
			{Name: "count", Arity: 2, Flags: fl, Since: "2.8.13", Summary: "Returns a count of commands.", Complexity: "O(1)",
				Parse: simple(func(c *Ctx, a [][]byte) { c.W.Int(int64(len(table))) })},
			{Name: "info", Arity: -2, Flags: fl, Since: "2.8.13", Summary: "Returns information about one, multiple or all commands.",
				Complexity: "O(N) where N is the number of commands to look up",
				Args:       []Arg{{Name: "command-name", Type: ArgString, Optional: true, Multiple: true}},
				Parse: simple(func(c *Ctx, a [][]byte) {
					if len(a) == 2 {
						cmds := Commands()
						c.W.Array(len(cmds))
						for _, cmd := range cmds {
							writeCommandInfo(c.W, cmd)
						}
						return
					}
					c.W.Array(len(a) - 2)
					for _, n := range a[2:] {
						if cmd := lookupPath(string(n)); cmd != nil {
							writeCommandInfo(c.W, cmd)
						} else {
							c.W.NullArray()
						}
					}
				})},
			{Name: "docs", Arity: -2, Flags: fl, Since: "7.0.0", Summary: "Returns documentary information about one, multiple or all commands.",
				Complexity: "O(N) where N is the number of commands to look up",
				Args:       []Arg{{Name: "command-name", Type: ArgString, Optional: true, Multiple: true}},
				Parse: simple(func(c *Ctx, a [][]byte) {
					var cmds []*Command
					if len(a) == 2 {
						cmds = Commands()
					} else {
						for _, n := range a[2:] {
							if cmd := lookupPath(string(n)); cmd != nil {
								cmds = append(cmds, cmd)
							}
						}
					}
					c.W.Map(len(cmds))
					for _, cmd := range cmds {
						c.W.BulkString(cmd.Name)
						writeCommandDocs(c.W, cmd)
					}
				})},
			{Name: "getkeys", Arity: -4, Flags: fl, Since: "2.8.13", Summary: "Extracts the key names from an arbitrary command.",
				Complexity: "O(N) where N is the number of arguments to the command",
				Args:       []Arg{strArg("command"), {Name: "arg", Type: ArgString, Optional: true, Multiple: true}},
				Parse:      func([][]byte) (Runner, error) { return commandGetKeys{}, nil }},
			{Name: "getkeysandflags", Arity: -4, Flags: fl, Since: "7.0.0", Summary: "Extracts the key names and access flags for an arbitrary command.",
				Complexity: "O(N) where N is the number of arguments to the command",
				Args:       []Arg{strArg("command"), {Name: "arg", Type: ArgString, Optional: true, Multiple: true}},
				Parse:      func([][]byte) (Runner, error) { return commandGetKeys{flags: true}, nil }},
			{Name: "list", Arity: -2, Flags: fl, Since: "7.0.0", Summary: "Returns a list of command names.",
				Complexity: "O(N) where N is the total number of Redis commands",
				Args: []Arg{{Name: "filterby", Type: ArgOneOf, Token: "FILTERBY", Optional: true, Args: []Arg{
					{Name: "module-name", Type: ArgString, Token: "MODULE"}, {Name: "category", Type: ArgString, Token: "ACLCAT"},
					{Name: "pattern", Type: ArgPattern, Token: "PATTERN"}}}},
				Parse: parseCommandList},
			{Name: "help", Arity: 2, Flags: fl, Since: "5.0.0", Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)",
				Parse: simple(func(c *Ctx, a [][]byte) {
					writeHelp(c.W, "COMMAND", []string{
						"(no subcommand)", "    Return details about all Redis commands.",
						"COUNT", "    Return the total number of commands in this Redis server.",
						"LIST", "    Return a list of all commands in this Redis server.",
						"INFO [<command-name> ...]", "    Return details about multiple Redis commands.",
						"    If no command names are given, documentation details for all",
						"    commands are returned.",
						"DOCS [<command-name> ...]", "    Return documentation details about multiple Redis commands.",
						"    If no command names are given, documentation details for all",
						"    commands are returned.",
						"GETKEYS <full-command>", "    Return the keys from a full Redis command.",
						"GETKEYSANDFLAGS <full-command>", "    Return the keys and the access flags from a full Redis command.",
					})
				})},
		}})
}

// CommandsMarkdown renders docs/commands.md from the command table.
func CommandsMarkdown() string {
	var b strings.Builder
	b.WriteString("# wasmgears commands\n\n")
	b.WriteString("Generated from the command table by `make docs` (`wasmgears --commands-md`); do not edit.\n")
	b.WriteString("wasmgears implements these commands with Redis " + RedisVersion + " semantics.\n")
	groups := map[string][]*Command{}
	for _, c := range Commands() {
		groups[c.Group] = append(groups[c.Group], c)
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		title := g
		if title == "" {
			title = "other"
		}
		fmt.Fprintf(&b, "\n## %s\n\n", title)
		b.WriteString("| Command | Summary | Since | Complexity |\n|---|---|---|---|\n")
		for _, c := range groups[g] {
			mdRow(&b, c)
			for _, s := range c.Subs {
				mdRow(&b, s)
			}
		}
	}
	return b.String()
}

func mdRow(b *strings.Builder, c *Command) {
	usage := strings.ToUpper(c.FullName())
	if syn := Synopsis(c.Args); syn != "" {
		usage += " " + syn
	}
	esc := func(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
	fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", esc(usage), esc(c.Summary), c.Since, esc(c.Complexity))
}
