package storage

import (
	"bytes"
	"encoding/binary"
)

// Lists.
//
// The meta payload holds two sequence numbers, head and tail (8 bytes BE
// each): the elements occupy the seqs [head, tail), element i is the
// subkey D|db|keylen|key|version|seq(8 BE) with seq = head+i. A new list
// starts in the middle of the range (1<<63) so both ends can grow; pushes
// and pops at either end and access by index are O(1). LINSERT and LREM
// shift the elements after the change point.

const listMid = uint64(1) << 63

type listObj struct {
	tx         *Tx
	key        []byte
	m          *Meta
	prefix     []byte
	head, tail uint64
	oldExp     int64
}

func (tx *Tx) openList(key []byte, m *Meta) *listObj {
	l := &listObj{tx: tx, key: key, m: m, oldExp: m.ExpireAt}
	if len(m.Payload) >= 16 {
		l.head = binary.BigEndian.Uint64(m.Payload)
		l.tail = binary.BigEndian.Uint64(m.Payload[8:])
	} else {
		l.head, l.tail = listMid, listMid
	}
	l.prefix = dataPrefix(tx.DB, key, m.Version)
	return l
}

func (l *listObj) len() int64 { return int64(l.tail - l.head) }

func (l *listObj) subkey(seq uint64) []byte {
	k := make([]byte, len(l.prefix)+8)
	copy(k, l.prefix)
	binary.BigEndian.PutUint64(k[len(l.prefix):], seq)
	return k
}

func (l *listObj) at(i int64) ([]byte, error) {
	return l.tx.get(l.subkey(l.head + uint64(i)))
}

// save writes the meta back, or deletes the list when it became empty
// (emitting "del"). It reports whether the list still exists.
func (l *listObj) save() bool {
	if l.head == l.tail {
		l.tx.removeObject(l.key, l.m)
		l.tx.Emit("del", l.key, TypeList)
		return false
	}
	l.m.Size = l.tail - l.head
	p := make([]byte, 16)
	binary.BigEndian.PutUint64(p, l.head)
	binary.BigEndian.PutUint64(p[8:], l.tail)
	l.m.Payload = p
	l.tx.putMeta(l.key, l.m, l.oldExp)
	return true
}

func (l *listObj) push(v []byte, left bool) {
	if left {
		l.head--
		l.tx.set(l.subkey(l.head), v)
	} else {
		l.tx.set(l.subkey(l.tail), v)
		l.tail++
	}
}

func (l *listObj) pop(left bool) ([]byte, error) {
	var seq uint64
	if left {
		seq = l.head
	} else {
		seq = l.tail - 1
	}
	k := l.subkey(seq)
	v, err := l.tx.get(k)
	if err != nil {
		return nil, err
	}
	l.tx.del(k)
	if left {
		l.head++
	} else {
		l.tail--
	}
	return v, nil
}

// each calls fn for elements from index from (inclusive) towards the end
// (or, with rev, towards the head) until fn returns false.
func (l *listObj) each(from int64, rev bool, fn func(i int64, v []byte) bool) error {
	if l.len() == 0 {
		return nil
	}
	it := l.tx.iter(l.subkey(l.head), l.subkey(l.tail))
	var ok bool
	if rev {
		ok = it.SeekLT(l.subkey(l.head + uint64(from) + 1))
	} else {
		ok = it.SeekGE(l.subkey(l.head + uint64(from)))
	}
	for ; ok; ok = step(it, rev) {
		k := it.Key()
		seq := binary.BigEndian.Uint64(k[len(k)-8:])
		if !fn(int64(seq-l.head), it.Value()) {
			break
		}
	}
	return it.Close()
}

type iterStep interface {
	Next() bool
	Prev() bool
}

func step(it iterStep, rev bool) bool {
	if rev {
		return it.Prev()
	}
	return it.Next()
}

// listForWrite returns the list at key, creating an empty one (not yet
// saved) when missing and create is set. nil when missing and !create.
func (tx *Tx) listForWrite(key []byte, create bool) (*listObj, error) {
	m, err := tx.lookupType(key, TypeList)
	if err != nil {
		return nil, err
	}
	if m == nil {
		if !create {
			return nil, nil
		}
		m = tx.create(TypeList)
	}
	return tx.openList(key, m), nil
}

// Push adds values at the head (left) or tail of the list at key and
// returns the new length. With xx nothing happens (0) when the key is missing.
func (tx *Tx) Push(key []byte, vals [][]byte, left, xx bool) (int64, error) {
	l, err := tx.listForWrite(key, !xx)
	if err != nil || l == nil {
		return 0, err
	}
	for _, v := range vals {
		l.push(v, left)
	}
	l.save()
	if left {
		tx.Emit("lpush", key, TypeList)
	} else {
		tx.Emit("rpush", key, TypeList)
	}
	return l.len(), nil
}

