package storage

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Error is an error whose text is sent to clients as is (a Redis error reply).
type Error string

func (e Error) Error() string { return string(e) }

// Errors worded exactly as Redis 7 words them.
const (
	ErrWrongType   Error = "WRONGTYPE Operation against a key holding the wrong kind of value"
	ErrNotInteger  Error = "ERR value is not an integer or out of range"
	ErrNotFloat    Error = "ERR value is not a valid float"
	ErrNoSuchKey   Error = "ERR no such key"
	ErrOverflow    Error = "ERR increment or decrement would overflow"
	ErrIndexRange  Error = "ERR index out of range"
	ErrSyntax      Error = "ERR syntax error"
	ErrNaN         Error = "ERR resulting score is not a number (NaN)"
	ErrHashNotInt  Error = "ERR hash value is not an integer"
	ErrHashNotFlt  Error = "ERR hash value is not a float"
	ErrStringLarge Error = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
)

// Event is a keyspace event: Redis' event name for a change (or a keymiss).
type Event struct {
	Name string // "set", "del", "expired", "hset", "keymiss", ...
	DB   int
	Key  []byte
	Type Type   // type of the key the event is about (TypeNone after deletion)
	Cmd  string // the command that caused it, lower case ("" for background expiry)
}

// Tx is one command's view of the keyspace: reads see the Tx's own writes,
// writes commit atomically as one Pebble batch. A Tx runs under the
// keyspace lock and is used by one goroutine.
//
// The batch starts plain (cheap to build and commit); the first read that
// follows a write turns it into an indexed batch, so that reads see the
// Tx's own writes. Most writing commands (SET, DEL, ...) read before they
// write and never pay for the index.
type Tx struct {
	db      *DB
	DB      int    // selected logical database
	Cmd     string // lower-case command name, stamped on events
	b       *pebble.Batch
	indexed bool // b is an indexed batch
	now     int64
	events  []Event
	noMiss  bool
	delta   [NumDBs]int64 // key count changes, applied on commit
	kbuf    []byte        // scratch for meta keys (Pebble copies what it keeps)
}

var txPool = sync.Pool{New: func() any { return new(Tx) }}

// Begin starts a Tx on logical database n. The caller holds the lock.
func (db *DB) Begin(n int) *Tx {
	tx := txPool.Get().(*Tx)
	tx.db, tx.DB, tx.now = db, n, db.now()
	return tx
}

// Release recycles a finished Tx (committed or discarded, its events
// taken). Neither the Tx nor anything it returned may be used afterwards,
// except the slice TakeEvents returned, which belongs to the caller.
func (tx *Tx) Release() {
	if tx.b != nil {
		tx.b.Close()
	}
	kbuf := tx.kbuf[:0]
	*tx = Tx{kbuf: kbuf}
	txPool.Put(tx)
}

// Now is the Tx's clock (fixed at Begin, like Redis' command time).
func (tx *Tx) Now() int64 { return tx.now }

// Store returns the DB the Tx belongs to.
func (tx *Tx) Store() *DB { return tx.db }

// SuppressKeymiss stops the Tx from emitting keymiss events (used by
// internal reads, e.g. the gears readers).
func (tx *Tx) SuppressKeymiss() { tx.noMiss = true }

// batch is the batch to write to.
func (tx *Tx) batch() *pebble.Batch {
	if tx.b == nil {
		tx.b = tx.db.pdb.NewBatch()
	}
	return tx.b
}

// indexedBatch starts the Tx with an indexed batch, for commands that
// will read after they write (cheaper than switching on the first read).
func (tx *Tx) indexedBatch() {
	if tx.b == nil {
		tx.b, tx.indexed = tx.db.pdb.NewIndexedBatch(), true
	}
}

