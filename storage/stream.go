package storage

import (
	"bytes"
	"encoding/binary"
	"math"
	"strconv"
)

// Streams.
//
// Layout (all subkeys live under the object version, so DEL/overwrite drops
// everything with one DeleteRange):
//
//	Meta.Size     number of entries (XLEN)
//	Meta.Payload  stream header, 64 bytes:
//	              lastID ms(8 BE) seq(8 BE) | entriesAdded(8) |
//	              maxDeletedID ms seq (16) | firstID ms seq (16) | groups(8)
//
//	D…|version|'e' ms(8 BE) seq(8 BE)  -> entry: uvarint n, then n times
//	                                      uvarint len + bytes (field, value, ...)
//	D…|version|'g' group               -> group: lastID(16) entriesRead(8, int64,
//	                                      -1 = unknown) pending(8) consumers(8)
//	D…|version|'p' len(4 BE) group id(16) -> PEL entry: deliveryTime(8, ms)
//	                                      deliveryCount(8) consumer
//	D…|version|'c' len(4 BE) group name -> consumer: seenTime(8, ms) pending(8)
//
// Big-endian ids make Pebble's byte order the id order, so ranges are
// iterator bounds. Groups and consumers iterate in name (byte) order, as in
// Redis' radix trees. A consumer's own PEL is the group PEL filtered by
// consumer (one consumer per group is the common case for StreamReader).
//
// Approximate trimming ('~') emulates Redis' 100-entry radix tree nodes (see
// trim): it only removes whole emulated nodes from the head.

// StreamID is a stream entry id.
type StreamID struct{ Ms, Seq uint64 }

// MaxStreamID is the largest id (what "+" means).
var MaxStreamID = StreamID{math.MaxUint64, math.MaxUint64}

