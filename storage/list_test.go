package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

func openListTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(t.TempDir(), Options{Fsync: FsyncNo})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// inTx runs fn in one committed Tx and returns its events.
func inTx(t *testing.T, db *DB, fn func(tx *Tx) error) []Event {
	t.Helper()
	db.Lock()
	defer db.Unlock()
	tx := db.Begin(0)
	if err := fn(tx); err != nil {
		tx.Discard()
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return tx.Events()
}

// checkListLayout verifies that the subkeys of the list are exactly the
// seqs [head, tail) holding want, and that Size matches.
func checkListLayout(t *testing.T, tx *Tx, key []byte, want [][]byte) {
	t.Helper()
	m, err := tx.lookup(key)
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == 0 {
		if m != nil {
			t.Fatalf("empty list still exists: %+v", m)
		}
		return
	}
	if m == nil {
		t.Fatalf("list missing, want %q", want)
	}
	l := tx.openList(key, m)
	if int(m.Size) != len(want) || l.len() != int64(len(want)) {
		t.Fatalf("size %d len %d, want %d", m.Size, l.len(), len(want))
	}
	p := dataPrefix(tx.DB, key, m.Version)
	it := tx.iter(p, prefixEnd(p))
	defer it.Close()
	i := 0
	for ok := it.First(); ok; ok = it.Next() {
		seq := binary.BigEndian.Uint64(it.Key()[len(p):])
		if i >= len(want) || seq != l.head+uint64(i) || !bytes.Equal(it.Value(), want[i]) {
			t.Fatalf("subkey %d: seq %d (head %d) value %q; want %q", i, seq, l.head, it.Value(), want)
		}
		i++
	}
	if i != len(want) {
		t.Fatalf("%d subkeys, want %d", i, len(want))
	}
}

func TestListLayout(t *testing.T) {
	db := openListTestDB(t)
	key := []byte("l")
	inTx(t, db, func(tx *Tx) error {
		_, err := tx.Push(key, [][]byte{[]byte("a"), []byte("b")}, false, false)
		if err != nil {
			return err
		}
		_, err = tx.Push(key, [][]byte{[]byte("z")}, true, false)
		return err
	})
	inTx(t, db, func(tx *Tx) error {
		m, _ := tx.lookup(key)
		l := tx.openList(key, m)
		if l.head != listMid-1 || l.tail != listMid+2 {
			t.Errorf("head %x tail %x", l.head, l.tail)
		}
		checkListLayout(t, tx, key, [][]byte{[]byte("z"), []byte("a"), []byte("b")})
		return nil
	})
}

// TestListModel runs random operations against a slice model.
func TestListModel(t *testing.T) {
	db := openListTestDB(t)
	key := []byte("l")
	var model [][]byte
	r := rand.New(rand.NewPCG(1, 2))
	val := func() []byte { return []byte{byte('a' + r.IntN(4))} }
	for step := 0; step < 3000; step++ {
		op := r.IntN(9)
		var desc string
		inTx(t, db, func(tx *Tx) error {
			n := int64(len(model))
			switch op {
			case 0, 1:
				v := [][]byte{val(), val()}
				left := op == 0
				desc = fmt.Sprintf("push left=%v %q", left, v)
				got, err := tx.Push(key, v, left, false)
				if err != nil {
					return err
				}
				for _, e := range v {
					if left {
						model = append([][]byte{e}, model...)
					} else {
						model = append(model, e)
					}
				}
				if got != int64(len(model)) {
					t.Fatalf("push len %d want %d", got, len(model))
				}
			case 2:
				left := r.IntN(2) == 0
				cnt := int64(r.IntN(3))
				desc = fmt.Sprintf("pop left=%v %d", left, cnt)
				got, _, err := tx.Pop(key, left, cnt)
				if err != nil {
					return err
				}
				k := min(cnt, n)
				var want [][]byte
				if left {
					want, model = model[:k], model[k:]
				} else {
					for i := int64(0); i < k; i++ {
						want = append(want, model[len(model)-1-int(i)])
					}
					model = model[:n-k]
				}
				if len(got) != len(want) || (len(want) > 0 && !slices.EqualFunc(got, want, bytes.Equal)) {
					t.Fatalf("pop got %q want %q", got, want)
				}
			case 3:
				before := r.IntN(2) == 0
				pivot, v := val(), val()
				desc = fmt.Sprintf("linsert before=%v %s %s", before, pivot, v)
				got, err := tx.LInsert(key, before, pivot, v)
				if err != nil {
					return err
				}
				i := slices.IndexFunc(model, func(e []byte) bool { return bytes.Equal(e, pivot) })
				switch {
				case n == 0 && got != 0, n > 0 && i < 0 && got != -1:
					t.Fatalf("linsert got %d", got)
				case i >= 0:
					if !before {
						i++
					}
					model = slices.Insert(model, i, v)
				}
			case 4:
				cnt := int64(r.IntN(5) - 2)
				v := val()
				desc = fmt.Sprintf("lrem %d %s", cnt, v)
				got, err := tx.LRem(key, cnt, v)
				if err != nil {
					return err
				}
				var removed int64
				if cnt >= 0 {
					for i := 0; i < len(model); i++ {
						if bytes.Equal(model[i], v) && (cnt == 0 || removed < cnt) {
							model = slices.Delete(model, i, i+1)
							i--
							removed++
						}
					}
				} else {
					for i := len(model) - 1; i >= 0; i-- {
						if bytes.Equal(model[i], v) && removed < -cnt {
							model = slices.Delete(model, i, i+1)
							removed++
						}
					}
				}
				if got != removed {
					t.Fatalf("lrem got %d want %d", got, removed)
				}
			case 5:
				if r.IntN(4) != 0 {
					return nil // trim rarely, or the list stays short
				}
				s, e := int64(r.IntN(6)-2), int64(r.IntN(12)-3)
				desc = fmt.Sprintf("ltrim %d %d", s, e)
				if err := tx.LTrim(key, s, e); err != nil {
					return err
				}
				if ns, ne, ok := normRange(s, e, n); ok {
					model = model[ns : ne+1]
				} else {
					model = nil
				}
			case 6:
				if n == 0 {
					return nil
				}
				i := int64(r.IntN(int(n)))
				v := val()
				desc = fmt.Sprintf("lset %d %s", i, v)
				if err := tx.LSet(key, i, v); err != nil {
					return err
				}
				model[i] = v
			case 7:
				src := r.IntN(2) == 0
				dst := r.IntN(2) == 0
				desc = fmt.Sprintf("lmove self %v %v", src, dst)
				v, ok, err := tx.LMove(key, key, src, dst)
				if err != nil {
					return err
				}
				if ok != (n > 0) {
					t.Fatalf("lmove ok=%v n=%d", ok, n)
				}
				if ok {
					var e []byte
					if src {
						e, model = model[0], model[1:]
					} else {
						e, model = model[n-1], model[:n-1]
					}
					if !bytes.Equal(e, v) {
						t.Fatalf("lmove got %q want %q", v, e)
					}
					if dst {
						model = append([][]byte{e}, model...)
					} else {
						model = append(model, e)
					}
				}
			case 8:
				v := val()
				o := LPosOptions{Rank: int64(r.IntN(5) - 2), Count: 0}
				if o.Rank == 0 {
					o.Rank = 1
				}
				desc = fmt.Sprintf("lpos %s %+v", v, o)
				got, err := tx.LPos(key, v, o)
				if err != nil {
					return err
				}
				var want []int64
				var matches int64
				if o.Rank > 0 {
					for i, e := range model {
						if bytes.Equal(e, v) {
							if matches++; matches >= o.Rank {
								want = append(want, int64(i))
							}
						}
					}
				} else {
					for i := len(model) - 1; i >= 0; i-- {
						if bytes.Equal(model[i], v) {
							if matches++; matches >= -o.Rank {
								want = append(want, int64(i))
							}
						}
					}
				}
				if !slices.Equal(got, want) {
					t.Fatalf("lpos got %v want %v", got, want)
				}
			}
			return nil
		})
		db.Lock()
		tx := db.Begin(0)
		got, err := tx.LRange(key, 0, -1)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(model) || (len(model) > 0 && !slices.EqualFunc(got, model, bytes.Equal)) {
			db.Unlock()
			t.Fatalf("step %d (%s): got %q want %q", step, desc, got, model)
		}
		checkListLayout(t, tx, key, model)
		for i := range model {
			v, ok, err := tx.LIndex(key, int64(i))
			if err != nil || !ok || !bytes.Equal(v, model[i]) {
				db.Unlock()
				t.Fatalf("step %d (%s): lindex %d = %q", step, desc, i, v)
			}
		}
		db.Unlock()
	}
}

func TestListEventsStorage(t *testing.T) {
	db := openListTestDB(t)
	evs := inTx(t, db, func(tx *Tx) error {
		if _, err := tx.Push([]byte("a"), [][]byte{[]byte("x")}, false, false); err != nil {
			return err
		}
		_, _, err := tx.LMove([]byte("a"), []byte("b"), true, false)
		return err
	})
	var names []string
	for _, e := range evs {
		names = append(names, e.Name+":"+string(e.Key))
	}
	if got := fmt.Sprint(names); got != "[rpush:a rpush:b lpop:a del:a]" {
		t.Fatalf("events %s", got)
	}
	if db.KeyCount(0) != 1 {
		t.Fatalf("key count %d", db.KeyCount(0))
	}
}
