package host

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/wasmgears/wasmgears/abi"
)

// StreamReader registrations. Unlike RedisGears (one consumer group
// shared by every registration, a bug its users hit), each registration
// has its own consumer group, named after it, so two registrations on one
// stream both see every entry. Progress lives in the group: entries read
// but not acknowledged are re-read (id 0) after a restart, a retry or an
// unpause, before new ones ('>'), which keeps their order.

const streamConsumer = "__gears_client__"

// Stream registration statuses (RG.DUMPREGISTRATIONS).
const (
	StreamOK      = "OK"
	StreamRetry   = "WAITING_FOR_RETRY_ON_FAILURE"
	StreamAborted = "ABORTED"
	StreamPaused  = "PAUSED"
)

type streamEntry struct {
	id     string
	fields []abi.Value
	at     time.Time // when it was read
}

type streamState struct {
	dirty   map[string]bool          // streams with new entries
	reread  map[string]bool          // streams whose pending entries were re-read
	buf     map[string][]streamEntry // read, waiting for a full batch
	status  string
	lastLag int64
	sumLag  int64
	nLag    int64
}

func (r *Registration) group() string { return "__gears_group_" + r.ID }

// StreamStatus returns the status and lag figures (ms).
func (r *Registration) StreamStatus() (status string, lastLag, avgLag int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.stream == nil {
		return "", 0, 0
	}
	st := r.stream
	avg := int64(0)
	if st.nLag > 0 {
		avg = st.sumLag / st.nLag
	}
	return st.status, st.lastLag, avg
}

func (r *Registration) streamSignal(g *Gears, key []byte) {
	r.mu.Lock()
	if r.stream != nil {
		r.stream.dirty[string(key)] = true
	}
	r.mu.Unlock()
	r.poke()
}

func (r *Registration) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// SetPaused pauses or resumes a stream registration.
func (g *Gears) SetPaused(id string, paused bool) error {
	r := g.Registration(id)
	if r == nil {
		return ErrorReply(fmt.Sprintf("Execution %s does not exists on shard %s", id, ShardID))
	}
	if r.Reader != "StreamReader" {
		verb := "pause"
		if !paused {
			verb = "unpause"
		}
		return ErrorReply(fmt.Sprintf("Reader %s does not support %s", r.Reader, verb))
	}
	r.mu.Lock()
	if paused {
		r.stream.status = StreamPaused
	} else {
		r.stream.status = StreamOK
		r.stream.reread = map[string]bool{} // restart: re-read what is pending
		r.stream.buf = map[string][]streamEntry{}
	}
	r.mu.Unlock()
	if !paused {
		g.scanStreams(r)
	}
	r.poke()
	return nil
}

// exec runs a command for the registration's session under the lock.
func (g *Gears) exec(r *Registration, args ...string) abi.Value {
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	g.backend.LockKeyspace()
	reply := g.backend.Execute(r.session, b)
	g.backend.UnlockKeyspace()
	v, _, err := abi.Decode(reply)
	if err != nil {
		return abi.Error("ERR " + err.Error())
	}
	return v
}

// scanStreams marks the existing streams the registration covers.
func (g *Gears) scanStreams(r *Registration) {
	var keys []string
	if strings.HasSuffix(r.Prefix, "*") {
		pat := globEscape(r.Prefix[:len(r.Prefix)-1]) + "*"
		cursor := "0"
		for {
			v := g.exec(r, "SCAN", cursor, "MATCH", pat, "COUNT", "1000", "TYPE", "stream")
			if v.Kind != abi.KindArray || len(v.Elems) != 2 {
				break
			}
			cursor = string(v.Elems[0].Str)
			for _, k := range v.Elems[1].Elems {
				keys = append(keys, string(k.Str))
			}
			if cursor == "0" {
				break
			}
		}
	} else if v := g.exec(r, "TYPE", r.Prefix); string(v.Str) == "stream" {
		keys = append(keys, r.Prefix)
	}
	r.mu.Lock()
	for _, k := range keys {
		r.stream.dirty[k] = true
	}
	r.mu.Unlock()
}

