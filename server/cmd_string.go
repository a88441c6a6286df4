package server

import (
	"time"

	"github.com/wasmgears/wasmgears/storage"
)

// String commands. Each command is parsed into a typed struct, then run
// against the Ctx's Tx.

type getCmd struct{ key []byte }

func parseGet(a [][]byte) (Runner, error) { return getCmd{a[1]}, nil }
func (g getCmd) Run(c *Ctx) {
	c.BulkOrNull(c.Tx.Get(g.key))
}

type setCmd struct {
	key, value []byte
	o          storage.SetOptions
}

// parseExpiry handles EX/PX/EXAT/PXAT at p (already consumed tok) into unix ms.
func parseExpiry(tok string, v []byte, now int64) (int64, error) {
	n, err := parseInt(v)
	if err != nil {
		return 0, err
	}
	if n <= 0 {
		return 0, cmdError("ERR invalid expire time in '%s' command")
	}
	var at int64
	switch tok {
	case "ex":
		if n > (1<<62)/1000 {
			return 0, errInvalidExpire
		}
		at = now + n*1000
	case "px":
		at = now + n
	case "exat":
		if n > (1<<62)/1000 {
			return 0, errInvalidExpire
		}
		at = n * 1000
	case "pxat":
		at = n
	}
	if at <= 0 {
		return 0, errInvalidExpire
	}
	return at, nil
}

var errInvalidExpire = cmdError("ERR invalid expire time in 'set' command")

func nowMs() int64 { return time.Now().UnixMilli() }

func parseSet(a [][]byte) (Runner, error) {
	s := setCmd{key: a[1], value: a[2]}
	p := newArgp(a, 3)
	expSet := false
	for p.more() {
		tok := string(lowerBytes(p.next()))
		switch tok {
		case "nx":
			if s.o.XX {
				return nil, errSyntax
			}
			s.o.NX = true
		case "xx":
			if s.o.NX {
				return nil, errSyntax
			}
			s.o.XX = true
		case "get":
			s.o.Get = true
		case "keepttl":
			if expSet {
				return nil, errSyntax
			}
			s.o.KeepTTL = true
		case "ex", "px", "exat", "pxat":
			if expSet || s.o.KeepTTL || !p.more() {
				return nil, errSyntax
			}
			at, err := parseExpiry(tok, p.next(), nowMs())
			if err != nil {
				if err == errNotInteger {
					return nil, err
				}
				return nil, errInvalidExpire
			}
			s.o.ExpireAt = at
			expSet = true
		default:
			return nil, errSyntax
		}
	}
	return s, nil
}

func (s setCmd) Run(c *Ctx) {
	ok, old, hadOld, err := c.Tx.Set(s.key, s.value, s.o)
	switch {
	case err != nil:
		c.Err(err)
	case s.o.Get && hadOld:
		c.W.Bulk(old)
	case s.o.Get:
		c.W.Null()
	case ok:
		c.W.OK()
	default:
		c.W.Null()
	}
}

func lowerBytes(b []byte) []byte {
	out := make([]byte, len(b))
	for i, ch := range b {
		if ch >= 'A' && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		out[i] = ch
	}
	return out
}

type setnxCmd struct{ key, value []byte }

func (s setnxCmd) Run(c *Ctx) {
	ok, _, _, err := c.Tx.Set(s.key, s.value, storage.SetOptions{NX: true})
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Int(b2i(ok)) // :1/:0 in RESP3 too, as Redis
}

type setexCmd struct {
	key, value []byte
	at         int64
}

func parseSetex(unitMs int64, name string) Parser {
	return func(a [][]byte) (Runner, error) {
		n, err := parseInt(a[2])
		if err != nil {
			return nil, err
		}
		if n <= 0 || n > (1<<62)/unitMs {
			return nil, cmdError("ERR invalid expire time in '" + name + "' command")
		}
		return setexCmd{a[1], a[3], nowMs() + n*unitMs}, nil
	}
}

func (s setexCmd) Run(c *Ctx) {
	if _, _, _, err := c.Tx.Set(s.key, s.value, storage.SetOptions{ExpireAt: s.at}); err != nil {
		c.Err(err)
		return
	}
	c.W.OK()
}

