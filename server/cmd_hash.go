package server

import "math"

// Hash commands.

type hsetCmd struct {
	key   []byte
	pairs [][]byte
	ok    bool // HMSET: reply +OK instead of the count
}

func parseHset(name string, ok bool) Parser {
	return func(a [][]byte) (Runner, error) {
		if len(a)%2 == 1 {
			return nil, cmdError("ERR wrong number of arguments for '" + name + "' command")
		}
		return hsetCmd{a[1], a[2:], ok}, nil
	}
}

func (h hsetCmd) Run(c *Ctx) {
	n, err := c.Tx.HSet(h.key, h.pairs)
	switch {
	case err != nil:
		c.Err(err)
	case h.ok:
		c.W.OK()
	default:
		c.W.Int(n)
	}
}

type hsetnxCmd struct{ key, field, value []byte }

func (h hsetnxCmd) Run(c *Ctx) {
	ok, err := c.Tx.HSetNX(h.key, h.field, h.value)
	if err != nil {
		c.Err(err)
		return
	}
	writeIntBool(c.W, ok)
}

type hgetCmd struct{ key, field []byte }

func (h hgetCmd) Run(c *Ctx) {
	c.BulkOrNull(c.Tx.HGet(h.key, h.field))
}

type hmgetCmd struct {
	key    []byte
	fields [][]byte
}

func (h hmgetCmd) Run(c *Ctx) {
	vs, err := c.Tx.HMGet(h.key, h.fields)
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Array(len(vs))
	for _, v := range vs {
		if v == nil {
			c.W.Null()
		} else {
			c.W.Bulk(v)
		}
	}
}

type hdelCmd struct {
	key    []byte
	fields [][]byte
}

func (h hdelCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.HDel(h.key, h.fields))
}

type hexistsCmd struct{ key, field []byte }

func (h hexistsCmd) Run(c *Ctx) {
	ok, err := c.Tx.HExists(h.key, h.field)
	if err != nil {
		c.Err(err)
		return
	}
	writeIntBool(c.W, ok)
}

type hlenCmd struct{ key []byte }

func (h hlenCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.HLen(h.key))
}

type hstrlenCmd struct{ key, field []byte }

func (h hstrlenCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.HStrLen(h.key, h.field))
}

// hgetallCmd is HGETALL, HKEYS and HVALS.
type hgetallCmd struct {
	key        []byte
	keys, vals bool
}

func (h hgetallCmd) Run(c *Ctx) {
	fs, vs, err := c.Tx.HGetAll(h.key, h.keys, h.vals)
	switch {
	case err != nil:
		c.Err(err)
	case h.keys && h.vals:
		c.W.Map(len(fs))
		for i := range fs {
			c.W.Bulk(fs[i])
			c.W.Bulk(vs[i])
		}
	case h.keys:
		c.W.Bulks(fs)
	default:
		c.W.Bulks(vs)
	}
}

type hincrbyCmd struct {
	key, field []byte
	delta      int64
}

func parseHincrby(a [][]byte) (Runner, error) {
	n, err := parseInt(a[3])
	if err != nil {
		return nil, err
	}
	return hincrbyCmd{a[1], a[2], n}, nil
}

func (h hincrbyCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.HIncrBy(h.key, h.field, h.delta))
}

type hincrbyfloatCmd struct {
	key, field []byte
	delta      float64
}

func parseHincrbyfloat(a [][]byte) (Runner, error) {
	f, err := parseFloat(a[3])
	if err != nil {
		return nil, err
	}
	if math.IsInf(f, 0) {
		return nil, cmdError("ERR value is NaN or Infinity")
	}
	return hincrbyfloatCmd{a[1], a[2], f}, nil
}

func (h hincrbyfloatCmd) Run(c *Ctx) {
	v, err := c.Tx.HIncrByFloat(h.key, h.field, h.delta)
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Bulk(v)
}

type hscanCmd struct {
	key []byte
	scanArgs
}

func parseHscan(a [][]byte) (Runner, error) {
	s, err := parseScanArgs(a, 2, false)
	if err != nil {
		return nil, err
	}
	return hscanCmd{a[1], s}, nil
}

func (h hscanCmd) Run(c *Ctx) {
	if h.err != nil { // reported only when the key is a hash
		if n, err := c.Tx.HLen(h.key); err != nil || n == 0 {
			if err != nil {
				c.Err(err)
			} else {
				writeScan(c.W, 0, nil)
			}
			return
		}
		c.Err(h.err)
		return
	}
	next, fs, vs, _, err := c.Tx.HScan(h.key, h.cursor, h.match, h.count)
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Array(2)
	c.W.BulkString(uitoa(next))
	c.W.Array(2 * len(fs))
	for i := range fs {
		c.W.Bulk(fs[i])
		c.W.Bulk(vs[i])
	}
}

var errRangeCount = cmdError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")

type hrandfieldCmd struct {
	key        []byte
	count      int64
	hasCount   bool
	withValues bool
}

func parseHrandfield(a [][]byte) (Runner, error) {
	h := hrandfieldCmd{key: a[1]}
	if len(a) >= 3 {
		n, err := parseInt(a[2])
		if err != nil {
			return nil, err
		}
		if n == math.MinInt64 {
			return nil, errRangeCount
		}
		h.count, h.hasCount = n, true
		if len(a) > 4 || (len(a) == 4 && !lowerEq(a[3], "withvalues")) {
			return nil, errSyntax
		}
		h.withValues = len(a) == 4
		if h.withValues && n < -math.MaxInt64/2 {
			return nil, cmdError("ERR value is out of range")
		}
	}
	return h, nil
}

