package storage

import (
	"math"
	"strconv"
)

// Hashes.
//
// A field is the subkey D|db|keylen|key|version|field holding the value;
// Meta.Size is the field count. A hash whose last field goes is deleted.

// subKey is prefix+sub in a fresh slice.
func subKey(prefix, sub []byte) []byte {
	k := make([]byte, len(prefix)+len(sub))
	copy(k, prefix)
	copy(k[len(prefix):], sub)
	return k
}

// hasSub reports whether the subkey k exists, without copying its value.
func (tx *Tx) hasSub(k []byte) (bool, error) {
	v, err := tx.get(k)
	return v != nil, err
}

// forWrite returns key's object of type t, creating an empty one (not yet
// written) when missing; created reports that.
func (tx *Tx) forWrite(key []byte, t Type) (m *Meta, created bool, err error) {
	m, err = tx.lookupType(key, t)
	if err != nil {
		return nil, false, err
	}
	if m == nil {
		return tx.create(t), true, nil
	}
	return m, false, nil
}

// saveCollection writes m back, or deletes the object (emitting "del")
// when it has no elements left. It reports whether the object still exists.
func (tx *Tx) saveCollection(key []byte, m *Meta) bool {
	if m.Size == 0 {
		tx.removeObject(key, m)
		tx.Emit("del", key, m.Type)
		return false
	}
	tx.putMeta(key, m, m.ExpireAt)
	return true
}

// HSet sets field/value pairs (pairs alternate) and returns how many
// fields are new.
func (tx *Tx) HSet(key []byte, pairs [][]byte) (int64, error) {
	m, created, err := tx.forWrite(key, TypeHash)
	if err != nil {
		return 0, err
	}
	p := dataPrefix(tx.DB, key, m.Version)
	var added int64
	for i := 0; i+1 < len(pairs); i += 2 {
		k := subKey(p, pairs[i])
		if !created || len(pairs) > 2 {
			had, err := tx.hasSub(k)
			if err != nil {
				return 0, err
			}
			if !had {
				added++
			}
		} else {
			added++
		}
		tx.set(k, pairs[i+1])
	}
	m.Size += uint64(added)
	tx.putMeta(key, m, m.ExpireAt)
	tx.Emit("hset", key, TypeHash)
	return added, nil
}

// HSetNX sets field only when it does not exist; it reports whether it did.
func (tx *Tx) HSetNX(key, field, value []byte) (bool, error) {
	m, created, err := tx.forWrite(key, TypeHash)
	if err != nil {
		return false, err
	}
	k := subKey(dataPrefix(tx.DB, key, m.Version), field)
	if !created {
		had, err := tx.hasSub(k)
		if err != nil || had {
			return false, err
		}
	}
	tx.set(k, value)
	m.Size++
	tx.putMeta(key, m, m.ExpireAt)
	tx.Emit("hset", key, TypeHash)
	return true, nil
}

// HGet returns a field's value (ok false when the key or field is missing).
func (tx *Tx) HGet(key, field []byte) ([]byte, bool, error) {
	m, err := tx.readType(key, TypeHash)
	if err != nil || m == nil {
		return nil, false, err
	}
	v, err := tx.get(subKey(dataPrefix(tx.DB, key, m.Version), field))
	return v, v != nil, err
}

