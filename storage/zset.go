package storage

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/cockroachdb/pebble/v2"
)

// Sorted sets.
//
// A member is the subkey D|db|keylen|key|version|member whose value is the
// score (8 bytes, float64 bits BE). The score index holds one key per
// member, Z|db|keylen|key|version|sortableFloat(score)|member (empty
// value), so the index order is Redis' order: by score, then by member
// bytes. Ranges by score or lex seek the index; ranks are found by
// counting index entries, which is O(rank) (Redis' skiplist is O(log n)).

// ScoreMember is one element of a sorted set.
type ScoreMember struct {
	Member []byte
	Score  float64
}

type zsetObj struct {
	tx     *Tx
	key    []byte
	m      *Meta
	dp, zp []byte // data and score-index prefixes
	oldExp int64
}

func (tx *Tx) openZSet(key []byte, m *Meta) *zsetObj {
	return &zsetObj{tx: tx, key: key, m: m, oldExp: m.ExpireAt,
		dp: dataPrefix(tx.DB, key, m.Version), zp: zscorePrefix(tx.DB, key, m.Version)}
}

func (z *zsetObj) memberKey(member []byte) []byte {
	k := make([]byte, 0, len(z.dp)+len(member))
	return append(append(k, z.dp...), member...)
}

func (z *zsetObj) indexKey(score float64, member []byte) []byte {
	k := make([]byte, 0, len(z.zp)+8+len(member))
	k = append(k, z.zp...)
	k = append(k, sortableFloat(score)...)
	return append(k, member...)
}

func (z *zsetObj) score(member []byte) (float64, bool, error) {
	v, err := z.tx.get(z.memberKey(member))
	if err != nil || v == nil {
		return 0, false, err
	}
	if len(v) != 8 {
		return 0, false, errCorrupt
	}
	return math.Float64frombits(binary.BigEndian.Uint64(v)), true, nil
}

// put sets member's score; old is its previous score when had.
func (z *zsetObj) put(member []byte, score float64, old float64, had bool) {
	if score == 0 {
		score = 0 // no -0
	}
	if had {
		z.tx.del(z.indexKey(old, member))
	} else {
		z.m.Size++
	}
	z.tx.set(z.memberKey(member), binary.BigEndian.AppendUint64(nil, math.Float64bits(score)))
	z.tx.set(z.indexKey(score, member), nil)
}

func (z *zsetObj) remove(member []byte, score float64) {
	z.tx.del(z.memberKey(member))
	z.tx.del(z.indexKey(score, member))
	z.m.Size--
}

// save writes the meta back or deletes the set when empty ("del").
func (z *zsetObj) save() bool {
	if z.m.Size == 0 {
		z.tx.removeObject(z.key, z.m)
		z.tx.Emit("del", z.key, TypeZSet)
		return false
	}
	z.tx.putMeta(z.key, z.m, z.oldExp)
	return true
}

// decodeIndex splits an index key into score and member.
func (z *zsetObj) decodeIndex(k []byte) (float64, []byte) {
	return unsortableFloat(k[len(z.zp) : len(z.zp)+8]), k[len(z.zp)+8:]
}

func (z *zsetObj) iter() *pebble.Iterator {
	return z.tx.iter(z.zp, prefixEnd(z.zp))
}

func (tx *Tx) zsetForWrite(key []byte, create bool) (*zsetObj, error) {
	m, err := tx.lookupType(key, TypeZSet)
	if err != nil {
		return nil, err
	}
	if m == nil {
		if !create {
			return nil, nil
		}
		m = tx.create(TypeZSet)
	}
	return tx.openZSet(key, m), nil
}

func (tx *Tx) zsetForRead(key []byte) (*zsetObj, error) {
	m, err := tx.readType(key, TypeZSet)
	if err != nil || m == nil {
		return nil, err
	}
	return tx.openZSet(key, m), nil
}

// ZAddOptions are ZADD's flags.
type ZAddOptions struct {
	NX, XX, GT, LT, CH, Incr bool
}

// ZAddResult is ZADD's outcome: Added new members, Changed (updated)
// scores; with Incr, Score is the new score (ok=false when not applied).
type ZAddResult struct {
	Added, Changed int64
	Score          float64
	IncrOK         bool
}

