package storage

import (
	"math"
	"strconv"
)

// MaxStringLen is Redis' proto-max-bulk-len default (512 MB).
const MaxStringLen = 512 << 20

// Get returns the value of a string key (nil, false when missing).
func (tx *Tx) Get(key []byte) ([]byte, bool, error) {
	m, err := tx.readType(key, TypeString)
	if err != nil || m == nil {
		return nil, false, err
	}
	return m.Payload, true, nil
}

// SetOptions are SET's options. ExpireAt is unix ms (0 = none).
type SetOptions struct {
	NX, XX, KeepTTL, Get bool
	ExpireAt             int64
}

// Set writes a string value. It returns whether the value was written, and
// with Get the old value (WRONGTYPE when the old value is not a string).
func (tx *Tx) Set(key, value []byte, o SetOptions) (written bool, old []byte, hadOld bool, err error) {
	m, err := tx.lookup(key)
	if err != nil {
		return false, nil, false, err
	}
	if o.Get && m != nil {
		if m.Type != TypeString {
			return false, nil, false, ErrWrongType
		}
		old, hadOld = m.Payload, true
	}
	if (o.NX && m != nil) || (o.XX && m == nil) {
		return false, old, hadOld, nil
	}
	tx.setString(key, m, value, o.ExpireAt, o.KeepTTL)
	tx.Emit("set", key, TypeString)
	if o.ExpireAt != 0 {
		tx.Emit("expire", key, TypeString)
	}
	return true, old, hadOld, nil
}

// setString stores value at key replacing whatever m (may be nil) was.
func (tx *Tx) setString(key []byte, m *Meta, value []byte, expireAt int64, keepTTL bool) {
	var oldExp int64
	if m != nil {
		oldExp = m.ExpireAt
		if keepTTL {
			expireAt = m.ExpireAt
		}
		if m.Type == TypeString {
			m.Payload, m.ExpireAt, m.Size = value, expireAt, 0
			tx.putMeta(key, m, oldExp)
			return
		}
		tx.removeObject(key, m)
		oldExp = 0
	}
	nm := tx.create(TypeString)
	nm.Payload, nm.ExpireAt = value, expireAt
	tx.putMeta(key, nm, oldExp)
}

// MSet sets several keys. With nx nothing is written if any key exists.
func (tx *Tx) MSet(pairs [][]byte, nx bool) (bool, error) {
	if len(pairs) > 2 {
		tx.indexedBatch() // each key is looked up after the previous one is written
	}
	if nx {
		for i := 0; i < len(pairs); i += 2 {
			m, err := tx.lookup(pairs[i])
			if err != nil {
				return false, err
			}
			if m != nil {
				return false, nil
			}
		}
	}
	for i := 0; i < len(pairs); i += 2 {
		m, err := tx.lookup(pairs[i])
		if err != nil {
			return false, err
		}
		tx.setString(pairs[i], m, pairs[i+1], 0, false)
		tx.Emit("set", pairs[i], TypeString)
	}
	return true, nil
}

// GetDel returns a string and deletes it.
func (tx *Tx) GetDel(key []byte) ([]byte, bool, error) {
	m, err := tx.readType(key, TypeString)
	if err != nil || m == nil {
		return nil, false, err
	}
	tx.removeObject(key, m)
	tx.Emit("del", key, TypeString)
	return m.Payload, true, nil
}

// GetExOptions: exactly one of ExpireAt (>0) or Persist, or neither.
type GetExOptions struct {
	ExpireAt int64
	Persist  bool
}

// GetEx returns a string and optionally changes its expiry.
func (tx *Tx) GetEx(key []byte, o GetExOptions) ([]byte, bool, error) {
	m, err := tx.readType(key, TypeString)
	if err != nil || m == nil {
		return nil, false, err
	}
	v := m.Payload
	switch {
	case o.Persist && m.ExpireAt != 0:
		old := m.ExpireAt
		m.ExpireAt = 0
		tx.putMeta(key, m, old)
		tx.Emit("persist", key, TypeString)
	case o.ExpireAt != 0 && o.ExpireAt <= tx.now:
		tx.removeObject(key, m)
		tx.Emit("del", key, TypeString)
	case o.ExpireAt != 0:
		old := m.ExpireAt
		m.ExpireAt = o.ExpireAt
		tx.putMeta(key, m, old)
		tx.Emit("expire", key, TypeString)
	}
	return v, true, nil
}