// HMGet returns the values of fields, nil for missing ones.
func (tx *Tx) HMGet(key []byte, fields [][]byte) ([][]byte, error) {
	out := make([][]byte, len(fields))
	m, err := tx.readType(key, TypeHash)
	if err != nil || m == nil {
		return out, err
	}
	p := dataPrefix(tx.DB, key, m.Version)
	for i, f := range fields {
		if out[i], err = tx.get(subKey(p, f)); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// HDel removes fields and returns how many existed.
func (tx *Tx) HDel(key []byte, fields [][]byte) (int64, error) {
	m, err := tx.lookupType(key, TypeHash)
	if err != nil || m == nil {
		return 0, err
	}
	p := dataPrefix(tx.DB, key, m.Version)
	var n int64
	for _, f := range fields {
		k := subKey(p, f)
		had, err := tx.hasSub(k)
		if err != nil {
			return 0, err
		}
		if had {
			tx.del(k)
			n++
		}
	}
	if n == 0 {
		return 0, nil
	}
	m.Size -= uint64(n)
	tx.Emit("hdel", key, TypeHash)
	tx.saveCollection(key, m)
	return n, nil
}

// HExists reports whether field exists.
func (tx *Tx) HExists(key, field []byte) (bool, error) {
	_, ok, err := tx.HGet(key, field)
	return ok, err
}

// HLen returns the number of fields.
func (tx *Tx) HLen(key []byte) (int64, error) {
	m, err := tx.readType(key, TypeHash)
	if err != nil || m == nil {
		return 0, err
	}
	return int64(m.Size), nil
}

// HStrLen returns the length of a field's value (0 when missing).
func (tx *Tx) HStrLen(key, field []byte) (int64, error) {
	v, _, err := tx.HGet(key, field)
	return int64(len(v)), err
}

// HGetAll returns the fields and values in field order; with keys or vals
// false that half is left nil.
func (tx *Tx) HGetAll(key []byte, keys, vals bool) (fields, values [][]byte, err error) {
	m, err := tx.readType(key, TypeHash)
	if err != nil || m == nil {
		return nil, nil, err
	}
	err = tx.eachSub(m, key, func(sub, v []byte) bool {
		if keys {
			fields = append(fields, append([]byte(nil), sub...))
		}
		if vals {
			values = append(values, append([]byte(nil), v...))
		}
		return true
	})
	return fields, values, err
}

// eachSub calls fn for every subkey of the object in order until fn
// returns false. sub and v are only valid during the call.
func (tx *Tx) eachSub(m *Meta, key []byte, fn func(sub, v []byte) bool) error {
	p := dataPrefix(tx.DB, key, m.Version)
	it := tx.iter(p, prefixEnd(p))
	for ok := it.First(); ok; ok = it.Next() {
		if !fn(it.Key()[len(p):], it.Value()) {
			break
		}
	}
	return it.Close()
}

// HIncrBy adds delta to an integer field (created as 0).
func (tx *Tx) HIncrBy(key, field []byte, delta int64) (int64, error) {
	m, created, err := tx.forWrite(key, TypeHash)
	if err != nil {
		return 0, err
	}
	k := subKey(dataPrefix(tx.DB, key, m.Version), field)
	var cur int64
	var old []byte
	if !created {
		if old, err = tx.get(k); err != nil {
			return 0, err
		}
		if old != nil {
			if cur, err = ParseInt(old); err != nil {
				return 0, ErrHashNotInt
			}
		}
	}
	if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
		if created {
			tx.delta[tx.DB]-- // nothing written: undo create's count
		}
		return 0, ErrOverflow
	}
	cur += delta
	tx.set(k, strconv.AppendInt(nil, cur, 10))
	if old == nil {
		m.Size++
	}
	tx.putMeta(key, m, m.ExpireAt)
	tx.Emit("hincrby", key, TypeHash)
	return cur, nil
}

// HIncrByFloat adds delta to a float field (created as 0) and returns the
// new value as formatted and stored.
func (tx *Tx) HIncrByFloat(key, field []byte, delta float64) ([]byte, error) {
	m, created, err := tx.forWrite(key, TypeHash)
	if err != nil {
		return nil, err
	}
	k := subKey(dataPrefix(tx.DB, key, m.Version), field)
	var cur float64
	var old []byte
	if !created {
		if old, err = tx.get(k); err != nil {
			return nil, err
		}
		if old != nil {
			if cur, err = ParseFloat(old); err != nil {
				return nil, ErrHashNotFlt
			}
		}
	}
	cur += delta
	if math.IsNaN(cur) || math.IsInf(cur, 0) {
		if created {
			tx.delta[tx.DB]--
		}
		return nil, Error("ERR increment would produce NaN or Infinity")
	}
	v := FormatFloat(cur)
	tx.set(k, v)
	if old == nil {
		m.Size++
	}
	tx.putMeta(key, m, m.ExpireAt)
	tx.Emit("hincrbyfloat", key, TypeHash)
	return v, nil
}

// HScan scans a hash's fields from cursor; see scanObject.
func (tx *Tx) HScan(key []byte, cursor uint64, match []byte, count int) (uint64, [][]byte, [][]byte, bool, error) {
	m, err := tx.readType(key, TypeHash)
	if err != nil || m == nil {
		return 0, nil, nil, false, err
	}
	next, f, v, err := tx.scanObject(m, key, cursor, match, count)
	return next, f, v, true, err
}

// HRandField returns random fields (and values with withValues). count > 0
// returns distinct fields (at most the hash's size), count < 0 returns
// -count fields that may repeat. ok is false when the key is missing.
func (tx *Tx) HRandField(key []byte, count int64, withValues bool) (fields, values [][]byte, ok bool, err error) {
	m, err := tx.readType(key, TypeHash)
	if err != nil || m == nil {
		return nil, nil, false, err
	}
	fields, values, err = tx.randomSubs(m, key, count, withValues)
	return fields, values, true, err
}
