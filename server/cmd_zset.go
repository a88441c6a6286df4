package server

import (
	"strconv"
	"time"

	"github.com/wasmgears/wasmgears/storage"
)

// Sorted set commands.

var (
	errZScoreRange = cmdError("ERR min or max is not a float")
	errZLexRange   = cmdError("ERR min or max not valid string range item")
)

// writeScored writes members, with scores as Redis does: a flat array in
// RESP2, [member, score] pairs in RESP3.
func writeScored(w *Writer, els []storage.ScoreMember, withScores bool) {
	switch {
	case !withScores:
		w.Array(len(els))
		for _, e := range els {
			w.Bulk(e.Member)
		}
	case w.Proto >= 3:
		w.Array(len(els))
		for _, e := range els {
			w.Array(2)
			w.Bulk(e.Member)
			w.Double(e.Score)
		}
	default:
		w.Array(2 * len(els))
		for _, e := range els {
			w.Bulk(e.Member)
			w.Double(e.Score)
		}
	}
}

// parseScoreBound parses "1.5", "(1.5", "-inf", "+inf".
func parseScoreBound(b []byte) (storage.ScoreBound, error) {
	var sb storage.ScoreBound
	if len(b) > 0 && b[0] == '(' {
		sb.Excl, b = true, b[1:]
	}
	f, err := storage.ParseFloat(b)
	if err != nil {
		return sb, errZScoreRange
	}
	sb.V = f
	return sb, nil
}

// parseLexBound parses "[a", "(a", "-", "+".
func parseLexBound(b []byte) (storage.LexBound, error) {
	switch {
	case len(b) == 1 && b[0] == '-':
		return storage.LexBound{Inf: -1}, nil
	case len(b) == 1 && b[0] == '+':
		return storage.LexBound{Inf: 1}, nil
	case len(b) > 0 && b[0] == '[':
		return storage.LexBound{V: b[1:]}, nil
	case len(b) > 0 && b[0] == '(':
		return storage.LexBound{V: b[1:], Excl: true}, nil
	}
	return storage.LexBound{}, errZLexRange
}

// parseRangeBounds parses min and max for a score or lex range into sp.
func parseRangeBounds(sp *storage.ZRangeSpec, min, max []byte) error {
	var err error
	switch sp.By {
	case storage.ByScore:
		if sp.Min, err = parseScoreBound(min); err != nil {
			return err
		}
		sp.Max, err = parseScoreBound(max)
	case storage.ByLex:
		if sp.LMin, err = parseLexBound(min); err != nil {
			return err
		}
		sp.LMax, err = parseLexBound(max)
	default:
		if sp.Start, err = parseInt(min); err != nil {
			return err
		}
		sp.Stop, err = parseInt(max)
	}
	return err
}

type zaddCmd struct {
	key   []byte
	elems []storage.ScoreMember
	o     storage.ZAddOptions
}

func parseZadd(a [][]byte) (Runner, error) {
	z := zaddCmd{key: a[1]}
	i := 2
flags:
	for ; i < len(a); i++ {
		switch string(lowerBytes(a[i])) {
		case "nx":
			z.o.NX = true
		case "xx":
			z.o.XX = true
		case "gt":
			z.o.GT = true
		case "lt":
			z.o.LT = true
		case "ch":
			z.o.CH = true
		case "incr":
			z.o.Incr = true
		default:
			break flags
		}
	}
	n := len(a) - i
	if n == 0 || n%2 != 0 {
		return nil, errSyntax
	}
	if z.o.NX && z.o.XX {
		return nil, cmdError("ERR XX and NX options at the same time are not compatible")
	}
	if (z.o.GT && z.o.NX) || (z.o.LT && z.o.NX) || (z.o.GT && z.o.LT) {
		return nil, cmdError("ERR GT, LT, and/or NX options at the same time are not compatible")
	}
	if z.o.Incr && n > 2 {
		return nil, cmdError("ERR INCR option supports a single increment-element pair")
	}
	z.elems = make([]storage.ScoreMember, 0, n/2)
	for ; i < len(a); i += 2 {
		f, err := parseFloat(a[i])
		if err != nil {
			return nil, err
		}
		z.elems = append(z.elems, storage.ScoreMember{Member: a[i+1], Score: f})
	}
	return z, nil
}

