package server

import (
	"math"
	"strconv"

	"github.com/wasmgears/wasmgears/storage"
)

// Generic key commands: DEL, EXISTS, TYPE, KEYS, SCAN, RENAME, COPY,
// EXPIRE and friends, TTL and friends, DBSIZE, FLUSHDB, FLUSHALL.

// writeIntBool writes :1 or :0 (an integer in RESP3 too, as Redis does).
func writeIntBool(w *Writer, v bool) {
	if v {
		w.Int(1)
	} else {
		w.Int(0)
	}
}

type delCmd struct{ keys [][]byte }

func (d delCmd) Run(c *Ctx) {
	var n int64
	for _, k := range d.keys {
		ok, err := c.Tx.Delete(k)
		if err != nil {
			c.Err(err)
			return
		}
		if ok {
			n++
		}
	}
	c.W.Int(n)
}

// existsCmd is EXISTS and TOUCH: count the keys that exist.
type existsCmd struct{ keys [][]byte }

func (e existsCmd) Run(c *Ctx) {
	var n int64
	for _, k := range e.keys {
		ok, err := c.Tx.Exists(k)
		if err != nil {
			c.Err(err)
			return
		}
		if ok {
			n++
		} else {
			c.Tx.Miss(k)
		}
	}
	c.W.Int(n)
}

type typeCmd struct{ key []byte }

func (t typeCmd) Run(c *Ctx) {
	ty, err := c.Tx.TypeOf(t.key)
	if err != nil {
		c.Err(err)
		return
	}
	if ty == storage.TypeNone {
		c.Tx.Miss(t.key)
	}
	c.W.Simple(ty.String())
}

type keysCmd struct{ pattern []byte }

func (k keysCmd) Run(c *Ctx) {
	keys, err := c.Tx.Keys(k.pattern)
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Bulks(keys)
}

// scanArgs are the cursor and options shared by SCAN, HSCAN, SSCAN and
// ZSCAN. err is an option error: the *SCAN commands report it only when
// the key exists, as Redis does.
type scanArgs struct {
	cursor uint64
	match  []byte // nil: all
	count  int
	typ    storage.Type
	hasTyp bool
	err    error
}

var errInvalidCursor = cmdError("ERR invalid cursor")

// parseScanArgs parses "cursor [MATCH p] [COUNT n] [TYPE t]" at a[at]; TYPE
// only when withType. A bad cursor is returned as the error; option errors
// go to scanArgs.err.
func parseScanArgs(a [][]byte, at int, withType bool) (scanArgs, error) {
	var s scanArgs
	cur, err := strconv.ParseUint(string(a[at]), 10, 64)
	if err != nil {
		// strtoul also takes a sign: "-1" is 2^64-1, an unknown cursor
		n, ierr := strconv.ParseInt(string(a[at]), 10, 64)
		if ierr != nil {
			return s, errInvalidCursor
		}
		cur = uint64(n)
	}
	s.cursor = cur
	for i := at + 1; i < len(a); i += 2 {
		if i+1 >= len(a) {
			s.err = errSyntax
			return s, nil
		}
		v := a[i+1]
		switch {
		case lowerEq(a[i], "match"):
			if len(v) == 1 && v[0] == '*' {
				s.match = nil
			} else {
				s.match = v
			}
		case lowerEq(a[i], "count"):
			n, err := parseInt(v)
			if err != nil {
				s.err = err
				return s, nil
			}
			if n < 1 {
				s.err = errSyntax
				return s, nil
			}
			s.count = int(min(n, math.MaxInt32))
		case withType && lowerEq(a[i], "type"):
			s.hasTyp = true
			s.typ, _ = storage.ParseType(string(lowerBytes(v))) // unknown: matches nothing
		default:
			s.err = errSyntax
			return s, nil
		}
	}
	return s, nil
}

// writeScan writes a scan reply: [cursor, [elements...]].
func writeScan(w *Writer, next uint64, elems [][]byte) {
	w.Array(2)
	w.BulkString(uitoa(next))
	w.Bulks(elems)
}

func uitoa(n uint64) string { return strconv.FormatUint(n, 10) }

type scanCmd struct{ scanArgs }

func parseScan(a [][]byte) (Runner, error) {
	s, err := parseScanArgs(a, 1, true)
	if err != nil {
		return nil, err
	}
	if s.err != nil {
		return nil, s.err
	}
	return scanCmd{s}, nil
}

func (s scanCmd) Run(c *Ctx) {
	if s.hasTyp && s.typ == storage.TypeNone {
		writeScan(c.W, 0, nil)
		return
	}
	next, keys, err := c.Tx.Scan(s.cursor, storage.ScanOptions{Match: s.match, Type: s.typ, Count: s.count})
	if err != nil {
		c.Err(err)
		return
	}
	writeScan(c.W, next, keys)
}

