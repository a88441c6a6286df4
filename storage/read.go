package storage

// Record is one key as the gears KeysReader sees it.
type Record struct {
	Key   []byte
	Type  Type
	Value []byte   // string
	Elems [][]byte // hash: field, value, field, value...; list: elements
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
		// hash: subkey = field, value = value; list: subkey = position
		// (big-endian, so iteration order is list order), value = element.
		p := dataPrefix(tx.DB, key, m.Version)
		it := tx.iter(p, prefixEnd(p))
		for ok := it.First(); ok; ok = it.Next() {
			if m.Type == TypeHash {
				r.Elems = append(r.Elems, append([]byte(nil), it.Key()[len(p):]...))
			}
			r.Elems = append(r.Elems, append([]byte(nil), it.Value()...))
		}
		if err := it.Close(); err != nil {
			return nil, err
		}
	}
	return r, nil
}