func (z zaddCmd) Run(c *Ctx) {
	r, err := c.Tx.ZAdd(z.key, z.elems, z.o)
	switch {
	case err != nil:
		c.Err(err)
	case z.o.Incr && r.IncrOK:
		c.W.Double(r.Score)
	case z.o.Incr:
		c.W.Null()
	case z.o.CH:
		c.W.Int(r.Added + r.Changed)
	default:
		c.W.Int(r.Added)
	}
}

type zincrbyCmd struct {
	key, member []byte
	delta       float64
}

func parseZincrby(a [][]byte) (Runner, error) {
	f, err := parseFloat(a[2])
	return zincrbyCmd{a[1], a[3], f}, err
}

func (z zincrbyCmd) Run(c *Ctx) {
	s, err := c.Tx.ZIncrBy(z.key, z.member, z.delta)
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Double(s)
}

type zremCmd struct {
	key     []byte
	members [][]byte
}

func (z zremCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.ZRem(z.key, z.members))
}

type zscoreCmd struct{ key, member []byte }

func (z zscoreCmd) Run(c *Ctx) {
	s, ok, err := c.Tx.ZScore(z.key, z.member)
	switch {
	case err != nil:
		c.Err(err)
	case !ok:
		c.W.Null()
	default:
		c.W.Double(s)
	}
}

type zmscoreCmd struct {
	key     []byte
	members [][]byte
}

func (z zmscoreCmd) Run(c *Ctx) {
	ss, err := c.Tx.ZMScore(z.key, z.members)
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Array(len(ss))
	for _, s := range ss {
		if s == nil {
			c.W.Null()
		} else {
			c.W.Double(*s)
		}
	}
}

type zcardCmd struct{ key []byte }

func (z zcardCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.ZCard(z.key))
}

// zrangeCmd serves ZRANGE, ZRANGESTORE and the older range commands.
type zrangeCmd struct {
	dst, key   []byte
	sp         storage.ZRangeSpec
	withScores bool
	store      bool
}

// parseZrange builds a parser: by/rev fix the range kind and direction
// for the legacy commands (auto: ZRANGE's BYSCORE/BYLEX/REV options).
func parseZrange(by storage.RangeBy, auto, rev, store bool) Parser {
	return func(a [][]byte) (Runner, error) {
		z := zrangeCmd{store: store, sp: storage.ZRangeSpec{By: by, Rev: rev, Count: -1}}
		i := 1
		if store {
			z.dst, i = a[1], 2
		}
		z.key = a[i]
		minArg, maxArg := a[i+1], a[i+2]
		limit := int64(-1)
		for j := i + 3; j < len(a); j++ {
			left := len(a) - j - 1
			switch {
			case !store && lowerEq(a[j], "withscores"):
				z.withScores = true
			case lowerEq(a[j], "limit") && left >= 2:
				off, err := parseInt(a[j+1])
				if err != nil {
					return nil, err
				}
				cnt, err := parseInt(a[j+2])
				if err != nil {
					return nil, err
				}
				z.sp.Offset, limit = off, cnt
				j += 2
			case auto && !z.sp.Rev && lowerEq(a[j], "rev"):
				z.sp.Rev = true
			case auto && z.sp.By == storage.ByRank && lowerEq(a[j], "bylex"):
				z.sp.By = storage.ByLex
			case auto && z.sp.By == storage.ByRank && lowerEq(a[j], "byscore"):
				z.sp.By = storage.ByScore
			default:
				return nil, errSyntax
			}
		}
		if limit != -1 && z.sp.By == storage.ByRank {
			return nil, cmdError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
		}
		if z.withScores && z.sp.By == storage.ByLex {
			return nil, cmdError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
		}
		z.sp.Count = limit
		if z.sp.Rev && z.sp.By != storage.ByRank {
			minArg, maxArg = maxArg, minArg
		}
		if err := parseRangeBounds(&z.sp, minArg, maxArg); err != nil {
			return nil, err
		}
		return z, nil
	}
}

