package userspace

import (
	"time"

	"github.com/strata-dp/strata/dataplane/lb"
)

// A backend that accepts connections and then never answers passes every
// TCP health check. The proxy notices it passively: a session whose client
// has sent bytes and whose backend has sent none within
// Options.FirstByteTimeout reports lb.SignalNoResponse (from the sweeper, or
// when the session ends), and the backend's first byte reports
// lb.SignalResponded, so a health checker can count consecutive failures.

// Reply states of a session.
const (
	replyWaiting  uint32 = iota // no byte from the backend yet
	replyGot                    // the backend sent something
	replyTimedOut               // lb.SignalNoResponse was reported
)

// moved records bytes moved toward the backend (up) or the client at now,
// in unix nanoseconds.
func (sess *session) moved(up bool, now int64) {
	sess.last.Store(now)
	if up {
		if sess.firstUp.Load() == 0 && sess.reply.Load() == replyWaiting {
			sess.firstUp.Store(now)
		}
		return
	}
	if r := sess.reply.Load(); r != replyGot && sess.reply.CompareAndSwap(r, replyGot) {
		sess.answered(sess.firstUp.Load(), now)
		sess.svc.observe(sess.addr, lb.SignalResponded)
	}
}

// judgeFirstByte reports lb.SignalNoResponse, once, for a session whose
// backend has not answered the client's bytes within the timeout.
func (sess *session) judgeFirstByte(now time.Time) {
	s := sess.svc
	timeout := s.opts.FirstByteTimeout
	first := sess.firstUp.Load()
	if timeout <= 0 || first == 0 || sess.reply.Load() != replyWaiting || now.UnixNano()-first < int64(timeout) {
		return
	}
	if sess.reply.CompareAndSwap(replyWaiting, replyTimedOut) {
		s.m.noResponse.Add(1)
		s.observe(sess.addr, lb.SignalNoResponse)
	}
}