type getsetCmd struct{ key, value []byte }

func (g getsetCmd) Run(c *Ctx) {
	_, old, had, err := c.Tx.Set(g.key, g.value, storage.SetOptions{Get: true})
	switch {
	case err != nil:
		c.Err(err)
	case had:
		c.W.Bulk(old)
	default:
		c.W.Null()
	}
}

type getdelCmd struct{ key []byte }

func (g getdelCmd) Run(c *Ctx) {
	c.BulkOrNull(c.Tx.GetDel(g.key))
}

type getexCmd struct {
	key []byte
	o   storage.GetExOptions
}

func parseGetex(a [][]byte) (Runner, error) {
	g := getexCmd{key: a[1]}
	p := newArgp(a, 2)
	set := false
	for p.more() {
		tok := string(lowerBytes(p.next()))
		switch tok {
		case "persist":
			if set {
				return nil, errSyntax
			}
			g.o.Persist, set = true, true
		case "ex", "px", "exat", "pxat":
			if set || !p.more() {
				return nil, errSyntax
			}
			at, err := parseExpiry(tok, p.next(), nowMs())
			if err != nil {
				if err == errNotInteger {
					return nil, err
				}
				return nil, cmdError("ERR invalid expire time in 'getex' command")
			}
			g.o.ExpireAt, set = at, true
		default:
			return nil, errSyntax
		}
	}
	return g, nil
}

func (g getexCmd) Run(c *Ctx) {
	c.BulkOrNull(c.Tx.GetEx(g.key, g.o))
}

type mgetCmd struct{ keys [][]byte }

func (m mgetCmd) Run(c *Ctx) {
	c.W.Array(len(m.keys))
	for _, k := range m.keys {
		v, ok, err := c.Tx.Get(k)
		if err != nil || !ok { // MGET replies nil for wrong types too
			c.W.Null()
			continue
		}
		c.W.Bulk(v)
	}
}

type msetCmd struct {
	pairs [][]byte
	nx    bool
}

func parseMset(nx bool) Parser {
	return func(a [][]byte) (Runner, error) {
		if len(a)%2 != 1 {
			name := "mset"
			if nx {
				name = "msetnx"
			}
			return nil, cmdError("ERR wrong number of arguments for '" + name + "' command")
		}
		return msetCmd{a[1:], nx}, nil
	}
}

func (m msetCmd) Run(c *Ctx) {
	ok, err := c.Tx.MSet(m.pairs, m.nx)
	switch {
	case err != nil:
		c.Err(err)
	case m.nx:
		c.W.Int(b2i(ok))
	default:
		c.W.OK()
	}
}

type incrCmd struct {
	key   []byte
	delta int64
}

func parseIncr(sign int64, hasArg bool) Parser {
	return func(a [][]byte) (Runner, error) {
		d := sign
		if hasArg {
			n, err := parseInt(a[2])
			if err != nil {
				return nil, err
			}
			if sign < 0 {
				if n == -1<<63 {
					return nil, cmdError("ERR decrement would overflow")
				}
				n = -n
			}
			d = n
		}
		return incrCmd{a[1], d}, nil
	}
}

func (i incrCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.IncrBy(i.key, i.delta))
}

type incrFloatCmd struct {
	key   []byte
	delta float64
}

func parseIncrFloat(a [][]byte) (Runner, error) {
	f, err := parseFloat(a[2])
	if err != nil {
		return nil, err
	}
	return incrFloatCmd{a[1], f}, nil
}

func (i incrFloatCmd) Run(c *Ctx) {
	v, err := c.Tx.IncrByFloat(i.key, i.delta)
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Bulk(v)
}

type appendCmd struct{ key, value []byte }

func (a appendCmd) Run(c *Ctx) {
	n, err := c.Tx.Append(a.key, a.value)
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Int(int64(n))
}

type strlenCmd struct{ key []byte }

func (s strlenCmd) Run(c *Ctx) {
	v, _, err := c.Tx.Get(s.key)
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Int(int64(len(v)))
}

type getrangeCmd struct {
	key        []byte
	start, end int64
}