func (h hrandfieldCmd) Run(c *Ctx) {
	count := h.count
	if !h.hasCount {
		count = 1
	}
	fs, vs, ok, err := c.Tx.HRandField(h.key, count, h.withValues)
	switch {
	case err != nil:
		c.Err(err)
	case !h.hasCount && (!ok || len(fs) == 0):
		c.W.Null()
	case !h.hasCount:
		c.W.Bulk(fs[0])
	case h.withValues && c.W.Proto >= 3:
		c.W.Array(len(fs))
		for i := range fs {
			c.W.Array(2)
			c.W.Bulk(fs[i])
			c.W.Bulk(vs[i])
		}
	case h.withValues:
		c.W.Array(2 * len(fs))
		for i := range fs {
			c.W.Bulk(fs[i])
			c.W.Bulk(vs[i])
		}
	default:
		c.W.Bulks(fs)
	}
}

func init() {
	const g = "hash"
	rw := FlagWrite | FlagDenyOOM
	kf := func(f func(k, fl []byte) Runner) Parser {
		return func(a [][]byte) (Runner, error) { return f(a[1], a[2]), nil }
	}
	kfs := func(f func(k []byte, fs [][]byte) Runner) Parser {
		return func(a [][]byte) (Runner, error) { return f(a[1], a[2:]), nil }
	}
	all := func(keys, vals bool) Parser {
		return func(a [][]byte) (Runner, error) { return hgetallCmd{a[1], keys, vals}, nil }
	}
	key := []Arg{keyArg("key")}
	keyField := []Arg{keyArg("key"), strArg("field")}
	pairs := []Arg{keyArg("key"), {Name: "data", Type: ArgBlock, Multiple: true, Args: []Arg{strArg("field"), strArg("value")}}}
	fields := []Arg{keyArg("key"), {Name: "field", Type: ArgString, Multiple: true}}
	one := func(name string, arity int, flags Flag, since, summary, cx string, args []Arg, p Parser) *Command {
		return &Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Since: since, Summary: summary, Complexity: cx, Args: args, Parse: p}
	}
	register(
		one("hset", -4, rw|FlagFast, "2.0.0", "Creates or modifies the value of a field in a hash.",
			"O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.",
			pairs, parseHset("hset", false)),
		one("hmset", -4, rw|FlagFast, "2.0.0", "Sets the values of multiple fields.",
			"O(N) where N is the number of fields being set.", pairs, parseHset("hmset", true)),
		one("hsetnx", 4, rw|FlagFast, "2.0.0", "Sets the value of a field in a hash only when the field doesn't exist.", "O(1)",
			[]Arg{keyArg("key"), strArg("field"), strArg("value")},
			func(a [][]byte) (Runner, error) { return hsetnxCmd{a[1], a[2], a[3]}, nil }),
		one("hget", 3, FlagReadonly|FlagFast, "2.0.0", "Returns the value of a field in a hash.", "O(1)", keyField,
			kf(func(k, f []byte) Runner { return hgetCmd{k, f} })),
		one("hmget", -3, FlagReadonly|FlagFast, "2.0.0", "Returns the values of all fields in a hash.",
			"O(N) where N is the number of fields being requested.", fields,
			kfs(func(k []byte, fs [][]byte) Runner { return hmgetCmd{k, fs} })),
		one("hdel", -3, FlagWrite|FlagFast, "2.0.0", "Deletes one or more fields and their values from a hash. Deletes the hash if no fields remain.",
			"O(N) where N is the number of fields to be removed.", fields,
			kfs(func(k []byte, fs [][]byte) Runner { return hdelCmd{k, fs} })),
		one("hexists", 3, FlagReadonly|FlagFast, "2.0.0", "Determines whether a field exists in a hash.", "O(1)", keyField,
			kf(func(k, f []byte) Runner { return hexistsCmd{k, f} })),
		one("hlen", 2, FlagReadonly|FlagFast, "2.0.0", "Returns the number of fields in a hash.", "O(1)", key,
			func(a [][]byte) (Runner, error) { return hlenCmd{a[1]}, nil }),
		one("hstrlen", 3, FlagReadonly|FlagFast, "3.2.0", "Returns the length of the value of a field.", "O(1)", keyField,
			kf(func(k, f []byte) Runner { return hstrlenCmd{k, f} })),
		one("hgetall", 2, FlagReadonly, "2.0.0", "Returns all fields and values in a hash.", "O(N) where N is the size of the hash.", key, all(true, true)),
		one("hkeys", 2, FlagReadonly, "2.0.0", "Returns all fields in a hash.", "O(N) where N is the size of the hash.", key, all(true, false)),
		one("hvals", 2, FlagReadonly, "2.0.0", "Returns all values in a hash.", "O(N) where N is the size of the hash.", key, all(false, true)),
		one("hincrby", 4, rw|FlagFast, "2.0.0", "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
			"O(1)", []Arg{keyArg("key"), strArg("field"), intArg("increment")}, parseHincrby),
		one("hincrbyfloat", 4, rw|FlagFast, "2.6.0", "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
			"O(1)", []Arg{keyArg("key"), strArg("field"), {Name: "increment", Type: ArgDouble}}, parseHincrbyfloat),
		one("hscan", -3, FlagReadonly, "2.8.0", "Iterates over fields and values of a hash.",
			"O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
			[]Arg{keyArg("key"), intArg("cursor"), {Name: "pattern", Type: ArgPattern, Token: "MATCH", Optional: true},
				{Name: "count", Type: ArgInteger, Token: "COUNT", Optional: true}}, parseHscan),
		one("hrandfield", -2, FlagReadonly, "6.2.0", "Returns one or more random fields from a hash.",
			"O(N) where N is the number of fields returned", []Arg{keyArg("key"), {Name: "options", Type: ArgBlock, Optional: true,
				Args: []Arg{intArg("count"), optTok("WITHVALUES")}}}, parseHrandfield),
	)
}
