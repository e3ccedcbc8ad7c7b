package userspace

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// migrateRetry is how often a session waiting to leave the event loop checks
// whether gnet has flushed its outbound queues.
const migrateRetry = 2 * time.Millisecond

// startMigration moves a session off the event loop (see the package doc).
// It runs on the session's loop.
func (s *service) startMigration(sess *session) {
	if sess.migrating || sess.migrated {
		return
	}
	sess.migrating = true
	s.m.migrated.Add(1)
	// Nothing more is read until the pipe takes over: gnet would otherwise
	// keep filling the inbound buffers while the outbound queues drain.
	if sess.clientOpen {
		setReading(sess.client, false) //nolint:errcheck // best effort; bounded by the wait
	}
	if sess.backendOpen && sess.backend != nil {
		setReading(sess.backend, false) //nolint:errcheck
	}
	// Deferred to its own loop task: the conn being handled right now must
	// not be closed under gnet's feet.
	s.retryMigrate(sess, time.Now().Add(s.opts.IdleTimeout), 0)
}

func (s *service) retryMigrate(sess *session, deadline time.Time, after time.Duration) {
	loop := sess.client.EventLoop()
	run := func() {
		loop.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error { //nolint:errcheck // engine stop closes all
			s.tryMigrate(sess, deadline)
			return nil
		}))
	}
	if after == 0 {
		run()
		return
	}
	time.AfterFunc(after, run)
}

func (s *service) tryMigrate(sess *session, deadline time.Time) {
	if sess.migrated || sess.ended.Load() {
		return
	}
	loop := sess.client.EventLoop()
	pending := (sess.clientOpen && sess.client.OutboundBuffered() > 0) ||
		(sess.backendOpen && sess.backend.OutboundBuffered() > 0)
	if pending {
		if time.Now().After(deadline) {
			s.abort(sess)
			return
		}
		s.retryMigrate(sess, deadline, migrateRetry)
		return
	}
	up, down := sess.early, sess.late
	sess.early, sess.late = nil, nil
	if sess.clientOpen {
		fd, err := sess.client.Dup()
		if err != nil {
			s.abort(sess)
			return
		}
		sess.clientFd = fd
		if sess.client.InboundBuffered() > 0 {
			d, _ := sess.client.Next(-1)
			up = append(up, d...)
		}
	}
	if sess.backendOpen {
		fd, err := sess.backend.Dup()
		if err != nil {
			s.abort(sess)
			return
		}
		sess.backendFd = fd
		if sess.backend.InboundBuffered() > 0 {
			d, _ := sess.backend.Next(-1)
			down = append(down, d...)
		}
	}
	sess.migrated = true
	if sess.clientOpen {
		loop.Close(sess.client) //nolint:errcheck
	}
	if sess.backendOpen {
		loop.Close(sess.backend) //nolint:errcheck
	}
	cfd, bfd := sess.clientFd, sess.backendFd
	sess.clientFd, sess.backendFd = -1, -1
	go s.pipe(sess, cfd, bfd, up, down, sess.clientEOF, sess.backendEOF)
}

// abort closes both sides of a session still on its loop.
func (s *service) abort(sess *session) {
	sess.closing = true
	loop := sess.client.EventLoop()
	if sess.clientOpen {
		loop.Close(sess.client) //nolint:errcheck
	}
	if sess.backendOpen {
		loop.Close(sess.backend) //nolint:errcheck
	}
	sess.closeDups()
	sess.end()
}

var pipeBufs = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}

// pipe carries a migrated session with blocking copies: one goroutine per
// direction, each half closed on its own, deadlines as the idle timeout.
func (s *service) pipe(sess *session, cfd, bfd int, up, down []byte, clientEOF, backendEOF bool) {
	defer sess.end()
	cc, err1 := fdConn(cfd)
	bc, err2 := fdConn(bfd)
	if err1 != nil || err2 != nil {
		for _, c := range []*net.TCPConn{cc, bc} {
			if c != nil {
				_ = c.Close()
			}
		}
		return
	}
	stop := func() { _ = cc.Close(); _ = bc.Close() }
	sess.stopped.Store(&stop)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); s.copyHalf(bc, cc, up, clientEOF, sess, true) }()
	go func() { defer wg.Done(); s.copyHalf(cc, bc, down, backendEOF, sess, false) }()
	wg.Wait()
	_ = cc.Close()
	_ = bc.Close()
}

// copyHalf copies src to dst until src's FIN, which it passes on as a FIN.
// Any other end (reset, idle timeout) aborts both directions.
func (s *service) copyHalf(dst, src *net.TCPConn, pending []byte, srcEOF bool, sess *session, up bool) {
	idle := s.opts.IdleTimeout
	if len(pending) > 0 {
		err := dst.SetWriteDeadline(time.Now().Add(idle))
		if err == nil {
			sess.moved(up, time.Now().UnixNano())
			_, err = dst.Write(pending)
		}
		if err != nil {
			_ = src.SetLinger(0)
			_ = src.Close()
			_ = dst.Close()
			return
		}
		sess.count(up, len(pending))
	}
	if !srcEOF {
		bp := pipeBufs.Get().(*[]byte)
		defer pipeBufs.Put(bp)
		buf := *bp
		for {
			var n int
			err := src.SetReadDeadline(time.Now().Add(idle))
			if err == nil {
				n, err = src.Read(buf)
			}
			if n > 0 {
				sess.moved(up, time.Now().UnixNano())
				werr := dst.SetWriteDeadline(time.Now().Add(idle))
				if werr == nil {
					_, werr = dst.Write(buf[:n])
				}
				if werr != nil {
					err = werr
				} else {
					sess.count(up, n)
				}
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					if errors.Is(err, os.ErrDeadlineExceeded) {
						s.m.idleClosed.Add(1)
					}
					_ = dst.SetLinger(0)
					_ = dst.Close()
					_ = src.Close()
					return
				}
				break
			}
		}
	}
	_ = dst.CloseWrite()
}

func fdConn(fd int) (*net.TCPConn, error) {
	if fd < 0 {
		return nil, os.ErrInvalid
	}
	f := os.NewFile(uintptr(fd), "lb-session")
	c, err := net.FileConn(f)
	_ = f.Close()
	if err != nil {
		return nil, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		_ = c.Close()
		return nil, os.ErrInvalid
	}
	return tc, nil
}