type renameCmd struct {
	src, dst []byte
	nx       bool
}

func (r renameCmd) Run(c *Ctx) {
	ok, err := c.Tx.Rename(r.src, r.dst, r.nx)
	switch {
	case err != nil:
		c.Err(err)
	case r.nx:
		writeIntBool(c.W, ok)
	default:
		c.W.OK()
	}
}

type randomkeyCmd struct{}

func (randomkeyCmd) Run(c *Ctx) {
	k, err := c.Tx.RandomKey()
	switch {
	case err != nil:
		c.Err(err)
	case k == nil:
		c.W.Null()
	default:
		c.W.Bulk(k)
	}
}

type copyCmd struct {
	src, dst []byte
	db       int // -1: the client's db
	replace  bool
}

func parseCopy(a [][]byte) (Runner, error) {
	cp := copyCmd{src: a[1], dst: a[2], db: -1}
	for i := 3; i < len(a); i++ {
		switch {
		case lowerEq(a[i], "replace"):
			cp.replace = true
		case lowerEq(a[i], "db") && i+1 < len(a):
			n, err := parseInt(a[i+1])
			if err != nil {
				return nil, err
			}
			if n < 0 || n >= storage.NumDBs {
				return nil, cmdError("ERR DB index is out of range")
			}
			cp.db = int(n)
			i++
		default:
			return nil, errSyntax
		}
	}
	return cp, nil
}

func (cp copyCmd) Run(c *Ctx) {
	db := cp.db
	if db < 0 {
		db = c.Tx.DB
	}
	if db == c.Tx.DB && string(cp.src) == string(cp.dst) {
		c.W.Error("ERR source and destination objects are the same")
		return
	}
	ok, err := c.Tx.Copy(cp.src, db, cp.dst, cp.replace)
	if err != nil {
		c.Err(err)
		return
	}
	writeIntBool(c.W, ok)
}

// expireCmd is EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT.
type expireCmd struct {
	name  string
	key   []byte
	n     int64
	unit  int64 // 1000 for seconds, 1 for milliseconds
	abs   bool  // EXPIREAT / PEXPIREAT
	flags storage.ExpireFlags
}

func parseExpire(name string, unit int64, abs bool) Parser {
	return func(a [][]byte) (Runner, error) {
		e := expireCmd{name: name, key: a[1], unit: unit, abs: abs}
		f := &e.flags
		for _, o := range a[3:] {
			switch {
			case lowerEq(o, "nx"):
				f.NX = true
			case lowerEq(o, "xx"):
				f.XX = true
			case lowerEq(o, "gt"):
				f.GT = true
			case lowerEq(o, "lt"):
				f.LT = true
			default:
				return nil, cmdError("ERR Unsupported option " + string(o))
			}
		}
		if f.NX && (f.XX || f.GT || f.LT) {
			return nil, cmdError("ERR NX and XX, GT or LT options at the same time are not compatible")
		}
		if f.GT && f.LT {
			return nil, cmdError("ERR GT and LT options at the same time are not compatible")
		}
		n, err := parseInt(a[2])
		if err != nil {
			return nil, err
		}
		e.n = n
		return e, nil
	}
}

func (e expireCmd) Run(c *Ctx) {
	bad := cmdError("ERR invalid expire time in '" + e.name + "' command")
	when := e.n
	if e.unit == 1000 {
		if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
			c.Err(bad)
			return
		}
		when *= 1000
	}
	var base int64
	if !e.abs {
		base = c.Tx.Now()
	}
	if when > math.MaxInt64-base {
		c.Err(bad)
		return
	}
	when += base
	ok, err := c.Tx.Expire(e.key, when, e.flags)
	if err != nil {
		c.Err(err)
		return
	}
	writeIntBool(c.W, ok)
}

// ttlCmd is TTL, PTTL, EXPIRETIME and PEXPIRETIME.
type ttlCmd struct {
	key []byte
	ms  bool // milliseconds
	abs bool // the expire time rather than the time left
}

func (t ttlCmd) Run(c *Ctx) {
	at, err := c.Tx.ExpireTime(t.key)
	if err != nil {
		c.Err(err)
		return
	}
	if at < 0 {
		c.W.Int(at)
		return
	}
	v := at
	if !t.abs {
		v = max(at-c.Tx.Now(), 0)
		if !t.ms {
			v = (v + 500) / 1000
		}
	} else if !t.ms {
		v /= 1000
	}
	c.W.Int(v)
}

type persistCmd struct{ key []byte }

func (p persistCmd) Run(c *Ctx) {
	ok, err := c.Tx.Persist(p.key)
	if err != nil {
		c.Err(err)
		return
	}
	writeIntBool(c.W, ok)
}

