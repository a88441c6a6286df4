package server

import (
	"strings"
	"time"

	"github.com/wasmgears/wasmgears/storage"
)

// Stream commands: XADD XLEN XRANGE XREVRANGE XDEL XTRIM XREAD XGROUP
// XREADGROUP XACK XPENDING XCLAIM XAUTOCLAIM XINFO XSETID.

// ---- reply helpers ----

func writeID(w *Writer, id storage.StreamID) {
	var buf [42]byte
	w.Bulk(id.Append(buf[:0]))
}

// writeEntry writes [id, [field, value, ...]]; a nil Fields (an entry
// deleted while pending) writes a null array in its place.
func writeEntry(w *Writer, e *storage.StreamEntry) {
	w.Array(2)
	writeID(w, e.ID)
	if e.Fields == nil {
		w.NullArray()
		return
	}
	w.Bulks(e.Fields)
}

func writeEntries(w *Writer, es []storage.StreamEntry) {
	w.Array(len(es))
	for i := range es {
		writeEntry(w, &es[i])
	}
}

// ---- id parsing ----

func parseID(b []byte, missingSeq uint64) (storage.StreamID, error) {
	return storage.ParseStreamID(b, missingSeq, false)
}

func parseStrictID(b []byte, missingSeq uint64) (storage.StreamID, error) {
	return storage.ParseStreamID(b, missingSeq, true)
}

// parseIntervalID parses an XRANGE/XPENDING bound; "(" makes it exclusive.
func parseIntervalID(b []byte, missingSeq uint64) (storage.StreamID, bool, error) {
	if len(b) > 1 && b[0] == '(' {
		id, err := parseStrictID(b[1:], missingSeq)
		return id, true, err
	}
	id, err := parseID(b, missingSeq)
	return id, false, err
}

// parseRange parses start and end with exclusive bounds applied.
func parseRange(a, b []byte) (start, end storage.StreamID, err error) {
	start, sx, err := parseIntervalID(a, 0)
	if err != nil {
		return start, end, err
	}
	end, ex, err := parseIntervalID(b, ^uint64(0))
	if err != nil {
		return start, end, err
	}
	if sx {
		var ok bool
		if start, ok = start.Incr(); !ok {
			return start, end, errorf("ERR invalid start ID for the interval")
		}
	}
	if ex {
		var ok bool
		if end, ok = end.Decr(); !ok {
			return start, end, errorf("ERR invalid end ID for the interval")
		}
	}
	return start, end, nil
}

// ---- XADD / XTRIM ----

const streamTrimDefaultLimit = 100 * 100 // 100 * stream-node-max-entries

// parseTrimArgs parses XADD's (xadd) or XTRIM's options from index i. For
// XADD it stops at the id (returning its index).
func parseTrimArgs(a [][]byte, i int, xadd bool, x *storage.XAddArgs) (int, error) {
	t := &x.Trim
	limitGiven := false
	t.Limit = 0
loop:
	for ; i < len(a); i++ {
		more := len(a) - 1 - i
		opt := a[i]
		switch {
		case xadd && len(opt) == 1 && opt[0] == '*':
			x.Auto = true
			break loop
		case lowerEq(opt, "maxlen") && more > 0, lowerEq(opt, "minid") && more > 0:
			if t.Kind != storage.TrimNone {
				return 0, errorf("ERR syntax error, MAXLEN and MINID options at the same time are not compatible")
			}
			t.Approx = false
			if next := a[i+1]; more >= 2 && len(next) == 1 && (next[0] == '~' || next[0] == '=') {
				t.Approx = next[0] == '~'
				i++
			}
			if lowerEq(opt, "maxlen") {
				n, err := parseInt(a[i+1])
				if err != nil {
					return 0, err
				}
				if n < 0 {
					return 0, errorf("ERR The MAXLEN argument must be >= 0.")
				}
				t.Kind, t.MaxLen = storage.TrimMaxLen, n
			} else {
				id, err := parseStrictID(a[i+1], 0)
				if err != nil {
					return 0, err
				}
				t.Kind, t.MinID = storage.TrimMinID, id
			}
			i++
		case lowerEq(opt, "limit") && more > 0:
			n, err := parseInt(a[i+1])
			if err != nil {
				return 0, err
			}
			if n < 0 {
				return 0, errorf("ERR The LIMIT argument must be >= 0.")
			}
			t.Limit, limitGiven = n, true
			i++
		case xadd && lowerEq(opt, "nomkstream"):
			x.NoMkStream = true
		case xadd:
			id, seqAuto, err := addID(opt)
			if err != nil {
				return 0, err
			}
			x.ID, x.AutoSeq = id, seqAuto
			break loop
		default:
			return 0, errSyntax
		}
	}
	if t.Limit != 0 && t.Kind == storage.TrimNone {
		return 0, errorf("ERR syntax error, LIMIT cannot be used without specifying a trimming strategy")
	}
	if !xadd && t.Kind == storage.TrimNone {
		return 0, errorf("ERR syntax error, XTRIM must be called with a trimming strategy")
	}
	if limitGiven {
		if !t.Approx {
			return 0, errorf("ERR syntax error, LIMIT cannot be used without the special ~ option")
		}
	} else if t.Approx {
		t.Limit = streamTrimDefaultLimit
	}
	return i, nil
}

func addID(b []byte) (storage.StreamID, bool, error) {
	id, _, seqAuto, err := storage.ParseStreamAddID(b)
	return id, seqAuto, err
}

type xaddCmd struct {
	key []byte
	a   storage.XAddArgs
}

func parseXAdd(a [][]byte) (Runner, error) {
	x := xaddCmd{key: a[1]}
	i, err := parseTrimArgs(a, 2, true, &x.a)
	if err != nil {
		return nil, err
	}
	// the trailing checks of the option loop also apply to XADD
	if i >= len(a) {
		i = len(a)
	}
	fields := len(a) - (i + 1)
	if fields < 2 || fields%2 == 1 {
		return nil, errorf("ERR wrong number of arguments for 'xadd' command")
	}
	if !x.a.Auto && !x.a.AutoSeq && x.a.ID.IsZero() {
		return nil, errorf("ERR The ID specified in XADD must be greater than 0-0")
	}
	x.a.Fields = a[i+1:]
	return x, nil
}

