package storage

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"
)

type zmodel map[string]float64

func (m zmodel) sorted() []ScoreMember {
	out := make([]ScoreMember, 0, len(m))
	for k, v := range m {
		out = append(out, ScoreMember{[]byte(k), v})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Score != out[j].Score {
			return out[i].Score < out[j].Score
		}
		return bytes.Compare(out[i].Member, out[j].Member) < 0
	})
	return out
}

func fmtSM(els []ScoreMember) string {
	var b bytes.Buffer
	for _, e := range els {
		fmt.Fprintf(&b, "%s=%v ", e.Member, e.Score)
	}
	return b.String()
}

// TestZSetModel runs random operations against a map model and checks
// ranges, ranks, counts and the score index after each step.
func TestZSetModel(t *testing.T) {
	db := openListTestDB(t)
	key := []byte("z")
	model := zmodel{}
	r := rand.New(rand.NewPCG(3, 4))
	member := func() []byte { return []byte{byte('a' + r.IntN(12))} }
	score := func() float64 {
		switch r.IntN(10) {
		case 0:
			return math.Inf(-1)
		case 1:
			return math.Inf(1)
		case 2:
			return float64(-r.IntN(3))
		}
		return float64(r.IntN(6)) / 2
	}
	bound := func() ScoreBound { return ScoreBound{V: score(), Excl: r.IntN(2) == 0} }
	for step := 0; step < 2000; step++ {
		op := r.IntN(6)
		var desc string
		inTx(t, db, func(tx *Tx) error {
			switch op {
			case 0, 1:
				o := ZAddOptions{}
				switch r.IntN(5) {
				case 0:
					o.NX = true
				case 1:
					o.XX = true
				case 2:
					o.GT = true
				case 3:
					o.LT = true
				}
				els := []ScoreMember{{member(), score()}, {member(), score()}}
				desc = fmt.Sprintf("zadd %+v %s", o, fmtSM(els))
				res, err := tx.ZAdd(key, els, o)
				if err != nil {
					return err
				}
				var added, changed int64
				for _, e := range els {
					cur, had := model[string(e.Member)]
					switch {
					case had && !o.NX && !(o.GT && e.Score <= cur) && !(o.LT && e.Score >= cur):
						if e.Score != cur {
							changed++
						}
						model[string(e.Member)] = e.Score
					case !had && !o.XX:
						added++
						model[string(e.Member)] = e.Score
					}
				}
				if res.Added != added || res.Changed != changed {
					t.Fatalf("%s: got %+v want added %d changed %d", desc, res, added, changed)
				}
			case 2:
				mb, d := member(), float64(r.IntN(5)-2)
				desc = fmt.Sprintf("zincrby %s %v", mb, d)
				got, err := tx.ZIncrBy(key, mb, d)
				if err == ErrNaN {
					return nil
				}
				if err != nil {
					return err
				}
				model[string(mb)] += d
				if got != model[string(mb)] {
					t.Fatalf("%s: got %v", desc, got)
				}
			case 3:
				ms := [][]byte{member(), member()}
				desc = fmt.Sprintf("zrem %s", ms)
				if _, err := tx.ZRem(key, ms); err != nil {
					return err
				}
				for _, m := range ms {
					delete(model, string(m))
				}
			case 4:
				max := r.IntN(2) == 0
				cnt := int64(r.IntN(3))
				desc = fmt.Sprintf("zpop max=%v %d", max, cnt)
				got, err := tx.ZPop(key, max, cnt)
				if err != nil {
					return err
				}
				s := model.sorted()
				if max {
					for i, j := 0, len(s)-1; i < j; i, j = i+1, j-1 {
						s[i], s[j] = s[j], s[i]
					}
				}
				want := s[:min(int(cnt), len(s))]
				if fmtSM(got) != fmtSM(want) {
					t.Fatalf("%s: got %s want %s", desc, fmtSM(got), fmtSM(want))
				}
				for _, e := range want {
					delete(model, string(e.Member))
				}
			case 5:
				if r.IntN(3) != 0 {
					return nil
				}
				sp := &ZRangeSpec{By: ByScore, Min: bound(), Max: bound(), Count: -1}
				desc = fmt.Sprintf("zremrangebyscore %+v", sp)
				n, err := tx.ZRemRange(key, sp)
				if err != nil {
					return err
				}
				var want int64
				for k, v := range model {
					if sp.Min.aboveMin(v) && sp.Max.belowMax(v) {
						delete(model, k)
						want++
					}
				}
				if n != want {
					t.Fatalf("%s: removed %d want %d", desc, n, want)
				}
			}
			return nil
		})
		db.Lock()
		tx := db.Begin(0)
		check := func(what string, got, want []ScoreMember) {
			if fmtSM(got) != fmtSM(want) {
				db.Unlock()
				t.Fatalf("step %d after %s: %s got %s want %s", step, desc, what, fmtSM(got), fmtSM(want))
			}
		}
		all := model.sorted()
		got, err := tx.ZRange(key, &ZRangeSpec{By: ByRank, Start: 0, Stop: -1})
		if err != nil {
			t.Fatal(err)
		}
		check("all", got, all)
		n, _ := tx.ZCard(key)
		if n != int64(len(all)) {
			db.Unlock()
			t.Fatalf("zcard %d want %d", n, len(all))
		}
		m, _ := tx.lookup(key)
		if (m == nil) != (len(all) == 0) {
			db.Unlock()
			t.Fatalf("exists %v with %d members", m != nil, len(all))
		}
		if m != nil {
			zp := zscorePrefix(0, key, m.Version)
			it := tx.iter(zp, prefixEnd(zp))
			c := 0
			for ok := it.First(); ok; ok = it.Next() {
				c++
			}
			it.Close()
			if c != len(all) {
				db.Unlock()
				t.Fatalf("score index has %d entries, want %d", c, len(all))
			}
		}
		for i, e := range all {
			rk, ok, _ := tx.ZRank(key, e.Member, false)
			rr, _, _ := tx.ZRank(key, e.Member, true)
			if !ok || rk != int64(i) || rr != int64(len(all)-1-i) {
				db.Unlock()
				t.Fatalf("rank of %s: %d/%d want %d", e.Member, rk, rr, i)
			}
		}
		// score ranges, both directions, with LIMIT
		sp := ZRangeSpec{By: ByScore, Min: bound(), Max: bound(), Offset: int64(r.IntN(3)), Count: int64(r.IntN(4) - 1)}
		var want []ScoreMember
		for _, e := range all {
			if sp.Min.aboveMin(e.Score) && sp.Max.belowMax(e.Score) {
				want = append(want, e)
			}
		}
		cnt, _ := tx.ZCount(key, &ZRangeSpec{By: ByScore, Min: sp.Min, Max: sp.Max})
		if cnt != int64(len(want)) {
			db.Unlock()
			t.Fatalf("zcount %+v = %d want %d", sp, cnt, len(want))
		}
		lim := func(w []ScoreMember) []ScoreMember {
			if int(sp.Offset) >= len(w) {
				return nil
			}
			w = w[sp.Offset:]
			if sp.Count >= 0 && int(sp.Count) < len(w) {
				w = w[:sp.Count]
			}
			return w
		}
		got, _ = tx.ZRange(key, &sp)
		check(fmt.Sprintf("byscore %+v", sp), got, lim(want))
		rev := append([]ScoreMember(nil), want...)
		for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
			rev[i], rev[j] = rev[j], rev[i]
		}
		sp.Rev = true
		got, _ = tx.ZRange(key, &sp)
		check(fmt.Sprintf("byscore rev %+v", sp), got, lim(rev))
		// rank ranges
		s, e := int64(r.IntN(8)-4), int64(r.IntN(8)-4)
		got, _ = tx.ZRange(key, &ZRangeSpec{By: ByRank, Start: s, Stop: e, Rev: true})
		var wr []ScoreMember
		if ns, ne, ok := normRange(s, e, int64(len(all))); ok {
			for i := ns; i <= ne; i++ {
				wr = append(wr, all[len(all)-1-int(i)])
			}
		}
		check(fmt.Sprintf("rev rank %d %d", s, e), got, wr)
		db.Unlock()
	}
}

