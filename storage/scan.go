package storage

// Cursor-based scans of one collection's subkeys (HSCAN, SSCAN, ZSCAN).
//
// A cursor is an opaque id handed out by DB.saveCursor that remembers the
// last subkey returned; the next call seeks just past it, so a scan sees
// every element present for its whole duration exactly once, whatever is
// added or removed in between. Unknown cursors end the scan (an empty final
// page), as an out-of-range cursor does in Redis.

// ScanSmallObject is the element count up to which an object scan returns
// every element in one page with cursor 0, as Redis does for its compact
// encodings (hash-max-listpack-entries / zset-max-listpack-entries).
const ScanSmallObject = 128

// scanObject scans the subkeys of the object m stored at key, from cursor
// (0 = start). It examines about count subkeys (default 10), filters them
// with the glob match (nil = all) and returns the next cursor (0 = done),
// the matching subkeys (the part after the object prefix: the hash field,
// set member, zset member) and their stored values, all copied.
func (tx *Tx) scanObject(m *Meta, key []byte, cursor uint64, match []byte, count int) (next uint64, subs [][]byte, vals [][]byte, err error) {
	prefix := dataPrefix(tx.DB, key, m.Version)
	start := prefix
	if cursor != 0 {
		tx.db.scanMu.Lock()
		after, ok := tx.db.scanCursors[cursor]
		tx.db.scanMu.Unlock()
		if !ok {
			return 0, nil, nil, nil
		}
		start = append(append(append(make([]byte, 0, len(prefix)+len(after)+1), prefix...), after...), 0)
	}
	if count <= 0 {
		count = 10
	}
	if cursor == 0 && m.Size <= ScanSmallObject {
		count = int(m.Size) + 1 // all in one page
	}
	it := tx.iter(start, prefixEnd(prefix))
	var last []byte
	n := 0
	more := false
	for ok := it.First(); ok; ok = it.Next() {
		if n >= count {
			more = true
			break
		}
		n++
		sub := it.Key()[len(prefix):]
		last = append(last[:0], sub...)
		if match != nil && !Match(match, sub, false) {
			continue
		}
		subs = append(subs, append([]byte(nil), sub...))
		vals = append(vals, append([]byte(nil), it.Value()...))
	}
	if err := it.Close(); err != nil {
		return 0, nil, nil, err
	}
	if !more {
		return 0, subs, vals, nil
	}
	return tx.db.saveCursor(last), subs, vals, nil
}