func (z zrangeCmd) Run(c *Ctx) {
	if z.store {
		n, err := c.Tx.ZRangeStore(z.dst, z.key, &z.sp)
		if err != nil {
			c.Err(err)
			return
		}
		c.W.Int(n)
		return
	}
	els, err := c.Tx.ZRange(z.key, &z.sp)
	if err != nil {
		c.Err(err)
		return
	}
	writeScored(c.W, els, z.withScores)
}

// zcountCmd serves ZCOUNT and ZLEXCOUNT.
type zcountCmd struct {
	key []byte
	sp  storage.ZRangeSpec
}

func parseZcount(by storage.RangeBy) Parser {
	return func(a [][]byte) (Runner, error) {
		z := zcountCmd{key: a[1], sp: storage.ZRangeSpec{By: by, Count: -1}}
		return z, parseRangeBounds(&z.sp, a[2], a[3])
	}
}

func (z zcountCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.ZCount(z.key, &z.sp))
}

// zremrangeCmd serves ZREMRANGEBYRANK|SCORE|LEX.
type zremrangeCmd zcountCmd

func parseZremrange(by storage.RangeBy) Parser {
	return func(a [][]byte) (Runner, error) {
		z := zremrangeCmd{key: a[1], sp: storage.ZRangeSpec{By: by, Count: -1}}
		return z, parseRangeBounds(&z.sp, a[2], a[3])
	}
}

func (z zremrangeCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.ZRemRange(z.key, &z.sp))
}

type zrankCmd struct {
	key, member []byte
	rev         bool
}

func parseZrank(rev bool) Parser {
	return func(a [][]byte) (Runner, error) { return zrankCmd{a[1], a[2], rev}, nil }
}

func (z zrankCmd) Run(c *Ctx) {
	r, ok, err := c.Tx.ZRank(z.key, z.member, z.rev)
	switch {
	case err != nil:
		c.Err(err)
	case !ok:
		c.W.Null()
	default:
		c.W.Int(r)
	}
}

type zpopCmd struct {
	key      []byte
	max      bool
	count    int64
	hasCount bool
}

func parseZpop(max bool) Parser {
	return func(a [][]byte) (Runner, error) {
		if len(a) > 3 {
			return nil, errSyntax
		}
		z := zpopCmd{key: a[1], max: max, count: 1}
		if len(a) == 3 {
			n, err := storage.ParseInt(a[2])
			if err != nil || n < 0 {
				return nil, errPositive
			}
			z.count, z.hasCount = n, true
		}
		return z, nil
	}
}

func (z zpopCmd) Run(c *Ctx) {
	els, err := c.Tx.ZPop(z.key, z.max, z.count)
	if err != nil {
		c.Err(err)
		return
	}
	if !z.hasCount && c.W.Proto >= 3 { // a single flat pair in RESP3
		c.W.Array(2 * len(els))
		for _, e := range els {
			c.W.Bulk(e.Member)
			c.W.Double(e.Score)
		}
		return
	}
	writeScored(c.W, els, true)
}

// bzpopCmd is BZPOPMIN / BZPOPMAX.
type bzpopCmd struct {
	keys    [][]byte
	max     bool
	timeout time.Duration
}

func parseBzpop(max bool) Parser {
	return func(a [][]byte) (Runner, error) {
		t, err := blockTimeout(a[len(a)-1])
		if err != nil {
			return nil, err
		}
		return bzpopCmd{a[1 : len(a)-1], max, t}, nil
	}
}

func (b bzpopCmd) Run(c *Ctx) {
	for _, k := range b.keys {
		els, err := c.Tx.ZPop(k, b.max, 1)
		if err != nil {
			c.Err(err)
			return
		}
		if len(els) > 0 {
			c.W.Array(3)
			c.W.Bulk(k)
			c.W.Bulk(els[0].Member)
			c.W.Double(els[0].Score)
			return
		}
	}
	c.Block(b.keys, b.timeout, nil)
}

type zrandCmd struct {
	key        []byte
	count      int64
	hasCount   bool
	withScores bool
}

