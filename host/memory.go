package host

import "github.com/tetratelabs/wazero/experimental"

// heapMemory is the fallback linear memory (Go heap, copies on grow), used
// when the stable reservation is unavailable.
type heapMemory struct {
	buf []byte
	max uint64
}

func (m *heapMemory) Reallocate(size uint64) []byte {
	if size > m.max {
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	nb := make([]byte, size, min(m.max, size+size/2))
	copy(nb, m.buf)
	m.buf = nb
	return m.buf
}

func (m *heapMemory) Free() { m.buf = nil }

func allocateMemory(_, max uint64) experimental.LinearMemory {
	if lm := newLinearMemory(max); lm != nil {
		return lm
	}
	return &heapMemory{max: max}
}
