package server

import (
	"errors"
	"net"
	"syscall"
	"time"
)

// watchHangup reports (by closing the returned channel) when the peer of
// conn closes its side while the connection's goroutine is blocked in a
// command (BLPOP, XREAD BLOCK...) and so not reading. It peeks at the
// socket without consuming bytes: redcon reads them after the command. A
// client that sends more data is not watched further (its next command is
// served once the blocking one ends). stop ends the watch.
func watchHangup(conn net.Conn) (gone <-chan struct{}, stop func()) {
	ch := make(chan struct{})
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return ch, func() {}
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return ch, func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var buf [1]byte
		hung := false
		raw.Read(func(fd uintptr) bool {
			n, _, err := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			if errors.Is(err, syscall.EAGAIN) {
				return false // wait until readable
			}
			hung = err == nil && n == 0 || err != nil
			return true
		})
		if hung {
			close(ch)
		}
	}()
	return ch, func() {
		// wake the watcher: an expired deadline makes raw.Read return
		conn.SetReadDeadline(time.Unix(1, 0))
		<-done
		conn.SetReadDeadline(time.Time{})
	}
}
