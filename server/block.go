package server

import (
	"sync"
	"time"

	"github.com/wasmgears/wasmgears/storage"
)

// Blocking commands (BLPOP, XREAD BLOCK, ...) call Ctx.Block when they find
// nothing to return. The dispatcher then releases the keyspace lock, waits
// until one of the keys is written (or the timeout passes, or the client is
// killed) and runs the command again. The wait is registered before the
// lock is released, so no write can slip between the check and the wait.

type blockReq struct {
	keys    [][]byte
	timeout time.Duration // 0 = forever
	onTime  func(c *Ctx)  // reply on timeout; nil = null array
}

// Block asks the dispatcher to wait for writes to keys and re-run the
// command. timeout 0 waits forever. onTimeout writes the timeout reply
// (nil: a null array). Inside MULTI the timeout reply is sent at once.
func (c *Ctx) Block(keys [][]byte, timeout time.Duration, onTimeout func(c *Ctx)) {
	c.block = &blockReq{keys: keys, timeout: timeout, onTime: onTimeout}
}

// Retried reports whether this run follows a wake-up.
func (c *Ctx) Retried() bool { return c.retried }

type waiter struct {
	ch chan struct{}
}

type waitKey struct {
	db  int
	key string
}

type waitRegistry struct {
	mu sync.Mutex
	m  map[waitKey]map[*waiter]struct{}
}

func (r *waitRegistry) add(db int, keys [][]byte, w *waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[waitKey]map[*waiter]struct{}{}
	}
	for _, k := range keys {
		wk := waitKey{db, string(k)}
		s := r.m[wk]
		if s == nil {
			s = map[*waiter]struct{}{}
			r.m[wk] = s
		}
		s[w] = struct{}{}
	}
}

func (r *waitRegistry) remove(db int, keys [][]byte, w *waiter) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		wk := waitKey{db, string(k)}
		if s := r.m[wk]; s != nil {
			delete(s, w)
			if len(s) == 0 {
				delete(r.m, wk)
			}
		}
	}
}

// signal wakes the waiters of the keys written by evs.
func (r *waitRegistry) signal(evs []storage.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.m) == 0 {
		return
	}
	for _, e := range evs {
		if e.Name == "keymiss" { // a read, not a write: nothing to wake for
			continue
		}
		for w := range r.m[waitKey{e.DB, string(e.Key)}] {
			select {
			case w.ch <- struct{}{}:
			default:
			}
		}
	}
}

// blocked counts clients currently waiting (INFO blocked_clients).
func (r *waitRegistry) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[*waiter]bool{}
	for _, s := range r.m {
		for w := range s {
			seen[w] = true
		}
	}
	return len(seen)
}
