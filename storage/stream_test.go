package storage

import (
	"bytes"
	"math"
	"testing"
)

func sxOpen(t *testing.T) *DB {
	t.Helper()
	now := int64(1000)
	db, err := Open(t.TempDir(), Options{Fsync: FsyncNo, Now: func() int64 { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sxTx runs fn in a committed Tx and returns its events.
func sxTx(t *testing.T, db *DB, fn func(tx *Tx)) []Event {
	t.Helper()
	db.Lock()
	defer db.Unlock()
	tx := db.Begin(0)
	fn(tx)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return tx.TakeEvents()
}

func sxNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestStreamIDParse(t *testing.T) {
	for _, c := range []struct {
		in     string
		strict bool
		want   StreamID
		ok     bool
	}{
		{"1-2", true, StreamID{1, 2}, true},
		{"5", true, StreamID{5, 7}, true}, // missing seq
		{"-", false, StreamID{}, true},
		{"+", false, MaxStreamID, true},
		{"-", true, StreamID{}, false},
		{"+", true, StreamID{}, false},
		{"+5", true, StreamID{5, 7}, true},            // strtoull accepts a sign
		{" 6", true, StreamID{6, 7}, true},            // and leading space
		{"1--5", true, StreamID{}, false},             // negative: string2ll path
		{"1--05", true, StreamID{1, 1<<64 - 5}, true}, // strtoull wraps
		{"18446744073709551615-18446744073709551615", true, MaxStreamID, true},
		{"18446744073709551616", true, StreamID{}, false},
		{"1-", true, StreamID{}, false},
		{"", true, StreamID{}, false},
		{"1-*", true, StreamID{}, false},
		{"abc", true, StreamID{}, false},
	} {
		got, err := ParseStreamID([]byte(c.in), 7, c.strict)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("%q strict=%v: got %v %v", c.in, c.strict, got, err)
		}
	}
	id, auto, autoSeq, err := ParseStreamAddID([]byte("5-*"))
	if err != nil || auto || !autoSeq || id.Ms != 5 {
		t.Fatalf("5-*: %v %v %v %v", id, auto, autoSeq, err)
	}
	if _, auto, _, _ = ParseStreamAddID([]byte("*")); !auto {
		t.Fatal("*")
	}
}

func TestStreamIDOrder(t *testing.T) {
	// Entry keys sort in id order (big-endian ms, seq).
	db := sxOpen(t)
	sxTx(t, db, func(tx *Tx) {
		s := tx.newStream([]byte("k"))
		ids := []StreamID{{0, 1}, {0, math.MaxUint64}, {1, 0}, {256, 0}, {math.MaxUint64, 0}}
		for i := 1; i < len(ids); i++ {
			if bytes.Compare(s.ekey(ids[i-1]), s.ekey(ids[i])) >= 0 {
				t.Fatalf("%v !< %v", ids[i-1], ids[i])
			}
		}
		k := s.ekey(StreamID{0x0102, 0x0304})
		if tail := k[len(k)-17:]; !bytes.Equal(tail, []byte{'e', 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 3, 4}) {
			t.Fatalf("entry key tail %x", tail)
		}
		if id, ok := (StreamID{5, math.MaxUint64}).Incr(); !ok || id != (StreamID{6, 0}) {
			t.Fatal("incr")
		}
		if _, ok := MaxStreamID.Incr(); ok {
			t.Fatal("incr max")
		}
		if id, ok := (StreamID{6, 0}).Decr(); !ok || id != (StreamID{5, math.MaxUint64}) {
			t.Fatal("decr")
		}
	})
	f := [][]byte{[]byte("field"), {}, []byte("v")}
	got, err := decodeFields(encodeFields(f))
	if err != nil || len(got) != 3 || string(got[0]) != "field" || len(got[1]) != 0 || string(got[2]) != "v" {
		t.Fatalf("fields %q %v", got, err)
	}
}

func TestStreamPELBookkeeping(t *testing.T) {
	db := sxOpen(t)
	k, g := []byte("s"), []byte("g")
	sxTx(t, db, func(tx *Tx) {
		for i := uint64(1); i <= 4; i++ {
			_, _, err := tx.XAdd(k, XAddArgs{ID: StreamID{i, 0}, Fields: bs("f", "v")})
			sxNoErr(t, err)
		}
		sxNoErr(t, tx.XGroupCreate(k, g, StreamGroupOpts{EntriesRead: -1}))
	})
	evs := sxTx(t, db, func(tx *Tx) {
		es, served, ok, err := tx.XReadGroup(k, XReadGroupArgs{Group: g, Consumer: []byte("a"), New: true, Count: 3})
		sxNoErr(t, err)
		if !ok || !served || len(es) != 3 {
			t.Fatalf("read %v %v %d", ok, served, len(es))
		}
		_, _, _, err = tx.XReadGroup(k, XReadGroupArgs{Group: g, Consumer: []byte("b"), New: true})
		sxNoErr(t, err)
	})
	if got := evNames(evs); got != "xgroup-createconsumer:s xgroup-createconsumer:s" {
		t.Fatalf("events %s", got)
	}
	check := func(total uint64, per map[string]uint64) {
		t.Helper()
		sxTx(t, db, func(tx *Tx) {
			sum, err := tx.XPendingSummary(k, g)
			sxNoErr(t, err)
			if sum.Count != total {
				t.Fatalf("pending %d want %d", sum.Count, total)
			}
			cs, err := tx.XInfoConsumers(k, g)
			sxNoErr(t, err)
			for _, c := range cs {
				if c.Pending != per[string(c.Name)] {
					t.Fatalf("consumer %s pending %d want %d", c.Name, c.Pending, per[string(c.Name)])
				}
			}
			// the counters agree with the PEL itself
			ps, err := tx.XPendingRange(k, g, XPendingArgs{Start: StreamID{}, End: MaxStreamID, Count: 100})
			sxNoErr(t, err)
			if uint64(len(ps)) != total {
				t.Fatalf("pel has %d entries, counter %d", len(ps), total)
			}
		})
	}
	check(4, map[string]uint64{"a": 3, "b": 1})
	sxTx(t, db, func(tx *Tx) {
		n, err := tx.XAck(k, g, []StreamID{{1, 0}, {1, 0}, {9, 0}})
		sxNoErr(t, err)
		if n != 1 {
			t.Fatalf("ack %d", n)
		}
		es, err := tx.XClaim(k, XClaimArgs{Group: g, Consumer: []byte("b"), IDs: []StreamID{{2, 0}}, DeliveryTime: -1, RetryCount: -1})
		sxNoErr(t, err)
		if len(es) != 1 {
			t.Fatalf("claim %d", len(es))
		}
	})
	check(3, map[string]uint64{"a": 1, "b": 2})
	sxTx(t, db, func(tx *Tx) {
		_, err := tx.XDel(k, []StreamID{{3, 0}})
		sxNoErr(t, err)
		next, es, deleted, err := tx.XAutoClaim(k, XAutoClaimArgs{Group: g, Consumer: []byte("c"), Count: 10})
		sxNoErr(t, err)
		if !next.IsZero() || len(es) != 2 || len(deleted) != 1 || deleted[0] != (StreamID{3, 0}) {
			t.Fatalf("autoclaim %v %d %v", next, len(es), deleted)
		}
	})
	check(2, map[string]uint64{"a": 0, "b": 0, "c": 2})
	sxTx(t, db, func(tx *Tx) {
		n, err := tx.XGroupDelConsumer(k, g, []byte("c"))
		sxNoErr(t, err)
		if n != 2 {
			t.Fatalf("delconsumer %d", n)
		}
	})
	check(0, nil)
	// destroying the group drops its PEL and consumers; DEL drops everything.
	sxTx(t, db, func(tx *Tx) {
		ok, err := tx.XGroupDestroy(k, g)
		sxNoErr(t, err)
		if !ok {
			t.Fatal("destroy")
		}
		p := dataPrefix(0, k, mustMeta(t, tx, k).Version)
		it := tx.iter(p, prefixEnd(p))
		for ok := it.First(); ok; ok = it.Next() {
			if tag := it.Key()[len(p)]; tag != 'e' {
				t.Fatalf("left-over subkey %q", it.Key()[len(p):])
			}
		}
		it.Close()
	})
}

func mustMeta(t *testing.T, tx *Tx, k []byte) *Meta {
	t.Helper()
	m, err := tx.lookup(k)
	sxNoErr(t, err)
	if m == nil {
		t.Fatal("missing")
	}
	return m
}

func TestStreamTrim(t *testing.T) {
	db := sxOpen(t)
	k := []byte("s")
	sxTx(t, db, func(tx *Tx) {
		for i := uint64(1); i <= 250; i++ {
			_, _, err := tx.XAdd(k, XAddArgs{ID: StreamID{i, 0}, Fields: bs("f", "v")})
			sxNoErr(t, err)
		}
	})
	sxTx(t, db, func(tx *Tx) {
		// approximate: only whole 100-entry blocks
		n, err := tx.XTrim(k, StreamTrim{Kind: TrimMaxLen, MaxLen: 120, Approx: true, Limit: 10000})
		sxNoErr(t, err)
		if n != 100 {
			t.Fatalf("approx trimmed %d", n)
		}
		n, err = tx.XTrim(k, StreamTrim{Kind: TrimMinID, MinID: StreamID{200, 0}})
		sxNoErr(t, err)
		if n != 99 {
			t.Fatalf("minid trimmed %d", n)
		}
		in, err := tx.XInfoStream(k, false, 0)
		sxNoErr(t, err)
		if in.Length != 51 || in.FirstRecord != (StreamID{200, 0}) || in.First.ID != (StreamID{200, 0}) || in.EntriesAdded != 250 {
			t.Fatalf("info %+v", in)
		}
		n, err = tx.XTrim(k, StreamTrim{Kind: TrimMaxLen, MaxLen: 0})
		sxNoErr(t, err)
		if n != 51 {
			t.Fatalf("trim all %d", n)
		}
		l, err := tx.XLen(k)
		sxNoErr(t, err)
		if l != 0 {
			t.Fatalf("len %d", l)
		}
	})
}