func parseZrandmember(a [][]byte) (Runner, error) {
	z := zrandCmd{key: a[1]}
	if len(a) >= 3 {
		n, err := parseInt(a[2])
		if err != nil {
			return nil, err
		}
		z.count, z.hasCount = n, true
	}
	if len(a) == 4 {
		if !lowerEq(a[3], "withscores") {
			return nil, errSyntax
		}
		z.withScores = true
	}
	if len(a) > 4 {
		return nil, errSyntax
	}
	if z.withScores && z.count < -(1<<62) {
		return nil, cmdError("ERR value is out of range")
	}
	return z, nil
}

func (z zrandCmd) Run(c *Ctx) {
	count := z.count
	if !z.hasCount {
		count = 1
	}
	els, err := c.Tx.ZRandMember(z.key, count)
	switch {
	case err != nil:
		c.Err(err)
	case !z.hasCount && len(els) == 0:
		c.W.Null()
	case !z.hasCount:
		c.W.Bulk(els[0].Member)
	default:
		writeScored(c.W, els, z.withScores)
	}
}

type zstoreCmd struct {
	dst     []byte
	keys    [][]byte
	weights []float64
	agg     storage.Aggregate
	inter   bool
}

func parseZstore(inter bool, name string) Parser {
	return func(a [][]byte) (Runner, error) {
		z := zstoreCmd{dst: a[1], inter: inter}
		n, err := parseInt(a[2])
		if err != nil {
			return nil, err
		}
		if n < 1 {
			return nil, cmdError("ERR at least 1 input key is needed for '" + name + "' command")
		}
		if n > int64(len(a)-3) {
			return nil, errSyntax
		}
		z.keys = a[3 : 3+n]
		for j := 3 + int(n); j < len(a); {
			left := len(a) - j
			switch {
			case left >= int(n)+1 && lowerEq(a[j], "weights"):
				z.weights = make([]float64, n)
				for i := range z.weights {
					f, err := storage.ParseFloat(a[j+1+i])
					if err != nil {
						return nil, cmdError("ERR weight value is not a float")
					}
					z.weights[i] = f
				}
				j += 1 + int(n)
			case left >= 2 && lowerEq(a[j], "aggregate"):
				switch {
				case lowerEq(a[j+1], "sum"):
					z.agg = storage.AggSum
				case lowerEq(a[j+1], "min"):
					z.agg = storage.AggMin
				case lowerEq(a[j+1], "max"):
					z.agg = storage.AggMax
				default:
					return nil, errSyntax
				}
				j += 2
			default:
				return nil, errSyntax
			}
		}
		return z, nil
	}
}

func (z zstoreCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.ZStore(z.dst, z.keys, z.weights, z.agg, z.inter))
}

type zscanCmd struct {
	key    []byte
	cursor uint64
	match  []byte
	count  int
}

func parseZscan(a [][]byte) (Runner, error) {
	cur, err := strconv.ParseUint(string(a[2]), 10, 64)
	if err != nil {
		return nil, cmdError("ERR invalid cursor")
	}
	z := zscanCmd{key: a[1], cursor: cur}
	p := newArgp(a, 3)
	for p.more() {
		switch {
		case p.left() >= 2 && p.is("match"):
			z.match = p.next()
			if len(z.match) == 1 && z.match[0] == '*' {
				z.match = nil
			}
		case p.left() >= 2 && p.is("count"):
			n, err := p.int()
			if err != nil {
				return nil, err
			}
			if n < 1 {
				return nil, errSyntax
			}
			z.count = int(min(n, 1<<30))
		default:
			return nil, errSyntax
		}
	}
	return z, nil
}

func (z zscanCmd) Run(c *Ctx) {
	next, els, err := c.Tx.ZScan(z.key, z.cursor, z.match, z.count)
	if err != nil {
		c.Err(err)
		return
	}
	c.W.Array(2)
	c.W.BulkString(strconv.FormatUint(next, 10))
	c.W.Array(2 * len(els))
	for _, e := range els {
		c.W.Bulk(e.Member)
		c.W.Bulk(formatDouble(e.Score, false))
	}
}