func (x xaddCmd) Run(c *Ctx) {
	id, ok, err := c.Tx.XAdd(x.key, x.a)
	switch {
	case err != nil:
		c.Err(err)
	case !ok:
		c.W.Null()
	default:
		writeID(c.W, id)
	}
}

type xtrimCmd struct {
	key []byte
	t   storage.StreamTrim
}

func parseXTrim(a [][]byte) (Runner, error) {
	var x storage.XAddArgs
	if _, err := parseTrimArgs(a, 2, false, &x); err != nil {
		return nil, err
	}
	return xtrimCmd{a[1], x.Trim}, nil
}

func (x xtrimCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.XTrim(x.key, x.t))
}

// ---- XLEN XRANGE XREVRANGE XDEL XSETID ----

type xlenCmd struct{ key []byte }

func (x xlenCmd) Run(c *Ctx) {
	c.IntOrErr(c.Tx.XLen(x.key))
}

type xrangeCmd struct {
	key        []byte
	start, end storage.StreamID
	count      int64 // -1: all
	rev        bool
}

func parseXRange(rev bool) Parser {
	return func(a [][]byte) (Runner, error) {
		x := xrangeCmd{key: a[1], count: -1, rev: rev}
		sa, ea := a[2], a[3]
		if rev {
			sa, ea = ea, sa
		}
		var err error
		if x.start, x.end, err = parseRange(sa, ea); err != nil {
			return nil, err
		}
		for j := 4; j < len(a); j++ {
			if lowerEq(a[j], "count") && j+1 < len(a) {
				n, err := parseInt(a[j+1])
				if err != nil {
					return nil, err
				}
				x.count = max(n, 0)
				j++
				continue
			}
			return nil, errSyntax
		}
		return x, nil
	}
}

func (x xrangeCmd) Run(c *Ctx) {
	ok, err := c.Tx.StreamCheck(x.key)
	if err != nil {
		c.Err(err)
		return
	}
	if !ok {
		c.Tx.Miss(x.key)
		c.W.Array(0)
		return
	}
	if x.count == 0 {
		c.W.NullArray()
		return
	}
	es, _, err := c.Tx.XRange(x.key, x.start, x.end, max(x.count, 0), x.rev)
	if err != nil {
		c.Err(err)
		return
	}
	writeEntries(c.W, es)
}

type xdelCmd struct {
	key   []byte
	ids   []storage.StreamID
	idErr error
}

