package userspace

import (
	"errors"
	"time"

	"github.com/panjf2000/gnet/v2"
	"golang.org/x/sys/unix"
)

// The common half-close (a backend that answers and closes, as HTTP with
// Connection: close does, or a client that shuts its write side after the
// request) stays on the event loop: the FIN is passed on with shutdown(2),
// and the remaining direction is written straight to the duplicated socket
// of the side that closed. Only when that write would block does the
// session leave the loop for the goroutine pipe, which then provides
// backpressure.

// passFIN passes the FIN on to peer if nothing is queued toward it.
func (h *handler) passFIN(sess *session, peer gnet.Conn) bool {
	if peer.OutboundBuffered() > 0 {
		return false
	}
	if err := unix.Shutdown(peer.Fd(), unix.SHUT_WR); err != nil {
		return false
	}
	sess.halfOpen = true
	return true
}

// halfTraffic forwards bytes from c, the side still on the loop, to the
// duplicate of the side that sent FIN.
func (h *handler) halfTraffic(sess *session, c gnet.Conn) gnet.Action {
	fd, up := sess.clientFd, false
	if c == sess.client {
		fd, up = sess.backendFd, true
	}
	data, _ := c.Peek(-1)
	n, err := unix.Write(fd, data)
	if n > 0 {
		c.Discard(n) //nolint:errcheck // n bytes are buffered
		sess.count(up, n)
		sess.moved(up, time.Now().UnixNano())
	}
	switch {
	case err == nil && n == len(data):
		return gnet.None
	case err == nil || errors.Is(err, unix.EAGAIN):
		// The receiver is slower: the rest waits in c's inbound buffer,
		// which the pipe takes over.
		sess.halfOpen = false
		h.svc.startMigration(sess)
		return gnet.None
	default:
		// The side that sent FIN is gone too: pass the reset on.
		sess.closing = true
		sess.resetDups()
		c.SetLinger(0) //nolint:errcheck
		return gnet.Close
	}
}

// resetDups makes closing the held duplicates send a reset.
func (sess *session) resetDups() {
	for _, fd := range []int{sess.clientFd, sess.backendFd} {
		if fd >= 0 {
			unix.SetsockoptLinger(fd, unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0}) //nolint:errcheck
		}
	}
}
