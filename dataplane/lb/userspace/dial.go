package userspace

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"

	"github.com/panjf2000/gnet/v2"
)

// dial connects the session to a backend, trying up to maxAttempts backends
// of the flow in the order the table gives, and registers the connection on
// the client's event loop. It runs in its own goroutine because connect
// blocks and gnet's own Register has no timeout.
func (s *service) dial(sess *session) {
	var avoid [maxAttempts]netip.AddrPort
	for attempt := 0; attempt < maxAttempts; attempt++ {
		t := s.table.Load()
		addr, ok := t.pick(sess.hash, attempt, &avoid)
		if !ok {
			break
		}
		ctx, cancel := context.WithTimeout(s.ctx, s.opts.ConnectTimeout)
		conn, err := s.dialer.DialContext(ctx, "tcp", addr.String())
		cancel()
		if err != nil {
			avoid[attempt] = addr
			sig := SignalRefused
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
				sig = SignalConnectTimeout
			}
			s.m.connectFailed(sig)
			s.observe(addr, sig)
			if s.ctx.Err() != nil {
				break
			}
			continue
		}
		s.observe(addr, SignalConnectOK)
		sess.addr = addr
		if attempt > 0 {
			s.m.retried.Add(1)
		}
		// Enroll duplicates the descriptor and closes conn itself.
		if _, err := sess.client.EventLoop().Enroll(gnet.NewContext(context.Background(), sess), conn); err != nil {
			conn.Close()
			break
		}
		return
	}
	s.m.noBackend.Add(1)
	s.abandon(sess)
}

// abandon closes a session whose backend never connected, on its loop.
func (s *service) abandon(sess *session) {
	loop := sess.client.EventLoop()
	err := loop.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error {
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
		sess.end()
	}
}

func newDialer() *net.Dialer {
	// KeepAlive -1: the idle timeout, not TCP keepalive, ends dead sessions.
	return &net.Dialer{KeepAlive: -1}
}
