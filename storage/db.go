// Package storage is the wasmgears keyspace: Redis data types on Pebble,
// with expiry, keyspace events and the system records of the gears engine.
//
// Callers serialise access with the keyspace lock (DB.Lock): a command runs
// against one Tx that sees its own writes and commits as one Pebble batch.
package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// Fsync policies, named as Redis' appendfsync.
const (
	FsyncAlways   = "always"
	FsyncEverysec = "everysec"
	FsyncNo       = "no"
)

// NumDBs is the number of logical databases (SELECT 0-15).
const NumDBs = 16

// Options configure Open.
type Options struct {
	Fsync  string       // always | everysec (default) | no
	Logger *slog.Logger // nil: slog.Default()
	Now    func() int64 // clock in unix ms; nil: time.Now
	// CacheMB is Pebble's block cache in MiB (0: 256). Pebble's own
	// default (8 MiB) makes reads of flushed data decompress a block
	// each time (LPOP of a long list ran at a third of LPUSH's rate).
	CacheMB int
}

// DB is the keyspace.
type DB struct {
	pdb    *pebble.DB
	log    *slog.Logger
	now    func() int64
	mu     keyLock // the keyspace lock (lock.go)
	fsync  string
	wo     *pebble.WriteOptions
	stopc  chan struct{}
	doneWG sync.WaitGroup

	// object versions: allocated from a persisted high-water mark in blocks.
	nextVersion uint64
	versionHWM  uint64

	subMu  sync.RWMutex
	subs   map[int]func([]Event)
	subID  int
	subFns []func([]Event) // subs in id order, for Deliver; guarded by subMu

	keyCounts [NumDBs]atomic.Int64
	// gen counts the commits that wrote (under the keyspace lock): equal
	// generations mean an unchanged keyspace, apart from the clock.
	gen atomic.Uint64

	scanMu      sync.Mutex
	scanCursors map[uint64][]byte
	scanNext    uint64

	lockedHook func([]Event)

	statsMu      sync.Mutex
	expiredTotal uint64
}

const versionBlock = 1 << 20

var keyVersionHWM = systemKey("version-hwm")

// Open opens (or creates) the keyspace in dir.
func Open(dir string, opt Options) (*DB, error) {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.Now == nil {
		opt.Now = func() int64 { return time.Now().UnixMilli() }
	}
	if opt.Fsync == "" {
		opt.Fsync = FsyncEverysec
	}
	if opt.CacheMB <= 0 {
		opt.CacheMB = 256
	}
	cache := pebble.NewCache(int64(opt.CacheMB) << 20)
	defer cache.Unref() // the DB holds its own reference
	popts := &pebble.Options{Logger: pebbleLogger{opt.Logger}, Cache: cache,
		// a larger memtable keeps recent writes (queues, counters) in memory longer
		MemTableSize: 64 << 20}
	pdb, err := pebble.Open(dir, popts)
	if err != nil {
		return nil, fmt.Errorf("open pebble %s: %w", dir, err)
	}
	db := &DB{pdb: pdb, log: opt.Logger, now: opt.Now, mu: newKeyLock(), stopc: make(chan struct{}), subs: map[int]func([]Event){}}
	if err := db.SetFsync(opt.Fsync); err != nil {
		pdb.Close()
		return nil, err
	}
	v, closer, err := pdb.Get(keyVersionHWM)
	switch {
	case err == nil:
		db.nextVersion = binary.BigEndian.Uint64(v)
		closer.Close()
	case errors.Is(err, pebble.ErrNotFound):
		db.nextVersion = 1
	default:
		pdb.Close()
		return nil, fmt.Errorf("read version high-water mark: %w", err)
	}
	db.versionHWM = db.nextVersion
	if err := db.countKeys(); err != nil {
		pdb.Close()
		return nil, err
	}
	db.doneWG.Add(1)
	go db.background()
	return db, nil
}

// SetFsync changes the durability policy at run time.
func (db *DB) SetFsync(policy string) error {
	switch policy {
	case FsyncAlways:
		db.wo = pebble.Sync
	case FsyncEverysec, FsyncNo:
		db.wo = pebble.NoSync
	default:
		return fmt.Errorf("invalid appendfsync %q", policy)
	}
	db.fsync = policy
	return nil
}

// Fsync reports the durability policy.
func (db *DB) Fsync() string { return db.fsync }

// Close stops background work, syncs and closes Pebble.
func (db *DB) Close() error {
	close(db.stopc)
	db.doneWG.Wait()
	db.mu.lock()
	defer db.mu.unlock()
	if err := db.pdb.LogData(nil, pebble.Sync); err != nil {
		db.log.Warn("final wal sync", "err", err)
	}
	return db.pdb.Close()
}

// Lock takes the keyspace lock. Every Tx runs under it.
func (db *DB) Lock() { db.mu.lock() }