// readBatch is the batch to read through (nil: read the DB directly). The
// first read after a write turns the plain batch into an indexed one.
func (tx *Tx) readBatch() *pebble.Batch {
	if tx.b == nil || tx.indexed {
		return tx.b
	}
	if tx.b.Empty() {
		return nil
	}
	ib := tx.db.pdb.NewIndexedBatch()
	if err := ib.Apply(tx.b, nil); err != nil {
		panic(fmt.Sprintf("pebble batch apply: %v", err)) // only fails on a corrupt batch
	}
	tx.b.Close()
	tx.b, tx.indexed = ib, true
	return ib
}

// Dirty reports whether the Tx has writes.
func (tx *Tx) Dirty() bool { return tx.b != nil && !tx.b.Empty() }

// Commit applies the writes. Events stay available through Events.
func (tx *Tx) Commit() error {
	if tx.b == nil {
		return nil
	}
	defer func() { tx.b.Close(); tx.b, tx.indexed = nil, false }()
	if tx.b.Empty() {
		return nil
	}
	if err := tx.b.Commit(tx.db.wo); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	tx.db.gen.Add(1)
	for i, d := range tx.delta {
		if d != 0 {
			tx.db.keyCounts[i].Add(d)
		}
	}
	tx.delta = [NumDBs]int64{}
	return nil
}

// Discard drops the writes and events.
func (tx *Tx) Discard() {
	if tx.b != nil {
		tx.b.Close()
		tx.b, tx.indexed = nil, false
	}
	tx.events = nil
	tx.delta = [NumDBs]int64{}
}

// Events returns the events collected so far.
func (tx *Tx) Events() []Event { return tx.events }

// TakeEvents returns and clears the collected events.
func (tx *Tx) TakeEvents() []Event {
	e := tx.events
	tx.events = nil
	return e
}

// Emit records a keyspace event for key in the Tx's database.
func (tx *Tx) Emit(name string, key []byte, t Type) {
	tx.events = append(tx.events, Event{Name: name, DB: tx.DB, Key: append([]byte(nil), key...), Type: t, Cmd: tx.Cmd})
}

// rawGet reads k through the Tx's batch (its own writes) or the DB. The
// value is valid until c is closed; c is nil when k is missing.
func (tx *Tx) rawGet(k []byte) (v []byte, c io.Closer, err error) {
	if b := tx.readBatch(); b != nil {
		v, c, err = b.Get(k)
	} else {
		v, c, err = tx.db.pdb.Get(k)
	}
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, nil, nil
	}
	return v, c, err
}

func (tx *Tx) get(k []byte) ([]byte, error) {
	v, c, err := tx.rawGet(k)
	if err != nil || c == nil {
		return nil, err
	}
	out := append([]byte{}, v...)
	c.Close()
	return out, nil
}

// getMeta reads and decodes key's meta record (nil when missing, expired
// or not), decoding straight from Pebble's buffer.
func (tx *Tx) getMeta(key []byte) (*Meta, error) {
	v, c, err := tx.rawGet(tx.metaKey(key))
	if err != nil || c == nil {
		return nil, err
	}
	m, err := decodeMeta(v) // copies the payload
	c.Close()
	if err != nil {
		return nil, fmt.Errorf("key %q: %w", key, err)
	}
	return m, nil
}

// metaKey is metaKey(tx.DB, key) in the Tx's scratch buffer: valid until
// the next call.
func (tx *Tx) metaKey(key []byte) []byte {
	tx.kbuf = append(append(tx.kbuf[:0], prefixMeta, byte(tx.DB)), key...)
	return tx.kbuf
}

func (tx *Tx) set(k, v []byte) { tx.batch().Set(k, v, nil) }
func (tx *Tx) del(k []byte)    { tx.batch().Delete(k, nil) }

func (tx *Tx) iter(lower, upper []byte) *pebble.Iterator {
	o := &pebble.IterOptions{LowerBound: lower, UpperBound: upper}
	var it *pebble.Iterator
	var err error
	if b := tx.readBatch(); b != nil {
		it, err = b.NewIter(o)
	} else {
		it, err = tx.db.pdb.NewIter(o)
	}
	if err != nil {
		panic(fmt.Sprintf("pebble iterator: %v", err)) // only fails on a closed DB
	}
	return it
}

