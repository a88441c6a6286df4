package server

import (
	"bytes"
	"strconv"
	"sync/atomic"

	"github.com/wasmgears/wasmgears/storage"
)

// keysBatch is the number of keys a KeysReader host call scans.
const keysBatch = 1000

// scanBatch reads the KeysReader batch at cursor (a decimal SCAN cursor):
// its records and the next cursor.
func scanBatch(tx *storage.Tx, cursor, pattern []byte, readValue bool) ([]storage.Record, []byte, error) {
	cur, _ := strconv.ParseUint(string(cursor), 10, 64)
	nc, recs, err := tx.ScanRecords(cur, pattern, keysBatch, readValue)
	return recs, strconv.AppendUint(nil, nc, 10), err
}

// keysPrefetch reads a KeysReader's next batch on another goroutine while
// the guest works through the current one: the scan is about 15% of a
// KeysReader run, and on two cores it need not wait for the guest.
//
// It is used only if it is exactly what a read now would return: taken
// under the keyspace lock (KeysRead runs under the session's hold) with
// the keyspace's write generation unchanged since the read-ahead (no
// commit at all in between, the session's own execute() calls included)
// and no key of the batch expired since. Otherwise it is dropped and the
// batch read again.
type keysPrefetch struct {
	db        int
	cursor    []byte
	pattern   []byte
	readValue bool

	done     chan struct{}
	canceled atomic.Bool
	// set before done closes
	ok      bool
	gen     uint64
	expires int64 // the batch's earliest TTL (unix ms), 0: none
	next    []byte
	recs    []storage.Record
}

// prefetchKeys starts reading the batch at cursor of database db.
func prefetchKeys(kdb *storage.DB, db int, cursor, pattern []byte, readValue bool) *keysPrefetch {
	p := &keysPrefetch{db: db, cursor: bytes.Clone(cursor), pattern: bytes.Clone(pattern), readValue: readValue, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		kdb.Lock()
		defer kdb.Unlock()
		if p.canceled.Load() || kdb.Closing() {
			return
		}
		tx := kdb.Begin(db)
		tx.SuppressKeymiss()
		recs, next, err := scanBatch(tx, p.cursor, p.pattern, readValue)
		tx.Discard() // a scan writes nothing (expired keys are skipped)
		tx.Release()
		if err != nil {
			return // the session's own read reports it
		}
		for i := range recs {
			if e := recs[i].Expires; e != 0 && (p.expires == 0 || e < p.expires) {
				p.expires = e
			}
		}
		p.gen, p.next, p.recs, p.ok = kdb.Gen(), next, recs, true
	}()
	return p
}

// take returns the batch if it is the one asked for and still what a read
// would return (false for a nil p); the caller holds the keyspace lock.
func (p *keysPrefetch) take(kdb *storage.DB, db int, cursor, pattern []byte, noScan, readValue bool) ([]storage.Record, []byte, bool) {
	if p == nil {
		return nil, nil, false
	}
	select {
	case <-p.done:
	default:
		// Not read yet (or waiting for the lock this caller holds).
		p.canceled.Store(true)
		return nil, nil, false
	}
	if !p.ok || noScan || db != p.db || readValue != p.readValue || !bytes.Equal(cursor, p.cursor) || !bytes.Equal(pattern, p.pattern) {
		return nil, nil, false
	}
	if kdb.Gen() != p.gen || (p.expires != 0 && p.expires <= kdb.Now()) {
		return nil, nil, false
	}
	return p.recs, p.next, true
}