// ZAdd adds or updates members. Event "zadd" ("zincr" with Incr).
func (tx *Tx) ZAdd(key []byte, elems []ScoreMember, o ZAddOptions) (ZAddResult, error) {
	var r ZAddResult
	z, err := tx.zsetForWrite(key, !o.XX)
	if err != nil || z == nil {
		return r, err
	}
	for _, e := range elems {
		cur, had, err := z.score(e.Member)
		if err != nil {
			return r, err
		}
		s := e.Score
		if had {
			if o.NX {
				continue
			}
			if o.Incr {
				s = cur + s
				if math.IsNaN(s) {
					return r, ErrNaN
				}
			}
			if (o.GT && s <= cur) || (o.LT && s >= cur) {
				continue
			}
			r.Score, r.IncrOK = s, true
			if s != cur {
				z.put(e.Member, s, cur, true)
				r.Changed++
			}
			continue
		}
		if o.XX {
			continue
		}
		z.put(e.Member, s, 0, false)
		r.Score, r.IncrOK = s, true
		r.Added++
	}
	if r.Added+r.Changed == 0 {
		if z.m.Size == 0 { // freshly created, nothing added: undo
			tx.delta[tx.DB]--
		}
		return r, nil
	}
	z.save()
	if o.Incr {
		tx.Emit("zincr", key, TypeZSet)
	} else {
		tx.Emit("zadd", key, TypeZSet)
	}
	return r, nil
}

// ZRem removes members and returns how many existed.
func (tx *Tx) ZRem(key []byte, members [][]byte) (int64, error) {
	z, err := tx.zsetForWrite(key, false)
	if err != nil || z == nil {
		return 0, err
	}
	var n int64
	for _, mb := range members {
		s, had, err := z.score(mb)
		if err != nil {
			return n, err
		}
		if had {
			z.remove(mb, s)
			n++
		}
	}
	if n > 0 {
		tx.Emit("zrem", key, TypeZSet)
		z.save()
	}
	return n, nil
}

// ZScore returns member's score.
func (tx *Tx) ZScore(key, member []byte) (float64, bool, error) {
	z, err := tx.zsetForRead(key)
	if err != nil || z == nil {
		return 0, false, err
	}
	return z.score(member)
}

// ZMScore returns the scores of members (nil entries for missing ones).
func (tx *Tx) ZMScore(key []byte, members [][]byte) ([]*float64, error) {
	out := make([]*float64, len(members))
	z, err := tx.zsetForRead(key)
	if err != nil || z == nil {
		return out, err
	}
	for i, mb := range members {
		s, ok, err := z.score(mb)
		if err != nil {
			return nil, err
		}
		if ok {
			out[i] = &s
		}
	}
	return out, nil
}

// ZCard returns the number of members.
func (tx *Tx) ZCard(key []byte) (int64, error) {
	m, err := tx.readType(key, TypeZSet)
	if err != nil || m == nil {
		return 0, err
	}
	return int64(m.Size), nil
}

// ScoreBound is one end of a score range ("(1.5", "-inf").
type ScoreBound struct {
	V    float64
	Excl bool
}

// LexBound is one end of a lex range: Inf -1 is "-", +1 is "+".
type LexBound struct {
	V    []byte
	Excl bool
	Inf  int
}

// RangeBy selects ZRANGE's kind of range.
type RangeBy int

const (
	ByRank RangeBy = iota
	ByScore
	ByLex
)

// ZRangeSpec is a ZRANGE request. For ByRank Start/Stop are indexes; for
// ByScore Min/Max, for ByLex LMin/LMax (always min..max, also with Rev).
// Offset/Count is LIMIT (Count < 0: all).
type ZRangeSpec struct {
	By          RangeBy
	Start, Stop int64
	Min, Max    ScoreBound
	LMin, LMax  LexBound
	Rev         bool
	Offset      int64
	Count       int64
}

func (b ScoreBound) aboveMin(s float64) bool {
	if b.Excl {
		return s > b.V
	}
	return s >= b.V
}

func (b ScoreBound) belowMax(s float64) bool {
	if b.Excl {
		return s < b.V
	}
	return s <= b.V
}

func (b LexBound) aboveMin(m []byte) bool {
	switch b.Inf {
	case -1:
		return true
	case 1:
		return false
	}
	c := bytes.Compare(m, b.V)
	return c > 0 || (c == 0 && !b.Excl)
}

func (b LexBound) belowMax(m []byte) bool {
	switch b.Inf {
	case -1:
		return false
	case 1:
		return true
	}
	c := bytes.Compare(m, b.V)
	return c < 0 || (c == 0 && !b.Excl)
}