// Pop removes up to count elements from the head (left) or tail. It
// reports whether the key existed.
func (tx *Tx) Pop(key []byte, left bool, count int64) ([][]byte, bool, error) {
	l, err := tx.listForWrite(key, false)
	if err != nil || l == nil {
		return nil, false, err
	}
	n := min(count, l.len())
	out := make([][]byte, 0, n)
	for range n {
		v, err := l.pop(left)
		if err != nil {
			return nil, true, err
		}
		out = append(out, v)
	}
	if n > 0 {
		if left {
			tx.Emit("lpop", key, TypeList)
		} else {
			tx.Emit("rpop", key, TypeList)
		}
		l.save()
	}
	return out, true, nil
}

// LLen returns the length of the list at key (0 when missing).
func (tx *Tx) LLen(key []byte) (int64, error) {
	m, err := tx.readType(key, TypeList)
	if err != nil || m == nil {
		return 0, err
	}
	return int64(m.Size), nil
}

// normRange clamps Redis start/stop indexes (negative from the end) to
// [0, n); ok is false when the range is empty.
func normRange(start, stop, n int64) (int64, int64, bool) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	if start < 0 {
		start = 0
	}
	if start > stop || start >= n {
		return 0, 0, false
	}
	if stop >= n {
		stop = n - 1
	}
	return start, stop, true
}

// LRange returns the elements start..stop (inclusive).
func (tx *Tx) LRange(key []byte, start, stop int64) ([][]byte, error) {
	m, err := tx.readType(key, TypeList)
	if err != nil || m == nil {
		return nil, err
	}
	l := tx.openList(key, m)
	s, e, ok := normRange(start, stop, l.len())
	if !ok {
		return [][]byte{}, nil
	}
	out := make([][]byte, 0, e-s+1)
	err = l.each(s, false, func(i int64, v []byte) bool {
		if i > e {
			return false
		}
		out = append(out, append([]byte(nil), v...))
		return true
	})
	return out, err
}

// LIndex returns the element at index (negative from the end).
func (tx *Tx) LIndex(key []byte, index int64) ([]byte, bool, error) {
	m, err := tx.readType(key, TypeList)
	if err != nil || m == nil {
		return nil, false, err
	}
	l := tx.openList(key, m)
	if index < 0 {
		index += l.len()
	}
	if index < 0 || index >= l.len() {
		return nil, false, nil
	}
	v, err := l.at(index)
	return v, err == nil, err
}

// LSet replaces the element at index.
func (tx *Tx) LSet(key []byte, index int64, v []byte) error {
	l, err := tx.listForWrite(key, false)
	if err != nil {
		return err
	}
	if l == nil {
		return ErrNoSuchKey
	}
	if index < 0 {
		index += l.len()
	}
	if index < 0 || index >= l.len() {
		return ErrIndexRange
	}
	tx.set(l.subkey(l.head+uint64(index)), v)
	tx.Emit("lset", key, TypeList)
	return nil
}

// rewrite replaces the whole content of l with vals (used after LREM).
func (l *listObj) rewrite(vals [][]byte) {
	lo, hi := l.subkey(l.head), l.subkey(l.tail)
	l.tx.batch().DeleteRange(lo, hi, nil)
	l.tail = l.head
	for _, v := range vals {
		l.push(v, false)
	}
}

// LRem removes up to count occurrences of v (count<0: from the tail,
// 0: all) and returns how many were removed.
func (tx *Tx) LRem(key []byte, count int64, v []byte) (int64, error) {
	l, err := tx.listForWrite(key, false)
	if err != nil || l == nil {
		return 0, err
	}
	rev := count < 0
	if rev {
		count = -count
	}
	// Find the removed indexes, then rebuild the part of the list after
	// (or, from the tail, before) the first removal.
	var hits []int64
	var first int64 = -1
	start := int64(0)
	if rev {
		start = l.len() - 1
	}
	err = l.each(start, rev, func(i int64, e []byte) bool {
		if bytes.Equal(e, v) {
			hits = append(hits, i)
			if count > 0 && int64(len(hits)) == count {
				return false
			}
		}
		return true
	})
	if err != nil || len(hits) == 0 {
		return 0, err
	}
	first = hits[0]
	drop := make(map[int64]bool, len(hits))
	for _, h := range hits {
		drop[h] = true
	}
	if !rev {
		// keep [0, first) in place; shift the rest down.
		var keep [][]byte
		err = l.each(first, false, func(i int64, e []byte) bool {
			if !drop[i] {
				keep = append(keep, append([]byte(nil), e...))
			}
			return true
		})
		if err != nil {
			return 0, err
		}
		lo := l.head + uint64(first)
		l.tx.batch().DeleteRange(l.subkey(lo), l.subkey(l.tail), nil)
		l.tail = lo
		for _, e := range keep {
			l.push(e, false)
		}
	} else {
		// keep (first, len) in place; shift the part before up.
		var keep [][]byte // in reverse order
		err = l.each(first, true, func(i int64, e []byte) bool {
			if !drop[i] {
				keep = append(keep, append([]byte(nil), e...))
			}
			return true
		})
		if err != nil {
			return 0, err
		}
		hi := l.head + uint64(first) + 1
		l.tx.batch().DeleteRange(l.subkey(l.head), l.subkey(hi), nil)
		l.head = hi
		for _, e := range keep {
			l.push(e, true)
		}
	}
	tx.Emit("lrem", key, TypeList)
	l.save()
	return int64(len(hits)), nil
}

