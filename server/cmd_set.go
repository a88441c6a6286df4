package server

import (
	"math"

	"github.com/wasmgears/wasmgears/storage"
)

// Set commands.

type saddCmd struct {
	key     []byte
	members [][]byte
	rem     bool // SREM
}

func (s saddCmd) Run(c *Ctx) {
	var n int64
	var err error
	if s.rem {
		n, err = c.Tx.SRem(s.key, s.members)
	} else {
		n, err = c.Tx.SAdd(s.key, s.members)
	}
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Int(n)
}

// writeSet writes members as a RESP3 set (an array in RESP2).
func writeSet(w *Writer, members [][]byte) {
	w.Set(len(members))
	for _, m := range members {
		w.Bulk(m)
	}
}

type smembersCmd struct{ key []byte }

func (s smembersCmd) Run(c *Ctx) {
	ms, err := c.Tx.SMembers(s.key)
	if err != nil {
		c.Err(err)
		return
	}
	writeSet(c.W, ms)
}

type sismemberCmd struct{ key, member []byte }

func (s sismemberCmd) Run(c *Ctx) {
	ok, err := c.Tx.SIsMember(s.key, s.member)
	if err != nil {
		c.Err(err)
		return
	}
	writeIntBool(c.W, ok)
}

type smismemberCmd struct {
	key     []byte
	members [][]byte
}

func (s smismemberCmd) Run(c *Ctx) {
	oks, err := c.Tx.SMIsMember(s.key, s.members)
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Array(len(oks))
	for _, ok := range oks {
		writeIntBool(c.W, ok)
	}
}

type scardCmd struct{ key []byte }

func (s scardCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.SCard(s.key))
}

type spopCmd struct {
	key      []byte
	count    int64
	hasCount bool
}

func parseSpop(a [][]byte) (Runner, error) {
	s := spopCmd{key: a[1], count: 1}
	if len(a) > 3 {
		return nil, errSyntax
	}
	if len(a) == 3 {
		n, err := storage.ParseInt(a[2])
		if err != nil || n < 0 {
			return nil, cmdError("ERR value is out of range, must be positive")
		}
		s.count, s.hasCount = n, true
	}
	return s, nil
}

func (s spopCmd) Run(c *Ctx) {
	ms, _, err := c.Tx.SPop(s.key, s.count)
	switch {
	case err != nil:
		c.Err(err)
	case s.hasCount:
		writeSet(c.W, ms)
	case len(ms) == 0:
		c.W.Null()
	default:
		c.W.Bulk(ms[0])
	}
}

type srandmemberCmd struct {
	key      []byte
	count    int64
	hasCount bool
}

func parseSrandmember(a [][]byte) (Runner, error) {
	s := srandmemberCmd{key: a[1], count: 1}
	if len(a) > 3 {
		return nil, errSyntax
	}
	if len(a) == 3 {
		n, err := parseInt(a[2])
		if err != nil {
			return nil, err
		}
		if n == math.MinInt64 {
			return nil, errRangeCount
		}
		s.count, s.hasCount = n, true
	}
	return s, nil
}

func (s srandmemberCmd) Run(c *Ctx) {
	ms, _, err := c.Tx.SRandMember(s.key, s.count)
	switch {
	case err != nil:
		c.Err(err)
	case s.hasCount:
		c.W.Bulks(ms)
	case len(ms) == 0:
		c.W.Null()
	default:
		c.W.Bulk(ms[0])
	}
}

type smoveCmd struct{ src, dst, member []byte }

func (s smoveCmd) Run(c *Ctx) {
	ok, err := c.Tx.SMove(s.src, s.dst, s.member)
	if err != nil {
		c.Err(err)
		return
	}
	writeIntBool(c.W, ok)
}

// setOpCmd is SINTER, SUNION, SDIFF and their STORE forms (dst != nil).
type setOpCmd struct {
	op   storage.SetOp
	dst  []byte
	keys [][]byte
}

func parseSetOp(op storage.SetOp, store bool) Parser {
	return func(a [][]byte) (Runner, error) {
		if store {
			return setOpCmd{op, a[1], a[2:]}, nil
		}
		return setOpCmd{op, nil, a[1:]}, nil
	}
}

