package server

import (
	"sort"
	"strings"
)

// Flag is a command flag, as reported by COMMAND INFO.
type Flag uint32

const (
	FlagWrite Flag = 1 << iota
	FlagReadonly
	FlagDenyOOM
	FlagAdmin
	FlagPubSub
	FlagNoScript
	FlagBlocking
	FlagLoading
	FlagStale
	FlagSkipMonitor
	FlagFast
	FlagNoAuth
	FlagMayReplicate
	FlagNoMulti
	FlagMovableKeys
	FlagAllowBusy
)

var flagNames = []struct {
	f    Flag
	name string
}{
	{FlagWrite, "write"}, {FlagReadonly, "readonly"}, {FlagDenyOOM, "denyoom"}, {FlagAdmin, "admin"},
	{FlagPubSub, "pubsub"}, {FlagNoScript, "noscript"}, {FlagBlocking, "blocking"}, {FlagLoading, "loading"},
	{FlagStale, "stale"}, {FlagSkipMonitor, "skip_monitor"}, {FlagFast, "fast"}, {FlagNoAuth, "no_auth"},
	{FlagMayReplicate, "may_replicate"}, {FlagNoMulti, "no_multi"}, {FlagMovableKeys, "movablekeys"},
	{FlagAllowBusy, "allow_busy"},
}

// Names lists the flag names in COMMAND INFO order.
func (f Flag) Names() []string {
	var out []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			out = append(out, n.name)
		}
	}
	return out
}

// ArgType is a COMMAND DOCS argument type.
type ArgType string

const (
	ArgString   ArgType = "string"
	ArgInteger  ArgType = "integer"
	ArgDouble   ArgType = "double"
	ArgKey      ArgType = "key"
	ArgPattern  ArgType = "pattern"
	ArgUnixTime ArgType = "unix-time"
	ArgPureTok  ArgType = "pure-token"
	ArgOneOf    ArgType = "oneof"
	ArgBlock    ArgType = "block"
)

// Arg describes one argument for COMMAND DOCS (and so redis-cli's hints).
type Arg struct {
	Name     string
	Type     ArgType
	Token    string // literal token preceding the value, e.g. "EX"
	Optional bool
	Multiple bool
	KeySpec  int // index into the key specs for ArgKey; set by Key()
	Args     []Arg
}

// Runner is a parsed command, ready to run.
type Runner interface {
	Run(c *Ctx)
}

// Parser turns the raw arguments (args[0] is the command name) into a
// Runner, or returns an error to send to the client.
type Parser func(args [][]byte) (Runner, error)

// Command is one row of the command table. The table is data: it drives
// dispatch, arity checks, COMMAND, COMMAND DOCS/INFO/GETKEYS and key routing.
type Command struct {
	Name       string // lower case; "parent|sub" for subcommands
	Arity      int    // >0 exact, <0 at least -Arity (name included)
	Flags      Flag
	FirstKey   int
	LastKey    int // -1: last argument; -2: second to last
	Step       int
	Group      string // generic, string, list, set, sorted-set, hash, stream, pubsub, transactions, connection, server, scripting
	Summary    string
	Since      string
	Complexity string
	Args       []Arg
	Subs       []*Command // subcommands (CONFIG GET, ...)
	Parse      Parser
	// Keys extracts key positions for commands whose keys move (movablekeys).
	Keys func(args [][]byte) []int
}

// table is the registry, filled by the cmd_*.go files' init functions.
var table = map[string]*Command{}

// register adds commands to the table.
func register(cmds ...*Command) {
	for _, c := range cmds {
		if _, dup := table[c.Name]; dup {
			panic("duplicate command " + c.Name)
		}
		if c.Since == "" {
			c.Since = "1.0.0"
		}
		for _, s := range c.Subs {
			if !strings.Contains(s.Name, "|") {
				s.Name = c.Name + "|" + s.Name
			}
			if s.Since == "" {
				s.Since = c.Since
			}
			if s.Group == "" {
				s.Group = c.Group
			}
		}
		table[c.Name] = c
	}
}

// lookup finds a command by name (any case) without allocating.
func lookup(name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return table[strings.ToLower(string(name))]
	}
	for i, c := range name {
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	return table[string(buf[:len(name)])]
}

// Sub finds a subcommand by name (any case).
func (c *Command) Sub(name []byte) *Command {
	n := c.Name + "|" + strings.ToLower(string(name))
	for _, s := range c.Subs {
		if s.Name == n {
			return s
		}
	}
	return nil
}

// FullName is the command name as clients spell it ("config get").
func (c *Command) FullName() string { return strings.ReplaceAll(c.Name, "|", " ") }

// KeyPositions returns the argument indexes that are keys.
func (c *Command) KeyPositions(args [][]byte) []int {
	if c.Keys != nil {
		return c.Keys(args)
	}
	if c.FirstKey <= 0 {
		return nil
	}
	last := c.LastKey
	if last < 0 {
		last = len(args) + last
	}
	step := max(c.Step, 1)
	var out []int
	for i := c.FirstKey; i <= last && i < len(args); i += step {
		out = append(out, i)
	}
	return out
}

// Commands returns the table sorted by name.
func Commands() []*Command {
	out := make([]*Command, 0, len(table))
	for _, c := range table {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// arityOK checks n arguments (name included) against the arity.
func (c *Command) arityOK(n int) bool {
	if c.Arity >= 0 {
		return n == c.Arity
	}
	return n >= -c.Arity
}
