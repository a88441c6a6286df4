package host

import (
	"runtime"
	"syscall"
)

// lowerPriority locks the calling goroutine to its OS thread for good and
// raises that thread's nice value by n (capped at 19): the thread ends with
// the goroutine. Raising nice needs no privilege; nothing lowers it again.
func lowerPriority(n int) error {
	if n <= 0 {
		return nil
	}
	runtime.LockOSThread()
	tid := syscall.Gettid()
	// the raw syscall returns 20 - nice
	cur, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if err != nil {
		return err
	}
	return syscall.Setpriority(syscall.PRIO_PROCESS, tid, min(20-cur+n, 19))
}
