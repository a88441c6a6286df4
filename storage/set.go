package storage

import (
	"bytes"
	"math/rand/v2"
	"slices"
)

// Sets.
//
// A member is the subkey D|db|keylen|key|version|member with an empty
// value; Meta.Size is the member count. A set whose last member goes is
// deleted. Members come back in byte order wherever Redis leaves the order
// unspecified.

// SAdd adds members and returns how many were new.
func (tx *Tx) SAdd(key []byte, members [][]byte) (int64, error) {
	m, created, err := tx.forWrite(key, TypeSet)
	if err != nil {
		return 0, err
	}
	n, err := tx.addMembers(m, key, members, created && len(members) == 1)
	if err != nil {
		return 0, err
	}
	if n == 0 && !created {
		return 0, nil
	}
	tx.putMeta(key, m, m.ExpireAt)
	tx.Emit("sadd", key, TypeSet)
	return n, nil
}

// addMembers writes members not yet in the set and bumps m.Size; fresh
// skips the existence checks (a new set and no possible duplicates).
func (tx *Tx) addMembers(m *Meta, key []byte, members [][]byte, fresh bool) (int64, error) {
	p := dataPrefix(tx.DB, key, m.Version)
	var n int64
	for _, mem := range members {
		k := subKey(p, mem)
		if !fresh {
			had, err := tx.hasSub(k)
			if err != nil {
				return 0, err
			}
			if had {
				continue
			}
		}
		tx.set(k, nil)
		n++
	}
	m.Size += uint64(n)
	return n, nil
}

// SRem removes members and returns how many existed.
func (tx *Tx) SRem(key []byte, members [][]byte) (int64, error) {
	m, err := tx.lookupType(key, TypeSet)
	if err != nil || m == nil {
		return 0, err
	}
	n, err := tx.removeMembers(m, key, members)
	if err != nil || n == 0 {
		return 0, err
	}
	tx.Emit("srem", key, TypeSet)
	tx.saveCollection(key, m)
	return n, nil
}

func (tx *Tx) removeMembers(m *Meta, key []byte, members [][]byte) (int64, error) {
	p := dataPrefix(tx.DB, key, m.Version)
	var n int64
	for _, mem := range members {
		k := subKey(p, mem)
		had, err := tx.hasSub(k)
		if err != nil {
			return 0, err
		}
		if had {
			tx.del(k)
			n++
		}
	}
	m.Size -= uint64(n)
	return n, nil
}

// SMembers returns all members in byte order.
func (tx *Tx) SMembers(key []byte) ([][]byte, error) {
	m, err := tx.readType(key, TypeSet)
	if err != nil || m == nil {
		return nil, err
	}
	return tx.members(m, key)
}

func (tx *Tx) members(m *Meta, key []byte) ([][]byte, error) {
	out := make([][]byte, 0, m.Size)
	err := tx.eachSub(m, key, func(sub, _ []byte) bool {
		out = append(out, append([]byte(nil), sub...))
		return true
	})
	return out, err
}

// SIsMember reports whether member is in the set.
func (tx *Tx) SIsMember(key, member []byte) (bool, error) {
	m, err := tx.readType(key, TypeSet)
	if err != nil || m == nil {
		return false, err
	}
	return tx.hasSub(subKey(dataPrefix(tx.DB, key, m.Version), member))
}

