package storage

import (
	"bytes"
	"math/rand/v2"
)

// countKeys initialises the per-database key counts from the meta records.
func (db *DB) countKeys() error {
	it, err := db.pdb.NewIter(nil)
	if err != nil {
		return err
	}
	defer it.Close()
	lo, hi := []byte{prefixMeta}, []byte{prefixMeta + 1}
	it.SetBounds(lo, hi)
	for ok := it.First(); ok; ok = it.Next() {
		if k := it.Key(); len(k) >= 2 && int(k[1]) < NumDBs {
			db.keyCounts[k[1]].Add(1)
		}
	}
	return it.Error()
}

// KeyCount is the number of keys in database n (expired keys not yet
// removed included, as in Redis).
func (db *DB) KeyCount(n int) int64 { return db.keyCounts[n].Load() }

// KeysWithExpiry counts keys with an expire time in database n.
func (tx *Tx) KeysWithExpiry(n int) int64 {
	it := tx.iter([]byte{prefixExpiry}, []byte{prefixExpiry + 1})
	defer it.Close()
	var c int64
	for ok := it.First(); ok; ok = it.Next() {
		if _, db, _, ok := decodeExpiryKey(it.Key()); ok && db == n {
			c++
		}
	}
	return c
}

// Delete removes key; it reports whether the key existed.
func (tx *Tx) Delete(key []byte) (bool, error) {
	m, err := tx.lookup(key)
	if err != nil || m == nil {
		return false, err
	}
	tx.removeObject(key, m)
	tx.Emit("del", key, m.Type)
	return true, nil
}

// Exists reports whether key exists (emitting nothing).
func (tx *Tx) Exists(key []byte) (bool, error) {
	m, err := tx.lookup(key)
	return m != nil, err
}

// TypeOf returns the type of key (TypeNone when missing).
func (tx *Tx) TypeOf(key []byte) (Type, error) {
	m, err := tx.lookup(key)
	if err != nil || m == nil {
		return TypeNone, err
	}
	return m.Type, nil
}

// ScanOptions filter Scan and Keys.
type ScanOptions struct {
	Match []byte // glob; nil = all
	Type  Type   // TypeNone = all
	Count int    // keys examined per call (hint)
}

// scanStart is where a scan from cursor resumes (false: unknown cursor).
func (tx *Tx) scanStart(cursor uint64) ([]byte, bool) {
	if cursor == 0 {
		return []byte{prefixMeta, byte(tx.DB)}, true
	}
	tx.db.scanMu.Lock()
	after, ok := tx.db.scanCursors[cursor]
	tx.db.scanMu.Unlock()
	if !ok {
		return nil, false
	}
	return append(metaKey(tx.DB, after), 0), true
}

