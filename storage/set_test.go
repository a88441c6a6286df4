package storage

import (
	"errors"
	"fmt"
	"testing"
)

func TestSetBasics(t *testing.T) {
	db := hkOpen(t)
	k := []byte("s")
	evs := hkTx(t, db, 0, func(tx *Tx) {
		n, err := tx.SAdd(k, bs("a", "b", "a"))
		hkNoErr(t, err)
		if n != 2 {
			t.Fatalf("added %d", n)
		}
		n, err = tx.SAdd(k, bs("a"))
		hkNoErr(t, err)
		if n != 0 {
			t.Fatalf("added %d", n)
		}
	})
	if got := evNames(evs); got != "sadd:s" {
		t.Fatalf("events %s", got)
	}
	hkTx(t, db, 0, func(tx *Tx) {
		ok, err := tx.SIsMember(k, []byte("b"))
		hkNoErr(t, err)
		oks, err := tx.SMIsMember(k, bs("a", "z"))
		hkNoErr(t, err)
		if !ok || fmt.Sprint(oks) != "[true false]" {
			t.Fatalf("membership %v %v", ok, oks)
		}
		if _, _, err := tx.HGet(k, []byte("a")); !errors.Is(err, ErrWrongType) {
			t.Fatalf("err %v", err)
		}
	})
	evs = hkTx(t, db, 0, func(tx *Tx) {
		n, err := tx.SRem(k, bs("a", "b", "c"))
		hkNoErr(t, err)
		if n != 2 {
			t.Fatalf("removed %d", n)
		}
	})
	if got := evNames(evs); got != "srem:s del:s" || db.KeyCount(0) != 0 {
		t.Fatalf("events %s count %d", got, db.KeyCount(0))
	}
}

func TestSetAlgebra(t *testing.T) {
	db := hkOpen(t)
	hkTx(t, db, 0, func(tx *Tx) {
		_, err := tx.SAdd([]byte("x"), bs("a", "b", "c", "d"))
		hkNoErr(t, err)
		_, err = tx.SAdd([]byte("y"), bs("c", "d", "e"))
		hkNoErr(t, err)
	})
	hkTx(t, db, 0, func(tx *Tx) {
		for _, c := range []struct {
			op   SetOp
			keys []string
			want string
		}{
			{SetInter, []string{"x", "y"}, "[c d]"},
			{SetInter, []string{"x", "nosuch"}, "[]"},
			{SetUnion, []string{"x", "y"}, "[a b c d e]"},
			{SetDiff, []string{"x", "y"}, "[a b]"},
			{SetDiff, []string{"y", "x"}, "[e]"},
			{SetDiff, []string{"x", "x"}, "[]"},
		} {
			got, err := tx.SetCombine(c.op, bs(c.keys...))
			hkNoErr(t, err)
			if fmt.Sprintf("%s", got) != c.want {
				t.Errorf("%d %v: %s", c.op, c.keys, got)
			}
		}
		n, err := tx.SInterCard(bs("x", "y"), 1)
		hkNoErr(t, err)
		if n != 1 {
			t.Fatalf("sintercard %d", n)
		}
	})
	// store over an existing key of another type; its own source works too
	hkTx(t, db, 0, func(tx *Tx) {
		_, _, _, err := tx.Set([]byte("d"), []byte("str"), SetOptions{})
		hkNoErr(t, err)
	})
	evs := hkTx(t, db, 0, func(tx *Tx) {
		n, err := tx.SetCombineStore(SetUnion, []byte("d"), bs("x", "y"))
		hkNoErr(t, err)
		if n != 5 {
			t.Fatalf("stored %d", n)
		}
		n, err = tx.SetCombineStore(SetDiff, []byte("x"), bs("x", "y"))
		hkNoErr(t, err)
		if n != 2 {
			t.Fatalf("stored %d", n)
		}
	})
	if got := evNames(evs); got != "sunionstore:d sdiffstore:x" {
		t.Fatalf("events %s", got)
	}
	if db.KeyCount(0) != 3 {
		t.Fatalf("key count %d", db.KeyCount(0))
	}
	hkTx(t, db, 0, func(tx *Tx) {
		m, _ := tx.Lookup([]byte("x"))
		got, _ := tx.SMembers([]byte("x"))
		if m.Size != 2 || fmt.Sprintf("%s", got) != "[a b]" {
			t.Fatalf("x = %s size %d", got, m.Size)
		}
	})
}

func TestSetPopMove(t *testing.T) {
	db := hkOpen(t)
	hkTx(t, db, 0, func(tx *Tx) {
		var ms [][]byte
		for i := range 30 {
			ms = append(ms, fmt.Appendf(nil, "m%02d", i))
		}
		_, err := tx.SAdd([]byte("s"), ms)
		hkNoErr(t, err)
	})
	seen := map[string]bool{}
	for range 3 {
		hkTx(t, db, 0, func(tx *Tx) {
			got, ok, err := tx.SPop([]byte("s"), 8)
			hkNoErr(t, err)
			if !ok || len(got) != 8 {
				t.Fatalf("spop %d", len(got))
			}
			for _, m := range got {
				if seen[string(m)] {
					t.Fatalf("popped %s twice", m)
				}
				seen[string(m)] = true
			}
		})
	}
	hkTx(t, db, 0, func(tx *Tx) {
		n, _ := tx.SCard([]byte("s"))
		if n != 6 {
			t.Fatalf("scard %d", n)
		}
		ok, err := tx.SMove([]byte("s"), []byte("t"), []byte("nosuch"))
		hkNoErr(t, err)
		if ok {
			t.Fatal("moved a missing member")
		}
		got, _, _ := tx.SRandMember([]byte("s"), 1)
		ok, err = tx.SMove([]byte("s"), []byte("t"), got[0])
		hkNoErr(t, err)
		if !ok {
			t.Fatal("smove")
		}
		got, _, err = tx.SPop([]byte("s"), 100)
		hkNoErr(t, err)
		if len(got) != 5 {
			t.Fatalf("spop rest %d", len(got))
		}
	})
	if db.KeyCount(0) != 1 {
		t.Fatalf("key count %d", db.KeyCount(0))
	}
}