// SMIsMember reports membership for each member.
func (tx *Tx) SMIsMember(key []byte, members [][]byte) ([]bool, error) {
	out := make([]bool, len(members))
	m, err := tx.readType(key, TypeSet)
	if err != nil || m == nil {
		return out, err
	}
	p := dataPrefix(tx.DB, key, m.Version)
	for i, mem := range members {
		if out[i], err = tx.hasSub(subKey(p, mem)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SCard returns the member count.
func (tx *Tx) SCard(key []byte) (int64, error) {
	m, err := tx.readType(key, TypeSet)
	if err != nil || m == nil {
		return 0, err
	}
	return int64(m.Size), nil
}

// SPop removes and returns count random distinct members (all of them when
// count >= size). ok is false when the key is missing.
func (tx *Tx) SPop(key []byte, count int64) (members [][]byte, ok bool, err error) {
	m, err := tx.lookupType(key, TypeSet)
	if err != nil || m == nil {
		return nil, false, err
	}
	if count <= 0 {
		return nil, true, nil
	}
	if uint64(count) >= m.Size {
		members, err = tx.members(m, key)
		if err != nil {
			return nil, false, err
		}
		tx.Emit("spop", key, TypeSet)
		tx.removeObject(key, m)
		tx.Emit("del", key, TypeSet)
		return members, true, nil
	}
	members, _, err = tx.randomSubs(m, key, count, false)
	if err != nil {
		return nil, false, err
	}
	p := dataPrefix(tx.DB, key, m.Version)
	for _, mem := range members {
		tx.del(subKey(p, mem))
	}
	m.Size -= uint64(len(members))
	tx.Emit("spop", key, TypeSet)
	tx.saveCollection(key, m)
	return members, true, nil
}

// SRandMember returns random members: count > 0 distinct ones (at most the
// set's size), count < 0 -count that may repeat. ok is false when the key
// is missing.
func (tx *Tx) SRandMember(key []byte, count int64) ([][]byte, bool, error) {
	m, err := tx.readType(key, TypeSet)
	if err != nil || m == nil {
		return nil, false, err
	}
	out, _, err := tx.randomSubs(m, key, count, false)
	return out, true, err
}

// randomSubs picks random subkeys (and values with withVals) of the object
// m at key: count > 0 distinct ones, all of them when count >= size; count
// < 0 picks -count with repetition. One ordered pass over the object,
// stopping at the last chosen index.
func (tx *Tx) randomSubs(m *Meta, key []byte, count int64, withVals bool) (subs, vals [][]byte, err error) {
	size := int64(m.Size)
	if count == 0 || size == 0 {
		return nil, nil, nil
	}
	var idx []int64
	switch {
	case count >= size:
		err = tx.eachSub(m, key, func(sub, v []byte) bool {
			subs = append(subs, append([]byte(nil), sub...))
			if withVals {
				vals = append(vals, append([]byte(nil), v...))
			}
			return true
		})
		return subs, vals, err
	case count > 0:
		// Floyd's algorithm: count distinct indexes in [0, size).
		chosen := make(map[int64]struct{}, count)
		for j := size - count; j < size; j++ {
			t := rand.Int64N(j + 1)
			if _, dup := chosen[t]; dup {
				t = j
			}
			chosen[t] = struct{}{}
			idx = append(idx, t)
		}
	default:
		idx = make([]int64, -count)
		for i := range idx {
			idx[i] = rand.Int64N(size)
		}
	}
	slices.Sort(idx)
	subs = make([][]byte, 0, len(idx))
	if withVals {
		vals = make([][]byte, 0, len(idx))
	}
	var i int64
	j := 0
	err = tx.eachSub(m, key, func(sub, v []byte) bool {
		if i == idx[j] {
			s := append([]byte(nil), sub...)
			var vv []byte
			if withVals {
				vv = append([]byte(nil), v...)
			}
			for j < len(idx) && idx[j] == i {
				subs = append(subs, s)
				if withVals {
					vals = append(vals, vv)
				}
				j++
			}
		}
		i++
		return j < len(idx)
	})
	if err != nil {
		return nil, nil, err
	}
	rand.Shuffle(len(subs), func(a, b int) {
		subs[a], subs[b] = subs[b], subs[a]
		if withVals {
			vals[a], vals[b] = vals[b], vals[a]
		}
	})
	return subs, vals, nil
}

// SMove moves member from src to dst; it reports whether it was moved.
func (tx *Tx) SMove(src, dst, member []byte) (bool, error) {
	sm, err := tx.lookupType(src, TypeSet)
	if err != nil {
		return false, err
	}
	dm, err := tx.lookupType(dst, TypeSet)
	if err != nil {
		if sm == nil {
			return false, nil
		}
		return false, err
	}
	if sm == nil {
		return false, nil
	}
	sk := subKey(dataPrefix(tx.DB, src, sm.Version), member)
	had, err := tx.hasSub(sk)
	if err != nil || !had {
		return false, err
	}
	if bytes.Equal(src, dst) {
		return true, nil
	}
	tx.del(sk)
	sm.Size--
	tx.Emit("srem", src, TypeSet)
	tx.saveCollection(src, sm)
	created := false
	if dm == nil {
		dm, created = tx.create(TypeSet), true
	}
	n, err := tx.addMembers(dm, dst, [][]byte{member}, created)
	if err != nil {
		return false, err
	}
	if n > 0 {
		tx.putMeta(dst, dm, dm.ExpireAt)
		tx.Emit("sadd", dst, TypeSet)
	}
	return true, nil
}

// SetOp is a set algebra operation.
type SetOp int

const (
	SetInter SetOp = iota
	SetUnion
	SetDiff
)

var setOpStoreEvents = [...]string{"sinterstore", "sunionstore", "sdiffstore"}

// loadSets looks up keys as sets (nil entries for missing keys). read
// emits keymiss for missing keys. Any key of another type is WRONGTYPE.
func (tx *Tx) loadSets(keys [][]byte, read bool) ([]*Meta, error) {
	ms := make([]*Meta, len(keys))
	for i, k := range keys {
		var err error
		if read {
			ms[i], err = tx.readType(k, TypeSet)
		} else {
			ms[i], err = tx.lookupType(k, TypeSet)
		}
		if err != nil {
			return nil, err
		}
	}
	return ms, nil
}

// SetCombine computes the intersection, union or difference of the sets at
// keys (missing keys are empty sets), in byte order.
func (tx *Tx) SetCombine(op SetOp, keys [][]byte) ([][]byte, error) {
	ms, err := tx.loadSets(keys, true)
	if err != nil {
		return nil, err
	}
	return tx.combine(op, keys, ms, 0)
}

// SInterCard returns the size of the intersection, counting up to limit
// (0 = no limit).
func (tx *Tx) SInterCard(keys [][]byte, limit int64) (int64, error) {
	ms, err := tx.loadSets(keys, true)
	if err != nil {
		return 0, err
	}
	out, err := tx.combine(SetInter, keys, ms, limit)
	return int64(len(out)), err
}

// SetCombineStore stores the result at dst (replacing any value; deleting
// dst when the result is empty) and returns its size.
func (tx *Tx) SetCombineStore(op SetOp, dst []byte, keys [][]byte) (int64, error) {
	ms, err := tx.loadSets(keys, false)
	if err != nil {
		return 0, err
	}
	out, err := tx.combine(op, keys, ms, 0)
	if err != nil {
		return 0, err
	}
	old, err := tx.lookup(dst)
	if err != nil {
		return 0, err
	}
	if old != nil {
		tx.removeObject(dst, old)
	}
	if len(out) == 0 {
		if old != nil {
			tx.Emit("del", dst, old.Type)
		}
		return 0, nil
	}
	m := tx.create(TypeSet)
	p := dataPrefix(tx.DB, dst, m.Version)
	for _, mem := range out {
		tx.set(subKey(p, mem), nil)
	}
	m.Size = uint64(len(out))
	tx.putMeta(dst, m, 0)
	tx.Emit(setOpStoreEvents[op], dst, TypeSet)
	return int64(len(out)), nil
}

func (tx *Tx) combine(op SetOp, keys [][]byte, ms []*Meta, limit int64) ([][]byte, error) {
	switch op {
	case SetInter:
		small := -1
		for i, m := range ms {
			if m == nil {
				return nil, nil
			}
			if small < 0 || m.Size < ms[small].Size {
				small = i
			}
		}
		prefixes := make([][]byte, len(ms))
		for i, m := range ms {
			prefixes[i] = dataPrefix(tx.DB, keys[i], m.Version)
		}
		var out [][]byte
		var ierr error
		err := tx.eachSub(ms[small], keys[small], func(sub, _ []byte) bool {
			for i := range ms {
				if i == small {
					continue
				}
				had, err := tx.hasSub(subKey(prefixes[i], sub))
				if err != nil {
					ierr = err
					return false
				}
				if !had {
					return true
				}
			}
			out = append(out, append([]byte(nil), sub...))
			return limit <= 0 || int64(len(out)) < limit
		})
		if ierr != nil {
			return nil, ierr
		}
		return out, err
	case SetDiff:
		if ms[0] == nil {
			return nil, nil
		}
		var prefixes [][]byte
		for i, m := range ms[1:] {
			if m != nil && !bytes.Equal(keys[i+1], keys[0]) {
				prefixes = append(prefixes, dataPrefix(tx.DB, keys[i+1], m.Version))
			} else if m != nil {
				return nil, nil // A - A is empty
			}
		}
		var out [][]byte
		var ierr error
		err := tx.eachSub(ms[0], keys[0], func(sub, _ []byte) bool {
			for _, p := range prefixes {
				had, err := tx.hasSub(subKey(p, sub))
				if err != nil {
					ierr = err
					return false
				}
				if had {
					return true
				}
			}
			out = append(out, append([]byte(nil), sub...))
			return true
		})
		if ierr != nil {
			return nil, ierr
		}
		return out, err
	default: // union
		var out [][]byte
		seen := map[string]struct{}{}
		for i, m := range ms {
			if m == nil {
				continue
			}
			err := tx.eachSub(m, keys[i], func(sub, _ []byte) bool {
				if _, dup := seen[string(sub)]; !dup {
					s := append([]byte(nil), sub...)
					seen[string(s)] = struct{}{}
					out = append(out, s)
				}
				return true
			})
			if err != nil {
				return nil, err
			}
		}
		if len(ms) > 1 {
			slices.SortFunc(out, bytes.Compare)
		}
		return out, nil
	}
}

// SScan scans a set's members from cursor; see scanObject.
func (tx *Tx) SScan(key []byte, cursor uint64, match []byte, count int) (uint64, [][]byte, bool, error) {
	m, err := tx.readType(key, TypeSet)
	if err != nil || m == nil {
		return 0, nil, false, err
	}
	next, subs, _, err := tx.scanObject(m, key, cursor, match, count)
	return next, subs, true, err
}
