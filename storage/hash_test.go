package storage

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

func evNames(evs []Event) string {
	var b strings.Builder
	for i, e := range evs {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s:%s", e.Name, e.Key)
	}
	return b.String()
}

func TestHashBasics(t *testing.T) {
	db := hkOpen(t)
	k := []byte("h")
	evs := hkTx(t, db, 0, func(tx *Tx) {
		n, err := tx.HSet(k, bs("a", "1", "b", "2", "a", "3"))
		hkNoErr(t, err)
		if n != 2 {
			t.Fatalf("added %d", n)
		}
	})
	if got := evNames(evs); got != "hset:h" {
		t.Fatalf("events %s", got)
	}
	hkTx(t, db, 0, func(tx *Tx) {
		v, ok, err := tx.HGet(k, []byte("a"))
		hkNoErr(t, err)
		if !ok || string(v) != "3" {
			t.Fatalf("hget %q %v", v, ok)
		}
		n, err := tx.HLen(k)
		hkNoErr(t, err)
		if n != 2 {
			t.Fatalf("hlen %d", n)
		}
		ok, err = tx.HSetNX(k, []byte("c"), []byte("x"))
		hkNoErr(t, err)
		if !ok {
			t.Fatal("hsetnx")
		}
		fs, vs, err := tx.HGetAll(k, true, true)
		hkNoErr(t, err)
		if fmt.Sprintf("%s %s", fs, vs) != "[a b c] [3 2 x]" {
			t.Fatalf("hgetall %s %s", fs, vs)
		}
	})
	// Size stays exact through deletes; the last delete removes the key.
	evs = hkTx(t, db, 0, func(tx *Tx) {
		n, err := tx.HDel(k, bs("a", "zz", "a"))
		hkNoErr(t, err)
		if n != 1 {
			t.Fatalf("hdel %d", n)
		}
		m, _ := tx.Lookup(k)
		if m.Size != 2 {
			t.Fatalf("size %d", m.Size)
		}
		n, err = tx.HDel(k, bs("b", "c"))
		hkNoErr(t, err)
		if n != 2 {
			t.Fatalf("hdel %d", n)
		}
	})
	if got := evNames(evs); got != "hdel:h hdel:h del:h" {
		t.Fatalf("events %s", got)
	}
	if db.KeyCount(0) != 0 {
		t.Fatalf("key count %d", db.KeyCount(0))
	}
	evs = hkTx(t, db, 0, func(tx *Tx) {
		_, ok, err := tx.HGet(k, []byte("a"))
		hkNoErr(t, err)
		if ok {
			t.Fatal("field of a deleted hash")
		}
	})
	if got := evNames(evs); got != "keymiss:h" {
		t.Fatalf("events %s", got)
	}
}

func TestHashIncr(t *testing.T) {
	db := hkOpen(t)
	k := []byte("h")
	hkTx(t, db, 0, func(tx *Tx) {
		n, err := tx.HIncrBy(k, []byte("n"), 5)
		hkNoErr(t, err)
		if n != 5 {
			t.Fatalf("hincrby %d", n)
		}
		v, err := tx.HIncrByFloat(k, []byte("f"), 1.5)
		hkNoErr(t, err)
		if string(v) != "1.5" {
			t.Fatalf("hincrbyfloat %s", v)
		}
		if _, err := tx.HIncrBy(k, []byte("f"), 1); !errors.Is(err, ErrHashNotInt) {
			t.Fatalf("err %v", err)
		}
	})
	// An increment that overflows to infinity fails and changes nothing.
	hkTx(t, db, 0, func(tx *Tx) {
		if _, err := tx.HIncrByFloat([]byte("other"), []byte("f"), 1e308); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.HIncrByFloat([]byte("other"), []byte("f"), 1e308); err == nil {
			t.Fatal("want overflow")
		}
	})
	if db.KeyCount(0) != 2 {
		t.Fatalf("key count %d", db.KeyCount(0))
	}
	hkTx(t, db, 0, func(tx *Tx) {
		m, _ := tx.Lookup(k)
		if m.Size != 2 {
			t.Fatalf("size %d", m.Size)
		}
	})
}

func TestHashRandField(t *testing.T) {
	db := hkOpen(t)
	k := []byte("h")
	hkTx(t, db, 0, func(tx *Tx) {
		var pairs [][]byte
		for i := range 20 {
			pairs = append(pairs, fmt.Appendf(nil, "f%02d", i), fmt.Appendf(nil, "v%02d", i))
		}
		_, err := tx.HSet(k, pairs)
		hkNoErr(t, err)
	})
	hkTx(t, db, 0, func(tx *Tx) {
		for range 50 {
			fs, vs, ok, err := tx.HRandField(k, 7, true)
			hkNoErr(t, err)
			if !ok || len(fs) != 7 || len(vs) != 7 {
				t.Fatalf("got %d", len(fs))
			}
			seen := map[string]bool{}
			for i, f := range fs {
				if seen[string(f)] {
					t.Fatalf("repeat %s", f)
				}
				seen[string(f)] = true
				if string(vs[i][1:]) != string(f[1:]) {
					t.Fatalf("pair %s=%s", f, vs[i])
				}
			}
			fs, _, _, err = tx.HRandField(k, -30, false)
			hkNoErr(t, err)
			if len(fs) != 30 {
				t.Fatalf("got %d", len(fs))
			}
		}
		fs, _, _, err := tx.HRandField(k, 100, false)
		hkNoErr(t, err)
		if len(fs) != 20 {
			t.Fatalf("got %d", len(fs))
		}
		_, _, ok, err := tx.HRandField([]byte("nosuch"), 1, false)
		hkNoErr(t, err)
		if ok {
			t.Fatal("missing key")
		}
	})
}
