package server

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/wasmgears/wasmgears/storage"
)

// The KeysReader reads its next batch ahead; a batch read before a write
// or before one of its keys expired must not be used.
func TestKeysReaderReadAhead(t *testing.T) {
	s := startServer(t)
	c := dial(t, s)
	var mset strings.Builder
	mset.WriteString("mset")
	for i := 0; i < 3*keysBatch; i++ {
		fmt.Fprintf(&mset, " pf:%04d v%d", i, i)
	}
	runSteps(t, c, []step{{mset.String(), "OK"}})
	for _, tc := range []struct{ name, before, code, want string }{
		{"all", "", "GB().count().run('pf:*')", `[["3000"] []]`},
		{"values", "", "GB().filter(lambda r: r['key'] in ('pf:0999', 'pf:1000', 'pf:2999')).map(lambda r: r['value']).sort().run('pf:*')", `[["v1000" "v2999" "v999"] []]`},
		// the batch holding pf:1500 is read ahead while the first record
		// waits; the write must show
		{"write", "", `import time
def f(r):
    if r['key'] == 'pf:0000':
        time.sleep(0.05)
        execute('set', 'pf:1500', 'changed')
GB().foreach(f).filter(lambda r: r['key'] == 'pf:1500').map(lambda r: r['value']).run('pf:*')`, `[["changed"] []]`},
		// inside atomic() the lock stays held: no read-ahead, no wait for one
		{"atomic", "", `with atomic():
    GB().count().run('pf:*')`, `[["3000"] []]`},
		{"expiry", "pexpire pf:1600 100", `import time
def f(r):
    if r['key'] == 'pf:0000':
        time.sleep(0.3)
GB().foreach(f).filter(lambda r: r['key'] in ('pf:1599', 'pf:1600')).map(lambda r: r['key']).run('pf:*')`, `[["pf:1599"] []]`},
	} {
		if tc.before != "" {
			c.do(tc.before)
		}
		if got := c.pyexec(tc.code); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.name, got, tc.want)
		}
	}
}

// A read-ahead batch is used only when nothing that a read sees changed.
func TestKeysPrefetchValidity(t *testing.T) {
	var now atomic.Int64
	now.Store(1_000_000)
	kdb, err := storage.Open(t.TempDir(), storage.Options{Now: now.Load})
	must(t, err)
	defer kdb.Close()
	write := func(f func(tx *storage.Tx) error) {
		kdb.Lock()
		defer kdb.Unlock()
		tx := kdb.Begin(0)
		must(t, f(tx))
		must(t, tx.Commit())
	}
	write(func(tx *storage.Tx) error {
		for _, k := range []string{"k1", "k2", "k3"} {
			if _, _, _, err := tx.Set([]byte(k), []byte("v"), storage.SetOptions{}); err != nil {
				return err
			}
		}
		_, err := tx.Expire([]byte("k2"), now.Load()+100, storage.ExpireFlags{})
		return err
	})
	start, pattern := []byte("0"), []byte("k*")
	fetch := func() *keysPrefetch {
		p := prefetchKeys(kdb, 0, start, pattern, true)
		<-p.done
		return p
	}
	take := func(p *keysPrefetch, db int, cursor []byte) bool {
		kdb.Lock()
		defer kdb.Unlock()
		recs, _, ok := p.take(kdb, db, cursor, pattern, false, true)
		if ok && len(recs) != 3 {
			t.Errorf("read ahead %d records, want 3", len(recs))
		}
		return ok
	}
	if !take(fetch(), 0, start) {
		t.Error("unchanged keyspace: the batch read ahead was not used")
	}
	if take(fetch(), 1, start) || take(fetch(), 0, []byte("42")) {
		t.Error("used for another database or cursor")
	}
	p := fetch()
	write(func(tx *storage.Tx) error {
		_, _, _, err := tx.Set([]byte("k3"), []byte("w"), storage.SetOptions{})
		return err
	})
	if take(p, 0, start) {
		t.Error("used after a write")
	}
	p = fetch()
	now.Add(100) // k2 expires
	if take(p, 0, start) {
		t.Error("used after one of its keys expired")
	}
	// Not read yet because the caller holds the lock: dropped, not waited for.
	kdb.Lock()
	p = prefetchKeys(kdb, 0, start, pattern, true)
	_, _, ok := p.take(kdb, 0, start, pattern, false, true)
	kdb.Unlock()
	<-p.done
	if ok || p.ok {
		t.Errorf("a batch not read yet: used %v, read %v", ok, p.ok)
	}
}