// Cmp compares two ids (-1, 0, 1).
func (a StreamID) Cmp(b StreamID) int {
	switch {
	case a.Ms < b.Ms:
		return -1
	case a.Ms > b.Ms:
		return 1
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

// IsZero reports whether id is 0-0.
func (a StreamID) IsZero() bool { return a.Ms == 0 && a.Seq == 0 }

// Incr returns the next id; false when id is the maximum.
func (a StreamID) Incr() (StreamID, bool) {
	switch {
	case a.Seq != math.MaxUint64:
		return StreamID{a.Ms, a.Seq + 1}, true
	case a.Ms != math.MaxUint64:
		return StreamID{a.Ms + 1, 0}, true
	}
	return a, false
}

// Decr returns the previous id; false when id is 0-0.
func (a StreamID) Decr() (StreamID, bool) {
	switch {
	case a.Seq != 0:
		return StreamID{a.Ms, a.Seq - 1}, true
	case a.Ms != 0:
		return StreamID{a.Ms - 1, math.MaxUint64}, true
	}
	return a, false
}

// Append appends "ms-seq" to b.
func (a StreamID) Append(b []byte) []byte {
	b = strconv.AppendUint(b, a.Ms, 10)
	b = append(b, '-')
	return strconv.AppendUint(b, a.Seq, 10)
}

func (a StreamID) String() string { return string(a.Append(nil)) }

func putID(b []byte, id StreamID) {
	binary.BigEndian.PutUint64(b, id.Ms)
	binary.BigEndian.PutUint64(b[8:], id.Seq)
}

func getID(b []byte) StreamID {
	return StreamID{binary.BigEndian.Uint64(b), binary.BigEndian.Uint64(b[8:])}
}

// Stream errors, worded as Redis 7.0 words them.
const (
	ErrInvalidStreamID Error = "ERR Invalid stream ID specified as stream command argument"
	ErrStreamIDSmaller Error = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
	ErrStreamExhausted Error = "ERR The stream has exhausted the last possible ID, unable to add more items"
)

// parseU64 is Redis' string2ull: a strict integer, or what strtoull accepts.
func parseU64(b []byte) (uint64, bool) {
	if n, err := ParseInt(b); err == nil {
		if n < 0 {
			return 0, false
		}
		return uint64(n), true
	}
	i := 0
	for i < len(b) && (b[i] == ' ' || (b[i] >= '\t' && b[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(b) && (b[i] == '+' || b[i] == '-') {
		neg = b[i] == '-'
		i++
	}
	if i == len(b) {
		return 0, false
	}
	var n uint64
	for ; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (math.MaxUint64-d)/10 {
			return 0, false // ERANGE
		}
		n = n*10 + d
	}
	if neg {
		n = -n
	}
	return n, true
}

// ParseStreamID parses an id argument: "ms-seq" or "ms" (seq = missingSeq);
// unless strict, "-" and "+" stand for the smallest and largest ids.
func ParseStreamID(b []byte, missingSeq uint64, strict bool) (StreamID, error) {
	id, _, err := parseStreamID(b, missingSeq, strict, false)
	return id, err
}

// ParseStreamAddID parses XADD's id argument: "*" (auto), "ms-*" (autoSeq)
// or an explicit id.
func ParseStreamAddID(b []byte) (id StreamID, auto, autoSeq bool, err error) {
	if len(b) == 1 && b[0] == '*' {
		return StreamID{}, true, false, nil
	}
	id, autoSeq, err = parseStreamID(b, 0, true, true)
	return id, false, autoSeq, err
}

func parseStreamID(b []byte, missingSeq uint64, strict, seqStar bool) (StreamID, bool, error) {
	if len(b) > 127 {
		return StreamID{}, false, ErrInvalidStreamID
	}
	if !strict && len(b) == 1 {
		switch b[0] {
		case '-':
			return StreamID{}, false, nil
		case '+':
			return MaxStreamID, false, nil
		}
	}
	msPart, seqPart, hasSeq := bytes.Cut(b, []byte{'-'})
	ms, ok := parseU64(msPart)
	if !ok {
		return StreamID{}, false, ErrInvalidStreamID
	}
	if !hasSeq {
		return StreamID{ms, missingSeq}, false, nil
	}
	if seqStar && len(seqPart) == 1 && seqPart[0] == '*' {
		return StreamID{ms, 0}, true, nil
	}
	seq, ok := parseU64(seqPart)
	if !ok {
		return StreamID{}, false, ErrInvalidStreamID
	}
	return StreamID{ms, seq}, false, nil
}

// StreamEntry is one entry; Fields is nil for a deleted entry still in a PEL.
type StreamEntry struct {
	ID     StreamID
	Fields [][]byte // field, value, field, value...
}

func encodeFields(fv [][]byte) []byte {
	n := binary.MaxVarintLen64
	for _, f := range fv {
		n += binary.MaxVarintLen32 + len(f)
	}
	b := make([]byte, 0, n)
	b = binary.AppendUvarint(b, uint64(len(fv)))
	for _, f := range fv {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

func decodeFields(b []byte) ([][]byte, error) {
	n, w := binary.Uvarint(b)
	if w <= 0 || n > uint64(len(b)) {
		return nil, errCorrupt
	}
	b = b[w:]
	out := make([][]byte, n)
	for i := range out {
		l, w := binary.Uvarint(b)
		if w <= 0 || uint64(len(b)-w) < l {
			return nil, errCorrupt
		}
		out[i] = append([]byte(nil), b[w:w+int(l)]...)
		b = b[w+int(l):]
	}
	return out, nil
}

const streamHdrLen = 64

type streamObj struct {
	tx     *Tx
	key    []byte
	m      *Meta
	prefix []byte
	oldExp int64

	last, maxDel, first StreamID
	added, groups       uint64
}

func (tx *Tx) openStream(key []byte, m *Meta) *streamObj {
	s := &streamObj{tx: tx, key: key, m: m, oldExp: m.ExpireAt, prefix: dataPrefix(tx.DB, key, m.Version)}
	if p := m.Payload; len(p) >= streamHdrLen {
		s.last = getID(p)
		s.added = binary.BigEndian.Uint64(p[16:])
		s.maxDel = getID(p[24:])
		s.first = getID(p[40:])
		s.groups = binary.BigEndian.Uint64(p[56:])
	}
	return s
}

func (s *streamObj) save() {
	p := make([]byte, streamHdrLen)
	putID(p, s.last)
	binary.BigEndian.PutUint64(p[16:], s.added)
	putID(p[24:], s.maxDel)
	putID(p[40:], s.first)
	binary.BigEndian.PutUint64(p[56:], s.groups)
	s.m.Payload = p
	s.tx.putMeta(s.key, s.m, s.oldExp)
	s.oldExp = s.m.ExpireAt
}

func (s *streamObj) sub(tag byte, extra int) []byte {
	k := make([]byte, len(s.prefix)+1, len(s.prefix)+1+extra)
	copy(k, s.prefix)
	k[len(s.prefix)] = tag
	return k
}

func (s *streamObj) ekey(id StreamID) []byte {
	k := s.sub('e', 16)[:len(s.prefix)+17]
	putID(k[len(s.prefix)+1:], id)
	return k
}

// openStreamRead / openStreamWrite look the key up for reading (keymiss on
// a miss) or writing. nil, nil: no such key.
func (tx *Tx) openStreamRead(key []byte) (*streamObj, error) {
	m, err := tx.readType(key, TypeStream)
	if err != nil || m == nil {
		return nil, err
	}
	return tx.openStream(key, m), nil
}

func (tx *Tx) openStreamWrite(key []byte) (*streamObj, error) {
	m, err := tx.lookupType(key, TypeStream)
	if err != nil || m == nil {
		return nil, err
	}
	return tx.openStream(key, m), nil
}

func (tx *Tx) newStream(key []byte) *streamObj {
	m := tx.create(TypeStream)
	return tx.openStream(key, m)
}

// StreamCheck reports whether key holds a stream (WRONGTYPE for another
// type), without emitting anything.
func (tx *Tx) StreamCheck(key []byte) (bool, error) {
	m, err := tx.lookupType(key, TypeStream)
	return m != nil, err
}

// scan calls fn for the entries with ids in [start, end], in id order or
// reversed, until fn returns false.
func (s *streamObj) scan(start, end StreamID, rev bool, fn func(id StreamID, v []byte) bool) error {
	if start.Cmp(end) > 0 {
		return nil
	}
	it := s.tx.iter(s.ekey(start), append(s.ekey(end), 0))
	off := len(s.prefix) + 1
	var ok bool
	if rev {
		ok = it.Last()
	} else {
		ok = it.First()
	}
	for ok {
		if !fn(getID(it.Key()[off:]), it.Value()) {
			break
		}
		if rev {
			ok = it.Prev()
		} else {
			ok = it.Next()
		}
	}
	return it.Close()
}

func (s *streamObj) rangeEntries(start, end StreamID, count int64, rev bool) ([]StreamEntry, error) {
	var out []StreamEntry
	var derr error
	err := s.scan(start, end, rev, func(id StreamID, v []byte) bool {
		f, err := decodeFields(v)
		if err != nil {
			derr = err
			return false
		}
		out = append(out, StreamEntry{id, f})
		return count <= 0 || int64(len(out)) < count
	})
	if err == nil {
		err = derr
	}
	return out, err
}

func (s *streamObj) entry(id StreamID) (*StreamEntry, error) {
	v, err := s.tx.get(s.ekey(id))
	if err != nil || v == nil {
		return nil, err
	}
	f, err := decodeFields(v)
	if err != nil {
		return nil, err
	}
	return &StreamEntry{id, f}, nil
}

func (s *streamObj) exists(id StreamID) (bool, error) {
	v, err := s.tx.get(s.ekey(id))
	return v != nil, err
}

// lastEntryID is the id of the last entry present (0-0 when empty).
func (s *streamObj) lastEntryID() (StreamID, error) {
	var last StreamID
	err := s.scan(StreamID{}, MaxStreamID, true, func(id StreamID, _ []byte) bool { last = id; return false })
	return last, err
}

// TrimKind selects XADD/XTRIM's strategy.
type TrimKind byte

const (
	TrimNone TrimKind = iota
	TrimMaxLen
	TrimMinID
)

// StreamTrim are the trimming arguments of XADD and XTRIM. Limit 0 means
// no limit.
type StreamTrim struct {
	Kind   TrimKind
	MaxLen int64
	MinID  StreamID
	Approx bool
	Limit  int64
}

// streamNodeEntries emulates Redis' stream-node-max-entries for '~'.
const streamNodeEntries = 100

// trim removes entries from the head as t asks; it returns how many.
//
// Approximate trimming works on emulated radix tree nodes: Redis fills
// nodes of streamNodeEntries entries in insertion order, so with the
// insertion ordinal of the first live entry (entries-added - length) the
// head node holds streamNodeEntries - ordinal%streamNodeEntries entries and
// the following ones are full. Only whole nodes go, within the limit.
func (s *streamObj) trim(t StreamTrim) (int64, error) {
	length := int64(s.m.Size)
	if t.Kind == TrimNone || length == 0 {
		return 0, nil
	}
	var n int64
	if !t.Approx {
		switch t.Kind {
		case TrimMaxLen:
			n = max(length-t.MaxLen, 0)
		case TrimMinID:
			if err := s.scan(s.first, MaxStreamID, false, func(id StreamID, _ []byte) bool {
				if id.Cmp(t.MinID) >= 0 {
					return false
				}
				n++
				return true
			}); err != nil {
				return 0, err
			}
		}
		if t.Limit > 0 && n > t.Limit {
			n = t.Limit
		}
	} else {
		ord := int64(0)
		if s.added >= s.m.Size {
			ord = int64(s.added - s.m.Size)
		}
		size := min(streamNodeEntries-ord%streamNodeEntries, length)
		fits := func() bool { return t.Limit <= 0 || n+size <= t.Limit }
		switch t.Kind {
		case TrimMaxLen:
			for n < length && length-n-size >= t.MaxLen && fits() {
				n += size
				size = min(streamNodeEntries, length-n)
			}
		case TrimMinID:
			var i int64
			if err := s.scan(s.first, MaxStreamID, false, func(id StreamID, _ []byte) bool {
				if i == n+size-1 { // last entry of the current node
					if id.Cmp(t.MinID) >= 0 || !fits() {
						return false
					}
					n += size
					size = min(streamNodeEntries, length-n)
				}
				i++
				return n < length
			}); err != nil {
				return 0, err
			}
		}
	}
	if n <= 0 {
		return 0, nil
	}
	return n, s.removeHead(n)
}

// removeHead deletes the first n entries (n <= length) with one range delete.
func (s *streamObj) removeHead(n int64) error {
	if n >= int64(s.m.Size) {
		lo := s.sub('e', 0)
		s.tx.batch().DeleteRange(lo, prefixEnd(lo), nil)
		s.m.Size = 0
		s.first = StreamID{}
		return nil
	}
	var i int64
	var next StreamID
	if err := s.scan(s.first, MaxStreamID, false, func(id StreamID, _ []byte) bool {
		if i == n {
			next = id
			return false
		}
		i++
		return true
	}); err != nil {
		return err
	}
	s.tx.batch().DeleteRange(s.ekey(StreamID{}), s.ekey(next), nil)
	s.m.Size -= uint64(n)
	s.first = next
	return nil
}

// XAddArgs are XADD's arguments.
type XAddArgs struct {
	NoMkStream    bool
	Auto, AutoSeq bool     // "*" / "ms-*"
	ID            StreamID // explicit id (ms part with AutoSeq)
	Trim          StreamTrim
	Fields        [][]byte
}

// XAdd appends an entry. ok is false when NOMKSTREAM found no stream.
func (tx *Tx) XAdd(key []byte, a XAddArgs) (id StreamID, ok bool, err error) {
	s, err := tx.openStreamWrite(key)
	if err != nil {
		return id, false, err
	}
	if s == nil {
		if a.NoMkStream {
			return id, false, nil
		}
		s = tx.newStream(key)
	}
	if s.last == MaxStreamID {
		return id, false, ErrStreamExhausted
	}
	switch {
	case a.Auto:
		now := uint64(max(tx.now, 0))
		if now > s.last.Ms {
			id = StreamID{now, 0}
		} else {
			id, _ = s.last.Incr()
		}
	case a.AutoSeq:
		switch {
		case a.ID.Ms > s.last.Ms:
			id = StreamID{a.ID.Ms, 0}
		case a.ID.Ms == s.last.Ms && s.last.Seq != math.MaxUint64:
			id = StreamID{a.ID.Ms, s.last.Seq + 1}
		default:
			return id, false, ErrStreamIDSmaller
		}
	default:
		if a.ID.Cmp(s.last) <= 0 {
			return id, false, ErrStreamIDSmaller
		}
		id = a.ID
	}
	tx.set(s.ekey(id), encodeFields(a.Fields))
	if s.m.Size == 0 {
		s.first = id
	}
	s.m.Size++
	s.last = id
	s.added++
	tx.Emit("xadd", key, TypeStream)
	n, err := s.trim(a.Trim)
	if err != nil {
		return id, false, err
	}
	if n > 0 {
		tx.Emit("xtrim", key, TypeStream)
	}
	s.save()
	return id, true, nil
}

// XTrim trims a stream and returns the number of entries removed.
func (tx *Tx) XTrim(key []byte, t StreamTrim) (int64, error) {
	s, err := tx.openStreamWrite(key)
	if err != nil || s == nil {
		return 0, err
	}
	n, err := s.trim(t)
	if err != nil || n == 0 {
		return 0, err
	}
	s.save()
	tx.Emit("xtrim", key, TypeStream)
	return n, nil
}

// XLen returns the number of entries.
func (tx *Tx) XLen(key []byte) (int64, error) {
	m, err := tx.readType(key, TypeStream)
	if err != nil || m == nil {
		return 0, err
	}
	return int64(m.Size), nil
}

// XRange returns the entries in [start, end] (reversed with rev: end is
// then the first id returned), at most count (0 = all).
func (tx *Tx) XRange(key []byte, start, end StreamID, count int64, rev bool) ([]StreamEntry, bool, error) {
	s, err := tx.openStreamRead(key)
	if err != nil || s == nil {
		return nil, false, err
	}
	e, err := s.rangeEntries(start, end, count, rev)
	return e, true, err
}

// XDel deletes entries by id and returns how many existed.
func (tx *Tx) XDel(key []byte, ids []StreamID) (int64, error) {
	s, err := tx.openStreamWrite(key)
	if err != nil || s == nil {
		return 0, err
	}
	var n int64
	firstGone := false
	for _, id := range ids {
		k := s.ekey(id)
		v, err := tx.get(k)
		if err != nil {
			return 0, err
		}
		if v == nil {
			continue
		}
		tx.del(k)
		s.m.Size--
		n++
		if id == s.first {
			firstGone = true
		}
		if id.Cmp(s.maxDel) > 0 {
			s.maxDel = id
		}
	}
	if n == 0 {
		return 0, nil
	}
	if s.m.Size == 0 {
		s.first = StreamID{}
	} else if firstGone {
		if err := s.scan(s.first, MaxStreamID, false, func(id StreamID, _ []byte) bool { s.first = id; return false }); err != nil {
			return 0, err
		}
	}
	s.save()
	tx.Emit("xdel", key, TypeStream)
	return n, nil
}

// StreamLastID returns the stream's last generated id (0-0 when missing),
// used to resolve XREAD's "$".
func (tx *Tx) StreamLastID(key []byte) (StreamID, error) {
	m, err := tx.lookupType(key, TypeStream)
	if err != nil || m == nil {
		return StreamID{}, err
	}
	return tx.openStream(key, m).last, nil
}

// XRead returns the entries of key after id (nil when missing or none).
func (tx *Tx) XRead(key []byte, after StreamID, count int64) ([]StreamEntry, error) {
	s, err := tx.openStreamRead(key)
	if err != nil || s == nil {
		return nil, err
	}
	start, ok := after.Incr()
	if !ok || s.m.Size == 0 || s.last.Cmp(start) < 0 {
		return nil, nil
	}
	return s.rangeEntries(start, MaxStreamID, count, false)
}

// XSetIDArgs are XSETID's options (EntriesAdded -1 = not given).
type XSetIDArgs struct {
	ID           StreamID
	EntriesAdded int64
	MaxDeleted   *StreamID
}

// XSetID changes a stream's last id.
func (tx *Tx) XSetID(key []byte, a XSetIDArgs) error {
	s, err := tx.openStreamWrite(key)
	if err != nil {
		return err
	}
	if s == nil {
		return ErrNoSuchKey
	}
	if a.EntriesAdded != -1 && int64(s.m.Size) > a.EntriesAdded {
		return Error("ERR The entries_added specified in XSETID is smaller than the target stream length")
	}
	if s.m.Size > 0 {
		maxID, err := s.lastEntryID()
		if err != nil {
			return err
		}
		if a.ID.Cmp(maxID) < 0 {
			return Error("ERR The ID specified in XSETID is smaller than the target stream top item")
		}
	}
	s.last = a.ID
	if a.EntriesAdded != -1 {
		s.added = uint64(a.EntriesAdded)
	}
	if a.MaxDeleted != nil {
		s.maxDel = *a.MaxDeleted
	}
	s.save()
	tx.Emit("xsetid", key, TypeStream)
	return nil
}

// ---- consumer groups ----

// StreamGroup is a consumer group's record.
type StreamGroup struct {
	Name        []byte
	LastID      StreamID
	EntriesRead int64 // -1: unknown
	Pending     uint64
	Consumers   uint64
}

// StreamConsumer is a consumer's record.
type StreamConsumer struct {
	Name     []byte
	SeenTime int64
	Pending  uint64
}

// PendingEntry is one PEL entry.
type PendingEntry struct {
	ID            StreamID
	Consumer      []byte
	DeliveryTime  int64
	DeliveryCount uint64
}

func (s *streamObj) gkey(name []byte) []byte {
	return append(s.sub('g', len(name)), name...)
}

func (s *streamObj) scoped(tag byte, group []byte, extra int) []byte {
	k := s.sub(tag, 4+len(group)+extra)
	k = binary.BigEndian.AppendUint32(k, uint32(len(group)))
	return append(k, group...)
}

func (s *streamObj) pkey(group []byte, id StreamID) []byte {
	k := s.scoped('p', group, 16)
	k = k[:len(k)+16]
	putID(k[len(k)-16:], id)
	return k
}

func (s *streamObj) ckey(group, name []byte) []byte {
	return append(s.scoped('c', group, len(name)), name...)
}

func (s *streamObj) group(name []byte) (*StreamGroup, error) {
	v, err := s.tx.get(s.gkey(name))
	if err != nil || v == nil {
		return nil, err
	}
	if len(v) < 40 {
		return nil, errCorrupt
	}
	return &StreamGroup{
		Name:        append([]byte(nil), name...),
		LastID:      getID(v),
		EntriesRead: int64(binary.BigEndian.Uint64(v[16:])),
		Pending:     binary.BigEndian.Uint64(v[24:]),
		Consumers:   binary.BigEndian.Uint64(v[32:]),
	}, nil
}

func encodeGroup(g *StreamGroup) []byte {
	v := make([]byte, 40)
	putID(v, g.LastID)
	binary.BigEndian.PutUint64(v[16:], uint64(g.EntriesRead))
	binary.BigEndian.PutUint64(v[24:], g.Pending)
	binary.BigEndian.PutUint64(v[32:], g.Consumers)
	return v
}

func (s *streamObj) putGroup(g *StreamGroup) { s.tx.set(s.gkey(g.Name), encodeGroup(g)) }

func (s *streamObj) groupsList() ([]*StreamGroup, error) {
	lo := s.sub('g', 0)
	it := s.tx.iter(lo, prefixEnd(lo))
	var out []*StreamGroup
	for ok := it.First(); ok; ok = it.Next() {
		v := it.Value()
		if len(v) < 40 {
			it.Close()
			return nil, errCorrupt
		}
		out = append(out, &StreamGroup{
			Name:        append([]byte(nil), it.Key()[len(lo):]...),
			LastID:      getID(v),
			EntriesRead: int64(binary.BigEndian.Uint64(v[16:])),
			Pending:     binary.BigEndian.Uint64(v[24:]),
			Consumers:   binary.BigEndian.Uint64(v[32:]),
		})
	}
	return out, it.Close()
}

func decodeConsumer(name, v []byte) (*StreamConsumer, error) {
	if len(v) < 16 {
		return nil, errCorrupt
	}
	return &StreamConsumer{Name: append([]byte(nil), name...), SeenTime: int64(binary.BigEndian.Uint64(v)), Pending: binary.BigEndian.Uint64(v[8:])}, nil
}

func decodePending(id StreamID, v []byte) (*PendingEntry, error) {
	if len(v) < 16 {
		return nil, errCorrupt
	}
	return &PendingEntry{ID: id, DeliveryTime: int64(binary.BigEndian.Uint64(v)), DeliveryCount: binary.BigEndian.Uint64(v[8:]),
		Consumer: append([]byte(nil), v[16:]...)}, nil
}

func encodePending(p *PendingEntry) []byte {
	v := make([]byte, 16+len(p.Consumer))
	binary.BigEndian.PutUint64(v, uint64(p.DeliveryTime))
	binary.BigEndian.PutUint64(v[8:], p.DeliveryCount)
	copy(v[16:], p.Consumer)
	return v
}

// groupOp works on one group: it caches the consumers it touches and
// writes the group and those consumers back in flush.
type groupOp struct {
	s     *streamObj
	g     *StreamGroup
	cons  map[string]*StreamConsumer
	dirty map[string]bool
}

func (s *streamObj) openGroup(name []byte) (*groupOp, error) {
	g, err := s.group(name)
	if err != nil || g == nil {
		return nil, err
	}
	return &groupOp{s: s, g: g, cons: map[string]*StreamConsumer{}, dirty: map[string]bool{}}, nil
}

// consumer returns the consumer (nil when missing and !create). Creating one
// emits xgroup-createconsumer.
func (o *groupOp) consumer(name []byte, create bool) (*StreamConsumer, error) {
	if c, ok := o.cons[string(name)]; ok && c != nil {
		return c, nil
	}
	v, err := o.s.tx.get(o.s.ckey(o.g.Name, name))
	if err != nil {
		return nil, err
	}
	if v != nil {
		c, err := decodeConsumer(name, v)
		if err != nil {
			return nil, err
		}
		o.cons[string(name)] = c
		return c, nil
	}
	if !create {
		return nil, nil
	}
	c := &StreamConsumer{Name: append([]byte(nil), name...), SeenTime: o.s.tx.now}
	o.cons[string(name)] = c
	o.dirty[string(name)] = true
	o.g.Consumers++
	o.s.tx.Emit("xgroup-createconsumer", o.s.key, TypeStream)
	return c, nil
}

func (o *groupOp) touch(c *StreamConsumer) { o.dirty[string(c.Name)] = true }

func (o *groupOp) flush() {
	for name := range o.dirty {
		c := o.cons[name]
		v := make([]byte, 16)
		binary.BigEndian.PutUint64(v, uint64(c.SeenTime))
		binary.BigEndian.PutUint64(v[8:], c.Pending)
		o.s.tx.set(o.s.ckey(o.g.Name, c.Name), v)
	}
	clear(o.dirty)
	o.s.putGroup(o.g)
}

func (o *groupOp) pel(id StreamID) (*PendingEntry, error) {
	v, err := o.s.tx.get(o.s.pkey(o.g.Name, id))
	if err != nil || v == nil {
		return nil, err
	}
	return decodePending(id, v)
}

// pelAdjust changes the pending count of consumer name by d.
func (o *groupOp) pelAdjust(name []byte, d int64) error {
	c, err := o.consumer(name, false)
	if err != nil || c == nil {
		return err
	}
	c.Pending = uint64(int64(c.Pending) + d)
	o.touch(c)
	return nil
}

// pelPut writes p; prev is the entry it replaces (nil if new).
func (o *groupOp) pelPut(p, prev *PendingEntry) error {
	o.s.tx.set(o.s.pkey(o.g.Name, p.ID), encodePending(p))
	if prev == nil {
		o.g.Pending++
		return o.pelAdjust(p.Consumer, 1)
	}
	if !bytes.Equal(prev.Consumer, p.Consumer) {
		if err := o.pelAdjust(prev.Consumer, -1); err != nil {
			return err
		}
		return o.pelAdjust(p.Consumer, 1)
	}
	return nil
}

func (o *groupOp) pelDel(p *PendingEntry) error {
	o.s.tx.del(o.s.pkey(o.g.Name, p.ID))
	o.g.Pending--
	return o.pelAdjust(p.Consumer, -1)
}

// pelRange reads the PEL entries in [start, end] by id, in one scan.
func (o *groupOp) pelRange(start, end StreamID) (map[StreamID]*PendingEntry, error) {
	pending := map[StreamID]*PendingEntry{}
	err := o.pelScan(start, end, nil, func(p *PendingEntry) bool {
		pending[p.ID] = p
		return true
	})
	return pending, err
}

// pelScan calls fn for the PEL entries in [start, end] (of one consumer
// when consumer is non-nil) until fn returns false.
func (o *groupOp) pelScan(start, end StreamID, consumer []byte, fn func(p *PendingEntry) bool) error {
	if start.Cmp(end) > 0 {
		return nil
	}
	lo := o.s.pkey(o.g.Name, start)
	it := o.s.tx.iter(lo, append(o.s.pkey(o.g.Name, end), 0))
	off := len(lo) - 16
	var derr error
	for ok := it.First(); ok; ok = it.Next() {
		v := it.Value()
		if consumer != nil && (len(v) < 16 || !bytes.Equal(v[16:], consumer)) {
			continue
		}
		p, err := decodePending(getID(it.Key()[off:]), v)
		if err != nil {
			derr = err
			break
		}
		if !fn(p) {
			break
		}
	}
	if err := it.Close(); err != nil {
		return err
	}
	return derr
}

// Redis' logical read counter helpers (streamEstimateDistanceFromFirstEverEntry,
// streamRangeHasTombstones).

func (s *streamObj) rangeHasTombstones(start StreamID) bool {
	if s.m.Size == 0 || s.maxDel.IsZero() {
		return false
	}
	if s.first.Cmp(s.maxDel) > 0 {
		return false
	}
	return start.Cmp(s.maxDel) <= 0
}

func (s *streamObj) estimateDistance(id StreamID) int64 {
	if s.added == 0 {
		return 0
	}
	if s.m.Size == 0 && id.Cmp(s.last) < 1 {
		return int64(s.added)
	}
	switch c := id.Cmp(s.last); {
	case c == 0:
		return int64(s.added)
	case c > 0:
		return -1
	}
	cmpFirst := id.Cmp(s.first)
	if s.maxDel.IsZero() || s.maxDel.Cmp(s.first) < 0 {
		if cmpFirst < 0 {
			return int64(s.added - s.m.Size)
		} else if cmpFirst == 0 {
			return int64(s.added-s.m.Size) + 1
		}
	}
	return -1
}

// lag returns the group's lag (ok false: unknown).
func (s *streamObj) lag(g *StreamGroup) (int64, bool) {
	if s.added == 0 {
		return 0, true
	}
	if g.EntriesRead != -1 && !s.rangeHasTombstones(g.LastID) {
		return int64(s.added) - g.EntriesRead, true
	}
	if r := s.estimateDistance(g.LastID); r != -1 {
		return int64(s.added) - r, true
	}
	return 0, false
}

// StreamGroupOpts are XGROUP CREATE/SETID's arguments.
type StreamGroupOpts struct {
	ID          StreamID
	Dollar      bool // "$": the stream's last id
	MkStream    bool
	EntriesRead int64 // -1: unknown
}

var errXGroupNoKey = Error("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.")

func errNoGroup(key, group []byte) error {
	return Error("NOGROUP No such consumer group '" + string(group) + "' for key name '" + string(key) + "'")
}

// XGroupCreate creates a consumer group.
func (tx *Tx) XGroupCreate(key, group []byte, o StreamGroupOpts) error {
	s, err := tx.openStreamWrite(key)
	if err != nil {
		return err
	}
	if s == nil && !o.MkStream {
		return errXGroupNoKey
	}
	if s != nil {
		g, err := s.group(group)
		if err != nil {
			return err
		}
		if g != nil {
			return Error("BUSYGROUP Consumer Group name already exists")
		}
	} else {
		s = tx.newStream(key)
	}
	id := o.ID
	if o.Dollar {
		id = s.last
	}
	s.putGroup(&StreamGroup{Name: group, LastID: id, EntriesRead: o.EntriesRead})
	s.groups++
	s.save()
	tx.Emit("xgroup-create", key, TypeStream)
	return nil
}

// groupFor opens key and group for the XGROUP subcommands that need both.
func (tx *Tx) groupFor(key, group []byte) (*groupOp, error) {
	s, err := tx.openStreamWrite(key)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errXGroupNoKey
	}
	o, err := s.openGroup(group)
	if err != nil {
		return nil, err
	}
	if o == nil {
		return nil, errNoGroup(key, group)
	}
	return o, nil
}

// XGroupSetID moves a group's last delivered id.
func (tx *Tx) XGroupSetID(key, group []byte, o StreamGroupOpts) error {
	g, err := tx.groupFor(key, group)
	if err != nil {
		return err
	}
	id := o.ID
	if o.Dollar {
		id = g.s.last
	}
	g.g.LastID, g.g.EntriesRead = id, o.EntriesRead
	g.s.putGroup(g.g)
	tx.Emit("xgroup-setid", key, TypeStream)
	return nil
}

// XGroupDestroy deletes a group; it reports whether it existed.
func (tx *Tx) XGroupDestroy(key, group []byte) (bool, error) {
	s, err := tx.openStreamWrite(key)
	if err != nil {
		return false, err
	}
	if s == nil {
		return false, errXGroupNoKey
	}
	g, err := s.group(group)
	if err != nil || g == nil {
		return false, err
	}
	tx.del(s.gkey(group))
	for _, tag := range []byte{'p', 'c'} {
		lo := s.scoped(tag, group, 0)
		tx.batch().DeleteRange(lo, prefixEnd(lo), nil)
	}
	s.groups--
	s.save()
	tx.Emit("xgroup-destroy", key, TypeStream)
	return true, nil
}

// XGroupCreateConsumer creates a consumer; it reports whether it was new.
func (tx *Tx) XGroupCreateConsumer(key, group, consumer []byte) (bool, error) {
	g, err := tx.groupFor(key, group)
	if err != nil {
		return false, err
	}
	c, err := g.consumer(consumer, false)
	if err != nil || c != nil {
		return false, err
	}
	if _, err := g.consumer(consumer, true); err != nil {
		return false, err
	}
	g.flush()
	return true, nil
}

// XGroupDelConsumer deletes a consumer and its pending entries; it returns
// how many entries it had pending.
func (tx *Tx) XGroupDelConsumer(key, group, consumer []byte) (int64, error) {
	g, err := tx.groupFor(key, group)
	if err != nil {
		return 0, err
	}
	c, err := g.consumer(consumer, false)
	if err != nil || c == nil {
		return 0, err
	}
	var ids []StreamID
	if c.Pending > 0 {
		if err := g.pelScan(StreamID{}, MaxStreamID, consumer, func(p *PendingEntry) bool {
			ids = append(ids, p.ID)
			return true
		}); err != nil {
			return 0, err
		}
	}
	for _, id := range ids {
		tx.del(g.s.pkey(group, id))
	}
	g.g.Pending -= uint64(len(ids))
	g.g.Consumers--
	delete(g.cons, string(consumer))
	delete(g.dirty, string(consumer))
	tx.del(g.s.ckey(group, consumer))
	g.flush()
	tx.Emit("xgroup-delconsumer", key, TypeStream)
	return int64(len(ids)), nil
}

// ---- XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM ----

// ErrXReadGroupNoGroup is XREADGROUP's error for a missing key or group.
func ErrXReadGroupNoGroup(key, group []byte) error {
	return Error("NOGROUP No such key '" + string(key) + "' or consumer group '" + string(group) + "' in XREADGROUP with GROUP option")
}

// XReadGroupCheck verifies that key and group exist (for XREADGROUP's
// upfront validation); it emits keymiss for a missing key.
func (tx *Tx) XReadGroupCheck(key, group []byte) (bool, error) {
	s, err := tx.openStreamRead(key)
	if err != nil || s == nil {
		return false, err
	}
	g, err := s.group(group)
	return g != nil, err
}

// XReadGroupArgs are one stream of an XREADGROUP.
type XReadGroupArgs struct {
	Group, Consumer []byte
	New             bool     // ">"
	After           StreamID // history: pending entries after this id
	Count           int64    // 0 = all
	NoAck           bool
}

// XReadGroup serves one stream of XREADGROUP. served is false when there
// was nothing to serve for ">" (the caller may block); the key and group
// must exist (checked with XReadGroupCheck), else ok is false.
func (tx *Tx) XReadGroup(key []byte, a XReadGroupArgs) (entries []StreamEntry, served, ok bool, err error) {
	s, err := tx.openStreamWrite(key)
	if err != nil || s == nil {
		return nil, false, false, err
	}
	g, err := s.openGroup(a.Group)
	if err != nil || g == nil {
		return nil, false, false, err
	}
	if a.New {
		if s.m.Size == 0 {
			return nil, false, true, nil
		}
		maxID, err := s.lastEntryID()
		if err != nil {
			return nil, false, true, err
		}
		if maxID.Cmp(g.g.LastID) <= 0 {
			return nil, false, true, nil
		}
	}
	c, err := g.consumer(a.Consumer, true)
	if err != nil {
		return nil, false, true, err
	}
	c.SeenTime = tx.now
	g.touch(c)
	if !a.New {
		start, more := a.After.Incr()
		if more {
			var ferr error
			err = g.pelScan(start, MaxStreamID, a.Consumer, func(p *PendingEntry) bool {
				var e *StreamEntry
				e, ferr = s.entry(p.ID)
				if ferr != nil {
					return false
				}
				if e == nil {
					entries = append(entries, StreamEntry{ID: p.ID})
				} else {
					entries = append(entries, *e)
					p.DeliveryTime = tx.now
					p.DeliveryCount++
					tx.set(s.pkey(a.Group, p.ID), encodePending(p))
				}
				return a.Count <= 0 || int64(len(entries)) < a.Count
			})
			if err == nil {
				err = ferr
			}
			if err != nil {
				return nil, false, true, err
			}
		}
		g.flush()
		return entries, true, true, nil
	}
	start, _ := g.g.LastID.Incr()
	entries, err = s.rangeEntries(start, MaxStreamID, a.Count, false)
	if err != nil {
		return nil, false, true, err
	}
	// New entries are normally not pending; they can be after XGROUP SETID
	// moved the group back. One scan of the PEL over their range finds
	// those (a point read per entry costs far more).
	var pending map[StreamID]*PendingEntry
	if len(entries) > 0 && !a.NoAck {
		if pending, err = g.pelRange(entries[0].ID, entries[len(entries)-1].ID); err != nil {
			return nil, false, true, err
		}
	}
	for _, e := range entries {
		if g.g.EntriesRead != -1 && !s.rangeHasTombstones(e.ID) {
			g.g.EntriesRead++
		} else if s.added != 0 {
			g.g.EntriesRead = s.estimateDistance(e.ID)
		}
		g.g.LastID = e.ID
		if a.NoAck {
			continue
		}
		prev := pending[e.ID]
		p := &PendingEntry{ID: e.ID, Consumer: c.Name, DeliveryTime: tx.now, DeliveryCount: 1}
		if err := g.pelPut(p, prev); err != nil {
			return nil, false, true, err
		}
	}
	g.flush()
	return entries, true, true, nil
}

// XAck acknowledges ids; it returns how many were pending.
func (tx *Tx) XAck(key, group []byte, ids []StreamID) (int64, error) {
	s, err := tx.openStreamRead(key)
	if err != nil || s == nil {
		return 0, err
	}
	g, err := s.openGroup(group)
	if err != nil || g == nil {
		return 0, err
	}
	// Acks usually name a run of consecutive pending entries (a batch
	// read before): one PEL scan over their range instead of a point read
	// each.
	var pending map[StreamID]*PendingEntry
	if len(ids) >= 8 {
		lo, hi := ids[0], ids[0]
		for _, id := range ids[1:] {
			if id.Cmp(lo) < 0 {
				lo = id
			}
			if id.Cmp(hi) > 0 {
				hi = id
			}
		}
		if g.g.Pending <= uint64(4*len(ids)) {
			var err error
			if pending, err = g.pelRange(lo, hi); err != nil {
				return 0, err
			}
		}
	}
	var n int64
	for _, id := range ids {
		var p *PendingEntry
		if pending != nil {
			p = pending[id]
			delete(pending, id) // an id named twice is acked once
		} else if p, err = g.pel(id); err != nil {
			return 0, err
		}
		if p == nil {
			continue
		}
		if err := g.pelDel(p); err != nil {
			return 0, err
		}
		n++
	}
	if n > 0 {
		g.flush()
	}
	return n, nil
}

// XAckCheck reports whether key (a stream) and group exist, as XACK checks
// before parsing its ids.
func (tx *Tx) XAckCheck(key, group []byte) (bool, error) {
	m, err := tx.lookupType(key, TypeStream)
	if err != nil || m == nil {
		if err == nil {
			tx.Miss(key)
		}
		return false, err
	}
	g, err := tx.openStream(key, m).group(group)
	return g != nil, err
}

func errNoKeyOrGroup(key, group []byte) error {
	return Error("NOGROUP No such key '" + string(key) + "' or consumer group '" + string(group) + "'")
}

// ConsumerPending is a consumer name with its pending count.
type ConsumerPending struct {
	Name    []byte
	Pending uint64
}

// XPendingSummary is XPENDING's summary form.
type XPendingSummary struct {
	Count      uint64
	Min, Max   StreamID
	PerConsume []ConsumerPending
}

func (tx *Tx) pendingGroup(key, group []byte) (*groupOp, error) {
	s, err := tx.openStreamRead(key)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errNoKeyOrGroup(key, group)
	}
	g, err := s.openGroup(group)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errNoKeyOrGroup(key, group)
	}
	return g, nil
}

func (o *groupOp) consumers() ([]*StreamConsumer, error) {
	lo := o.s.scoped('c', o.g.Name, 0)
	it := o.s.tx.iter(lo, prefixEnd(lo))
	var out []*StreamConsumer
	for ok := it.First(); ok; ok = it.Next() {
		c, err := decodeConsumer(it.Key()[len(lo):], it.Value())
		if err != nil {
			it.Close()
			return nil, err
		}
		out = append(out, c)
	}
	return out, it.Close()
}

// XPendingSummary returns XPENDING key group.
func (tx *Tx) XPendingSummary(key, group []byte) (*XPendingSummary, error) {
	g, err := tx.pendingGroup(key, group)
	if err != nil {
		return nil, err
	}
	sum := &XPendingSummary{Count: g.g.Pending}
	if sum.Count == 0 {
		return sum, nil
	}
	lo := g.s.scoped('p', group, 0)
	it := tx.iter(lo, prefixEnd(lo))
	if it.First() {
		sum.Min = getID(it.Key()[len(lo):])
	}
	if it.Last() {
		sum.Max = getID(it.Key()[len(lo):])
	}
	if err := it.Close(); err != nil {
		return nil, err
	}
	cs, err := g.consumers()
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Pending > 0 {
			sum.PerConsume = append(sum.PerConsume, ConsumerPending{c.Name, c.Pending})
		}
	}
	return sum, nil
}

// XPendingArgs are XPENDING's extended form.
type XPendingArgs struct {
	MinIdle    int64
	Start, End StreamID
	Count      int64
	Consumer   []byte // nil: all
}

// XPendingRange returns XPENDING's extended form.
func (tx *Tx) XPendingRange(key, group []byte, a XPendingArgs) ([]PendingEntry, error) {
	g, err := tx.pendingGroup(key, group)
	if err != nil {
		return nil, err
	}
	var out []PendingEntry
	if a.Count <= 0 {
		return out, nil
	}
	if a.Consumer != nil {
		c, err := g.consumer(a.Consumer, false)
		if err != nil || c == nil || c.Pending == 0 {
			return out, err
		}
	}
	err = g.pelScan(a.Start, a.End, a.Consumer, func(p *PendingEntry) bool {
		if a.MinIdle > 0 && tx.now-p.DeliveryTime < a.MinIdle {
			return true
		}
		out = append(out, *p)
		return int64(len(out)) < a.Count
	})
	return out, err
}

// XClaimArgs are XCLAIM's arguments.
type XClaimArgs struct {
	Group, Consumer []byte
	MinIdle         int64
	IDs             []StreamID
	DeliveryTime    int64 // -1: now
	RetryCount      int64 // -1: not given
	Force, JustID   bool
	LastID          *StreamID
}

// XClaim transfers pending entries; it returns the claimed entries (with
// nil Fields under JustID).
func (tx *Tx) XClaim(key []byte, a XClaimArgs) ([]StreamEntry, error) {
	s, err := tx.openStreamRead(key)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errNoKeyOrGroup(key, a.Group)
	}
	g, err := s.openGroup(a.Group)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errNoKeyOrGroup(key, a.Group)
	}
	now := tx.now
	dt := a.DeliveryTime
	if dt == -1 || dt < 0 || dt > now {
		dt = now
	}
	changed := false
	if a.LastID != nil && a.LastID.Cmp(g.g.LastID) > 0 {
		g.g.LastID = *a.LastID
		changed = true
	}
	var out []StreamEntry
	var c *StreamConsumer
	for _, id := range a.IDs {
		p, err := g.pel(id)
		if err != nil {
			return nil, err
		}
		e, err := s.entry(id)
		if err != nil {
			return nil, err
		}
		if e == nil {
			if p != nil {
				if err := g.pelDel(p); err != nil {
					return nil, err
				}
				changed = true
			}
			continue
		}
		var prev *PendingEntry
		if p == nil {
			if !a.Force {
				continue
			}
			p = &PendingEntry{ID: id, DeliveryTime: now, DeliveryCount: 1}
		} else {
			if a.MinIdle > 0 && now-p.DeliveryTime < a.MinIdle {
				continue
			}
			cp := *p
			prev = &cp
		}
		if c == nil {
			if c, err = g.consumer(a.Consumer, true); err != nil {
				return nil, err
			}
			c.SeenTime = now
			g.touch(c)
		}
		p.Consumer = c.Name
		p.DeliveryTime = dt
		if a.RetryCount >= 0 {
			p.DeliveryCount = uint64(a.RetryCount)
		} else if !a.JustID {
			p.DeliveryCount++
		}
		if err := g.pelPut(p, prev); err != nil {
			return nil, err
		}
		changed = true
		if a.JustID {
			out = append(out, StreamEntry{ID: id})
		} else {
			out = append(out, *e)
		}
	}
	if changed {
		g.flush()
	}
	return out, nil
}

