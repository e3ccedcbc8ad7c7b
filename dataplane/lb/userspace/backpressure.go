package userspace

import (
	"context"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// Backpressure on the event loop, as HAProxy and Envoy do it: bytes read
// from one side wait in the proxy only while the other side's outbound
// queue is below Options.MaxBuffered. Past that, the reading side is paused
// (its socket leaves the loop's read interest, so the kernel's receive
// window closes and the sender blocks) and what it had already read stays
// in its inbound buffer. gnet has no drain notification, so each loop keeps
// a stall list that it checks every stallCheck: a paused side whose peer's
// queue has fallen to half the bound gets its leftovers forwarded and reads
// again.
//
// Per session and direction the proxy therefore holds at most about
// 1.5 x MaxBuffered in the peer's queue plus the paused side's leftovers.
// Those leftovers grow past one read (gnet's 64 KiB buffer) only when gnet
// turns reading back on behind the proxy's back, which it does after
// flushing the paused side's own outbound queue; a paused side whose
// leftovers pass MaxBuffered is closed (closed_overflow).

// stallCheck is how often a loop with paused sessions looks for drained
// peers: short enough that a reader which catches up does not wait long,
// long enough that thousands of stalled sessions cost little.
const stallCheck = 2 * time.Millisecond

// stallList holds the paused sessions of one event loop. Its fields are
// touched only on that loop, except timer, which is created once.
type stallList struct {
	svc      *service
	loop     gnet.EventLoop
	sessions []*session
	armed    bool
	timer    *time.Timer
	check    gnet.Runnable
}

// stalls returns the stall list of loop, creating it on first use.
func (s *service) stalls(loop gnet.EventLoop) *stallList {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.stallLists[loop]
	if l == nil {
		l = &stallList{svc: s, loop: loop}
		l.check = gnet.RunnableFunc(func(context.Context) error { l.run(); return nil })
		s.stallLists[loop] = l
	}
	return l
}

func (l *stallList) add(sess *session) {
	if sess.stalled {
		return
	}
	sess.stalled = true
	l.sessions = append(l.sessions, sess)
	if l.armed {
		return
	}
	l.armed = true
	if l.timer == nil {
		l.timer = time.AfterFunc(stallCheck, l.fire)
		return
	}
	l.timer.Reset(stallCheck)
}

func (l *stallList) fire() {
	if l.loop.Execute(context.Background(), l.check) != nil {
		// The engine is stopping and closes every session itself.
		return
	}
}

// run resumes what can be resumed and re-arms while anything is paused.
func (l *stallList) run() {
	keep := l.sessions[:0]
	for _, sess := range l.sessions {
		if l.svc.resume(sess) {
			keep = append(keep, sess)
		} else {
			sess.stalled = false
		}
	}
	clear(l.sessions[len(keep):])
	l.sessions = keep
	if len(keep) == 0 {
		l.armed = false
		return
	}
	l.timer.Reset(stallCheck)
}

// pause stops reading side c of sess. It runs on the session's loop and
// reports false if the poller refused, in which case the session has been
// moved off the loop instead.
func (s *service) pause(sess *session, c gnet.Conn) bool {
	if err := setReading(c, false); err != nil {
		s.m.pauseFailed.Add(1)
		s.startMigration(sess)
		return false
	}
	if c == sess.client {
		if !sess.clientPaused {
			s.m.paused.Add(1)
		}
		sess.clientPaused = true
	} else {
		if !sess.backendPaused {
			s.m.paused.Add(1)
		}
		sess.backendPaused = true
	}
	s.stalls(sess.client.EventLoop()).add(sess)
	return true
}

func (sess *session) isPaused(c gnet.Conn) bool {
	if c == sess.client {
		return sess.clientPaused
	}
	return sess.backendPaused
}

// repause re-applies a pause gnet may have lifted: after a write that left
// bytes queued toward c, gnet asks for both read and write events on c.
func (s *service) repause(sess *session, c gnet.Conn) {
	if sess.isPaused(c) && c.OutboundBuffered() > 0 {
		setReading(c, false) //nolint:errcheck // it worked when c was paused
	}
}

// resume runs on the session's loop; it reports whether a side is still
// paused.
func (s *service) resume(sess *session) bool {
	if sess.ended.Load() || sess.migrating || sess.migrated || sess.closing {
		sess.clientPaused, sess.backendPaused = false, false
		return false
	}
	if sess.clientPaused && sess.clientOpen {
		sess.clientPaused = s.resumeSide(sess, sess.client, sess.backend, sess.backendOpen, true)
	}
	if sess.backendPaused && sess.backendOpen {
		sess.backendPaused = s.resumeSide(sess, sess.backend, sess.client, sess.clientOpen, false)
	}
	return sess.clientPaused || sess.backendPaused
}

// resumeSide forwards src's leftovers to dst once dst's queue has drained
// to half the bound and turns reading src back on; it reports whether src
// stays paused.
func (s *service) resumeSide(sess *session, src, dst gnet.Conn, dstOpen, up bool) bool {
	if sess.halfOpen || !dstOpen {
		// dst sent FIN and is held by its duplicate: halfTraffic writes
		// src's leftovers straight to it once src is woken.
		if setReading(src, true) != nil {
			return true
		}
		if src.InboundBuffered() > 0 {
			src.Wake(nil) //nolint:errcheck // engine stop closes all
		}
		return false
	}
	limit := s.opts.MaxBuffered
	if dst.OutboundBuffered() > limit/2 {
		return true
	}
	if src.InboundBuffered() > 0 {
		data, _ := src.Peek(-1)
		n := len(data)
		if _, err := dst.Write(data); err != nil {
			return false // gnet closed dst; its OnClose ends the session
		}
		src.Discard(n) //nolint:errcheck // n bytes are buffered
		sess.count(up, n)
		sess.moved(up, time.Now().UnixNano())
		s.repause(sess, dst)
		if dst.OutboundBuffered() >= limit {
			return true
		}
	}
	return setReading(src, true) != nil
}
