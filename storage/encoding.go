package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Key prefixes: one Pebble keyspace, a byte prefix per column family.
// The byte layout is pinned by golden tests (testdata/layout).
const (
	prefixMeta   = 'M' // M db key                          -> meta value
	prefixData   = 'D' // D db keylen(4) key version(8) sub -> type-specific value
	prefixZScore = 'Z' // Z db keylen(4) key version(8) sortable(8) member -> empty
	prefixExpiry = 'X' // X expireAt(8) db key              -> empty
	prefixSystem = 'S' // S name...                         -> system records
)

// Type is the Redis type of a key.
type Type byte

const (
	TypeNone Type = iota
	TypeString
	TypeList
	TypeHash
	TypeSet
	TypeZSet
	TypeStream
)

var typeNames = [...]string{"none", "string", "list", "hash", "set", "zset", "stream"}

func (t Type) String() string {
	if int(t) < len(typeNames) {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", byte(t))
}

// ParseType maps a Redis type name (as used by SCAN TYPE) to a Type.
func ParseType(s string) (Type, bool) {
	for i, n := range typeNames {
		if i > 0 && n == s {
			return Type(i), true
		}
	}
	return TypeNone, false
}

// encodingVersion is bumped when a type's value layout changes.
const encodingVersion = 1

// Meta is the decoded meta record of a key.
//
//	type(1) encver(1) expireAt(8 BE, ms, 0 = none) version(8 BE) size(8 BE) payload...
//
// For strings payload is the value itself; for streams it holds the stream
// header; for the other types it is empty (or type-specific counters).
type Meta struct {
	Type     Type
	ExpireAt int64  // unix ms; 0 = persistent
	Version  uint64 // object version: subkeys of older versions are garbage
	Size     uint64 // element count for collections
	Payload  []byte
}

const metaHeaderLen = 1 + 1 + 8 + 8 + 8

func (m *Meta) encode() []byte {
	b := make([]byte, metaHeaderLen+len(m.Payload))
	b[0] = byte(m.Type)
	b[1] = encodingVersion
	binary.BigEndian.PutUint64(b[2:], uint64(m.ExpireAt))
	binary.BigEndian.PutUint64(b[10:], m.Version)
	binary.BigEndian.PutUint64(b[18:], m.Size)
	copy(b[metaHeaderLen:], m.Payload)
	return b
}

var errCorrupt = errors.New("corrupt record")

func decodeMeta(b []byte) (*Meta, error) {
	m, err := decodeMetaHeader(b)
	if err != nil {
		return nil, err
	}
	m.Payload = append([]byte(nil), b[metaHeaderLen:]...)
	return &m, nil
}

// decodeMetaHeader decodes all of b but the payload (b[metaHeaderLen:]),
// allocating nothing: scans read it straight from Pebble's buffer.
func decodeMetaHeader(b []byte) (Meta, error) {
	if len(b) < metaHeaderLen {
		return Meta{}, fmt.Errorf("decode meta: %w (%d bytes)", errCorrupt, len(b))
	}
	if b[1] != encodingVersion {
		return Meta{}, fmt.Errorf("decode meta: unknown encoding version %d", b[1])
	}
	return Meta{
		Type:     Type(b[0]),
		ExpireAt: int64(binary.BigEndian.Uint64(b[2:])),
		Version:  binary.BigEndian.Uint64(b[10:]),
		Size:     binary.BigEndian.Uint64(b[18:]),
	}, nil
}

func metaKey(db int, key []byte) []byte {
	b := make([]byte, 0, 2+len(key))
	b = append(b, prefixMeta, byte(db))
	return append(b, key...)
}

// dataPrefix is the common prefix of all subkeys of one object version.
func dataPrefix(db int, key []byte, version uint64) []byte {
	return objectPrefix(prefixData, db, key, version)
}

func zscorePrefix(db int, key []byte, version uint64) []byte {
	return objectPrefix(prefixZScore, db, key, version)
}

func objectPrefix(p byte, db int, key []byte, version uint64) []byte {
	b := make([]byte, 0, 2+4+len(key)+8+16)
	b = append(b, p, byte(db))
	b = binary.BigEndian.AppendUint32(b, uint32(len(key)))
	b = append(b, key...)
	return binary.BigEndian.AppendUint64(b, version)
}

func expiryKey(at int64, db int, key []byte) []byte {
	b := make([]byte, 0, 1+8+1+len(key))
	b = append(b, prefixExpiry)
	b = binary.BigEndian.AppendUint64(b, uint64(at))
	b = append(b, byte(db))
	return append(b, key...)
}

func decodeExpiryKey(k []byte) (at int64, db int, key []byte, ok bool) {
	if len(k) < 10 || k[0] != prefixExpiry {
		return 0, 0, nil, false
	}
	return int64(binary.BigEndian.Uint64(k[1:])), int(k[9]), k[10:], true
}

func systemKey(parts ...string) []byte {
	b := []byte{prefixSystem}
	for i, p := range parts {
		if i > 0 {
			b = append(b, '|')
		}
		b = append(b, p...)
	}
	return b
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}

// sortableFloat maps a float64 to 8 bytes whose byte order is the numeric
// order (negative numbers flipped entirely, positive ones get the sign bit).
func sortableFloat(f float64) []byte {
	u := math.Float64bits(f)
	if f == 0 {
		u = 0 // -0 == +0
	}
	if u&(1<<63) != 0 {
		u = ^u
	} else {
		u |= 1 << 63
	}
	return binary.BigEndian.AppendUint64(nil, u)
}

func unsortableFloat(b []byte) float64 {
	u := binary.BigEndian.Uint64(b)
	if u&(1<<63) != 0 {
		u &^= 1 << 63
	} else {
		u = ^u
	}
	return math.Float64frombits(u)
}