// parseIDList parses explicit ids; the error (reported after the key
// checks, as Redis orders them) stops at the first bad one.
func parseIDList(args [][]byte) ([]storage.StreamID, error) {
	ids := make([]storage.StreamID, 0, len(args))
	for _, b := range args {
		id, err := parseStrictID(b, 0)
		if err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func parseXDel(a [][]byte) (Runner, error) {
	x := xdelCmd{key: a[1]}
	x.ids, x.idErr = parseIDList(a[2:])
	return x, nil
}

func (x xdelCmd) Run(c *Ctx) {
	ok, err := c.Tx.StreamCheck(x.key)
	switch {
	case err != nil:
		c.Err(err)
		return
	case !ok:
		c.W.Int(0)
		return
	case x.idErr != nil:
		c.Err(x.idErr)
		return
	}
	c.IntOrErr(c.Tx.XDel(x.key, x.ids))
}

type xsetidCmd struct {
	key []byte
	a   storage.XSetIDArgs
}

func parseXSetID(a [][]byte) (Runner, error) {
	x := xsetidCmd{key: a[1], a: storage.XSetIDArgs{EntriesAdded: -1}}
	id, err := parseStrictID(a[2], 0)
	if err != nil {
		return nil, err
	}
	x.a.ID = id
	for j := 3; j < len(a); j++ {
		more := len(a) - 1 - j
		switch {
		case lowerEq(a[j], "entriesadded") && more > 0:
			n, err := parseInt(a[j+1])
			if err != nil {
				return nil, err
			}
			if n < 0 {
				return nil, errorf("ERR entries_added must be positive")
			}
			x.a.EntriesAdded = n
			j++
		case lowerEq(a[j], "maxdeletedid") && more > 0:
			md, err := parseStrictID(a[j+1], 0)
			if err != nil {
				return nil, err
			}
			if id.Cmp(md) < 0 {
				return nil, errorf("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
			}
			x.a.MaxDeleted = &md
			j++
		default:
			return nil, errSyntax
		}
	}
	return x, nil
}

func (x xsetidCmd) Run(c *Ctx) {
	if err := c.Tx.XSetID(x.key, x.a); err != nil {
		c.Err(err)
		return
	}
	c.W.OK()
}

// ---- XREAD / XREADGROUP ----

type xreadCmd struct {
	group     bool
	groupName []byte
	consumer  []byte
	count     int64
	block     bool
	timeout   time.Duration
	noack     bool
	keys      [][]byte
	idArgs    [][]byte
	ids       []storage.StreamID
	newOnly   []bool // ">"
	resolved  bool   // ids fixed at the first run ("$" resolved)
}

func parseXRead(group bool) Parser {
	return func(a [][]byte) (Runner, error) {
		x := &xreadCmd{group: group}
		name := "xread"
		if group {
			name = "xreadgroup"
		}
		streamsAt := 0
		for i := 1; i < len(a); i++ {
			more := len(a) - 1 - i
			switch o := a[i]; {
			case lowerEq(o, "block") && more > 0:
				i++
				ms, err := parseInt(a[i])
				if err != nil {
					return nil, errorf("ERR timeout is not an integer or out of range")
				}
				if ms < 0 {
					return nil, errNegTimeout
				}
				x.block, x.timeout = true, time.Duration(ms)*time.Millisecond
			case lowerEq(o, "count") && more > 0:
				i++
				n, err := parseInt(a[i])
				if err != nil {
					return nil, err
				}
				x.count = max(n, 0)
			case lowerEq(o, "streams") && more > 0:
				streamsAt = i + 1
				if (len(a)-streamsAt)%2 != 0 {
					sym := "$"
					if group {
						sym = ">"
					}
					return nil, errorf("ERR Unbalanced '" + name + "' list of streams: for each stream key an ID or '" + sym + "' must be specified.")
				}
				i = len(a)
			case lowerEq(o, "group") && more >= 2:
				if !group {
					return nil, errorf("ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.")
				}
				x.groupName, x.consumer = a[i+1], a[i+2]
				i += 2
			case lowerEq(o, "noack"):
				if !group {
					return nil, errorf("ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.")
				}
				x.noack = true
			default:
				return nil, errSyntax
			}
		}
		if streamsAt == 0 {
			return nil, errSyntax
		}
		if group && x.groupName == nil {
			return nil, errorf("ERR Missing GROUP option for XREADGROUP")
		}
		n := (len(a) - streamsAt) / 2
		x.keys, x.idArgs = a[streamsAt:streamsAt+n], a[streamsAt+n:]
		x.ids = make([]storage.StreamID, n)
		x.newOnly = make([]bool, n)
		return x, nil
	}
}

// xreadKeys returns the key positions of XREAD/XREADGROUP (after STREAMS).
func xreadKeys(a [][]byte) []int {
	for i := 1; i < len(a); i++ {
		if lowerEq(a[i], "streams") {
			n := (len(a) - i - 1) / 2
			out := make([]int, n)
			for j := range out {
				out[j] = i + 1 + j
			}
			return out
		}
	}
	return nil
}

// resolve validates keys, groups and ids on the first run, as Redis does
// before serving anything; "$" becomes the stream's last id.
func (x *xreadCmd) resolve(c *Ctx) error {
	for i, key := range x.keys {
		var exists bool
		var err error
		if x.group {
			exists, err = c.Tx.XReadGroupCheck(key, x.groupName)
			if err != nil {
				return err
			}
			if !exists {
				return storage.ErrXReadGroupNoGroup(key, x.groupName)
			}
		} else if exists, err = c.Tx.StreamCheck(key); err != nil {
			return err
		}
		arg := x.idArgs[i]
		switch {
		case len(arg) == 1 && arg[0] == '$':
			if x.group {
				return errorf("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.")
			}
			if !exists {
				c.Tx.Miss(key)
			}
			if x.ids[i], err = c.Tx.StreamLastID(key); err != nil {
				return err
			}
		case len(arg) == 1 && arg[0] == '>':
			if !x.group {
				return errorf("ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.")
			}
			x.ids[i], x.newOnly[i] = storage.MaxStreamID, true
		default:
			if !exists && !x.group {
				c.Tx.Miss(key)
			}
			id, err := parseStrictID(arg, 0)
			if err != nil {
				return err
			}
			x.ids[i] = id
			x.newOnly[i] = x.group && id == storage.MaxStreamID
		}
	}
	return nil
}

type xreadResult struct {
	key     []byte
	entries []storage.StreamEntry
}

func (x *xreadCmd) Run(c *Ctx) {
	retried := c.Retried()
	if !x.resolved {
		if err := x.resolve(c); err != nil {
			c.Err(err)
			return
		}
		x.resolved = true
	}
	if retried {
		c.Tx.SuppressKeymiss() // woken: the first run reported the misses
	}
	var res []xreadResult
	for i, key := range x.keys {
		if x.group {
			es, served, ok, err := c.Tx.XReadGroup(key, storage.XReadGroupArgs{
				Group: x.groupName, Consumer: x.consumer, New: x.newOnly[i], After: x.ids[i], Count: x.count, NoAck: x.noack})
			if err != nil {
				if retried && err == storage.ErrWrongType {
					c.W.Error("UNBLOCKED the stream key no longer exists")
					return
				}
				c.Err(err)
				return
			}
			if !ok {
				if retried {
					exists, _ := c.Tx.StreamCheck(key)
					if !exists {
						c.W.Error("UNBLOCKED the stream key no longer exists")
					} else {
						c.W.Error("NOGROUP the consumer group this client was blocked on no longer exists")
					}
				} else {
					c.Err(storage.ErrXReadGroupNoGroup(key, x.groupName))
				}
				return
			}
			if served {
				res = append(res, xreadResult{key, es})
			}
			continue
		}
		es, err := c.Tx.XRead(key, x.ids[i], x.count)
		if err != nil {
			if retried && err == storage.ErrWrongType {
				continue
			}
			c.Err(err)
			return
		}
		if len(es) > 0 {
			res = append(res, xreadResult{key, es})
		}
	}
	if len(res) > 0 {
		w := c.W
		if w.Proto >= 3 {
			w.Map(len(res))
		} else {
			w.Array(len(res))
		}
		for _, r := range res {
			if w.Proto < 3 {
				w.Array(2)
			}
			w.Bulk(r.key)
			writeEntries(w, r.entries)
		}
		return
	}
	if x.block && !c.InMulti {
		c.Block(x.keys, x.timeout, nil)
		return
	}
	c.W.NullArray()
}

// ---- XGROUP ----

type xgroupCmd struct {
	sub        string
	key, group []byte
	consumer   []byte
	o          storage.StreamGroupOpts
	idErr      error
}

func subSyntaxError(a [][]byte) error {
	return errorf("ERR unknown subcommand or wrong number of arguments for '" + truncArg(a[1]) + "'. Try " + strings.ToUpper(string(a[0])) + " HELP.")
}

func parseXGroup(sub string) Parser {
	return func(a [][]byte) (Runner, error) {
		x := xgroupCmd{sub: sub, key: a[2], group: a[3], o: storage.StreamGroupOpts{EntriesRead: -1}}
		switch sub {
		case "create":
			for i := 5; i < len(a); {
				switch {
				case lowerEq(a[i], "mkstream"):
					x.o.MkStream = true
					i++
				case lowerEq(a[i], "entriesread") && i+1 < len(a):
					n, err := parseInt(a[i+1])
					if err != nil {
						return nil, err
					}
					if n < 0 && n != -1 {
						return nil, errorf("ERR value for ENTRIESREAD must be positive or -1")
					}
					x.o.EntriesRead = n
					i += 2
				default:
					return nil, subSyntaxError(a)
				}
			}
			if len(a) > 8 {
				return nil, subSyntaxError(a)
			}
			if len(a[4]) == 1 && a[4][0] == '$' {
				x.o.Dollar = true
			} else {
				x.o.ID, x.idErr = parseStrictID(a[4], 0)
			}
		case "setid":
			if len(a) != 5 && len(a) != 7 {
				return nil, subSyntaxError(a)
			}
			if len(a) == 7 {
				if !lowerEq(a[5], "entriesread") {
					return nil, subSyntaxError(a)
				}
				n, err := parseInt(a[6])
				if err != nil {
					return nil, err
				}
				if n < 0 && n != -1 {
					return nil, errorf("ERR value for ENTRIESREAD must be positive or -1")
				}
				x.o.EntriesRead = n
			}
			if len(a[4]) == 1 && a[4][0] == '$' {
				x.o.Dollar = true
			} else {
				x.o.ID, x.idErr = parseID(a[4], 0)
			}
		case "createconsumer", "delconsumer":
			x.consumer = a[4]
		}
		return x, nil
	}
}

func (x xgroupCmd) Run(c *Ctx) {
	tx := c.Tx
	switch x.sub {
	case "create":
		if x.idErr != nil {
			// key checks come first in Redis
			if ok, err := tx.StreamCheck(x.key); err != nil || (!ok && !x.o.MkStream) {
				if err == nil {
					err = storage.Error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")
				}
				c.Err(err)
				return
			}
			c.Err(x.idErr)
			return
		}
		if err := tx.XGroupCreate(x.key, x.group, x.o); err != nil {
			c.Err(err)
			return
		}
		c.W.OK()
	case "setid":
		if x.idErr != nil {
			if err := tx.XGroupCheck(x.key, x.group); err != nil {
				c.Err(err)
				return
			}
			c.Err(x.idErr)
			return
		}
		if err := tx.XGroupSetID(x.key, x.group, x.o); err != nil {
			c.Err(err)
			return
		}
		c.W.OK()
	case "destroy":
		ok, err := tx.XGroupDestroy(x.key, x.group)
		if err != nil {
			c.Err(err)
			return
		}
		c.W.Int(b2i(ok))
	case "createconsumer":
		ok, err := tx.XGroupCreateConsumer(x.key, x.group, x.consumer)
		if err != nil {
			c.Err(err)
			return
		}
		c.W.Int(b2i(ok))
	case "delconsumer":
		n, err := tx.XGroupDelConsumer(x.key, x.group, x.consumer)
		if err != nil {
			c.Err(err)
			return
		}
		c.W.Int(n)
	}
}

// ---- XACK XPENDING XCLAIM XAUTOCLAIM ----

type xackCmd struct {
	key, group []byte
	ids        []storage.StreamID
	idErr      error
}

func parseXAck(a [][]byte) (Runner, error) {
	x := xackCmd{key: a[1], group: a[2]}
	x.ids, x.idErr = parseIDList(a[3:])
	return x, nil
}

func (x xackCmd) Run(c *Ctx) {
	ok, err := c.Tx.XAckCheck(x.key, x.group)
	switch {
	case err != nil:
		c.Err(err)
		return
	case !ok:
		c.W.Int(0)
		return
	case x.idErr != nil:
		c.Err(x.idErr)
		return
	}
	c.IntOrErr(c.Tx.XAck(x.key, x.group, x.ids))
}

type xpendingCmd struct {
	key, group []byte
	extended   bool
	a          storage.XPendingArgs
}

func parseXPending(a [][]byte) (Runner, error) {
	x := xpendingCmd{key: a[1], group: a[2]}
	if len(a) == 3 {
		return x, nil
	}
	if len(a) < 6 {
		return nil, errSyntax
	}
	i := 3
	if lowerEq(a[i], "idle") {
		n, err := parseInt(a[i+1])
		if err != nil {
			return nil, err
		}
		x.a.MinIdle = n
		i += 2
		if len(a) < 8 {
			return nil, errSyntax
		}
	}
	if len(a)-i > 4 {
		return nil, errSyntax
	}
	if len(a)-i < 3 {
		return nil, errSyntax
	}
	var err error
	if x.a.Start, x.a.End, err = parseRange(a[i], a[i+1]); err != nil {
		return nil, err
	}
	n, err := parseInt(a[i+2])
	if err != nil {
		return nil, err
	}
	x.a.Count = max(n, 0)
	if i+3 < len(a) {
		x.a.Consumer = a[i+3]
	}
	x.extended = true
	return x, nil
}

func (x xpendingCmd) Run(c *Ctx) {
	w := c.W
	if !x.extended {
		s, err := c.Tx.XPendingSummary(x.key, x.group)
		if err != nil {
			c.Err(err)
			return
		}
		w.Array(4)
		w.Int(int64(s.Count))
		if s.Count == 0 {
			w.Null()
			w.Null()
			w.NullArray()
			return
		}
		writeID(w, s.Min)
		writeID(w, s.Max)
		w.Array(len(s.PerConsume))
		for _, cp := range s.PerConsume {
			w.Array(2)
			w.Bulk(cp.Name)
			w.BulkString(itoa(int64(cp.Pending)))
		}
		return
	}
	ps, err := c.Tx.XPendingRange(x.key, x.group, x.a)
	if err != nil {
		c.Err(err)
		return
	}
	now := c.Tx.Now()
	w.Array(len(ps))
	for _, p := range ps {
		w.Array(4)
		writeID(w, p.ID)
		w.Bulk(p.Consumer)
		w.Int(max(now-p.DeliveryTime, 0))
		w.Int(int64(p.DeliveryCount))
	}
}

type xclaimCmd struct {
	key []byte
	a   storage.XClaimArgs
}

func parseXClaim(a [][]byte) (Runner, error) {
	x := xclaimCmd{key: a[1], a: storage.XClaimArgs{Group: a[2], Consumer: a[3], DeliveryTime: -1, RetryCount: -1}}
	n, err := storage.ParseInt(a[4])
	if err != nil {
		return nil, errorf("ERR Invalid min-idle-time argument for XCLAIM")
	}
	x.a.MinIdle = max(n, 0)
	j := 5
	for ; j < len(a); j++ {
		id, err := parseID(a[j], 0)
		if err != nil {
			break
		}
		x.a.IDs = append(x.a.IDs, id)
	}
	now := nowMs()
	for ; j < len(a); j++ {
		more := len(a) - 1 - j
		opt := a[j]
		switch {
		case lowerEq(opt, "force"):
			x.a.Force = true
		case lowerEq(opt, "justid"):
			x.a.JustID = true
		case lowerEq(opt, "idle") && more > 0:
			j++
			n, err := storage.ParseInt(a[j])
			if err != nil {
				return nil, errorf("ERR Invalid IDLE option argument for XCLAIM")
			}
			x.a.DeliveryTime = now - n
		case lowerEq(opt, "time") && more > 0:
			j++
			n, err := storage.ParseInt(a[j])
			if err != nil {
				return nil, errorf("ERR Invalid TIME option argument for XCLAIM")
			}
			x.a.DeliveryTime = n
		case lowerEq(opt, "retrycount") && more > 0:
			j++
			n, err := storage.ParseInt(a[j])
			if err != nil {
				return nil, errorf("ERR Invalid RETRYCOUNT option argument for XCLAIM")
			}
			x.a.RetryCount = n
		case lowerEq(opt, "lastid") && more > 0:
			j++
			id, err := parseID(a[j], 0)
			if err != nil {
				return nil, err
			}
			x.a.LastID = &id
		default:
			return nil, errorf("ERR Unrecognized XCLAIM option '" + string(opt) + "'")
		}
	}
	return x, nil
}

func (x xclaimCmd) Run(c *Ctx) {
	es, err := c.Tx.XClaim(x.key, x.a)
	if err != nil {
		c.Err(err)
		return
	}
	if x.a.JustID {
		c.W.Array(len(es))
		for _, e := range es {
			writeID(c.W, e.ID)
		}
		return
	}
	writeEntries(c.W, es)
}

type xautoclaimCmd struct {
	key []byte
	a   storage.XAutoClaimArgs
}

func parseXAutoClaim(a [][]byte) (Runner, error) {
	x := xautoclaimCmd{key: a[1], a: storage.XAutoClaimArgs{Group: a[2], Consumer: a[3], Count: 100}}
	n, err := storage.ParseInt(a[4])
	if err != nil {
		return nil, errorf("ERR Invalid min-idle-time argument for XAUTOCLAIM")
	}
	x.a.MinIdle = max(n, 0)
	start, ex, err := parseIntervalID(a[5], 0)
	if err != nil {
		return nil, err
	}
	if ex {
		var ok bool
		if start, ok = start.Incr(); !ok {
			return nil, errorf("ERR invalid start ID for the interval")
		}
	}
	x.a.Start = start
	for j := 6; j < len(a); j++ {
		more := len(a) - 1 - j
		switch {
		case lowerEq(a[j], "count") && more > 0:
			j++
			n, err := storage.ParseInt(a[j])
			if err != nil || n < 1 || n > (1<<63-1)/10 {
				return nil, errorf("ERR COUNT must be > 0")
			}
			x.a.Count = n
		case lowerEq(a[j], "justid"):
			x.a.JustID = true
		default:
			return nil, errSyntax
		}
	}
	return x, nil
}

func (x xautoclaimCmd) Run(c *Ctx) {
	next, es, deleted, err := c.Tx.XAutoClaim(x.key, x.a)
	if err != nil {
		c.Err(err)
		return
	}
	w := c.W
	w.Array(3)
	writeID(w, next)
	if x.a.JustID {
		w.Array(len(es))
		for _, e := range es {
			writeID(w, e.ID)
		}
	} else {
		writeEntries(w, es)
	}
	w.Array(len(deleted))
	for _, id := range deleted {
		writeID(w, id)
	}
}

// ---- XINFO ----

type xinfoStreamCmd struct {
	key   []byte
	full  bool
	count int64
}

func parseXInfoStream(a [][]byte) (Runner, error) {
	x := xinfoStreamCmd{key: a[2], count: 10}
	if len(a) > 3 {
		if !lowerEq(a[3], "full") {
			return nil, subSyntaxError(a)
		}
		x.full = true
		if len(a) > 4 {
			if len(a) != 6 || !lowerEq(a[4], "count") {
				return nil, subSyntaxError(a)
			}
			n, err := parseInt(a[5])
			if err != nil {
				return nil, err
			}
			x.count = max(n, 0)
		}
	}
	return x, nil
}

func (x xinfoStreamCmd) Run(c *Ctx) {
	in, err := c.Tx.XInfoStream(x.key, x.full, x.count)
	if err != nil {
		c.Err(err)
		return
	}
	w := c.W
	keys := (in.Length + 99) / 100
	if x.full {
		w.Map(9)
	} else {
		w.Map(10)
	}
	w.BulkString("length")
	w.Int(in.Length)
	w.BulkString("radix-tree-keys")
	w.Int(keys)
	w.BulkString("radix-tree-nodes")
	w.Int(keys + 1)
	w.BulkString("last-generated-id")
	writeID(w, in.LastID)
	w.BulkString("max-deleted-entry-id")
	writeID(w, in.MaxDeleted)
	w.BulkString("entries-added")
	w.Int(in.EntriesAdded)
	w.BulkString("recorded-first-entry-id")
	writeID(w, in.FirstRecord)
	if !x.full {
		w.BulkString("groups")
		w.Int(in.Groups)
		w.BulkString("first-entry")
		if in.First != nil {
			writeEntry(w, in.First)
		} else {
			w.Null()
		}
		w.BulkString("last-entry")
		if in.Last != nil {
			writeEntry(w, in.Last)
		} else {
			w.Null()
		}
		return
	}
	w.BulkString("entries")
	writeEntries(w, in.Entries)
	w.BulkString("groups")
	w.Array(len(in.GroupsFull))
	for _, g := range in.GroupsFull {
		w.Map(7)
		w.BulkString("name")
		w.Bulk(g.Name)
		w.BulkString("last-delivered-id")
		writeID(w, g.LastID)
		writeReadLag(w, &g.StreamGroupInfo)
		w.BulkString("pel-count")
		w.Int(g.PelCnt)
		w.BulkString("pending")
		w.Array(len(g.PEL))
		for _, p := range g.PEL {
			w.Array(4)
			writeID(w, p.ID)
			w.Bulk(p.Consumer)
			w.Int(p.DeliveryTime)
			w.Int(int64(p.DeliveryCount))
		}
		w.BulkString("consumers")
		w.Array(len(g.Consumers))
		for _, cf := range g.Consumers {
			w.Map(4)
			w.BulkString("name")
			w.Bulk(cf.Name)
			w.BulkString("seen-time")
			w.Int(cf.SeenTime)
			w.BulkString("pel-count")
			w.Int(int64(cf.Pending))
			w.BulkString("pending")
			w.Array(len(cf.PEL))
			for _, p := range cf.PEL {
				w.Array(3)
				writeID(w, p.ID)
				w.Int(p.DeliveryTime)
				w.Int(int64(p.DeliveryCount))
			}
		}
	}
}

func writeReadLag(w *Writer, g *storage.StreamGroupInfo) {
	w.BulkString("entries-read")
	if g.EntriesRead == -1 {
		w.Null()
	} else {
		w.Int(g.EntriesRead)
	}
	w.BulkString("lag")
	if g.LagOK {
		w.Int(g.Lag)
	} else {
		w.Null()
	}
}

type xinfoGroupsCmd struct{ key []byte }

func (x xinfoGroupsCmd) Run(c *Ctx) {
	gs, err := c.Tx.XInfoGroups(x.key)
	if err != nil {
		c.Err(err)
		return
	}
	w := c.W
	w.Array(len(gs))
	for i := range gs {
		g := &gs[i]
		w.Map(6)
		w.BulkString("name")
		w.Bulk(g.Name)
		w.BulkString("consumers")
		w.Int(int64(g.Consumers))
		w.BulkString("pending")
		w.Int(g.PelCnt)
		w.BulkString("last-delivered-id")
		writeID(w, g.LastID)
		writeReadLag(w, g)
	}
}

type xinfoConsumersCmd struct{ key, group []byte }

func (x xinfoConsumersCmd) Run(c *Ctx) {
	cs, err := c.Tx.XInfoConsumers(x.key, x.group)
	if err != nil {
		c.Err(err)
		return
	}
	w := c.W
	now := c.Tx.Now()
	w.Array(len(cs))
	for _, cn := range cs {
		w.Map(3)
		w.BulkString("name")
		w.Bulk(cn.Name)
		w.BulkString("pending")
		w.Int(int64(cn.Pending))
		w.BulkString("idle")
		w.Int(max(now-cn.SeenTime, 0))
	}
}

// writeStreamHelp is writeHelp with the stream commands' last line
// ("Prints this help.", as Redis words it for XGROUP and XINFO).
func writeStreamHelp(w *Writer, cmd string, lines []string) {
	all := append([]string{cmd + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"}, lines...)
	all = append(all, "HELP", "    Prints this help.")
	w.Array(len(all))
	for _, l := range all {
		w.Simple(l)
	}
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	neg := n < 0
	u := uint64(n)
	if neg {
		u = -u
	}
	for {
		i--
		b[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	if neg {
		i--
		b[i] = '-'
	}
	return string(b[i:])
}

// ---- registration ----

func init() {
	const g = "stream"
	idArg := strArg("id")
	register(
		&Command{Name: "xadd", Arity: -5, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "5.0.0",
			Summary: "Appends a new message to a stream. Creates the key if it doesn't exist.", Complexity: "O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.",
			Args: []Arg{keyArg("key"), {Name: "nomkstream", Type: ArgPureTok, Token: "NOMKSTREAM", Optional: true},
				{Name: "trim", Type: ArgBlock, Optional: true, Args: []Arg{
					{Name: "strategy", Type: ArgOneOf, Args: []Arg{{Name: "maxlen", Type: ArgPureTok, Token: "MAXLEN"}, {Name: "minid", Type: ArgPureTok, Token: "MINID"}}},
					{Name: "operator", Type: ArgOneOf, Optional: true, Args: []Arg{{Name: "equal", Type: ArgPureTok, Token: "="}, {Name: "approximately", Type: ArgPureTok, Token: "~"}}},
					strArg("threshold"), {Name: "count", Type: ArgInteger, Token: "LIMIT", Optional: true}}},
				{Name: "id-selector", Type: ArgOneOf, Args: []Arg{{Name: "auto-id", Type: ArgPureTok, Token: "*"}, idArg}},
				{Name: "data", Type: ArgBlock, Multiple: true, Args: []Arg{strArg("field"), strArg("value")}}},
			Parse: parseXAdd},
		&Command{Name: "xlen", Arity: 2, Flags: FlagReadonly | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "5.0.0",
			Summary: "Return the number of messages in a stream.", Complexity: "O(1)",
			Args: []Arg{keyArg("key")}, Parse: func(a [][]byte) (Runner, error) { return xlenCmd{a[1]}, nil }},
		&Command{Name: "xrange", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "5.0.0",
			Summary: "Returns the messages from a stream within a range of IDs.", Complexity: "O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
			Args: []Arg{keyArg("key"), strArg("start"), strArg("end"), {Name: "count", Type: ArgInteger, Token: "COUNT", Optional: true}}, Parse: parseXRange(false)},
		&Command{Name: "xrevrange", Arity: -4, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "5.0.0",
			Summary: "Returns the messages from a stream within a range of IDs in reverse order.", Complexity: "O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).",
			Args: []Arg{keyArg("key"), strArg("end"), strArg("start"), {Name: "count", Type: ArgInteger, Token: "COUNT", Optional: true}}, Parse: parseXRange(true)},
		&Command{Name: "xdel", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "5.0.0",
			Summary: "Returns the number of messages after removing them from a stream.", Complexity: "O(1) for each single item to delete in the stream, regardless of the stream size.",
			Args: []Arg{keyArg("key"), {Name: "id", Type: ArgString, Multiple: true}}, Parse: parseXDel},
		&Command{Name: "xtrim", Arity: -4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "5.0.0",
			Summary: "Deletes messages from the beginning of a stream.", Complexity: "O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.",
			Args: []Arg{keyArg("key"), {Name: "trim", Type: ArgBlock, Args: []Arg{
				{Name: "strategy", Type: ArgOneOf, Args: []Arg{{Name: "maxlen", Type: ArgPureTok, Token: "MAXLEN"}, {Name: "minid", Type: ArgPureTok, Token: "MINID"}}},
				{Name: "operator", Type: ArgOneOf, Optional: true, Args: []Arg{{Name: "equal", Type: ArgPureTok, Token: "="}, {Name: "approximately", Type: ArgPureTok, Token: "~"}}},
				strArg("threshold"), {Name: "count", Type: ArgInteger, Token: "LIMIT", Optional: true}}}},
			Parse: parseXTrim},
		&Command{Name: "xread", Arity: -4, Flags: FlagReadonly | FlagBlocking | FlagMovableKeys, Group: g, Since: "5.0.0",
			Summary: "Returns messages from multiple streams with IDs greater than the ones requested. Blocks until a message is available otherwise.", Complexity: "For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.",
			Args: []Arg{{Name: "count", Type: ArgInteger, Token: "COUNT", Optional: true}, {Name: "milliseconds", Type: ArgInteger, Token: "BLOCK", Optional: true},
				{Name: "streams", Type: ArgBlock, Token: "STREAMS", Args: []Arg{{Name: "key", Type: ArgKey, Multiple: true}, {Name: "id", Type: ArgString, Multiple: true}}}},
			Parse: parseXRead(false), Keys: xreadKeys},
		&Command{Name: "xreadgroup", Arity: -7, Flags: FlagWrite | FlagBlocking | FlagMovableKeys, Group: g, Since: "5.0.0",
			Summary: "Returns new or historical messages from a stream for a consumer in a group. Blocks until a message is available otherwise.", Complexity: "For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.",
			Args: []Arg{{Name: "group-block", Type: ArgBlock, Token: "GROUP", Args: []Arg{strArg("group"), strArg("consumer")}},
				{Name: "count", Type: ArgInteger, Token: "COUNT", Optional: true}, {Name: "milliseconds", Type: ArgInteger, Token: "BLOCK", Optional: true},
				optTok("NOACK"),
				{Name: "streams", Type: ArgBlock, Token: "STREAMS", Args: []Arg{{Name: "key", Type: ArgKey, Multiple: true}, {Name: "id", Type: ArgString, Multiple: true}}}},
			Parse: parseXRead(true), Keys: xreadKeys},
		&Command{Name: "xgroup", Arity: -2, Group: g, Since: "5.0.0",
			Summary: "A container for consumer groups commands.", Complexity: "Depends on subcommand.",
			Subs: []*Command{
				{Name: "create", Arity: -5, Flags: FlagWrite | FlagDenyOOM, FirstKey: 2, LastKey: 2, Step: 1,
					Summary: "Creates a consumer group.", Complexity: "O(1)",
					Args: []Arg{keyArg("key"), strArg("group"), {Name: "id-selector", Type: ArgOneOf, Args: []Arg{idArg, {Name: "new-id", Type: ArgPureTok, Token: "$"}}},
						optTok("MKSTREAM"), {Name: "entries-read", Type: ArgInteger, Token: "ENTRIESREAD", Optional: true}},
					Parse: parseXGroup("create")},
				{Name: "setid", Arity: -5, Flags: FlagWrite, FirstKey: 2, LastKey: 2, Step: 1,
					Summary: "Sets the last-delivered ID of a consumer group.", Complexity: "O(1)",
					Args: []Arg{keyArg("key"), strArg("group"), {Name: "id-selector", Type: ArgOneOf, Args: []Arg{idArg, {Name: "new-id", Type: ArgPureTok, Token: "$"}}},
						{Name: "entriesread", Type: ArgInteger, Token: "ENTRIESREAD", Optional: true}},
					Parse: parseXGroup("setid")},
				{Name: "destroy", Arity: 4, Flags: FlagWrite, FirstKey: 2, LastKey: 2, Step: 1,
					Summary: "Destroys a consumer group.", Complexity: "O(N) where N is the number of entries in the group's pending entries list (PEL).",
					Args: []Arg{keyArg("key"), strArg("group")}, Parse: parseXGroup("destroy")},
				{Name: "createconsumer", Arity: 5, Flags: FlagWrite | FlagDenyOOM, FirstKey: 2, LastKey: 2, Step: 1, Since: "6.2.0",
					Summary: "Creates a consumer in a consumer group.", Complexity: "O(1)",
					Args: []Arg{keyArg("key"), strArg("group"), strArg("consumer")}, Parse: parseXGroup("createconsumer")},
				{Name: "delconsumer", Arity: 5, Flags: FlagWrite, FirstKey: 2, LastKey: 2, Step: 1,
					Summary: "Deletes a consumer from a consumer group.", Complexity: "O(1)",
					Args: []Arg{keyArg("key"), strArg("group"), strArg("consumer")}, Parse: parseXGroup("delconsumer")},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale,
					Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)",
					Parse: simple(func(c *Ctx, a [][]byte) {
						writeStreamHelp(c.W, "XGROUP", []string{
							"CREATE <key> <groupname> <id|$> [option]",
							"    Create a new consumer group. Options are:",
							"    * MKSTREAM",
							"      Create the empty stream if it does not exist.",
							"    * ENTRIESREAD entries_read",
							"      Set the group's entries_read counter (internal use).",
							"CREATECONSUMER <key> <groupname> <consumer>",
							"    Create a new consumer in the specified group.",
							"DELCONSUMER <key> <groupname> <consumer>",
							"    Remove the specified consumer.",
							"DESTROY <key> <groupname>",
							"    Remove the specified group.",
							"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
							"    Set the current group ID and entries_read counter.",
						})
					})},
			}},
		&Command{Name: "xack", Arity: -4, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "5.0.0",
			Summary: "Returns the number of messages that were successfully acknowledged by the consumer group member of a stream.", Complexity: "O(1) for each message ID processed.",
			Args: []Arg{keyArg("key"), strArg("group"), {Name: "id", Type: ArgString, Multiple: true}}, Parse: parseXAck},
		&Command{Name: "xpending", Arity: -3, Flags: FlagReadonly, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "5.0.0",
			Summary: "Returns the information and entries from a stream consumer group's pending entries list.", Complexity: "O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.",
			Args: []Arg{keyArg("key"), strArg("group"), {Name: "filters", Type: ArgBlock, Optional: true, Args: []Arg{
				{Name: "min-idle-time", Type: ArgInteger, Token: "IDLE", Optional: true}, strArg("start"), strArg("end"), intArg("count"),
				{Name: "consumer", Type: ArgString, Optional: true}}}},
			Parse: parseXPending},
		&Command{Name: "xclaim", Arity: -6, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "5.0.0",
			Summary: "Changes, or acquires, ownership of a message in a consumer group, as if the message was delivered a consumer group member.", Complexity: "O(log N) with N being the number of messages in the PEL of the consumer group.",
			Args: []Arg{keyArg("key"), strArg("group"), strArg("consumer"), strArg("min-idle-time"), {Name: "id", Type: ArgString, Multiple: true},
				{Name: "ms", Type: ArgInteger, Token: "IDLE", Optional: true}, {Name: "unix-time-milliseconds", Type: ArgUnixTime, Token: "TIME", Optional: true},
				{Name: "count", Type: ArgInteger, Token: "RETRYCOUNT", Optional: true}, optTok("FORCE"), optTok("JUSTID"),
				{Name: "lastid", Type: ArgString, Token: "LASTID", Optional: true}},
			Parse: parseXClaim},
		&Command{Name: "xautoclaim", Arity: -6, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "6.2.0",
			Summary: "Changes, or acquires, ownership of messages in a consumer group, as if the messages were delivered to as consumer group member.", Complexity: "O(1) if COUNT is small.",
			Args: []Arg{keyArg("key"), strArg("group"), strArg("consumer"), strArg("min-idle-time"), strArg("start"),
				{Name: "count", Type: ArgInteger, Token: "COUNT", Optional: true}, optTok("JUSTID")},
			Parse: parseXAutoClaim},
		&Command{Name: "xinfo", Arity: -2, Group: g, Since: "5.0.0",
			Summary: "A container for stream introspection commands.", Complexity: "Depends on subcommand.",
			Subs: []*Command{
				{Name: "stream", Arity: -3, Flags: FlagReadonly, FirstKey: 2, LastKey: 2, Step: 1,
					Summary: "Returns information about a stream.", Complexity: "O(1)",
					Args: []Arg{keyArg("key"), {Name: "full-block", Type: ArgBlock, Optional: true, Args: []Arg{
						{Name: "full", Type: ArgPureTok, Token: "FULL"}, {Name: "count", Type: ArgInteger, Token: "COUNT", Optional: true}}}},
					Parse: parseXInfoStream},
				{Name: "groups", Arity: 3, Flags: FlagReadonly, FirstKey: 2, LastKey: 2, Step: 1,
					Summary: "Returns a list of the consumer groups of a stream.", Complexity: "O(1)",
					Args: []Arg{keyArg("key")}, Parse: func(a [][]byte) (Runner, error) { return xinfoGroupsCmd{a[2]}, nil }},
				{Name: "consumers", Arity: 4, Flags: FlagReadonly, FirstKey: 2, LastKey: 2, Step: 1,
					Summary: "Returns a list of the consumers in a consumer group.", Complexity: "O(1)",
					Args: []Arg{keyArg("key"), strArg("group")}, Parse: func(a [][]byte) (Runner, error) { return xinfoConsumersCmd{a[2], a[3]}, nil }},
				{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale,
					Summary: "Returns helpful text about the different subcommands.", Complexity: "O(1)",
					Parse: simple(func(c *Ctx, a [][]byte) {
						writeStreamHelp(c.W, "XINFO", []string{
							"CONSUMERS <key> <groupname>",
							"    Show consumers of <groupname>.",
							"GROUPS <key>",
							"    Show the stream consumer groups.",
							"STREAM <key> [FULL [COUNT <count>]",
							"    Show information about the stream.",
						})
					})},
			}},
		&Command{Name: "xsetid", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, Step: 1, Group: g, Since: "5.0.0",
			Summary: "An internal command for replicating stream values.", Complexity: "O(1)",
			Args: []Arg{keyArg("key"), strArg("last-id"), {Name: "entries-added", Type: ArgInteger, Token: "ENTRIESADDED", Optional: true},
				{Name: "max-deleted-id", Type: ArgString, Token: "MAXDELETEDID", Optional: true}},
			Parse: parseXSetID},
	)
}