// XAutoClaimArgs are XAUTOCLAIM's arguments.
type XAutoClaimArgs struct {
	Group, Consumer []byte
	MinIdle         int64
	Start           StreamID
	Count           int64
	JustID          bool
}

// XAutoClaim claims idle pending entries from Start; it returns the next
// cursor, the claimed entries and the ids of deleted entries dropped from
// the PEL.
func (tx *Tx) XAutoClaim(key []byte, a XAutoClaimArgs) (StreamID, []StreamEntry, []StreamID, error) {
	var next StreamID
	s, err := tx.openStreamRead(key)
	if err != nil {
		return next, nil, nil, err
	}
	if s == nil {
		return next, nil, nil, errNoKeyOrGroup(key, a.Group)
	}
	g, err := s.openGroup(a.Group)
	if err != nil {
		return next, nil, nil, err
	}
	if g == nil {
		return next, nil, nil, errNoKeyOrGroup(key, a.Group)
	}
	now := tx.now
	attempts := a.Count * 10
	if a.Count > math.MaxInt64/10 {
		attempts = math.MaxInt64
	}
	// Redis' loop: while (attempts-- && count && next PEL entry); the
	// cursor is the entry after the last one processed.
	var pels []*PendingEntry
	err = g.pelScan(a.Start, MaxStreamID, nil, func(p *PendingEntry) bool {
		pels = append(pels, p)
		return int64(len(pels)) <= attempts
	})
	if err != nil {
		return next, nil, nil, err
	}
	out := []StreamEntry{}
	deleted := []StreamID{}
	var c *StreamConsumer
	count := a.Count
	processed := 0
	for _, p := range pels {
		if int64(processed) == attempts || count == 0 {
			break
		}
		processed++
		e, err := s.entry(p.ID)
		if err != nil {
			return next, nil, nil, err
		}
		if e == nil {
			if err := g.pelDel(p); err != nil {
				return next, nil, nil, err
			}
			deleted = append(deleted, p.ID)
			continue
		}
		if a.MinIdle > 0 && now-p.DeliveryTime < a.MinIdle {
			continue
		}
		if c == nil {
			if c, err = g.consumer(a.Consumer, true); err != nil {
				return next, nil, nil, err
			}
			c.SeenTime = now
			g.touch(c)
		}
		prev := *p
		p.Consumer = c.Name
		p.DeliveryTime = now
		if !a.JustID {
			p.DeliveryCount++
		}
		if err := g.pelPut(p, &prev); err != nil {
			return next, nil, nil, err
		}
		count--
		if a.JustID {
			out = append(out, StreamEntry{ID: p.ID})
		} else {
			out = append(out, *e)
		}
	}
	if processed < len(pels) {
		next = pels[processed].ID
	}
	g.flush()
	return next, out, deleted, nil
}

