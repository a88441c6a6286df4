package server

import (
	"math"
	"time"

	"github.com/wasmgears/wasmgears/storage"
)

// List commands, including the blocking ones (BLPOP, BRPOP, BLMOVE,
// BRPOPLPUSH), which call Ctx.Block when every key is empty.

var errPositive = cmdError("ERR value is out of range, must be positive")

type pushCmd struct {
	key  []byte
	vals [][]byte
	left bool
	xx   bool
}

func parsePush(left, xx bool) Parser {
	return func(a [][]byte) (Runner, error) { return pushCmd{a[1], a[2:], left, xx}, nil }
}

func (p pushCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.Push(p.key, p.vals, p.left, p.xx))
}

type popCmd struct {
	key      []byte
	left     bool
	count    int64
	hasCount bool
}

func parsePop(left bool, name string) Parser {
	return func(a [][]byte) (Runner, error) {
		if len(a) > 3 {
			return nil, cmdError("ERR wrong number of arguments for '" + name + "' command")
		}
		p := popCmd{key: a[1], left: left, count: 1}
		if len(a) == 3 {
			n, err := storage.ParseInt(a[2])
			if err != nil || n < 0 {
				return nil, errPositive
			}
			p.count, p.hasCount = n, true
		}
		return p, nil
	}
}

func (p popCmd) Run(c *Ctx) {
	vals, ok, err := c.Tx.Pop(p.key, p.left, p.count)
	switch {
	case err != nil:
		c.Err(err)
	case !ok && p.hasCount:
		c.W.NullArray()
	case !ok:
		c.W.Null()
	case p.hasCount:
		c.W.Bulks(vals)
	case len(vals) == 0:
		c.W.Null()
	default:
		c.W.Bulk(vals[0])
	}
}

type llenCmd struct{ key []byte }

func (l llenCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.LLen(l.key))
}

type lrangeCmd struct {
	key         []byte
	start, stop int64
}

func parseKeyIntInt(a [][]byte) ([]byte, int64, int64, error) {
	s, err := parseInt(a[2])
	if err != nil {
		return nil, 0, 0, err
	}
	e, err := parseInt(a[3])
	if err != nil {
		return nil, 0, 0, err
	}
	return a[1], s, e, nil
}

func parseLrange(a [][]byte) (Runner, error) {
	k, s, e, err := parseKeyIntInt(a)
	return lrangeCmd{k, s, e}, err
}

func (l lrangeCmd) Run(c *Ctx) {
	vals, err := c.Tx.LRange(l.key, l.start, l.stop)
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Bulks(vals)
}

type lindexCmd struct {
	key   []byte
	index int64
}

func parseLindex(a [][]byte) (Runner, error) {
	n, err := parseInt(a[2])
	return lindexCmd{a[1], n}, err
}

func (l lindexCmd) Run(c *Ctx) {
	c.BulkOrNull(c.Tx.LIndex(l.key, l.index))
}

type lsetCmd struct {
	key   []byte
	index int64
	val   []byte
}

func parseLset(a [][]byte) (Runner, error) {
	n, err := parseInt(a[2])
	return lsetCmd{a[1], n, a[3]}, err
}

func (l lsetCmd) Run(c *Ctx) {
	if err := c.Tx.LSet(l.key, l.index, l.val); err != nil {
		c.Err(err)
		return
	}
	c.W.OK()
}

type lremCmd struct {
	key   []byte
	count int64
	val   []byte
}

func parseLrem(a [][]byte) (Runner, error) {
	n, err := parseInt(a[2])
	return lremCmd{a[1], n, a[3]}, err
}

func (l lremCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.LRem(l.key, l.count, l.val))
}

type ltrimCmd struct {
	key         []byte
	start, stop int64
}

func parseLtrim(a [][]byte) (Runner, error) {
	k, s, e, err := parseKeyIntInt(a)
	return ltrimCmd{k, s, e}, err
}