// Scan iterates the keys of the Tx's database from an opaque cursor.
// It returns the next cursor (0 when done) and the matching keys.
func (tx *Tx) Scan(cursor uint64, o ScanOptions) (uint64, [][]byte, error) {
	var keys [][]byte
	next, err := tx.scanPage(cursor, o.Count, func(k, v []byte) error {
		m, err := decodeMetaHeader(v)
		switch {
		case err != nil:
			return err
		case m.ExpireAt != 0 && m.ExpireAt <= tx.now,
			o.Type != TypeNone && m.Type != o.Type,
			o.Match != nil && !Match(o.Match, k, false):
			return nil
		}
		keys = append(keys, append([]byte(nil), k...))
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return next, keys, nil
}

// scanPage visits about count meta records (10 if count <= 0) of the Tx's
// database from cursor (0 = start) and returns the next page's cursor (0:
// none). k and v are valid during the visit only; an error ends the page.
func (tx *Tx) scanPage(cursor uint64, count int, visit func(k, v []byte) error) (uint64, error) {
	start, ok := tx.scanStart(cursor)
	if !ok {
		return 0, nil // unknown cursor: like Redis, an empty final page
	}
	if count <= 0 {
		count = 10
	}
	it := tx.iter(start, []byte{prefixMeta, byte(tx.DB) + 1})
	var last []byte
	n, more := 0, false
	var err error
	for ok := it.First(); ok; ok = it.Next() {
		if n >= count {
			more = true
			break
		}
		n++
		k := it.Key()[2:]
		last = append(last[:0], k...)
		if err = visit(k, it.Value()); err != nil {
			break
		}
	}
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil || !more {
		return 0, err
	}
	return tx.db.saveCursor(last), nil
}

func (db *DB) saveCursor(after []byte) uint64 {
	db.scanMu.Lock()
	defer db.scanMu.Unlock()
	if db.scanCursors == nil || len(db.scanCursors) > 100000 {
		db.scanCursors = map[uint64][]byte{} // bounded: old cursors end early
	}
	db.scanNext++
	id := db.scanNext<<8 | uint64(rand.IntN(256)) // never 0
	db.scanCursors[id] = append([]byte(nil), after...)
	return id
}

// Keys returns all live keys of the database matching the glob pattern.
func (tx *Tx) Keys(pattern []byte) ([][]byte, error) {
	it := tx.iter([]byte{prefixMeta, byte(tx.DB)}, []byte{prefixMeta, byte(tx.DB) + 1})
	defer it.Close()
	var keys [][]byte
	all := bytes.Equal(pattern, []byte("*"))
	for ok := it.First(); ok; ok = it.Next() {
		k := it.Key()[2:]
		if !all && !Match(pattern, k, false) {
			continue
		}
		m, err := decodeMetaHeader(it.Value())
		if err != nil {
			return nil, err
		}
		if m.ExpireAt != 0 && m.ExpireAt <= tx.now {
			continue
		}
		keys = append(keys, append([]byte(nil), k...))
	}
	return keys, it.Error()
}

// RandomKey returns a random live key, or nil.
func (tx *Tx) RandomKey() ([]byte, error) {
	n := tx.db.KeyCount(tx.DB)
	if n <= 0 {
		return nil, nil
	}
	skip := rand.Int64N(n)
	it := tx.iter([]byte{prefixMeta, byte(tx.DB)}, []byte{prefixMeta, byte(tx.DB) + 1})
	defer it.Close()
	var first []byte
	for ok := it.First(); ok; ok = it.Next() {
		m, err := decodeMetaHeader(it.Value())
		if err != nil {
			return nil, err
		}
		if m.ExpireAt != 0 && m.ExpireAt <= tx.now {
			continue
		}
		k := append([]byte(nil), it.Key()[2:]...)
		if first == nil {
			first = k
		}
		if skip <= 0 {
			return k, nil
		}
		skip--
	}
	return first, it.Error()
}

// Rename moves src to dst (overwriting dst). With nx it fails (false) when
// dst exists. A missing src is ErrNoSuchKey.
func (tx *Tx) Rename(src, dst []byte, nx bool) (bool, error) {
	m, err := tx.lookup(src)
	if err != nil {
		return false, err
	}
	if m == nil {
		return false, ErrNoSuchKey
	}
	if bytes.Equal(src, dst) {
		return !nx, nil
	}
	dm, err := tx.lookup(dst)
	if err != nil {
		return false, err
	}
	if dm != nil {
		if nx {
			return false, nil
		}
		tx.removeObject(dst, dm)
	}
	if err := tx.copyObject(src, m, tx.DB, dst); err != nil {
		return false, err
	}
	tx.removeObject(src, m)
	tx.Emit("rename_from", src, m.Type)
	tx.Emit("rename_to", dst, m.Type)
	return true, nil
}

// Copy copies src to dst in database dstDB. Without replace it fails
// (false) when dst exists.
func (tx *Tx) Copy(src []byte, dstDB int, dst []byte, replace bool) (bool, error) {
	m, err := tx.lookup(src)
	if err != nil || m == nil {
		return false, err
	}
	if dstDB == tx.DB && bytes.Equal(src, dst) {
		return false, nil
	}
	saved := tx.DB
	tx.DB = dstDB
	dm, err := tx.lookup(dst)
	if err == nil && dm != nil {
		if !replace {
			tx.DB = saved
			return false, nil
		}
		tx.removeObject(dst, dm)
	}
	tx.DB = saved
	if err != nil {
		return false, err
	}
	if err := tx.copyObject(src, m, dstDB, dst); err != nil {
		return false, err
	}
	tx.DB = dstDB
	tx.Emit("copy_to", dst, m.Type)
	tx.DB = saved
	return true, nil
}

// copyObject writes a copy of src (meta m, in the Tx's db) to dst in dstDB
// under a fresh version, including its subkeys.
func (tx *Tx) copyObject(src []byte, m *Meta, dstDB int, dst []byte) error {
	saved := tx.DB
	defer func() { tx.DB = saved }()
	tx.DB = dstDB
	nm := tx.create(m.Type)
	nm.ExpireAt, nm.Size, nm.Payload = m.ExpireAt, m.Size, m.Payload
	tx.putMeta(dst, nm, 0)
	if m.Type == TypeString {
		return nil
	}
	for _, pair := range [][2][]byte{
		{dataPrefix(saved, src, m.Version), dataPrefix(dstDB, dst, nm.Version)},
		{zscorePrefix(saved, src, m.Version), zscorePrefix(dstDB, dst, nm.Version)},
	} {
		from, to := pair[0], pair[1]
		it := tx.iter(from, prefixEnd(from))
		var kvs [][2][]byte
		for ok := it.First(); ok; ok = it.Next() {
			k := append(append([]byte(nil), to...), it.Key()[len(from):]...)
			kvs = append(kvs, [2][]byte{k, append([]byte(nil), it.Value()...)})
		}
		if err := it.Close(); err != nil {
			return err
		}
		for _, kv := range kvs {
			tx.set(kv[0], kv[1])
		}
	}
	return nil
}

// ExpireFlags are EXPIRE's NX/XX/GT/LT options.
type ExpireFlags struct{ NX, XX, GT, LT bool }

// Expire sets key's expire time to at (unix ms). It reports whether the
// timeout was set. A time in the past deletes the key (event "del" as Redis
// does for EXPIRE with a past time... Redis emits "del").
func (tx *Tx) Expire(key []byte, at int64, f ExpireFlags) (bool, error) {
	m, err := tx.lookup(key)
	if err != nil || m == nil {
		return false, err
	}
	cur := m.ExpireAt
	switch {
	case f.NX && cur != 0, f.XX && cur == 0:
		return false, nil
	case f.GT && (cur == 0 || at <= cur):
		return false, nil
	case f.LT && cur != 0 && at >= cur:
		return false, nil
	}
	if at <= tx.now {
		tx.removeObject(key, m)
		tx.Emit("del", key, m.Type)
		return true, nil
	}
	old := m.ExpireAt
	m.ExpireAt = at
	tx.putMeta(key, m, old)
	tx.Emit("expire", key, m.Type)
	return true, nil
}

// TTL returns key's expire time in unix ms: -2 missing, -1 persistent.
func (tx *Tx) ExpireTime(key []byte) (int64, error) {
	m, err := tx.lookup(key)
	if err != nil {
		return 0, err
	}
	if m == nil {
		tx.Miss(key)
		return -2, nil
	}
	if m.ExpireAt == 0 {
		return -1, nil
	}
	return m.ExpireAt, nil
}

// Persist removes key's expire time; it reports whether one was removed.
func (tx *Tx) Persist(key []byte) (bool, error) {
	m, err := tx.lookup(key)
	if err != nil || m == nil || m.ExpireAt == 0 {
		return false, err
	}
	old := m.ExpireAt
	m.ExpireAt = 0
	tx.putMeta(key, m, old)
	tx.Emit("persist", key, m.Type)
	return true, nil
}

// FlushDB removes every key of the Tx's database.
func (tx *Tx) FlushDB() error {
	for _, p := range []byte{prefixMeta, prefixData, prefixZScore} {
		lo := []byte{p, byte(tx.DB)}
		tx.batch().DeleteRange(lo, []byte{p, byte(tx.DB) + 1}, nil)
	}
	it := tx.iter([]byte{prefixExpiry}, []byte{prefixExpiry + 1})
	var ks [][]byte
	for ok := it.First(); ok; ok = it.Next() {
		if _, db, _, ok := decodeExpiryKey(it.Key()); ok && db == tx.DB {
			ks = append(ks, append([]byte(nil), it.Key()...))
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	for _, k := range ks {
		tx.del(k)
	}
	tx.delta[tx.DB] = -tx.db.KeyCount(tx.DB)
	return nil
}

// FlushAll removes every key of every database.
func (tx *Tx) FlushAll() error {
	for _, p := range []byte{prefixMeta, prefixData, prefixZScore, prefixExpiry} {
		tx.batch().DeleteRange([]byte{p}, []byte{p + 1}, nil)
	}
	for i := range tx.delta {
		tx.delta[i] = -tx.db.KeyCount(i)
	}
	return nil
}
