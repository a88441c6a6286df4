package storage

// Record is one key as the gears KeysReader sees it.
type Record struct {
	Key     []byte
	Type    Type
	Value   []byte   // string
	Elems   [][]byte // hash: field, value, field, value...; list: elements
	Expires int64    // unix ms, 0: no TTL (ScanRecords only)
}

// ReadRecord reads key for the KeysReader (nil when missing). Collections
// other than hashes and lists carry no value, as in RedisGears.
func (tx *Tx) ReadRecord(key []byte, readValue bool) (*Record, error) {
	m, err := tx.lookup(key)
	if err != nil || m == nil {
		return nil, err
	}
	r := &Record{Key: key, Type: m.Type}
	if !readValue {
		return r, nil
	}
	switch m.Type {
	case TypeString:
		r.Value = m.Payload
	case TypeHash, TypeList:
		if r.Elems, err = tx.readElems(key, m.Type, m.Version); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// readElems reads a hash (field, value, field, value...) or a list (its
// elements) of object version version at key.
func (tx *Tx) readElems(key []byte, t Type, version uint64) ([][]byte, error) {
	// hash: subkey = field, value = value; list: subkey = position
	// (big-endian, so iteration order is list order), value = element.
	var elems [][]byte
	p := dataPrefix(tx.DB, key, version)
	it := tx.iter(p, prefixEnd(p))
	for ok := it.First(); ok; ok = it.Next() {
		if t == TypeHash {
			elems = append(elems, append([]byte(nil), it.Key()[len(p):]...))
		}
		elems = append(elems, append([]byte(nil), it.Value()...))
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	return elems, nil
}

// ScanRecords is Scan and ReadRecord in one pass for the KeysReader: it
// examines about count keys from cursor (0 = start; Scan's cursors), skips
// expired ones and those not matching the glob match (nil = all), and
// returns the live keys' records, taking their type (and for strings the
// value) straight from the meta records it iterates. Hashes and lists are
// read as ReadRecord does.
func (tx *Tx) ScanRecords(cursor uint64, match []byte, count int, readValue bool) (uint64, []Record, error) {
	var recs []Record
	next, err := tx.scanPage(cursor, count, func(k, v []byte) error {
		m, err := decodeMetaHeader(v)
		if err != nil {
			return err
		}
		if m.ExpireAt != 0 && m.ExpireAt <= tx.now || match != nil && !Match(match, k, false) {
			return nil
		}
		r := Record{Key: append([]byte(nil), k...), Type: m.Type, Expires: m.ExpireAt}
		if readValue {
			switch r.Type {
			case TypeString:
				r.Value = append([]byte{}, v[metaHeaderLen:]...)
			case TypeHash, TypeList:
				if r.Elems, err = tx.readElems(r.Key, r.Type, m.Version); err != nil {
					return err
				}
			}
		}
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	return next, recs, nil
}