func (l ltrimCmd) Run(c *Ctx) {
	if err := c.Tx.LTrim(l.key, l.start, l.stop); err != nil {
		c.Err(err)
		return
	}
	c.W.OK()
}

type linsertCmd struct {
	key, pivot, val []byte
	before          bool
}

func parseLinsert(a [][]byte) (Runner, error) {
	l := linsertCmd{key: a[1], pivot: a[3], val: a[4]}
	switch {
	case lowerEq(a[2], "before"):
		l.before = true
	case lowerEq(a[2], "after"):
	default:
		return nil, errSyntax
	}
	return l, nil
}

func (l linsertCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.LInsert(l.key, l.before, l.pivot, l.val))
}

type lposCmd struct {
	key, val []byte
	o        storage.LPosOptions
}

func parseLpos(a [][]byte) (Runner, error) {
	l := lposCmd{key: a[1], val: a[2], o: storage.LPosOptions{Rank: 1, Count: -1}}
	p := newArgp(a, 3)
	for p.more() {
		switch {
		case p.is("rank"):
			n, err := p.int()
			if err != nil {
				return nil, err
			}
			if n == 0 {
				return nil, cmdError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
			}
			if n == math.MinInt64 {
				n = math.MinInt64 + 1
			}
			l.o.Rank = n
		case p.is("count"):
			n, err := p.int()
			if err != nil {
				return nil, err
			}
			if n < 0 {
				return nil, cmdError("ERR COUNT can't be negative")
			}
			l.o.Count = n
		case p.is("maxlen"):
			n, err := p.int()
			if err != nil {
				return nil, err
			}
			if n < 0 {
				return nil, cmdError("ERR MAXLEN can't be negative")
			}
			l.o.MaxLen = n
		default:
			return nil, errSyntax
		}
	}
	return l, nil
}

func (l lposCmd) Run(c *Ctx) {
	idx, err := c.Tx.LPos(l.key, l.val, l.o)
	switch {
	case err != nil:
		c.Err(err)
	case l.o.Count >= 0:
		c.W.Array(len(idx))
		for _, i := range idx {
			c.W.Int(i)
		}
	case len(idx) == 0:
		c.W.Null()
	default:
		c.W.Int(idx[0])
	}
}

// parseWhere parses LEFT|RIGHT.
func parseWhere(b []byte) (left bool, err error) {
	switch {
	case lowerEq(b, "left"):
		return true, nil
	case lowerEq(b, "right"):
		return false, nil
	}
	return false, errSyntax
}

type lmoveCmd struct {
	src, dst         []byte
	srcLeft, dstLeft bool
	blocking         bool
	timeout          time.Duration
}