func (s setOpCmd) Run(c *Ctx) {
	if s.dst != nil {
		n, err := c.Tx.SetCombineStore(s.op, s.dst, s.keys)
		if err != nil {
			c.Err(err)
			return
		}
		c.W.Int(n)
		return
	}
	ms, err := c.Tx.SetCombine(s.op, s.keys)
	if err != nil {
		c.Err(err)
		return
	}
	writeSet(c.W, ms)
}

type sintercardCmd struct {
	keys  [][]byte
	limit int64
}

// numKeys parses a numkeys argument at a[at] as SINTERCARD (and ZINTERCARD,
// LMPOP, ...) do: 1..remaining arguments.
func numKeys(a [][]byte, at int) (int, error) {
	n, err := storage.ParseInt(a[at])
	if err != nil || n < 1 {
		return 0, cmdError("ERR numkeys should be greater than 0")
	}
	if n > int64(len(a)-at-1) {
		return 0, cmdError("ERR Number of keys can't be greater than number of args")
	}
	return int(n), nil
}

func parseSintercard(a [][]byte) (Runner, error) {
	n, err := numKeys(a, 1)
	if err != nil {
		return nil, err
	}
	s := sintercardCmd{keys: a[2 : 2+n]}
	for i := 2 + n; i < len(a); i += 2 {
		if !lowerEq(a[i], "limit") || i+1 >= len(a) {
			return nil, errSyntax
		}
		l, err := storage.ParseInt(a[i+1])
		if err != nil || l < 0 {
			return nil, cmdError("ERR LIMIT can't be negative")
		}
		s.limit = l
	}
	return s, nil
}

func (s sintercardCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.SInterCard(s.keys, s.limit))
}

type sscanCmd struct {
	key []byte
	scanArgs
}

func parseSscan(a [][]byte) (Runner, error) {
	s, err := parseScanArgs(a, 2, false)
	if err != nil {
		return nil, err
	}
	return sscanCmd{a[1], s}, nil
}

func (s sscanCmd) Run(c *Ctx) {
	if s.err != nil { // reported only when the key is a set
		if n, err := c.Tx.SCard(s.key); err != nil || n == 0 {
			if err != nil {
				c.Err(err)
			} else {
				writeScan(c.W, 0, nil)
			}
			return
		}
		c.Err(s.err)
		return
	}
	next, ms, _, err := c.Tx.SScan(s.key, s.cursor, s.match, s.count)
	if err != nil {
		c.Err(err)
		return
	}
	writeScan(c.W, next, ms)
}