// LTrim keeps only the elements start..stop.
func (tx *Tx) LTrim(key []byte, start, stop int64) error {
	l, err := tx.listForWrite(key, false)
	if err != nil || l == nil {
		return err
	}
	s, e, ok := normRange(start, stop, l.len())
	if !ok {
		s, e = 0, -1
	}
	nh, nt := l.head+uint64(s), l.head+uint64(e+1)
	if nh > l.head {
		tx.batch().DeleteRange(l.subkey(l.head), l.subkey(nh), nil)
	}
	if nt < l.tail {
		tx.batch().DeleteRange(l.subkey(max(nt, nh)), l.subkey(l.tail), nil)
	}
	if !ok {
		nt = nh
	}
	l.head, l.tail = nh, nt
	tx.Emit("ltrim", key, TypeList)
	l.save()
	return nil
}

// LInsert inserts v before or after the first occurrence of pivot. It
// returns the new length, -1 when pivot is missing, 0 when key is missing.
func (tx *Tx) LInsert(key []byte, before bool, pivot, v []byte) (int64, error) {
	l, err := tx.listForWrite(key, false)
	if err != nil || l == nil {
		return 0, err
	}
	pos := int64(-1)
	err = l.each(0, false, func(i int64, e []byte) bool {
		if bytes.Equal(e, pivot) {
			pos = i
			return false
		}
		return true
	})
	if err != nil {
		return 0, err
	}
	if pos < 0 {
		return -1, nil
	}
	at := pos // the new element's index
	if !before {
		at++
	}
	n := l.len()
	if at <= n/2 {
		// shift [0, at) one to the left
		var moved [][]byte
		if at > 0 {
			err = l.each(0, false, func(i int64, e []byte) bool {
				if i >= at {
					return false
				}
				moved = append(moved, append([]byte(nil), e...))
				return true
			})
			if err != nil {
				return 0, err
			}
		}
		l.head--
		for i, e := range moved {
			tx.set(l.subkey(l.head+uint64(i)), e)
		}
		tx.set(l.subkey(l.head+uint64(at)), v)
	} else {
		// shift [at, n) one to the right
		var moved [][]byte
		err = l.each(at, false, func(i int64, e []byte) bool {
			moved = append(moved, append([]byte(nil), e...))
			return true
		})
		if err != nil {
			return 0, err
		}
		tx.set(l.subkey(l.head+uint64(at)), v)
		for i, e := range moved {
			tx.set(l.subkey(l.head+uint64(at)+1+uint64(i)), e)
		}
		l.tail++
	}
	tx.Emit("linsert", key, TypeList)
	l.save()
	return l.len(), nil
}

// LPosOptions are LPOS' RANK, COUNT (-1 = not given) and MAXLEN (0 = all).
type LPosOptions struct {
	Rank, Count, MaxLen int64
}

// LPos returns the indexes of the matches of v.
func (tx *Tx) LPos(key, v []byte, o LPosOptions) ([]int64, error) {
	m, err := tx.readType(key, TypeList)
	if err != nil || m == nil {
		return nil, err
	}
	l := tx.openList(key, m)
	rank := o.Rank
	rev := rank < 0
	if rev {
		rank = -rank
	}
	limit := o.Count
	if limit < 0 {
		limit = 1
	}
	var out []int64
	start := int64(0)
	if rev {
		start = l.len() - 1
	}
	var seen, matches int64
	err = l.each(start, rev, func(i int64, e []byte) bool {
		if o.MaxLen > 0 && seen >= o.MaxLen {
			return false
		}
		seen++
		if bytes.Equal(e, v) {
			matches++
			if matches >= rank {
				out = append(out, i)
				if limit > 0 && int64(len(out)) >= limit {
					return false
				}
			}
		}
		return true
	})
	return out, err
}

// LMove pops from src (left or right) and pushes onto dst. It reports
// false when src is missing. dst of the wrong type fails before src
// changes. Events come in Redis' order: push on dst, pop on src, del.
func (tx *Tx) LMove(src, dst []byte, srcLeft, dstLeft bool) ([]byte, bool, error) {
	sl, err := tx.listForWrite(src, false)
	if err != nil || sl == nil {
		return nil, false, err
	}
	same := bytes.Equal(src, dst)
	if !same {
		if _, err := tx.lookupType(dst, TypeList); err != nil {
			return nil, false, err
		}
	}
	v, err := sl.pop(srcLeft)
	if err != nil {
		return nil, false, err
	}
	dl := sl
	if !same {
		if dl, err = tx.listForWrite(dst, true); err != nil {
			return nil, false, err
		}
	}
	dl.push(v, dstLeft)
	if !same {
		dl.save()
	}
	if dstLeft {
		tx.Emit("lpush", dst, TypeList)
	} else {
		tx.Emit("rpush", dst, TypeList)
	}
	if srcLeft {
		tx.Emit("lpop", src, TypeList)
	} else {
		tx.Emit("rpop", src, TypeList)
	}
	sl.save()
	return v, true, nil
}
