//go:build !linux

package host

import "github.com/tetratelabs/wazero/experimental"

// newLinearMemory: no stable allocator on this platform; allocateMemory
// falls back to heapMemory.
func newLinearMemory(max uint64) experimental.LinearMemory { return nil }