func init() {
	const g = "set"
	rw := FlagWrite | FlagDenyOOM
	key := []Arg{keyArg("key")}
	keyMembers := []Arg{keyArg("key"), {Name: "member", Type: ArgString, Multiple: true}}
	keyMember := []Arg{keyArg("key"), strArg("member")}
	multiKey := []Arg{{Name: "key", Type: ArgKey, Multiple: true}}
	storeKeys := []Arg{keyArg("destination"), {Name: "key", Type: ArgKey, Multiple: true}}
	one := func(name string, arity int, flags Flag, since, summary, cx string, args []Arg, p Parser) *Command {
		return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Since: since, Summary: summary, Complexity: cx, Args: args, Parse: p}
	}
	all := func(name string, arity int, flags Flag, since, summary, cx string, args []Arg, p Parser) *Command {
		c := one(name, arity, flags, since, summary, cx, args, p)
		c.LastKey = -1
		return c
	}
	km := func(rem bool) Parser {
		return func(a [][]byte) (Runner, error) { return saddCmd{a[1], a[2:], rem}, nil }
	}
	register(
		one("sadd", -3, rw|FlagFast, "1.0.0", "Adds one or more members to a set. Creates the key if it doesn't exist.",
			"O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.", keyMembers, km(false)),
		one("srem", -3, FlagWrite|FlagFast, "1.0.0", "Removes one or more members from a set. Deletes the set if the last member was removed.",
			"O(N) where N is the number of members to be removed.", keyMembers, km(true)),
		one("smembers", 2, FlagReadonly, "1.0.0", "Returns all members of a set.", "O(N) where N is the set cardinality.", key,
			func(a [][]byte) (Runner, error) { return smembersCmd{a[1]}, nil }),
		one("sismember", 3, FlagReadonly|FlagFast, "1.0.0", "Determines whether a member belongs to a set.", "O(1)", keyMember,
			func(a [][]byte) (Runner, error) { return sismemberCmd{a[1], a[2]}, nil }),
		one("smismember", -3, FlagReadonly|FlagFast, "6.2.0", "Determines whether multiple members belong to a set.",
			"O(N) where N is the number of elements being checked for membership", keyMembers,
			func(a [][]byte) (Runner, error) { return smismemberCmd{a[1], a[2:]}, nil }),
		one("scard", 2, FlagReadonly|FlagFast, "1.0.0", "Returns the number of members in a set.", "O(1)", key,
			func(a [][]byte) (Runner, error) { return scardCmd{a[1]}, nil }),
		one("spop", -2, FlagWrite|FlagFast, "1.0.0", "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
			"Without the count argument O(1), otherwise O(N) where N is the value of the passed count.",
			[]Arg{keyArg("key"), {Name: "count", Type: ArgInteger, Optional: true}}, parseSpop),
		one("srandmember", -2, FlagReadonly, "1.0.0", "Get one or multiple random members from a set",
			"Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.",
			[]Arg{keyArg("key"), {Name: "count", Type: ArgInteger, Optional: true}}, parseSrandmember),
		&Command{Name: "smove", Arity: 4, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 2, Step: 1, Group: g,
			Summary: "Moves a member from one set to another.", Complexity: "O(1)",
			Args:  []Arg{keyArg("source"), keyArg("destination"), strArg("member")},
			Parse: func(a [][]byte) (Runner, error) { return smoveCmd{a[1], a[2], a[3]}, nil }},
		all("sinter", -2, FlagReadonly, "1.0.0", "Returns the intersect of multiple sets.",
			"O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", multiKey, parseSetOp(storage.SetInter, false)),
		all("sunion", -2, FlagReadonly, "1.0.0", "Returns the union of multiple sets.",
			"O(N) where N is the total number of elements in all given sets.", multiKey, parseSetOp(storage.SetUnion, false)),
		all("sdiff", -2, FlagReadonly, "1.0.0", "Returns the difference of multiple sets.",
			"O(N) where N is the total number of elements in all given sets.", multiKey, parseSetOp(storage.SetDiff, false)),
		all("sinterstore", -3, rw, "1.0.0", "Stores the intersect of multiple sets in a key.",
			"O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.", storeKeys, parseSetOp(storage.SetInter, true)),
		all("sunionstore", -3, rw, "1.0.0", "Stores the union of multiple sets in a key.",
			"O(N) where N is the total number of elements in all given sets.", storeKeys, parseSetOp(storage.SetUnion, true)),
		all("sdiffstore", -3, rw, "1.0.0", "Stores the difference of multiple sets in a key.",
			"O(N) where N is the total number of elements in all given sets.", storeKeys, parseSetOp(storage.SetDiff, true)),
		&Command{Name: "sintercard", Arity: -3, Flags: FlagReadonly | FlagMovableKeys, Group: g, Since: "7.0.0",
			Summary:    "Returns the number of members of the intersect of multiple sets.",
			Complexity: "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.",
			Args: []Arg{intArg("numkeys"), {Name: "key", Type: ArgKey, Multiple: true},
				{Name: "limit", Type: ArgInteger, Token: "LIMIT", Optional: true}},
			Parse: parseSintercard, Keys: numKeysPositions(1)},
		one("sscan", -3, FlagReadonly, "2.8.0", "Iterates over members of a set.",
			"O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
			[]Arg{keyArg("key"), intArg("cursor"), {Name: "pattern", Type: ArgPattern, Token: "MATCH", Optional: true},
				{Name: "count", Type: ArgInteger, Token: "COUNT", Optional: true}}, parseSscan),
	)
}

// numKeysPositions returns a key extractor for "numkeys key [key ...]"
// commands whose numkeys argument is at index at.
func numKeysPositions(at int) func(a [][]byte) []int {
	return func(a [][]byte) []int {
		if at >= len(a) {
			return nil
		}
		n, err := numKeys(a, at)
		if err != nil {
			return nil
		}
		out := make([]int, n)
		for i := range out {
			out[i] = at + 1 + i
		}
		return out
	}
}