func parseLmove(a [][]byte) (Runner, error) {
	l := lmoveCmd{src: a[1], dst: a[2]}
	var err error
	if l.srcLeft, err = parseWhere(a[3]); err != nil {
		return nil, err
	}
	if l.dstLeft, err = parseWhere(a[4]); err != nil {
		return nil, err
	}
	if len(a) == 6 { // BLMOVE
		l.blocking = true
		if l.timeout, err = blockTimeout(a[5]); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func parseRpoplpush(blocking bool) Parser {
	return func(a [][]byte) (Runner, error) {
		l := lmoveCmd{src: a[1], dst: a[2], blocking: blocking, dstLeft: true}
		if blocking {
			var err error
			if l.timeout, err = blockTimeout(a[3]); err != nil {
				return nil, err
			}
		}
		return l, nil
	}
}

func (l lmoveCmd) Run(c *Ctx) {
	v, ok, err := c.Tx.LMove(l.src, l.dst, l.srcLeft, l.dstLeft)
	switch {
	case err != nil:
		c.Err(err)
	case ok:
		c.W.Bulk(v)
	case l.blocking && !c.InMulti:
		c.Block([][]byte{l.src}, l.timeout, nil) // timeout: null array
	default:
		c.W.Null()
	}
}

// blockTimeout parses a blocking command's timeout (seconds, float).
func blockTimeout(b []byte) (time.Duration, error) {
	f, err := parseTimeout(b)
	if err != nil {
		return 0, err
	}
	if f*1e9 > math.MaxInt64/2 {
		return 0, errTimeout
	}
	return time.Duration(f * float64(time.Second)), nil
}

type bpopCmd struct {
	keys    [][]byte
	left    bool
	timeout time.Duration
}

func parseBpop(left bool) Parser {
	return func(a [][]byte) (Runner, error) {
		t, err := blockTimeout(a[len(a)-1])
		if err != nil {
			return nil, err
		}
		return bpopCmd{a[1 : len(a)-1], left, t}, nil
	}
}

func (b bpopCmd) Run(c *Ctx) {
	for _, k := range b.keys {
		vals, _, err := c.Tx.Pop(k, b.left, 1)
		if err != nil {
			c.Err(err)
			return
		}
		if len(vals) > 0 {
			c.W.Array(2)
			c.W.Bulk(k)
			c.W.Bulk(vals[0])
			return
		}
	}
	c.Block(b.keys, b.timeout, nil)
}

func init() {
	const g = "list"
	rw := FlagWrite | FlagDenyOOM
	key := keyArg("key")
	elems := Arg{Name: "element", Type: ArgString, Multiple: true}
	count := Arg{Name: "count", Type: ArgInteger, Optional: true}
	where := func(name string) Arg {
		return Arg{Name: name, Type: ArgOneOf, Args: []Arg{{Name: "left", Type: ArgPureTok, Token: "LEFT"}, {Name: "right", Type: ArgPureTok, Token: "RIGHT"}}}
	}
	timeout := Arg{Name: "timeout", Type: ArgDouble}
	k1 := func(f func(k []byte) Runner) Parser {
		return func(a [][]byte) (Runner, error) { return f(a[1]), nil }
	}
	register(
		&Command{Name: "lpush", Arity: -3, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary:    "Prepends one or more elements to a list. Creates the key if it doesn't exist.",
			Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
			Args:       []Arg{key, elems}, Parse: parsePush(true, false)},
		&Command{Name: "rpush", Arity: -3, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary:    "Appends one or more elements to a list. Creates the key if it doesn't exist.",
			Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
			Args:       []Arg{key, elems}, Parse: parsePush(false, false)},
		&Command{Name: "lpushx", Arity: -3, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.2.0",
			Summary:    "Prepends one or more elements to a list only when the list exists.",
			Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
			Args:       []Arg{key, elems}, Parse: parsePush(true, true)},
		&Command{Name: "rpushx", Arity: -3, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.2.0",
			Summary:    "Appends an element to a list only when the list exists.",
			Complexity: "O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.",
			Args:       []Arg{key, elems}, Parse: parsePush(false, true)},
		&Command{Name: "lpop", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary:    "Returns the first elements in a list after removing it. Deletes the list if the last element was popped.",
			Complexity: "O(N) where N is the number of elements returned", Args: []Arg{key, count}, Parse: parsePop(true, "lpop")},
		&Command{Name: "rpop", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary:    "Returns and removes the last elements of a list. Deletes the list if the last element was popped.",
			Complexity: "O(N) where N is the number of elements returned", Args: []Arg{key, count}, Parse: parsePop(false, "rpop")},
		&Command{Name: "llen", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary: "Returns the length of a list.", Complexity: "O(1)",
			Args: []Arg{key}, Parse: k1(func(k []byte) Runner { return llenCmd{k} })},
		&Command{Name: "lrange", Arity: 4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary:    "Returns a range of elements from a list.",
			Complexity: "O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.",
			Args:       []Arg{key, intArg("start"), intArg("stop")}, Parse: parseLrange},
		&Command{Name: "lindex", Arity: 3, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary:    "Returns an element from a list by its index.",
			Complexity: "O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).",
			Args:       []Arg{key, intArg("index")}, Parse: parseLindex},
		&Command{Name: "lset", Arity: 4, Flags: rw, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary:    "Sets the value of an element in a list by its index.",
			Complexity: "O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).",
			Args:       []Arg{key, intArg("index"), strArg("element")}, Parse: parseLset},
		&Command{Name: "lrem", Arity: 4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary:    "Removes elements from a list. Deletes the list if the last element was removed.",
			Complexity: "O(N+M) where N is the length of the list and M is the number of elements removed.",
			Args:       []Arg{key, intArg("count"), strArg("element")}, Parse: parseLrem},
		&Command{Name: "ltrim", Arity: 4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary:    "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
			Complexity: "O(N) where N is the number of elements to be removed by the operation.",
			Args:       []Arg{key, intArg("start"), intArg("stop")}, Parse: parseLtrim},
		&Command{Name: "linsert", Arity: 5, Flags: rw, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.2.0",
			Summary:    "Inserts an element before or after another element in a list.",
			Complexity: "O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).",
			Args: []Arg{key, {Name: "where", Type: ArgOneOf, Args: []Arg{{Name: "before", Type: ArgPureTok, Token: "BEFORE"}, {Name: "after", Type: ArgPureTok, Token: "AFTER"}}},
				strArg("pivot"), strArg("element")}, Parse: parseLinsert},
		&Command{Name: "lpos", Arity: -3, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "6.0.6",
			Summary:    "Returns the index of matching elements in a list.",
			Complexity: "O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.",
			Args: []Arg{key, strArg("element"), {Name: "rank", Type: ArgInteger, Token: "RANK", Optional: true},
				{Name: "num-matches", Type: ArgInteger, Token: "COUNT", Optional: true}, {Name: "len", Type: ArgInteger, Token: "MAXLEN", Optional: true}},
			Parse: parseLpos},
		&Command{Name: "lmove", Arity: 5, Flags: rw, FirstKey: 1, LastKey: 2, Step: 1, Group: g, Since: "6.2.0",
			Summary:    "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
			Complexity: "O(1)", Args: []Arg{keyArg("source"), keyArg("destination"), where("wherefrom"), where("whereto")}, Parse: parseLmove},
		&Command{Name: "rpoplpush", Arity: 3, Flags: rw, FirstKey: 1, LastKey: 2, Step: 1, Group: g, Since: "1.2.0",
			Summary:    "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.",
			Complexity: "O(1)", Args: []Arg{keyArg("source"), keyArg("destination")}, Parse: parseRpoplpush(false)},
		&Command{Name: "blpop", Arity: -3, Flags: FlagWrite | FlagNoScript | FlagBlocking, FirstKey: 1, LastKey: -2, Step: 1, Group: g, Since: "2.0.0",
			Summary:    "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
			Complexity: "O(N) where N is the number of provided keys.",
			Args:       []Arg{{Name: "key", Type: ArgKey, Multiple: true}, timeout}, Parse: parseBpop(true)},
		&Command{Name: "brpop", Arity: -3, Flags: FlagWrite | FlagNoScript | FlagBlocking, FirstKey: 1, LastKey: -2, Step: 1, Group: g, Since: "2.0.0",
			Summary:    "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
			Complexity: "O(N) where N is the number of provided keys.",
			Args:       []Arg{{Name: "key", Type: ArgKey, Multiple: true}, timeout}, Parse: parseBpop(false)},
		&Command{Name: "blmove", Arity: 6, Flags: rw | FlagNoScript | FlagBlocking, FirstKey: 1, LastKey: 2, Step: 1, Group: g, Since: "6.2.0",
			Summary:    "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.",
			Complexity: "O(1)", Args: []Arg{keyArg("source"), keyArg("destination"), where("wherefrom"), where("whereto"), timeout}, Parse: parseLmove},
		&Command{Name: "brpoplpush", Arity: 4, Flags: rw | FlagNoScript | FlagBlocking, FirstKey: 1, LastKey: 2, Step: 1, Group: g, Since: "2.2.0",
			Summary:    "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.",
			Complexity: "O(1)", Args: []Arg{keyArg("source"), keyArg("destination"), timeout}, Parse: parseRpoplpush(true)},
	)
}