// walk iterates the members selected by sp (ignoring LIMIT) in order and
// calls fn until it returns false.
func (z *zsetObj) walk(sp *ZRangeSpec, fn func(member []byte, score float64) bool) error {
	it := z.iter()
	var ok bool
	n := int64(z.m.Size)
	switch sp.By {
	case ByRank:
		s, e, in := normRange(sp.Start, sp.Stop, n)
		if !in {
			return it.Close()
		}
		ok = first(it, sp.Rev)
		for i := int64(0); ok && i < s; i++ {
			ok = step(it, sp.Rev)
		}
		for i := s; ok && i <= e; i++ {
			sc, mb := z.decodeIndex(it.Key())
			if !fn(mb, sc) {
				break
			}
			ok = step(it, sp.Rev)
		}
		return it.Close()
	case ByScore:
		if sp.Rev {
			ok = it.SeekLT(prefixEnd(append(append([]byte(nil), z.zp...), sortableFloat(sp.Max.V)...)))
		} else {
			ok = it.SeekGE(append(append([]byte(nil), z.zp...), sortableFloat(sp.Min.V)...))
		}
		for ; ok; ok = step(it, sp.Rev) {
			sc, mb := z.decodeIndex(it.Key())
			if sp.Rev {
				if !sp.Max.belowMax(sc) {
					continue
				}
				if !sp.Min.aboveMin(sc) {
					break
				}
			} else {
				if !sp.Min.aboveMin(sc) {
					continue
				}
				if !sp.Max.belowMax(sc) {
					break
				}
			}
			if !fn(mb, sc) {
				break
			}
		}
		return it.Close()
	default: // ByLex: members are assumed to share one score, as in Redis
		ok = first(it, sp.Rev)
		if ok {
			sc, _ := z.decodeIndex(it.Key())
			switch {
			case !sp.Rev && sp.LMin.Inf == 0:
				ok = it.SeekGE(z.indexKey(sc, sp.LMin.V))
			case sp.Rev && sp.LMax.Inf == 0:
				ok = it.SeekLT(append(z.indexKey(sc, sp.LMax.V), 0))
			}
		}
		for ; ok; ok = step(it, sp.Rev) {
			sc, mb := z.decodeIndex(it.Key())
			if sp.Rev {
				if !sp.LMax.belowMax(mb) {
					continue
				}
				if !sp.LMin.aboveMin(mb) {
					break
				}
			} else {
				if !sp.LMin.aboveMin(mb) {
					continue
				}
				if !sp.LMax.belowMax(mb) {
					break
				}
			}
			if !fn(mb, sc) {
				break
			}
		}
		return it.Close()
	}
}

func first(it *pebble.Iterator, rev bool) bool {
	if rev {
		return it.Last()
	}
	return it.First()
}

// limited wraps fn with LIMIT offset/count.
func limited(sp *ZRangeSpec, fn func(member []byte, score float64) bool) func([]byte, float64) bool {
	if sp.By == ByRank || (sp.Offset == 0 && sp.Count < 0) {
		return fn
	}
	skip, left := sp.Offset, sp.Count
	return func(m []byte, s float64) bool {
		if skip > 0 {
			skip--
			return true
		}
		if left == 0 {
			return false
		}
		left--
		return fn(m, s) && left != 0
	}
}

// ZRange returns the members selected by sp.
func (tx *Tx) ZRange(key []byte, sp *ZRangeSpec) ([]ScoreMember, error) {
	z, err := tx.zsetForRead(key)
	if err != nil || z == nil {
		return nil, err
	}
	return z.collect(sp)
}

func (z *zsetObj) collect(sp *ZRangeSpec) ([]ScoreMember, error) {
	var out []ScoreMember
	if sp.By != ByRank && (sp.Offset < 0 || sp.Count == 0) {
		return out, nil
	}
	err := z.walk(sp, limited(sp, func(m []byte, s float64) bool {
		out = append(out, ScoreMember{append([]byte(nil), m...), s})
		return true
	}))
	return out, err
}

// ZRangeStore stores the selection of sp from src into dst and returns
// its size (event "zrangestore", or "del" when dst is emptied).
func (tx *Tx) ZRangeStore(dst, src []byte, sp *ZRangeSpec) (int64, error) {
	els, err := tx.ZRange(src, sp)
	if err != nil {
		return 0, err
	}
	return tx.zstore(dst, els, "zrangestore")
}

