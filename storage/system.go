package storage

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// System records (S|kind|name) hold the gears engine's persistent state:
// sessions with their code and registration ids, requirements, counters.
// They live outside the 16 databases: FLUSHALL does not touch them.

// PutSystem writes a system record durably (fsync, whatever appendfsync
// says: registrations are rare and must survive a crash).
func (db *DB) PutSystem(kind, name string, value []byte) error {
	if err := db.pdb.Set(systemKey(kind, name), value, pebble.Sync); err != nil {
		return fmt.Errorf("put system record %s/%s: %w", kind, name, err)
	}
	return nil
}

// DeleteSystem removes a system record.
func (db *DB) DeleteSystem(kind, name string) error {
	if err := db.pdb.Delete(systemKey(kind, name), pebble.Sync); err != nil {
		return fmt.Errorf("delete system record %s/%s: %w", kind, name, err)
	}
	return nil
}

// SystemRecords returns every record of a kind, by name.
func (db *DB) SystemRecords(kind string) (map[string][]byte, error) {
	p := systemKey(kind, "")
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := map[string][]byte{}
	for ok := it.First(); ok; ok = it.Next() {
		name := bytes.TrimPrefix(it.Key(), p)
		out[string(name)] = append([]byte(nil), it.Value()...)
	}
	return out, it.Error()
}
