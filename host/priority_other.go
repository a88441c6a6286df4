//go:build !linux

package host

// lowerPriority: per-thread priorities are Linux only here.
func lowerPriority(n int) error { return nil }