func init() {
	const g = "sorted-set"
	rw := FlagWrite | FlagDenyOOM
	key := keyArg("key")
	member := strArg("member")
	members := Arg{Name: "member", Type: ArgString, Multiple: true}
	kf := func(f func(a [][]byte) Runner) Parser {
		return func(a [][]byte) (Runner, error) { return f(a), nil }
	}
	withScores := optTok("WITHSCORES")
	limit := Arg{Name: "limit", Type: ArgBlock, Token: "LIMIT", Optional: true, Args: []Arg{intArg("offset"), intArg("count")}}
	minMax := []Arg{strArg("min"), strArg("max")}
	scoreMinMax := []Arg{{Name: "min", Type: ArgDouble}, {Name: "max", Type: ArgDouble}}
	storeArgs := []Arg{keyArg("destination"), intArg("numkeys"), {Name: "key", Type: ArgKey, Multiple: true},
		{Name: "weight", Type: ArgInteger, Token: "WEIGHTS", Optional: true, Multiple: true},
		{Name: "aggregate", Type: ArgOneOf, Token: "AGGREGATE", Optional: true, Args: []Arg{
			{Name: "sum", Type: ArgPureTok, Token: "SUM"}, {Name: "min", Type: ArgPureTok, Token: "MIN"}, {Name: "max", Type: ArgPureTok, Token: "MAX"}}}}
	storeKeys := func(a [][]byte) []int {
		out := []int{1}
		if len(a) < 3 {
			return out
		}
		n, err := strconv.Atoi(string(a[2]))
		if err != nil {
			return out
		}
		for i := 0; i < n && 3+i < len(a); i++ {
			out = append(out, 3+i)
		}
		return out
	}
	register(
		&Command{Name: "zadd", Arity: -4, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.2.0",
			Summary:    "Adds one or more members to a sorted set, or updates their scores. Creates the key if it doesn't exist.",
			Complexity: "O(log(N)) for each item added, where N is the number of elements in the sorted set.",
			Args: []Arg{key,
				{Name: "condition", Type: ArgOneOf, Optional: true, Args: []Arg{{Name: "nx", Type: ArgPureTok, Token: "NX"}, {Name: "xx", Type: ArgPureTok, Token: "XX"}}},
				{Name: "comparison", Type: ArgOneOf, Optional: true, Args: []Arg{{Name: "gt", Type: ArgPureTok, Token: "GT"}, {Name: "lt", Type: ArgPureTok, Token: "LT"}}},
				optTok("CH"), optTok("INCR"),
				{Name: "data", Type: ArgBlock, Multiple: true, Args: []Arg{{Name: "score", Type: ArgDouble}, member}}},
			Parse: parseZadd},
		&Command{Name: "zincrby", Arity: 4, Flags: rw | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.2.0",
			Summary: "Increments the score of a member in a sorted set.", Complexity: "O(log(N)) where N is the number of elements in the sorted set.",
			Args: []Arg{key, intArg("increment"), member}, Parse: parseZincrby},
		&Command{Name: "zrem", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.2.0",
			Summary:    "Removes one or more members from a sorted set. Deletes the sorted set if all members were removed.",
			Complexity: "O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.",
			Args:       []Arg{key, members}, Parse: kf(func(a [][]byte) Runner { return zremCmd{a[1], a[2:]} })},
		&Command{Name: "zscore", Arity: 3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.2.0",
			Summary: "Returns the score of a member in a sorted set.", Complexity: "O(1)",
			Args: []Arg{key, member}, Parse: kf(func(a [][]byte) Runner { return zscoreCmd{a[1], a[2]} })},
		&Command{Name: "zmscore", Arity: -3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "6.2.0",
			Summary: "Returns the score of one or more members in a sorted set.", Complexity: "O(N) where N is the number of members being requested.",
			Args: []Arg{key, members}, Parse: kf(func(a [][]byte) Runner { return zmscoreCmd{a[1], a[2:]} })},
		&Command{Name: "zcard", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.2.0",
			Summary: "Returns the number of members in a sorted set.", Complexity: "O(1)",
			Args: []Arg{key}, Parse: kf(func(a [][]byte) Runner { return zcardCmd{a[1]} })},
		&Command{Name: "zcount", Arity: 4, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.0.0",
			Summary: "Returns the count of members in a sorted set that have scores within a range.", Complexity: "O(N) where N is the number of members in the range (the score index is scanned).",
			Args: append([]Arg{key}, scoreMinMax...), Parse: parseZcount(storage.ByScore)},
		&Command{Name: "zlexcount", Arity: 4, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.8.9",
			Summary: "Returns the number of members in a sorted set within a lexicographical range.", Complexity: "O(N) where N is the number of members in the range (the score index is scanned).",
			Args: append([]Arg{key}, minMax...), Parse: parseZcount(storage.ByLex)},
		&Command{Name: "zrange", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.2.0",
			Summary:    "Returns members in a sorted set within a range of indexes.",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned (O(start+M) for index ranges).",
			Args: []Arg{key, strArg("start"), strArg("stop"),
				{Name: "sortby", Type: ArgOneOf, Optional: true, Args: []Arg{{Name: "byscore", Type: ArgPureTok, Token: "BYSCORE"}, {Name: "bylex", Type: ArgPureTok, Token: "BYLEX"}}},
				optTok("REV"), limit, withScores},
			Parse: parseZrange(storage.ByRank, true, false, false)},
		&Command{Name: "zrangestore", Arity: -5, Flags: rw, FirstKey: 1, LastKey: 2, Step: 1, Group: g, Since: "6.2.0",
			Summary:    "Stores a range of members from sorted set in a key.",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.",
			Args: []Arg{keyArg("dst"), keyArg("src"), strArg("min"), strArg("max"),
				{Name: "sortby", Type: ArgOneOf, Optional: true, Args: []Arg{{Name: "byscore", Type: ArgPureTok, Token: "BYSCORE"}, {Name: "bylex", Type: ArgPureTok, Token: "BYLEX"}}},
				optTok("REV"), limit},
			Parse: parseZrange(storage.ByRank, true, false, true)},
		&Command{Name: "zrangebyscore", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.0.5",
			Summary:    "Returns members in a sorted set within a range of scores.",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.",
			Args:       append(append([]Arg{key}, scoreMinMax...), withScores, limit), Parse: parseZrange(storage.ByScore, false, false, false)},
		&Command{Name: "zrevrangebyscore", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.2.0",
			Summary:    "Returns members in a sorted set within a range of scores in reverse order.",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.",
			Args:       []Arg{key, {Name: "max", Type: ArgDouble}, {Name: "min", Type: ArgDouble}, withScores, limit}, Parse: parseZrange(storage.ByScore, false, true, false)},
		&Command{Name: "zrevrange", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.2.0",
			Summary:    "Returns members in a sorted set within a range of indexes in reverse order.",
			Complexity: "O(start+M) where M is the number of elements returned.",
			Args:       []Arg{key, intArg("start"), intArg("stop"), withScores}, Parse: parseZrange(storage.ByRank, false, true, false)},
		&Command{Name: "zrangebylex", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.8.9",
			Summary:    "Returns members in a sorted set within a lexicographical range.",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.",
			Args:       append(append([]Arg{key}, minMax...), limit), Parse: parseZrange(storage.ByLex, false, false, false)},
		&Command{Name: "zrevrangebylex", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.8.9",
			Summary:    "Returns members in a sorted set within a lexicographical range in reverse order.",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned.",
			Args:       []Arg{key, strArg("max"), strArg("min"), limit}, Parse: parseZrange(storage.ByLex, false, true, false)},
		&Command{Name: "zrank", Arity: 3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.0.0",
			Summary: "Returns the index of a member in a sorted set ordered by ascending scores.", Complexity: "O(N): the score index is counted up to the member",
			Args: []Arg{key, member}, Parse: parseZrank(false)},
		&Command{Name: "zrevrank", Arity: 3, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.0.0",
			Summary: "Returns the index of a member in a sorted set ordered by descending scores.", Complexity: "O(N): the score index is counted up to the member",
			Args: []Arg{key, member}, Parse: parseZrank(true)},
		&Command{Name: "zpopmin", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "5.0.0",
			Summary:    "Returns the lowest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
			Complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
			Args:       []Arg{key, {Name: "count", Type: ArgInteger, Optional: true}}, Parse: parseZpop(false)},
		&Command{Name: "zpopmax", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "5.0.0",
			Summary:    "Returns the highest-scoring members from a sorted set after removing them. Deletes the sorted set if the last member was popped.",
			Complexity: "O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.",
			Args:       []Arg{key, {Name: "count", Type: ArgInteger, Optional: true}}, Parse: parseZpop(true)},
		&Command{Name: "bzpopmin", Arity: -3, Flags: FlagWrite | FlagNoScript | FlagFast | FlagBlocking, FirstKey: 1, LastKey: -2, Step: 1, Group: g, Since: "5.0.0",
			Summary:    "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
			Complexity: "O(log(N)) with N being the number of elements in the sorted set.",
			Args:       []Arg{{Name: "key", Type: ArgKey, Multiple: true}, {Name: "timeout", Type: ArgDouble}}, Parse: parseBzpop(false)},
		&Command{Name: "bzpopmax", Arity: -3, Flags: FlagWrite | FlagNoScript | FlagFast | FlagBlocking, FirstKey: 1, LastKey: -2, Step: 1, Group: g, Since: "5.0.0",
			Summary:    "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
			Complexity: "O(log(N)) with N being the number of elements in the sorted set.",
			Args:       []Arg{{Name: "key", Type: ArgKey, Multiple: true}, {Name: "timeout", Type: ArgDouble}}, Parse: parseBzpop(true)},
		&Command{Name: "zunionstore", Arity: -4, Flags: rw | FlagMovableKeys, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.0.0",
			Summary:    "Stores the union of multiple sorted sets in a key.",
			Complexity: "O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.",
			Args:       storeArgs, Parse: parseZstore(false, "zunionstore"), Keys: storeKeys},
		&Command{Name: "zinterstore", Arity: -4, Flags: rw | FlagMovableKeys, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.0.0",
			Summary:    "Stores the intersect of multiple sorted sets in a key.",
			Complexity: "O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.",
			Args:       storeArgs, Parse: parseZstore(true, "zinterstore"), Keys: storeKeys},
		&Command{Name: "zscan", Arity: -3, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.8.0",
			Summary:    "Iterates over members and scores of a sorted set.",
			Complexity: "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
			Args:       []Arg{key, intArg("cursor"), {Name: "pattern", Type: ArgPattern, Token: "MATCH", Optional: true}, {Name: "count", Type: ArgInteger, Token: "COUNT", Optional: true}},
			Parse:      parseZscan},
		&Command{Name: "zremrangebyscore", Arity: 4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "1.2.0",
			Summary:    "Removes members in a sorted set within a range of scores. Deletes the sorted set if all members were removed.",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
			Args:       append([]Arg{key}, scoreMinMax...), Parse: parseZremrange(storage.ByScore)},
		&Command{Name: "zremrangebyrank", Arity: 4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.0.0",
			Summary:    "Removes members in a sorted set within a range of indexes. Deletes the sorted set if all members were removed.",
			Complexity: "O(start+M) with M the number of elements removed by the operation.",
			Args:       []Arg{key, intArg("start"), intArg("stop")}, Parse: parseZremrange(storage.ByRank)},
		&Command{Name: "zremrangebylex", Arity: 4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "2.8.9",
			Summary:    "Removes members in a sorted set within a lexicographical range. Deletes the sorted set if all members were removed.",
			Complexity: "O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.",
			Args:       append([]Arg{key}, minMax...), Parse: parseZremrange(storage.ByLex)},
		&Command{Name: "zrandmember", Arity: -2, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "6.2.0",
			Summary: "Returns one or more random members from a sorted set.", Complexity: "O(N) where N is the size of the sorted set (it is read whole).",
			Args: []Arg{key, {Name: "options", Type: ArgBlock, Optional: true, Args: []Arg{intArg("count"), withScores}}}, Parse: parseZrandmember},
	)
}