// ZCount counts the members with a score in [min, max] (ByScore) or a
// member in the lex range (ByLex).
func (tx *Tx) ZCount(key []byte, sp *ZRangeSpec) (int64, error) {
	z, err := tx.zsetForRead(key)
	if err != nil || z == nil {
		return 0, err
	}
	var n int64
	err = z.walk(sp, func([]byte, float64) bool { n++; return true })
	return n, err
}

// ZRank returns member's rank (0-based; rev: from the highest score).
func (tx *Tx) ZRank(key, member []byte, rev bool) (int64, bool, error) {
	z, err := tx.zsetForRead(key)
	if err != nil || z == nil {
		return 0, false, err
	}
	s, ok, err := z.score(member)
	if err != nil || !ok {
		return 0, false, err
	}
	// O(rank): count the index entries before member's.
	it := z.tx.iter(z.zp, z.indexKey(s, member))
	var n int64
	for ok := it.First(); ok; ok = it.Next() {
		n++
	}
	if err := it.Close(); err != nil {
		return 0, false, err
	}
	if rev {
		n = int64(z.m.Size) - 1 - n
	}
	return n, true, nil
}

// ZPop removes up to count members with the lowest (or, max, highest)
// scores. Event "zpopmin"/"zpopmax"; "del" when emptied.
func (tx *Tx) ZPop(key []byte, max bool, count int64) ([]ScoreMember, error) {
	z, err := tx.zsetForWrite(key, false)
	if err != nil || z == nil || count <= 0 {
		return nil, err
	}
	els, err := z.collect(&ZRangeSpec{By: ByRank, Start: 0, Stop: count - 1, Rev: max})
	if err != nil || len(els) == 0 {
		return els, err
	}
	for _, e := range els {
		z.remove(e.Member, e.Score)
	}
	if max {
		tx.Emit("zpopmax", key, TypeZSet)
	} else {
		tx.Emit("zpopmin", key, TypeZSet)
	}
	z.save()
	return els, nil
}

// ZRemRange removes the members selected by sp (rank, score or lex range)
// and returns how many. Event "zremrangebyrank|score|lex".
func (tx *Tx) ZRemRange(key []byte, sp *ZRangeSpec) (int64, error) {
	z, err := tx.zsetForWrite(key, false)
	if err != nil || z == nil {
		return 0, err
	}
	els, err := z.collect(sp)
	if err != nil || len(els) == 0 {
		return 0, err
	}
	for _, e := range els {
		z.remove(e.Member, e.Score)
	}
	tx.Emit([...]string{"zremrangebyrank", "zremrangebyscore", "zremrangebylex"}[sp.By], key, TypeZSet)
	z.save()
	return int64(len(els)), nil
}

// ZIncrBy adds delta to member's score (creating it) and returns the new
// score. Event "zincr".
func (tx *Tx) ZIncrBy(key, member []byte, delta float64) (float64, error) {
	r, err := tx.ZAdd(key, []ScoreMember{{member, delta}}, ZAddOptions{Incr: true})
	return r.Score, err
}

// ZRandMember returns random members: count > 0 distinct ones (at most
// the set's size), count < 0 |count| members possibly repeated.
func (tx *Tx) ZRandMember(key []byte, count int64) ([]ScoreMember, error) {
	z, err := tx.zsetForRead(key)
	if err != nil || z == nil || count == 0 {
		return nil, err
	}
	all, err := z.collect(&ZRangeSpec{By: ByRank, Start: 0, Stop: -1})
	if err != nil || len(all) == 0 {
		return nil, err
	}
	if count < 0 {
		out := make([]ScoreMember, -count)
		for i := range out {
			out[i] = all[rand.IntN(len(all))]
		}
		return out, nil
	}
	if count >= int64(len(all)) {
		return all, nil
	}
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:count], nil
}

// Aggregate is ZUNIONSTORE/ZINTERSTORE's AGGREGATE.
type Aggregate int

const (
	AggSum Aggregate = iota
	AggMin
	AggMax
)

func aggregate(a Aggregate, acc, v float64) float64 {
	switch a {
	case AggMin:
		return math.Min(acc, v)
	case AggMax:
		return math.Max(acc, v)
	}
	r := acc + v
	if math.IsNaN(r) { // inf + -inf
		return 0
	}
	return r
}