type dbsizeCmd struct{}

func (dbsizeCmd) Run(c *Ctx) { c.W.Int(c.S.DB().KeyCount(c.Tx.DB)) }

type flushCmd struct{ all bool }

func parseFlush(all bool) Parser {
	return func(a [][]byte) (Runner, error) {
		if len(a) > 2 || (len(a) == 2 && !lowerEq(a[1], "async") && !lowerEq(a[1], "sync")) {
			return nil, errSyntax
		}
		return flushCmd{all}, nil
	}
}

func (f flushCmd) Run(c *Ctx) {
	c.S.touchWatchedFlush(c.Tx, f.all)
	var err error
	if f.all {
		err = c.Tx.FlushAll()
	} else {
		err = c.Tx.FlushDB()
	}
	if err != nil {
		c.Err(err)
		return
	}
	c.W.OK()
}

// touchWatchedFlush marks the clients watching keys that a flush of the
// Tx's database (or of all with all) removes, as Redis'
// touchAllWatchedKeysInDb does; called under the keyspace lock.
func (s *Server) touchWatchedFlush(tx *storage.Tx, all bool) {
	r := &s.watches
	r.mu.Lock()
	var keys []waitKey
	for wk := range r.m {
		if all || wk.db == tx.DB {
			keys = append(keys, wk)
		}
	}
	r.mu.Unlock()
	if len(keys) == 0 {
		return
	}
	saved := tx.DB
	var hit []waitKey
	for _, wk := range keys {
		tx.DB = wk.db
		if m, err := tx.Lookup([]byte(wk.key)); err == nil && m != nil {
			hit = append(hit, wk)
		}
	}
	tx.DB = saved
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, wk := range hit {
		for cl := range r.m[wk] {
			cl.watchDirty.Store(true)
		}
	}
}

