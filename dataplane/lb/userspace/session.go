package userspace

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/strata-dp/strata/dataplane/lb"
)

// session is one proxied connection: a client side and, once connected, a
// backend side on the same event loop. Fields without atomics are touched
// only on that event loop.
type session struct {
	svc     *service
	client  gnet.Conn
	backend gnet.Conn
	addr    netip.AddrPort // the backend, set before it is registered
	be      *backendStats  // addr's counters, set with addr
	hash    uint32
	// attempt counts failed connects; avoid holds their backends.
	attempt int
	avoid   [maxAttempts]netip.AddrPort

	clientOpen, backendOpen bool
	// closing is set before the proxy closes a side itself, so OnClose can
	// tell our closes from the peer's.
	closing bool
	// migrating stops the loop from consuming either side while the session
	// waits for its outbound queues to drain before leaving the loop.
	migrating bool
	migrated  bool
	// halfOpen: one side sent FIN, its FIN was passed on, and its socket
	// is held by its duplicate; the other side stays on the loop and its
	// bytes are written straight to the duplicate (see halfclose.go).
	halfOpen bool
	// eof records which side sent FIN when migration started for half-close.
	clientEOF, backendEOF bool
	// clientPaused, backendPaused: reading that side is stopped because
	// the other side's outbound queue passed Options.MaxBuffered; stalled:
	// the session is on its loop's stall list (backpressure.go).
	clientPaused, backendPaused, stalled bool
	clientFd, backendFd                  int // duplicates held across migration, or -1
	// early and late hold bytes read from a side that sent FIN while they
	// could not be forwarded (backend not open yet, or migrating).
	early, late []byte

	last atomic.Int64 // unix nanos of the last byte moved
	// firstUp is when the client's first bytes went to the backend, reply
	// whether the backend has answered (firstbyte.go).
	firstUp atomic.Int64
	reply   atomic.Uint32
	ended   atomic.Bool
	stopped atomic.Pointer[func()] // closes the goroutine pipe after migration
}

// handler is the gnet event handler of one service.
type handler struct {
	gnet.BuiltinEventEngine
	svc *service
}

func (h *handler) OnBoot(eng gnet.Engine) gnet.Action {
	h.svc.booted(eng)
	return gnet.None
}

func (h *handler) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if sess, ok := c.Context().(*session); ok {
		return h.backendOpened(sess, c)
	}
	s := h.svc
	if s.draining.Load() || s.active.Load() >= int64(s.opts.MaxConns) {
		s.m.rejected.Add(1)
		return nil, gnet.Close
	}
	sess := &session{svc: s, client: c, clientOpen: true, clientFd: -1, backendFd: -1}
	sess.last.Store(time.Now().UnixNano())
	c.SetContext(sess)
	s.active.Add(1)
	s.m.accepted.Add(1)
	s.track(sess)
	src, dst := tcpAddrPort(c.RemoteAddr()), tcpAddrPort(c.LocalAddr())
	sess.hash = s.table.Load().flowKey(flowHash(src.Addr(), dst.Addr(), src.Port(), dst.Port(), lb.TCP))
	if !s.connectNext(sess) {
		sess.closing = true
		return nil, gnet.Close
	}
	return nil, gnet.None
}

func (h *handler) backendOpened(sess *session, c gnet.Conn) ([]byte, gnet.Action) {
	if (!sess.clientOpen && !sess.clientEOF) || sess.closing {
		sess.svc.m.dialAbandoned.Add(1)
		return nil, gnet.Close
	}
	sess.backend, sess.backendOpen = c, true
	if sess.clientEOF {
		// The client sent its request and FIN before the backend answered;
		// the pipe delivers the bytes and the FIN.
		sess.svc.startMigration(sess)
		return nil, gnet.None
	}
	// Bytes the client sent while the backend was being dialled wait in the
	// client's inbound buffer; they go out first.
	if sess.client.InboundBuffered() > 0 {
		data, _ := sess.client.Next(-1)
		sess.count(true, len(data))
		sess.moved(true, time.Now().UnixNano())
		return data, gnet.None
	}
	return nil, gnet.None
}