func globEscape(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`*?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func (r *Registration) streamWorker(g *Gears) {
	ctx := g.background(r)
	g.scanStreams(r)
	r.poke()
	for {
		var timer <-chan time.Time
		r.mu.Lock()
		wait := r.nextDeadline()
		stopped := r.stopped
		r.mu.Unlock()
		if stopped {
			return
		}
		if wait > 0 {
			t := time.NewTimer(wait)
			timer = t.C
			select {
			case <-r.wake:
			case <-timer:
			}
			t.Stop()
		} else if wait < 0 {
			<-r.wake
		}
		r.mu.Lock()
		if r.stopped {
			r.mu.Unlock()
			return
		}
		st := r.stream
		if st.status == StreamPaused || st.status == StreamAborted {
			r.mu.Unlock()
			continue
		}
		if st.status == StreamRetry {
			st.status = StreamOK
		}
		keys := make([]string, 0, len(st.dirty)+len(st.buf))
		for k := range st.dirty {
			keys = append(keys, k)
		}
		for k := range st.buf {
			if !st.dirty[k] {
				keys = append(keys, k)
			}
		}
		st.dirty = map[string]bool{}
		r.mu.Unlock()
		for _, k := range keys {
			if !g.processStream(ctx, r, k) {
				break
			}
		}
	}
}

// nextDeadline: how long the worker may sleep (-1 = until woken).
func (r *Registration) nextDeadline() time.Duration {
	st := r.stream
	switch {
	case st.status == StreamRetry:
		return time.Duration(max(r.RetrySec, 0))*time.Second + time.Millisecond
	case len(st.dirty) > 0:
		return 0
	case r.DurationMS > 0 && len(st.buf) > 0:
		oldest := time.Now()
		for _, es := range st.buf {
			if len(es) > 0 && es[0].at.Before(oldest) {
				oldest = es[0].at
			}
		}
		return max(time.Until(oldest.Add(time.Duration(r.DurationMS)*time.Millisecond)), time.Millisecond)
	}
	return -1
}

// processStream reads the stream and runs full batches (or partial ones
// whose duration passed). It returns false when the registration stopped
// processing (abort, retry, pause).
func (g *Gears) processStream(ctx context.Context, r *Registration, key string) bool {
	grp := r.group()
	if v := g.exec(r, "XGROUP", "CREATE", key, grp, "0"); v.Kind == abi.KindError && !strings.HasPrefix(string(v.Str), "BUSYGROUP") {
		g.log.Warn("stream registration: create group", "registration", r.ID, "stream", key, "err", string(v.Str))
		return true
	}
	for {
		r.mu.Lock()
		reread := !r.stream.reread[key]
		r.stream.reread[key] = true
		r.mu.Unlock()
		var v abi.Value
		if reread { // entries delivered before (restart, retry, unpause) come first
			v = g.exec(r, "XREADGROUP", "GROUP", grp, streamConsumer, "STREAMS", key, "0")
		} else {
			v = g.exec(r, "XREADGROUP", "GROUP", grp, streamConsumer, "COUNT", strconv.Itoa(max(r.Batch, 1)), "STREAMS", key, ">")
		}
		got := parseXRead(v)
		now := time.Now()
		r.mu.Lock()
		for _, e := range got {
			e.at = now
			r.stream.buf[key] = append(r.stream.buf[key], e)
		}
		buf := r.stream.buf[key]
		full := len(buf) >= max(r.Batch, 1) || (reread && len(buf) > 0)
		due := len(buf) > 0 && r.DurationMS > 0 && now.Sub(buf[0].at) >= time.Duration(r.DurationMS)*time.Millisecond
		if !full && !due {
			r.mu.Unlock()
			if reread {
				continue // now read the new entries
			}
			return true
		}
		n := len(buf)
		if !reread && !due {
			n = min(n, max(r.Batch, 1))
		}
		batch := buf[:n]
		r.stream.buf[key] = buf[n:]
		if len(r.stream.buf[key]) == 0 {
			delete(r.stream.buf, key)
		}
		r.mu.Unlock()
		if !g.runStreamBatch(ctx, r, key, batch) {
			return false
		}
	}
}

func parseXRead(v abi.Value) []streamEntry {
	var out []streamEntry
	for _, s := range v.Elems { // [[key, [[id, [f, v...]]...]]]
		if len(s.Elems) != 2 {
			continue
		}
		for _, e := range s.Elems[1].Elems {
			if len(e.Elems) != 2 || e.Elems[1].Kind == abi.KindNull {
				continue // deleted entry still pending
			}
			out = append(out, streamEntry{id: string(e.Elems[0].Str), fields: e.Elems[1].Elems})
		}
	}
	return out
}

// runStreamBatch runs one execution; afterwards the entries are acked
// (and the stream trimmed) or, per onFailedPolicy, retried or abandoned.
func (g *Gears) runStreamBatch(ctx context.Context, r *Registration, key string, batch []streamEntry) bool {
	recs := make([]abi.Value, len(batch))
	for i, e := range batch {
		recs[i] = abi.Array(abi.BulkString(key), abi.BulkString(e.id), abi.Array(e.fields...))
	}
	ex := g.runRegistered(ctx, r, nil, abi.Array(recs...).Encode(), Origin{})
	_, errs, _ := ex.Counts()
	lag := time.Now().UnixMilli() - idMillis(batch[len(batch)-1].id)
	r.mu.Lock()
	st := r.stream
	st.lastLag, st.sumLag, st.nLag = lag, st.sumLag+lag, st.nLag+1
	r.mu.Unlock()
	if len(errs) > 0 {
		if strings.HasPrefix(errs[len(errs)-1], "PAUSE") {
			r.mu.Lock()
			st.status = StreamPaused
			r.mu.Unlock()
			return false
		}
		switch r.OnFailed {
		case "abort":
			r.mu.Lock()
			st.status = StreamAborted
			r.mu.Unlock()
			return false
		case "retry":
			r.mu.Lock()
			st.status = StreamRetry
			st.reread = map[string]bool{}
			st.buf = map[string][]streamEntry{}
			st.dirty[key] = true
			r.mu.Unlock()
			return false
		}
	}
	args := []string{"XACK", key, r.group()}
	for _, e := range batch {
		args = append(args, e.id)
	}
	g.exec(r, args...)
	if r.Trim {
		g.trimStream(r, key)
	}
	return true
}

// trimStream drops the entries every consumer group of the stream is done
// with: those before the oldest pending entry or, for a group with nothing
// pending, after its last delivered id. (Each registration has its own
// group, so trimming to this registration's progress alone would take
// entries from under the others.)
func (g *Gears) trimStream(r *Registration, key string) {
	groups := g.exec(r, "XINFO", "GROUPS", key)
	minMS, minSeq := int64(-1), int64(0)
	for _, gr := range groups.Elems {
		f := map[string]abi.Value{}
		for i := 0; i+1 < len(gr.Elems); i += 2 {
			f[string(gr.Elems[i].Str)] = gr.Elems[i+1]
		}
		var ms, seq int64
		if f["pending"].Int > 0 {
			p := g.exec(r, "XPENDING", key, string(f["name"].Str))
			if len(p.Elems) < 2 {
				return
			}
			ms, seq = splitID(string(p.Elems[1].Str))
		} else {
			ms, seq = splitID(string(f["last-delivered-id"].Str))
			seq++
		}
		if minMS < 0 || ms < minMS || (ms == minMS && seq < minSeq) {
			minMS, minSeq = ms, seq
		}
	}
	if minMS >= 0 {
		g.exec(r, "XTRIM", key, "MINID", fmt.Sprintf("%d-%d", minMS, minSeq))
	}
}

func splitID(id string) (int64, int64) {
	a, b, _ := strings.Cut(id, "-")
	ms, _ := strconv.ParseInt(a, 10, 64)
	seq, _ := strconv.ParseInt(b, 10, 64)
	return ms, seq
}

func idMillis(id string) int64 {
	ms, _, _ := strings.Cut(id, "-")
	n, _ := strconv.ParseInt(ms, 10, 64)
	return n
}