// lookup returns the live meta of key, or nil. An expired key is deleted
// on the spot (lazy expiry) and an "expired" event emitted.
func (tx *Tx) lookup(key []byte) (*Meta, error) {
	m, err := tx.getMeta(key)
	if err != nil || m == nil {
		return nil, err
	}
	if m.ExpireAt != 0 && m.ExpireAt <= tx.now {
		tx.removeObject(key, m)
		tx.Emit("expired", key, m.Type)
		tx.db.statsMu.Lock()
		tx.db.expiredTotal++
		tx.db.statsMu.Unlock()
		return nil, nil
	}
	return m, nil
}

// Lookup returns the meta of a live key (nil when missing). Reads through
// Lookup do not emit keymiss; commands call Miss for that.
func (tx *Tx) Lookup(key []byte) (*Meta, error) { return tx.lookup(key) }

// Miss emits a keymiss event for a read of a missing key.
func (tx *Tx) Miss(key []byte) {
	if !tx.noMiss {
		tx.Emit("keymiss", key, TypeNone)
	}
}

// lookupType returns the meta of key if it exists and has type t; nil if it
// does not exist; ErrWrongType if it has another type.
func (tx *Tx) lookupType(key []byte, t Type) (*Meta, error) {
	m, err := tx.lookup(key)
	if err != nil || m == nil {
		return nil, err
	}
	if m.Type != t {
		return nil, ErrWrongType
	}
	return m, nil
}

// readType is lookupType for read commands: a missing key emits keymiss.
func (tx *Tx) readType(key []byte, t Type) (*Meta, error) {
	m, err := tx.lookupType(key, t)
	if err == nil && m == nil {
		tx.Miss(key)
	}
	return m, err
}

// create makes a new, empty object of type t at key (the caller has checked
// that key is free) with a fresh version.
func (tx *Tx) create(t Type) *Meta {
	tx.delta[tx.DB]++
	return &Meta{Type: t, Version: tx.db.allocVersion(tx.batch())}
}

// putMeta writes the meta record (and keeps the expiry index in step with
// the previous expire time old, 0 if none).
func (tx *Tx) putMeta(key []byte, m *Meta, oldExpire int64) {
	tx.set(tx.metaKey(key), m.encode())
	if oldExpire != m.ExpireAt {
		if oldExpire != 0 {
			tx.del(expiryKey(oldExpire, tx.DB, key))
		}
		if m.ExpireAt != 0 {
			tx.set(expiryKey(m.ExpireAt, tx.DB, key), nil)
		}
	}
}

// removeObject deletes key's meta, its expiry index entry and its subkeys.
func (tx *Tx) removeObject(key []byte, m *Meta) {
	tx.delta[tx.DB]--
	tx.del(metaKey(tx.DB, key))
	if m.ExpireAt != 0 {
		tx.del(expiryKey(m.ExpireAt, tx.DB, key))
	}
	if m.Type != TypeString {
		p := dataPrefix(tx.DB, key, m.Version)
		tx.batch().DeleteRange(p, prefixEnd(p), nil)
		if m.Type == TypeZSet {
			z := zscorePrefix(tx.DB, key, m.Version)
			tx.batch().DeleteRange(z, prefixEnd(z), nil)
		}
	}
}

func (tx *Tx) sweepExpired(limit int) (int, error) {
	it := tx.iter([]byte{prefixExpiry}, expiryKey(tx.now+1, 0, nil))
	type exp struct {
		db  int
		key []byte
	}
	var due []exp
	for ok := it.First(); ok && len(due) < limit; ok = it.Next() {
		_, db, key, ok := decodeExpiryKey(it.Key())
		if !ok {
			continue
		}
		due = append(due, exp{db, append([]byte(nil), key...)})
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	saved := tx.DB
	defer func() { tx.DB = saved }()
	n := 0
	for _, e := range due {
		tx.DB = e.db
		m, err := tx.lookup(e.key) // deletes and emits when expired
		if err != nil {
			return n, err
		}
		if m == nil {
			n++
		}
	}
	return n, nil
}