func parseGetrange(a [][]byte) (Runner, error) {
	s, err := parseInt(a[2])
	if err != nil {
		return nil, err
	}
	e, err := parseInt(a[3])
	if err != nil {
		return nil, err
	}
	return getrangeCmd{a[1], s, e}, nil
}

func (g getrangeCmd) Run(c *Ctx) {
	v, _, err := c.Tx.Get(g.key)
	if err != nil {
		c.Err(err)
		return
	}
	n := int64(len(v))
	s, e := g.start, g.end
	if s < 0 && e < 0 && s > e {
		c.W.BulkString("")
		return
	}
	if s < 0 {
		s = max(n+s, 0)
	}
	if e < 0 {
		e = max(n+e, 0)
	}
	if e >= n {
		e = n - 1
	}
	if n == 0 || s > e {
		c.W.BulkString("")
		return
	}
	c.W.Bulk(v[s : e+1])
}

type setrangeCmd struct {
	key    []byte
	offset int64
	value  []byte
}

func parseSetrange(a [][]byte) (Runner, error) {
	off, err := parseInt(a[2])
	if err != nil {
		return nil, err
	}
	if off < 0 {
		return nil, cmdError("ERR offset is out of range")
	}
	return setrangeCmd{a[1], off, a[3]}, nil
}

func (s setrangeCmd) Run(c *Ctx) {
	n, err := c.Tx.SetRange(s.key, s.offset, s.value)
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Int(int64(n))
}