func (h *handler) OnTraffic(c gnet.Conn) gnet.Action {
	sess, ok := c.Context().(*session)
	if !ok || sess.migrated {
		return gnet.None
	}
	if sess.migrating {
		// Reading was stopped for the move; gnet turns it back on when it
		// flushes c's queue. Keep the bytes for the pipe, bounded.
		if c.InboundBuffered() > h.svc.opts.MaxBuffered {
			h.svc.m.overflow.Add(1)
			sess.closing = true
			return gnet.Close
		}
		setReading(c, false) //nolint:errcheck // best effort
		return gnet.None
	}
	if sess.halfOpen {
		return h.halfTraffic(sess, c)
	}
	src, dst, up := c, sess.backend, true
	if c != sess.client {
		dst, up = sess.client, false
	}
	if dst == nil {
		// Still dialling: leave the bytes queued, but bounded.
		if src.InboundBuffered() > h.svc.opts.MaxBuffered {
			h.svc.m.overflow.Add(1)
			sess.closing = true
			return gnet.Close
		}
		return gnet.None
	}
	if sess.isPaused(src) {
		// gnet read again behind the pause (it does after flushing src's
		// own queue): keep the bytes, bounded, and pause again.
		if src.InboundBuffered() > h.svc.opts.MaxBuffered {
			h.svc.m.overflow.Add(1)
			sess.closing = true
			return gnet.Close
		}
		setReading(src, false) //nolint:errcheck // it worked when src was paused
		return gnet.None
	}
	if dst.OutboundBuffered() >= h.svc.opts.MaxBuffered {
		// The receiver is slower than the sender: stop reading the sender
		// and keep what it sent (backpressure.go).
		h.svc.pause(sess, src)
		return gnet.None
	}
	data, _ := src.Peek(-1)
	n := len(data)
	if _, err := dst.Write(data); err != nil {
		// gnet has already closed dst; OnClose of dst tears the session down.
		return gnet.None
	}
	src.Discard(n) //nolint:errcheck // n bytes are buffered
	sess.count(up, n)
	sess.moved(up, time.Now().UnixNano())
	if dst.OutboundBuffered() >= h.svc.opts.MaxBuffered {
		h.svc.pause(sess, src)
	}
	h.svc.repause(sess, dst)
	return gnet.None
}

func (h *handler) OnClose(c gnet.Conn, err error) gnet.Action {
	sess, ok := c.Context().(*session)
	if !ok {
		return gnet.None
	}
	isClient := c == sess.client
	if isClient {
		sess.clientOpen = false
	} else {
		sess.backendOpen = false
	}
	if sess.migrated {
		return gnet.None // the duplicated descriptors carry on in the pipe
	}
	peer, peerOpen := sess.backend, sess.backendOpen
	if !isClient {
		peer, peerOpen = sess.client, sess.clientOpen
	}
	if !sess.closing && isEOF(err) && (peerOpen || (isClient && sess.backend == nil)) {
		// A FIN: the other direction may still carry data (half-close), so
		// keep the socket and leave the loop for the goroutine pipe.
		if h.keepHalfClosed(sess, c, isClient, peer, peerOpen) {
			return gnet.None
		}
	}
	if !isClient && !sess.closing && isReset(err) {
		h.svc.observe(sess.addr, lb.SignalReset)
	}
	if sess.halfOpen && isReset(err) {
		sess.resetDups()
	}
	if peerOpen {
		if isReset(err) {
			// Propagate a reset as a reset, not as an orderly close.
			peer.SetLinger(0) //nolint:errcheck
		}
		sess.closing = true
		peer.EventLoop().Close(peer) //nolint:errcheck
	} else if isClient && sess.backend == nil {
		sess.closing = true // a connect in progress sees this when it ends
	}
	if !sess.clientOpen && !sess.backendOpen {
		sess.closeDups()
		sess.end()
	}
	return gnet.None
}

func (sess *session) end() {
	if sess.ended.CompareAndSwap(false, true) {
		if sess.firstUp.Load() != 0 && sess.reply.Load() == replyWaiting {
			sess.judgeFirstByte(time.Now())
		}
		sess.svc.untrack(sess)
		sess.svc.active.Add(-1)
		if sess.be != nil {
			sess.be.active.Add(-1)
		}
	}
}

func (sess *session) closeDups() {
	if sess.clientFd >= 0 {
		_ = syscall.Close(sess.clientFd)
		sess.clientFd = -1
	}
	if sess.backendFd >= 0 {
		_ = syscall.Close(sess.backendFd)
		sess.backendFd = -1
	}
}

func isEOF(err error) bool { return err != nil && errors.Is(err, io.EOF) }

func isReset(err error) bool {
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

func tcpAddrPort(a net.Addr) netip.AddrPort {
	if t, ok := a.(*net.TCPAddr); ok {
		return t.AddrPort()
	}
	return netip.AddrPort{}
}

// keepHalfClosed duplicates the socket of side c, which sent FIN, so it
// outlives gnet's close, stashes or forwards its unread bytes and starts
// the migration. It reports false if the socket could not be kept.
func (h *handler) keepHalfClosed(sess *session, c gnet.Conn, isClient bool, peer gnet.Conn, peerOpen bool) bool {
	fd, err := c.Dup()
	if err != nil {
		return false
	}
	var data []byte
	if c.InboundBuffered() > 0 {
		data, _ = c.Next(-1)
	}
	if isClient {
		sess.clientEOF, sess.clientFd = true, fd
	} else {
		sess.backendEOF, sess.backendFd = true, fd
	}
	switch {
	case len(data) == 0:
	case peerOpen && !sess.migrating:
		peer.Write(data) //nolint:errcheck // a failed write closes peer
		sess.count(isClient, len(data))
	case isClient:
		sess.early = append(sess.early, data...)
	default:
		sess.late = append(sess.late, data...)
	}
	if peerOpen {
		if !sess.migrating && len(sess.early) == 0 && len(sess.late) == 0 && h.passFIN(sess, peer) {
			return true
		}
		h.svc.startMigration(sess)
	}
	return true
}