// ---- XINFO ----

// StreamInfo is XINFO STREAM's data.
type StreamInfo struct {
	Length                          int64
	LastID, MaxDeleted, FirstRecord StreamID
	EntriesAdded                    int64
	Groups                          int64
	First, Last                     *StreamEntry
	Entries                         []StreamEntry     // FULL
	GroupsFull                      []StreamGroupFull // FULL
}

// StreamGroupInfo is one group of XINFO GROUPS.
type StreamGroupInfo struct {
	StreamGroup
	Lag    int64
	LagOK  bool
	PelCnt int64
}

// StreamGroupFull is one group of XINFO STREAM FULL.
type StreamGroupFull struct {
	StreamGroupInfo
	PEL       []PendingEntry
	Consumers []StreamConsumerFull
}

// StreamConsumerFull is one consumer of XINFO STREAM FULL.
type StreamConsumerFull struct {
	StreamConsumer
	PEL []PendingEntry
}

// ErrNoSuchKeyInfo is XINFO's error for a missing key.
const ErrNoSuchKeyInfo Error = "ERR no such key"

// XInfoStream returns XINFO STREAM (full: FULL with count, 0 = all).
func (tx *Tx) XInfoStream(key []byte, full bool, count int64) (*StreamInfo, error) {
	s, err := tx.openStreamRead(key)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, ErrNoSuchKeyInfo
	}
	in := &StreamInfo{Length: int64(s.m.Size), LastID: s.last, MaxDeleted: s.maxDel, FirstRecord: s.first,
		EntriesAdded: int64(s.added), Groups: int64(s.groups)}
	if !full {
		f, err := s.rangeEntries(StreamID{}, MaxStreamID, 1, false)
		if err != nil {
			return nil, err
		}
		if len(f) > 0 {
			in.First = &f[0]
		}
		l, err := s.rangeEntries(StreamID{}, MaxStreamID, 1, true)
		if err != nil {
			return nil, err
		}
		if len(l) > 0 {
			in.Last = &l[0]
		}
		return in, nil
	}
	if in.Entries, err = s.rangeEntries(StreamID{}, MaxStreamID, count, false); err != nil {
		return nil, err
	}
	gs, err := s.groupsList()
	if err != nil {
		return nil, err
	}
	for _, g := range gs {
		gf := StreamGroupFull{StreamGroupInfo: s.groupInfo(g)}
		o := &groupOp{s: s, g: g, cons: map[string]*StreamConsumer{}, dirty: map[string]bool{}}
		if err := o.pelScan(StreamID{}, MaxStreamID, nil, func(p *PendingEntry) bool {
			gf.PEL = append(gf.PEL, *p)
			return count <= 0 || int64(len(gf.PEL)) < count
		}); err != nil {
			return nil, err
		}
		cs, err := o.consumers()
		if err != nil {
			return nil, err
		}
		for _, c := range cs {
			cf := StreamConsumerFull{StreamConsumer: *c}
			if c.Pending > 0 {
				if err := o.pelScan(StreamID{}, MaxStreamID, c.Name, func(p *PendingEntry) bool {
					cf.PEL = append(cf.PEL, *p)
					return count <= 0 || int64(len(cf.PEL)) < count
				}); err != nil {
					return nil, err
				}
			}
			gf.Consumers = append(gf.Consumers, cf)
		}
		in.GroupsFull = append(in.GroupsFull, gf)
	}
	return in, nil
}