// Unlock releases the keyspace lock.
func (db *DB) Unlock() { db.mu.unlock() }

// TryLock tries to take the keyspace lock without waiting.
func (db *DB) TryLock() bool { return db.mu.tryLock() }

// Combine runs fn under the keyspace lock and returns once it has run:
// on this goroutine if the lock is free, and then also the functions other
// Combine callers queued meanwhile; else on the goroutine that holds the
// lock, if that is a Combine caller, or here once this caller gets it. fn
// must not depend on the goroutine it runs on; a panic in fn is raised in
// the caller.
func (db *DB) Combine(fn func()) { db.mu.combine(fn) }

// Gen is the keyspace's write generation: it changes with every commit
// that writes. Read it under the keyspace lock.
func (db *DB) Gen() uint64 { return db.gen.Load() }

// Closing reports whether Close has begun: a goroutine that took the
// keyspace lock late must not touch the store.
func (db *DB) Closing() bool {
	select {
	case <-db.stopc:
		return true
	default:
		return false
	}
}

// Now is the keyspace clock in unix milliseconds.
func (db *DB) Now() int64 { return db.now() }

// Metrics exposes Pebble's metrics for observability.
func (db *DB) Metrics() *pebble.Metrics { return db.pdb.Metrics() }

// ExpiredTotal counts keys removed by expiry since start.
func (db *DB) ExpiredTotal() uint64 {
	db.statsMu.Lock()
	defer db.statsMu.Unlock()
	return db.expiredTotal
}

// Subscribe registers fn to receive the events of every committed Tx, in
// commit order, on the committing goroutine after the keyspace lock is
// released. It returns a function that removes the subscription.
func (db *DB) Subscribe(fn func([]Event)) (cancel func()) {
	db.subMu.Lock()
	defer db.subMu.Unlock()
	db.subID++
	id := db.subID
	db.subs[id] = fn
	db.publishSubs()
	return func() {
		db.subMu.Lock()
		defer db.subMu.Unlock()
		delete(db.subs, id)
		db.publishSubs()
	}
}

// publishSubs refreshes the list Deliver reads; the caller holds subMu.
func (db *DB) publishSubs() {
	fns := make([]func([]Event), 0, len(db.subs))
	for id := 1; id <= db.subID; id++ {
		if fn, ok := db.subs[id]; ok {
			fns = append(fns, fn)
		}
	}
	db.subFns = fns
}

// SetLockedHook sets fn to see the events of background work (expiry)
// while the keyspace lock is still held; command paths call their own.
func (db *DB) SetLockedHook(fn func([]Event)) {
	db.mu.lock() // the sweep reads it under the keyspace lock
	db.lockedHook = fn
	db.mu.unlock()
}

// Deliver hands events to the subscribers. Callers invoke it after Commit,
// normally outside the keyspace lock.
func (db *DB) Deliver(evs []Event) {
	if len(evs) == 0 {
		return
	}
	db.subMu.RLock() // held while calling: after cancel returns, fn is not called
	defer db.subMu.RUnlock()
	for _, fn := range db.subFns {
		fn(evs)
	}
}

// allocVersion returns a fresh object version; called under the keyspace lock.
func (db *DB) allocVersion(b *pebble.Batch) uint64 {
	v := db.nextVersion
	db.nextVersion++
	if db.nextVersion > db.versionHWM {
		db.versionHWM = db.nextVersion + versionBlock
		// Persist the new mark in the same batch as the first object using it.
		b.Set(keyVersionHWM, binary.BigEndian.AppendUint64(nil, db.versionHWM), nil)
	}
	return v
}

func (db *DB) background() {
	defer db.doneWG.Done()
	sync := time.NewTicker(time.Second)
	defer sync.Stop()
	sweep := time.NewTicker(100 * time.Millisecond)
	defer sweep.Stop()
	for {
		select {
		case <-db.stopc:
			return
		case <-sync.C:
			if db.fsync == FsyncEverysec {
				if err := db.pdb.LogData(nil, pebble.Sync); err != nil {
					db.log.Error("wal sync", "err", err)
				}
			}
		case <-sweep.C:
			db.SweepExpired(200)
		}
	}
}

// SweepExpired removes up to limit expired keys, emitting "expired" events.
func (db *DB) SweepExpired(limit int) int {
	db.Lock()
	tx := db.Begin(0)
	n, err := tx.sweepExpired(limit)
	if err == nil {
		err = tx.Commit()
	} else {
		tx.Discard()
	}
	evs := tx.Events()
	if db.lockedHook != nil && len(evs) > 0 {
		db.lockedHook(evs)
	}
	db.Unlock()
	if err != nil {
		db.log.Error("expiry sweep", "err", err)
		return 0
	}
	db.Deliver(evs)
	return n
}

type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	panic(fmt.Sprintf(format, args...))
}