// IncrBy adds delta to the integer stored at key.
func (tx *Tx) IncrBy(key []byte, delta int64) (int64, error) {
	m, err := tx.lookupType(key, TypeString)
	if err != nil {
		return 0, err
	}
	var cur int64
	if m != nil {
		cur, err = ParseInt(m.Payload)
		if err != nil {
			return 0, err
		}
	}
	if (delta > 0 && cur > math.MaxInt64-delta) || (delta < 0 && cur < math.MinInt64-delta) {
		return 0, ErrOverflow
	}
	cur += delta
	tx.setString(key, m, strconv.AppendInt(nil, cur, 10), 0, true)
	tx.Emit("incrby", key, TypeString)
	return cur, nil
}

// IncrByFloat adds delta to the float stored at key.
func (tx *Tx) IncrByFloat(key []byte, delta float64) ([]byte, error) {
	m, err := tx.lookupType(key, TypeString)
	if err != nil {
		return nil, err
	}
	var cur float64
	if m != nil {
		cur, err = ParseFloat(m.Payload)
		if err != nil {
			return nil, err
		}
	}
	cur += delta
	if math.IsNaN(cur) || math.IsInf(cur, 0) {
		return nil, Error("ERR increment would produce NaN or Infinity")
	}
	v := FormatFloat(cur)
	tx.setString(key, m, v, 0, true)
	tx.Emit("incrbyfloat", key, TypeString)
	return v, nil
}

// Append appends to a string (creating it) and returns the new length.
func (tx *Tx) Append(key, value []byte) (int, error) {
	m, err := tx.lookupType(key, TypeString)
	if err != nil {
		return 0, err
	}
	var v []byte
	if m != nil {
		v = append(append([]byte(nil), m.Payload...), value...)
	} else {
		v = append([]byte(nil), value...)
	}
	if len(v) > MaxStringLen {
		return 0, ErrStringLarge
	}
	tx.setString(key, m, v, 0, true)
	tx.Emit("append", key, TypeString)
	return len(v), nil
}

// SetRange overwrites part of a string at offset and returns its length.
func (tx *Tx) SetRange(key []byte, offset int64, value []byte) (int, error) {
	m, err := tx.lookupType(key, TypeString)
	if err != nil {
		return 0, err
	}
	var cur []byte
	if m != nil {
		cur = m.Payload
	}
	if len(value) == 0 {
		return len(cur), nil
	}
	if offset+int64(len(value)) > MaxStringLen {
		return 0, ErrStringLarge
	}
	end := int(offset) + len(value)
	v := make([]byte, max(len(cur), end))
	copy(v, cur)
	copy(v[offset:], value)
	tx.setString(key, m, v, 0, true)
	tx.Emit("setrange", key, TypeString)
	return len(v), nil
}

// ParseInt parses a Redis integer argument strictly (no spaces, no '+').
func ParseInt(b []byte) (int64, error) {
	if len(b) == 0 || len(b) > 20 || b[0] == '+' || (len(b) > 1 && b[0] == '0') || (len(b) > 1 && b[0] == '-' && b[1] == '0') {
		return 0, ErrNotInteger
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return 0, ErrNotInteger
	}
	return n, nil
}

// ParseFloat parses a Redis float argument (inf/-inf allowed, NaN not).
func ParseFloat(b []byte) (float64, error) {
	if len(b) == 0 || b[0] == ' ' || b[len(b)-1] == ' ' {
		return 0, ErrNotFloat
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, nil
		}
		return 0, ErrNotFloat
	}
	return f, nil
}

// FormatFloat formats as Redis' INCRBYFLOAT / HINCRBYFLOAT do (%.17Lg, trimmed).
func FormatFloat(f float64) []byte {
	if math.IsInf(f, 1) {
		return []byte("inf")
	}
	if math.IsInf(f, -1) {
		return []byte("-inf")
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if len(s) > 17+2 {
		// shortest repr is exact; Redis prints 17 significant digits in %Lg
		s = strconv.FormatFloat(f, 'g', 17, 64)
	}
	return []byte(s)
}
