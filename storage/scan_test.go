package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// hkOpen opens a keyspace in a temp dir, closed when the test ends.
func hkOpen(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.TempDir(), Options{Fsync: FsyncNo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// hkTx runs fn in one committed Tx on database n and returns its events.
func hkTx(t *testing.T, db *DB, n int, fn func(tx *Tx)) []Event {
	t.Helper()
	db.Lock()
	defer db.Unlock()
	tx := db.Begin(n)
	fn(tx)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return tx.Events()
}

func hkNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestScanObjectSmallOnePage(t *testing.T) {
	db := hkOpen(t)
	hkTx(t, db, 0, func(tx *Tx) {
		_, err := tx.SAdd([]byte("s"), [][]byte{[]byte("c"), []byte("a"), []byte("b")})
		hkNoErr(t, err)
	})
	hkTx(t, db, 0, func(tx *Tx) {
		m, err := tx.Lookup([]byte("s"))
		hkNoErr(t, err)
		next, subs, vals, err := tx.scanObject(m, []byte("s"), 0, nil, 1)
		hkNoErr(t, err)
		if next != 0 || fmt.Sprintf("%s", subs) != "[a b c]" || len(vals) != 3 {
			t.Fatalf("next %d subs %s", next, subs)
		}
		next, subs, _, err = tx.scanObject(m, []byte("s"), 0, []byte("[bc]"), 1)
		hkNoErr(t, err)
		if next != 0 || fmt.Sprintf("%s", subs) != "[b c]" {
			t.Fatalf("match: next %d subs %s", next, subs)
		}
		// an unknown cursor ends the scan
		next, subs, _, err = tx.scanObject(m, []byte("s"), 12345, nil, 10)
		hkNoErr(t, err)
		if next != 0 || len(subs) != 0 {
			t.Fatalf("unknown cursor: %d %s", next, subs)
		}
	})
}

func TestScanObjectPaging(t *testing.T) {
	db := hkOpen(t)
	const n = 500
	hkTx(t, db, 2, func(tx *Tx) {
		var pairs [][]byte
		for i := range n {
			pairs = append(pairs, fmt.Appendf(nil, "f%04d", i), fmt.Appendf(nil, "v%d", i))
		}
		_, err := tx.HSet([]byte("h"), pairs)
		hkNoErr(t, err)
	})
	seen := map[string]string{}
	var cur uint64
	pages := 0
	for {
		pages++
		hkTx(t, db, 2, func(tx *Tx) {
			next, fs, vs, ok, err := tx.HScan([]byte("h"), cur, nil, 64)
			hkNoErr(t, err)
			if !ok {
				t.Fatal("missing hash")
			}
			if len(fs) > 64 {
				t.Fatalf("page of %d", len(fs))
			}
			for i := range fs {
				if _, dup := seen[string(fs[i])]; dup {
					t.Fatalf("%s twice", fs[i])
				}
				seen[string(fs[i])] = string(vs[i])
			}
			cur = next
			// writes between pages: delete a returned field, add a new one
			if len(fs) > 0 {
				_, err = tx.HDel([]byte("h"), [][]byte{fs[0]})
				hkNoErr(t, err)
			}
		})
		if cur == 0 {
			break
		}
	}
	if len(seen) != n || pages != (n+63)/64 {
		t.Fatalf("saw %d in %d pages", len(seen), pages)
	}
	if seen["f0042"] != "v42" {
		t.Fatalf("value %q", seen["f0042"])
	}
}

// TestHashLayout pins the byte layout of a hash field.
func TestHashLayout(t *testing.T) {
	db := hkOpen(t)
	hkTx(t, db, 3, func(tx *Tx) {
		_, err := tx.HSet([]byte("key"), [][]byte{[]byte("fld"), []byte("val")})
		hkNoErr(t, err)
	})
	db.Lock()
	defer db.Unlock()
	tx := db.Begin(3)
	m, err := tx.Lookup([]byte("key"))
	hkNoErr(t, err)
	want := []byte{'D', 3, 0, 0, 0, 3, 'k', 'e', 'y'}
	want = binary.BigEndian.AppendUint64(want, m.Version)
	want = append(want, "fld"...)
	v, err := tx.get(want)
	hkNoErr(t, err)
	if !bytes.Equal(v, []byte("val")) {
		t.Fatalf("field at %q = %q", want, v)
	}
	if m.Type != TypeHash || m.Size != 1 {
		t.Fatalf("meta %+v", m)
	}
}

func TestFlushAll(t *testing.T) {
	db := hkOpen(t)
	for n := range NumDBs {
		hkTx(t, db, n, func(tx *Tx) {
			_, err := tx.SAdd([]byte("s"), [][]byte{[]byte("a")})
			hkNoErr(t, err)
			_, err = tx.Expire([]byte("s"), tx.Now()+100000, ExpireFlags{})
			hkNoErr(t, err)
		})
	}
	hkTx(t, db, 0, func(tx *Tx) { hkNoErr(t, tx.FlushAll()) })
	for n := range NumDBs {
		if c := db.KeyCount(n); c != 0 {
			t.Fatalf("db %d has %d keys", n, c)
		}
		hkTx(t, db, n, func(tx *Tx) {
			if k, _ := tx.Keys([]byte("*")); len(k) != 0 {
				t.Fatalf("db %d keys %s", n, k)
			}
			if c := tx.KeysWithExpiry(n); c != 0 {
				t.Fatalf("db %d has %d expiring keys", n, c)
			}
		})
	}
}