func init() {
	k1 := func(f func(k []byte) Runner) Parser {
		return func(a [][]byte) (Runner, error) { return f(a[1]), nil }
	}
	kv := func(f func(k, v []byte) Runner) Parser {
		return func(a [][]byte) (Runner, error) { return f(a[1], a[2]), nil }
	}
	const g = "string"
	rw := FlagWrite | FlagDenyOOM
	register(
		&Command{Name: "get", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary: "Returns the string value of a key.", Complexity: "O(1)", Args: []Arg{keyArg("key")}, Parse: parseGet},
		&Command{Name: "set", Arity: -3, Flags: rw, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", Complexity: "O(1)",
			Args: []Arg{keyArg("key"), strArg("value"),
				{Name: "condition", Type: ArgOneOf, Optional: true, Args: []Arg{{Name: "nx", Type: ArgPureTok, Token: "NX"}, {Name: "xx", Type: ArgPureTok, Token: "XX"}}},
				{Name: "get", Type: ArgPureTok, Token: "GET", Optional: true},
				{Name: "expiration", Type: ArgOneOf, Optional: true, Args: []Arg{
					{Name: "seconds", Type: ArgInteger, Token: "EX"}, {Name: "milliseconds", Type: ArgInteger, Token: "PX"},
					{Name: "unix-time-seconds", Type: ArgUnixTime, Token: "EXAT"}, {Name: "unix-time-milliseconds", Type: ArgUnixTime, Token: "PXAT"},
					{Name: "keepttl", Type: ArgPureTok, Token: "KEEPTTL"}}}},
			Parse: parseSet},
		&Command{Name: "setnx", Arity: 3, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary: "Set the string value of a key only when the key doesn't exist.", Complexity: "O(1)",
			Args: []Arg{keyArg("key"), strArg("value")}, Parse: kv(func(k, v []byte) Runner { return setnxCmd{k, v} })},
		&Command{Name: "setex", Arity: 4, Flags: rw, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", Complexity: "O(1)",
			Args: []Arg{keyArg("key"), intArg("seconds"), strArg("value")}, Parse: parseSetex(1000, "setex")},
		&Command{Name: "psetex", Arity: 4, Flags: rw, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.6.0",
			Summary: "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", Complexity: "O(1)",
			Args: []Arg{keyArg("key"), intArg("milliseconds"), strArg("value")}, Parse: parseSetex(1, "psetex")},
		&Command{Name: "getset", Arity: 3, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary: "Returns the previous string value of a key after setting it to a new value.", Complexity: "O(1)",
			Args: []Arg{keyArg("key"), strArg("value")}, Parse: kv(func(k, v []byte) Runner { return getsetCmd{k, v} })},
		&Command{Name: "getdel", Arity: 2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "6.2.0",
			Summary: "Returns the string value of a key after deleting the key.", Complexity: "O(1)",
			Args: []Arg{keyArg("key")}, Parse: k1(func(k []byte) Runner { return getdelCmd{k} })},
		&Command{Name: "getex", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "6.2.0",
			Summary: "Returns the string value of a key after setting its expiration time.", Complexity: "O(1)",
			Args: []Arg{keyArg("key"), {Name: "expiration", Type: ArgOneOf, Optional: true, Args: []Arg{
				{Name: "seconds", Type: ArgInteger, Token: "EX"}, {Name: "milliseconds", Type: ArgInteger, Token: "PX"},
				{Name: "unix-time-seconds", Type: ArgUnixTime, Token: "EXAT"}, {Name: "unix-time-milliseconds", Type: ArgUnixTime, Token: "PXAT"},
				{Name: "persist", Type: ArgPureTok, Token: "PERSIST"}}}}, Parse: parseGetex},
		&Command{Name: "mget", Arity: -2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, Group: g,
			Summary: "Atomically returns the string values of one or more keys.", Complexity: "O(N) where N is the number of keys to retrieve.",
			Args: []Arg{{Name: "key", Type: ArgKey, Multiple: true}}, Parse: func(a [][]byte) (Runner, error) { return mgetCmd{a[1:]}, nil }},
		&Command{Name: "mset", Arity: -3, Flags: rw, FirstKey: 1, LastKey: -1, Step: 2, Group: g, Since: "1.0.1",
			Summary: "Atomically creates or modifies the string values of one or more keys.", Complexity: "O(N) where N is the number of keys to set.",
			Args: []Arg{{Name: "data", Type: ArgBlock, Multiple: true, Args: []Arg{keyArg("key"), strArg("value")}}}, Parse: parseMset(false)},
		&Command{Name: "msetnx", Arity: -3, Flags: rw, FirstKey: 1, LastKey: -1, Step: 2, Group: g, Since: "1.0.1",
			Summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.", Complexity: "O(N) where N is the number of keys to set.",
			Args: []Arg{{Name: "data", Type: ArgBlock, Multiple: true, Args: []Arg{keyArg("key"), strArg("value")}}}, Parse: parseMset(true)},
		&Command{Name: "incr", Arity: 2, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", Complexity: "O(1)",
			Args: []Arg{keyArg("key")}, Parse: parseIncr(1, false)},
		&Command{Name: "decr", Arity: 2, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", Complexity: "O(1)",
			Args: []Arg{keyArg("key")}, Parse: parseIncr(-1, false)},
		&Command{Name: "incrby", Arity: 3, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", Complexity: "O(1)",
			Args: []Arg{keyArg("key"), intArg("increment")}, Parse: parseIncr(1, true)},
		&Command{Name: "decrby", Arity: 3, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary: "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", Complexity: "O(1)",
			Args: []Arg{keyArg("key"), intArg("decrement")}, Parse: parseIncr(-1, true)},
		&Command{Name: "incrbyfloat", Arity: 3, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.6.0",
			Summary: "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", Complexity: "O(1)",
			Args: []Arg{keyArg("key"), {Name: "increment", Type: ArgDouble}}, Parse: parseIncrFloat},
		&Command{Name: "append", Arity: 3, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.0.0",
			Summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.", Complexity: "O(1)",
			Args: []Arg{keyArg("key"), strArg("value")}, Parse: kv(func(k, v []byte) Runner { return appendCmd{k, v} })},
		&Command{Name: "strlen", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.2.0",
			Summary: "Returns the length of a string value.", Complexity: "O(1)",
			Args: []Arg{keyArg("key")}, Parse: k1(func(k []byte) Runner { return strlenCmd{k} })},
		&Command{Name: "getrange", Arity: 4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.4.0",
			Summary: "Returns a substring of the string stored at a key.", Complexity: "O(N) where N is the length of the returned string.",
			Args: []Arg{keyArg("key"), intArg("start"), intArg("end")}, Parse: parseGetrange},
		&Command{Name: "setrange", Arity: 4, Flags: rw, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.2.0",
			Summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", Complexity: "O(1)",
			Args: []Arg{keyArg("key"), intArg("offset"), strArg("value")}, Parse: parseSetrange},
	)
}