// zsource reads a ZUNIONSTORE/ZINTERSTORE input: a sorted set, or a set
// (every member scores 1; layout as in set.go). A missing key is an
// empty input.
func (tx *Tx) zsource(key []byte) ([]ScoreMember, error) {
	m, err := tx.lookup(key)
	if err != nil {
		return nil, err
	}
	if m == nil { // a write lookup in Redis: no keymiss
		return nil, nil
	}
	switch m.Type {
	case TypeZSet:
		return tx.openZSet(key, m).collect(&ZRangeSpec{By: ByRank, Start: 0, Stop: -1})
	case TypeSet:
		// Set members are the set's subkeys (their values are not read).
		p := dataPrefix(tx.DB, key, m.Version)
		it := tx.iter(p, prefixEnd(p))
		var out []ScoreMember
		for ok := it.First(); ok; ok = it.Next() {
			out = append(out, ScoreMember{append([]byte(nil), it.Key()[len(p):]...), 1})
		}
		return out, it.Close()
	}
	return nil, ErrWrongType
}

// ZStore computes the union (or intersection) of keys with weights and
// stores it at dst; it returns the result's size. Event "zunionstore" /
// "zinterstore"; "del" when dst existed and the result is empty.
func (tx *Tx) ZStore(dst []byte, keys [][]byte, weights []float64, agg Aggregate, inter bool) (int64, error) {
	inputs := make([][]ScoreMember, len(keys))
	for i, k := range keys {
		els, err := tx.zsource(k)
		if err != nil {
			return 0, err
		}
		w := 1.0
		if weights != nil {
			w = weights[i]
		}
		for j := range els {
			s := els[j].Score * w
			if math.IsNaN(s) {
				s = 0
			}
			els[j].Score = s
		}
		inputs[i] = els
	}
	var res []ScoreMember
	if inter {
		// smallest input drives; every other input must hold the member.
		sort.SliceStable(inputs, func(i, j int) bool { return len(inputs[i]) < len(inputs[j]) })
		var idx []map[string]float64
		for _, in := range inputs[1:] {
			m := make(map[string]float64, len(in))
			for _, e := range in {
				m[string(e.Member)] = e.Score
			}
			idx = append(idx, m)
		}
		if len(inputs) > 0 {
		next:
			for _, e := range inputs[0] {
				s := e.Score
				for _, m := range idx {
					v, ok := m[string(e.Member)]
					if !ok {
						continue next
					}
					s = aggregate(agg, s, v)
				}
				res = append(res, ScoreMember{e.Member, s})
			}
		}
	} else {
		pos := map[string]int{}
		for _, in := range inputs {
			for _, e := range in {
				if i, ok := pos[string(e.Member)]; ok {
					res[i].Score = aggregate(agg, res[i].Score, e.Score)
					continue
				}
				pos[string(e.Member)] = len(res)
				res = append(res, e)
			}
		}
	}
	ev := "zunionstore"
	if inter {
		ev = "zinterstore"
	}
	return tx.zstore(dst, res, ev)
}

// zstore replaces dst with a sorted set of els (deleting dst when empty).
func (tx *Tx) zstore(dst []byte, els []ScoreMember, event string) (int64, error) {
	old, err := tx.lookup(dst)
	if err != nil {
		return 0, err
	}
	if old != nil {
		tx.removeObject(dst, old)
	}
	if len(els) == 0 {
		if old != nil {
			tx.Emit("del", dst, old.Type)
		}
		return 0, nil
	}
	z := tx.openZSet(dst, tx.create(TypeZSet))
	z.oldExp = 0
	for _, e := range els {
		z.put(e.Member, e.Score, 0, false)
	}
	z.save()
	tx.Emit(event, dst, TypeZSet)
	return int64(len(els)), nil
}

// ZScan is ZSCAN: a cursor scan of the members (see scanObject).
func (tx *Tx) ZScan(key []byte, cursor uint64, match []byte, count int) (uint64, []ScoreMember, error) {
	m, err := tx.readType(key, TypeZSet)
	if err != nil || m == nil {
		return 0, nil, err
	}
	next, subs, vals, err := tx.scanObject(m, key, cursor, match, count)
	if err != nil {
		return 0, nil, err
	}
	out := make([]ScoreMember, len(subs))
	for i, sub := range subs {
		if len(vals[i]) != 8 {
			return 0, nil, errCorrupt
		}
		out[i] = ScoreMember{sub, math.Float64frombits(binary.BigEndian.Uint64(vals[i]))}
	}
	return next, out, nil
}
