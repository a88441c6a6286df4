package host

import (
	"sync"
	"syscall"

	"github.com/tetratelabs/wazero/experimental"
)

// stableMemory is a wazero linear memory whose backing array never moves:
// the memory's maximum (the engine's MemoryLimitPages, or 4 GiB) is reserved
// PROT_NONE up front and pages are made read/write as memory.grow asks for
// them. Growing never copies (the default allocator appends, which copies
// and briefly doubles RSS), and the address stays valid for out-of-band
// readers. The reservation is virtual: MAP_NORESERVE, no RSS until touched.
type stableMemory struct {
	mu  sync.RWMutex
	buf []byte // len = current size, cap = reservation; nil after Free
}

// newLinearMemory returns a stable mmap memory, or nil when the reservation
// fails (allocateMemory then falls back to heapMemory).
func newLinearMemory(max uint64) experimental.LinearMemory {
	if max == 0 || max > 1<<32 {
		max = 1 << 32
	}
	b, err := syscall.Mmap(-1, 0, int(max), syscall.PROT_NONE,
		syscall.MAP_PRIVATE|syscall.MAP_ANONYMOUS|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	return &stableMemory{buf: b[:0]}
}

// Reallocate runs on the goroutine executing the guest (memory.grow). It
// returns nil when the reservation is exhausted, which the guest sees as a
// failed memory.grow (malloc returns NULL -> MemoryError).
func (m *stableMemory) Reallocate(size uint64) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buf == nil || size > uint64(cap(m.buf)) {
		return nil
	}
	if cur := uint64(len(m.buf)); size > cur {
		if err := syscall.Mprotect(m.buf[cur:size:size], syscall.PROT_READ|syscall.PROT_WRITE); err != nil {
			return nil
		}
	}
	m.buf = m.buf[:size]
	return m.buf
}

// Free unmaps the reservation. wazero calls it when the module is closed,
// on the goroutine that closes it.
func (m *stableMemory) Free() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.buf != nil {
		_ = syscall.Munmap(m.buf[:cap(m.buf)])
		m.buf = nil
	}
}