func (s *streamObj) groupInfo(g *StreamGroup) StreamGroupInfo {
	lag, ok := s.lag(g)
	return StreamGroupInfo{StreamGroup: *g, Lag: lag, LagOK: ok, PelCnt: int64(g.Pending)}
}

// XInfoGroups returns XINFO GROUPS.
func (tx *Tx) XInfoGroups(key []byte) ([]StreamGroupInfo, error) {
	s, err := tx.openStreamRead(key)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, ErrNoSuchKeyInfo
	}
	gs, err := s.groupsList()
	if err != nil {
		return nil, err
	}
	out := make([]StreamGroupInfo, 0, len(gs))
	for _, g := range gs {
		out = append(out, s.groupInfo(g))
	}
	return out, nil
}

// XInfoConsumers returns XINFO CONSUMERS.
func (tx *Tx) XInfoConsumers(key, group []byte) ([]*StreamConsumer, error) {
	s, err := tx.openStreamRead(key)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, ErrNoSuchKeyInfo
	}
	g, err := s.openGroup(group)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errNoGroup(key, group)
	}
	return g.consumers()
}

// XGroupCheck returns the error XGROUP SETID/CREATECONSUMER/DELCONSUMER
// give for a missing key or group (nil when both exist).
func (tx *Tx) XGroupCheck(key, group []byte) error {
	_, err := tx.groupFor(key, group)
	return err
}