func init() {
	const g = "generic"
	k1 := func(f func(k []byte) Runner) Parser {
		return func(a [][]byte) (Runner, error) { return f(a[1]), nil }
	}
	keysN := func(f func(ks [][]byte) Runner) Parser {
		return func(a [][]byte) (Runner, error) { return f(a[1:]), nil }
	}
	multiKey := []Arg{{Name: "key", Type: ArgKey, Multiple: true}}
	expireArgs := func(name string, t ArgType) []Arg {
		return []Arg{keyArg("key"), {Name: name, Type: t}, {Name: "condition", Type: ArgOneOf, Optional: true, Args: []Arg{
			{Name: "nx", Type: ArgPureTok, Token: "NX"}, {Name: "xx", Type: ArgPureTok, Token: "XX"},
			{Name: "gt", Type: ArgPureTok, Token: "GT"}, {Name: "lt", Type: ArgPureTok, Token: "LT"}}}}
	}
	ttl := func(name string, ms, abs bool, since, summary string) *Command {
		return &Command{Name: name, Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Since: since, Summary: summary, Complexity: "O(1)", Args: []Arg{keyArg("key")},
			Parse: k1(func(k []byte) Runner { return ttlCmd{k, ms, abs} })}
	}
	expire := func(name string, unit int64, abs bool, arg string, t ArgType, since, summary string) *Command {
		return &Command{Name: name, Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Since: since, Summary: summary, Complexity: "O(1)", Args: expireArgs(arg, t), Parse: parseExpire(name, unit, abs)}
	}
	flushArgs := []Arg{{Name: "flush-type", Type: ArgOneOf, Optional: true, Args: []Arg{
		{Name: "async", Type: ArgPureTok, Token: "ASYNC"}, {Name: "sync", Type: ArgPureTok, Token: "SYNC"}}}}
	register(
		&Command{Name: "del", Arity: -2, Flags: FlagWrite, FirstKey: 1, LastKey: -1, Step: 1, Group: g,
			Summary: "Deletes one or more keys.", Complexity: "O(N) where N is the number of keys that will be removed.",
			Args: multiKey, Parse: keysN(func(ks [][]byte) Runner { return delCmd{ks} })},
		&Command{Name: "unlink", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, Group: g, Since: "4.0.0",
			Summary: "Asynchronously deletes one or more keys.", Complexity: "O(1) for each key removed regardless of its size.",
			Args: multiKey, Parse: keysN(func(ks [][]byte) Runner { return delCmd{ks} })},
		&Command{Name: "exists", Arity: -2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, Group: g,
			Summary: "Determines whether one or more keys exist.", Complexity: "O(N) where N is the number of keys to check.",
			Args: multiKey, Parse: keysN(func(ks [][]byte) Runner { return existsCmd{ks} })},
		&Command{Name: "touch", Arity: -2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: -1, Step: 1, Group: g, Since: "3.2.1",
			Summary:    "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
			Complexity: "O(N) where N is the number of keys that will be touched.",
			Args:       multiKey, Parse: keysN(func(ks [][]byte) Runner { return existsCmd{ks} })},
		&Command{Name: "type", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g,
			Summary: "Determines the type of value stored at a key.", Complexity: "O(1)",
			Args: []Arg{keyArg("key")}, Parse: k1(func(k []byte) Runner { return typeCmd{k} })},
		&Command{Name: "keys", Arity: 2, Flags: FlagReadonly, Group: g,
			Summary:    "Returns all key names that match a pattern.",
			Complexity: "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
			Args:       []Arg{{Name: "pattern", Type: ArgPattern}}, Parse: k1(func(p []byte) Runner { return keysCmd{p} })},
		&Command{Name: "scan", Arity: -2, Flags: FlagReadonly, Group: g, Since: "2.8.0",
			Summary:    "Iterates over the key names in the database.",
			Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
			Args: []Arg{intArg("cursor"), {Name: "pattern", Type: ArgPattern, Token: "MATCH", Optional: true},
				{Name: "count", Type: ArgInteger, Token: "COUNT", Optional: true}, {Name: "type", Type: ArgString, Token: "TYPE", Optional: true}},
			Parse: parseScan},
		&Command{Name: "rename", Arity: 3, Flags: FlagWrite, FirstKey: 1, LastKey: 2, Step: 1, Group: g,
			Summary: "Renames a key and overwrites the destination.", Complexity: "O(1)",
			Args:  []Arg{keyArg("key"), keyArg("newkey")},
			Parse: func(a [][]byte) (Runner, error) { return renameCmd{a[1], a[2], false}, nil }},
		&Command{Name: "renamenx", Arity: 3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 2, Step: 1, Group: g,
			Summary: "Renames a key only when the target key name doesn't exist.", Complexity: "O(1)",
			Args:  []Arg{keyArg("key"), keyArg("newkey")},
			Parse: func(a [][]byte) (Runner, error) { return renameCmd{a[1], a[2], true}, nil }},
		&Command{Name: "randomkey", Arity: 1, Flags: FlagReadonly, Group: g,
			Summary: "Returns a random key name from the database.", Complexity: "O(1)",
			Parse: func(a [][]byte) (Runner, error) { return randomkeyCmd{}, nil }},
		&Command{Name: "copy", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 2, Step: 1, Group: g, Since: "6.2.0",
			Summary:    "Copies the value of a key to a new key.",
			Complexity: "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
			Args: []Arg{keyArg("source"), keyArg("destination"), {Name: "destination-db", Type: ArgInteger, Token: "DB", Optional: true},
				optTok("REPLACE")}, Parse: parseCopy},
		expire("expire", 1000, false, "seconds", ArgInteger, "1.0.0", "Sets the expiration time of a key in seconds."),
		expire("pexpire", 1, false, "milliseconds", ArgInteger, "2.6.0", "Sets the expiration time of a key in milliseconds."),
		expire("expireat", 1000, true, "unix-time-seconds", ArgUnixTime, "1.2.0", "Sets the expiration time of a key to a Unix timestamp."),
		expire("pexpireat", 1, true, "unix-time-milliseconds", ArgUnixTime, "2.6.0", "Sets the expiration time of a key to a Unix milliseconds timestamp."),
		ttl("ttl", false, false, "1.0.0", "Returns the expiration time in seconds of a key."),
		ttl("pttl", true, false, "2.6.0", "Returns the expiration time in milliseconds of a key."),
		ttl("expiretime", false, true, "7.0.0", "Returns the expiration time of a key as a Unix timestamp."),
		ttl("pexpiretime", true, true, "7.0.0", "Returns the expiration time of a key as a Unix milliseconds timestamp."),
		&Command{Name: "persist", Arity: 2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.2.0",
			Summary: "Removes the expiration time of a key.", Complexity: "O(1)",
			Args: []Arg{keyArg("key")}, Parse: k1(func(k []byte) Runner { return persistCmd{k} })},
		&Command{Name: "dbsize", Arity: 1, Flags: FlagReadonly | FlagFast, Group: "server",
			Summary: "Returns the number of keys in the database.", Complexity: "O(1)",
			Parse: func(a [][]byte) (Runner, error) { return dbsizeCmd{}, nil }},
		&Command{Name: "flushdb", Arity: -1, Flags: FlagWrite, Group: "server",
			Summary: "Remove all keys from the current database.", Complexity: "O(N) where N is the number of keys in the selected database",
			Args: flushArgs, Parse: parseFlush(false)},
		&Command{Name: "flushall", Arity: -1, Flags: FlagWrite, Group: "server",
			Summary: "Removes all keys from all databases.", Complexity: "O(N) where N is the total number of keys in all databases",
			Args: flushArgs, Parse: parseFlush(true)},
	)
}
