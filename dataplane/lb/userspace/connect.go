package userspace

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/strata-dp/strata/dataplane/lb"
	"golang.org/x/sys/unix"
)

// Backend connects start on the client's event loop: a non-blocking socket
// and connect(2). Over loopback and short links the handshake has finished
// (or been refused) by the time connect returns, so the socket is
// registered on the loop at once, without a goroutine. A connect still in
// progress is awaited off the loop in Go's poller, bounded by
// ConnectTimeout, and finished on the loop again.

// connectNext tries the flow's remaining backends in table order. It runs on
// the client's loop and reports false if every candidate failed, in which
// case the caller closes the client.
func (s *service) connectNext(sess *session) bool {
	for sess.attempt < maxAttempts {
		t := s.table.Load()
		i := t.pickIndex(sess.hash, sess.attempt, &sess.avoid)
		if i < 0 {
			break
		}
		addr, be := t.backends[i], t.stats[i]
		fd, sa, sig, done := startConnect(addr)
		if sig != lb.SignalConnectOK {
			s.connectFailed(sess, addr, be, sig)
			continue
		}
		if !done {
			s.m.connectsWaited.Add(1)
			go s.awaitConnect(sess, fd, sa, addr, be)
			return true
		}
		if s.adopt(sess, fd, sa, addr, be) {
			return true
		}
		break
	}
	s.m.noBackend.Add(1)
	return false
}

func (s *service) connectFailed(sess *session, addr netip.AddrPort, be *backendStats, sig lb.Signal) {
	sess.avoid[sess.attempt] = addr
	sess.attempt++
	s.m.connectFailed(sig)
	be.failures.Add(1)
	s.observe(addr, sig)
}

// adopt registers a connected backend socket on the session's loop.
// The backend's session counters are set first: registering can forward
// the client's first bytes at once.
func (s *service) adopt(sess *session, fd int, sa unix.Sockaddr, addr netip.AddrPort, be *backendStats) bool {
	s.observe(addr, lb.SignalConnectOK)
	sess.addr, sess.be = addr, be
	be.active.Add(1)
	if sess.attempt > 0 {
		s.m.retried.Add(1)
	}
	err := registerOnLoop(sess.client, fd, sa, net.TCPAddrFromAddrPort(addr), sess)
	if err != nil && sess.backend == nil {
		sess.be = nil
		be.active.Add(-1)
		return false
	}
	be.conns.Add(1)
	return true
}

// awaitConnect waits for a connect in progress and finishes it on the loop.
func (s *service) awaitConnect(sess *session, fd int, sa unix.Sockaddr, addr netip.AddrPort, be *backendStats) {
	sig := waitConnect(fd, s.opts.ConnectTimeout)
	loop := sess.client.EventLoop()
	err := loop.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
		abandoned := (!sess.clientOpen && !sess.clientEOF) || sess.closing
		switch {
		case sig != lb.SignalConnectOK:
			_ = unix.Close(fd)
			s.connectFailed(sess, addr, be, sig)
			if !abandoned && s.connectNext(sess) {
				return nil
			}
		case abandoned:
			s.observe(addr, lb.SignalConnectOK)
			_ = unix.Close(fd)
			s.m.dialAbandoned.Add(1)
		case s.adopt(sess, fd, sa, addr, be):
			return nil
		default:
			s.m.noBackend.Add(1)
		}
		// No backend: close what is left of the client.
		if sess.clientOpen {
			sess.closing = true
			return loop.Close(sess.client)
		}
		sess.closeDups()
		sess.end()
		return nil
	}))
	if err != nil {
		// The engine is shutting down and closes every connection itself.
		_ = unix.Close(fd)
		sess.end()
	}
}

// startConnect opens a non-blocking socket to addr. sig is not
// lb.SignalConnectOK if the connect failed (fd is then closed); done reports
// whether the handshake has already completed.
func startConnect(addr netip.AddrPort) (fd int, sa unix.Sockaddr, sig lb.Signal, done bool) {
	family := unix.AF_INET6
	if addr.Addr().Is4() {
		family = unix.AF_INET
		sa = &unix.SockaddrInet4{Port: int(addr.Port()), Addr: addr.Addr().As4()}
	} else {
		sa6 := &unix.SockaddrInet6{Port: int(addr.Port()), Addr: addr.Addr().As16()}
		if zone := addr.Addr().Zone(); zone != "" {
			ifi, err := net.InterfaceByName(zone)
			if err != nil {
				return -1, nil, lb.SignalRefused, false
			}
			sa6.ZoneId = uint32(ifi.Index)
		}
		sa = sa6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, nil, lb.SignalRefused, false
	}
	unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1) //nolint:errcheck // latency only
	if err := unix.Connect(fd, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
		_ = unix.Close(fd)
		return -1, nil, signalOf(err), false
	}
	sig, done = connectState(fd)
	if sig != lb.SignalConnectOK {
		_ = unix.Close(fd)
		return -1, nil, sig, true
	}
	return fd, sa, sig, done
}

// connectState reports whether a non-blocking connect has finished and how,
// in one getsockopt on the common path.
func connectState(fd int) (lb.Signal, bool) {
	info, err := unix.GetsockoptTCPInfo(fd, unix.IPPROTO_TCP, unix.TCP_INFO)
	if err != nil {
		return lb.SignalRefused, true
	}
	switch info.State {
	case tcpSynSent:
		return lb.SignalConnectOK, false
	case tcpClose:
	default:
		// Established, or already past it (a backend that greets and
		// closes at once is in CLOSE_WAIT by now).
		return lb.SignalConnectOK, true
	}
	soerr, err := unix.GetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ERROR)
	if err != nil || soerr == 0 {
		return lb.SignalRefused, true
	}
	return signalOf(unix.Errno(soerr)), true
}

// TCP states as tcp_info reports them (include/net/tcp_states.h).
const (
	tcpSynSent = 2
	tcpClose   = 7
)

// waitConnect blocks in Go's poller until fd's connect finishes or timeout
// passes. It polls a duplicate, so fd itself stays non-blocking and ours.
func waitConnect(fd int, timeout time.Duration) lb.Signal {
	dup, err := unix.FcntlInt(uintptr(fd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return lb.SignalRefused
	}
	f := os.NewFile(uintptr(dup), "backend")
	defer func() { _ = f.Close() }()
	if err := f.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
		return lb.SignalRefused // not pollable; cannot bound the wait
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return lb.SignalRefused
	}
	sig := lb.SignalConnectOK
	err = rc.Write(func(uintptr) bool {
		var done bool
		sig, done = connectState(fd)
		return done
	})
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return lb.SignalConnectTimeout
	case err != nil:
		return lb.SignalRefused
	}
	return sig
}

func signalOf(err error) lb.Signal {
	if errors.Is(err, unix.ETIMEDOUT) {
		return lb.SignalConnectTimeout
	}
	return lb.SignalRefused
}