func TestZSetLex(t *testing.T) {
	db := openListTestDB(t)
	key := []byte("z")
	inTx(t, db, func(tx *Tx) error {
		var els []ScoreMember
		for _, m := range []string{"a", "b", "bb", "c", "d"} {
			els = append(els, ScoreMember{[]byte(m), 0})
		}
		_, err := tx.ZAdd(key, els, ZAddOptions{})
		return err
	})
	for _, tc := range []struct {
		min, max LexBound
		rev      bool
		want     string
	}{
		{LexBound{Inf: -1}, LexBound{Inf: 1}, false, "a=0 b=0 bb=0 c=0 d=0 "},
		{LexBound{V: []byte("b")}, LexBound{V: []byte("c"), Excl: true}, false, "b=0 bb=0 "},
		{LexBound{V: []byte("b"), Excl: true}, LexBound{V: []byte("c")}, false, "bb=0 c=0 "},
		{LexBound{V: []byte("b"), Excl: true}, LexBound{V: []byte("c")}, true, "c=0 bb=0 "},
		{LexBound{V: []byte("bz")}, LexBound{Inf: 1}, true, "d=0 c=0 "},
		{LexBound{Inf: 1}, LexBound{Inf: -1}, false, ""},
		{LexBound{V: []byte("e")}, LexBound{Inf: 1}, false, ""},
	} {
		db.Lock()
		tx := db.Begin(0)
		got, err := tx.ZRange(key, &ZRangeSpec{By: ByLex, LMin: tc.min, LMax: tc.max, Rev: tc.rev, Count: -1})
		db.Unlock()
		if err != nil || fmtSM(got) != tc.want {
			t.Errorf("%+v: got %s want %s (%v)", tc, fmtSM(got), tc.want, err)
		}
	}
}

func TestZSetNegativeZero(t *testing.T) {
	db := openListTestDB(t)
	inTx(t, db, func(tx *Tx) error {
		_, err := tx.ZAdd([]byte("z"), []ScoreMember{{[]byte("a"), math.Copysign(0, -1)}}, ZAddOptions{})
		return err
	})
	db.Lock()
	defer db.Unlock()
	s, ok, err := db.Begin(0).ZScore([]byte("z"), []byte("a"))
	if err != nil || !ok || math.Signbit(s) {
		t.Fatalf("score %v %v %v", s, ok, err)
	}
}
