package server

import "github.com/panjf2000/gnet/v2"

// Buffering. gnet keeps what a handler leaves unconsumed in a ring buffer
// per connection, and each later Peek copies all of it into a pooled slice:
// an incomplete 4 MiB value sent in 64 KiB reads was copied 64 times and
// held three times over, and the grown buffers went back to gnet's pools
// when the connection closed. So the handler consumes everything gnet read,
// every time: whole commands are answered from gnet's read buffer without a
// copy, and only an incomplete tail (or commands left for a later turn) is
// copied once into the session's pending buffer, which grows (doubling)
// only as bytes arrive, never ahead of them to an announced length.
//
// Every byte held for a connection, pending input and replies gnet has not
// sent yet, counts against Config.MaxBuffered over the whole server; at
// the bound the connection holding the most bytes is closed (buffer_limit,
// shed.go), which is the growing one only when nobody holds more. Before
// AUTH a connection may hold preAuthInput bytes of input and
// preAuthOutput bytes of replies.
const (
	// preAuthInput bounds one command of an unauthenticated connection:
	// enough for AUTH or HELLO with a long secret.
	preAuthInput = 4 << 10
	// preAuthOutput bounds the unsent replies of an unauthenticated
	// connection (NOAUTH errors to a client that pipelines and never reads).
	preAuthOutput = 64 << 10
	// keptPending is the largest pending buffer kept once it is empty;
	// larger ones are dropped for the collector, not pooled.
	keptPending = 64 << 10
)

// inputLimit is the most input a session may hold for one command.
func (s *Server) inputLimit(ss *session) int {
	if !ss.authed {
		return preAuthInput
	}
	return s.cfg.MaxFrame + 64<<10
}

// takeInput returns the bytes to serve: gnet's read buffer itself when
// nothing is pending (no copy), else the pending bytes with the new ones
// appended. ok is false when holding them would pass a bound.
func (s *Server) takeInput(ss *session, c gnet.Conn) (in []byte, ok bool) {
	got, _ := c.Peek(-1)
	ss.inPending = len(ss.pending) > 0 || len(got) == 0
	if !ss.inPending {
		return got, true
	}
	if len(got) > 0 {
		if !s.reservePending(ss, len(ss.pending)+len(got)) {
			return nil, false
		}
		ss.pending = append(ss.pending, got...)
		// Consumed now: gnet must not keep a copy of its own.
		_, _ = c.Discard(-1)
	}
	return ss.pending, true
}

// keepInput keeps in[n:], what serving left unconsumed, for the next turn,
// and tells gnet that everything it read was consumed. ok is false when
// holding it would pass a bound.
func (s *Server) keepInput(ss *session, c gnet.Conn, in []byte, n int) bool {
	rest := len(in) - n
	if ss.inPending {
		if n == 0 {
			return true
		}
		copy(ss.pending, in[n:])
		ss.pending = ss.pending[:rest]
		s.shrinkPending(ss)
		return true
	}
	// in is gnet's read buffer, valid only until this handler returns.
	if rest > 0 {
		if !s.reservePending(ss, rest) {
			return false
		}
		ss.pending = append(ss.pending[:0], in[n:]...)
	}
	_, _ = c.Discard(-1)
	return true
}

// reservePending makes room for need bytes of pending input, counting the
// growth against MaxBuffered. It grows by doubling, and only as bytes
// arrive, so a slow writer holds no more than twice what it sent. One
// connection may hold its command limit plus one read.
func (s *Server) reservePending(ss *session, need int) bool {
	if need > s.inputLimit(ss)+64<<10 {
		s.bufferKills.Add(1)
		return false
	}
	if need <= cap(ss.pending) {
		return true
	}
	newCap := max(need, 2*cap(ss.pending), 512)
	if !s.reserve(ss, int64(newCap-cap(ss.pending))) {
		return false
	}
	p := make([]byte, len(ss.pending), newCap)
	copy(p, ss.pending)
	ss.pending = p
	ss.heldIn.Store(int64(newCap))
	return true
}

// shrinkPending drops a large pending buffer once little of it is used.
func (s *Server) shrinkPending(ss *session) {
	if cap(ss.pending) <= keptPending || len(ss.pending) > cap(ss.pending)/4 {
		return
	}
	var p []byte
	if len(ss.pending) > 0 {
		p = make([]byte, len(ss.pending), max(len(ss.pending), 512))
		copy(p, ss.pending)
	}
	s.buffered.Add(int64(cap(p) - cap(ss.pending)))
	ss.heldIn.Store(int64(cap(p)))
	ss.pending = p
}

// reserve counts n more buffered bytes for ss if the global bound allows
// them, shedding larger holders to make room (shed.go).
func (s *Server) reserve(ss *session, n int64) bool {
	if s.buffered.Add(n) <= s.bufferBound() || s.shed(ss, n) {
		return true
	}
	s.buffered.Add(-n)
	s.bufferKills.Add(1)
	return false
}

// accountOutput counts the replies gnet holds unsent for the connection.
// ok is false when their growth passes the global bound or, before AUTH,
// preAuthOutput.
func (s *Server) accountOutput(ss *session, c gnet.Conn) bool {
	ob := int64(c.OutboundBuffered())
	old := ss.heldOut.Load()
	if ob == old {
		return true
	}
	ss.heldOut.Store(ob)
	if ob < old {
		// The client reads: the slow timeout counts from its progress.
		if ob > 0 && ss.blockedSince.Load() != 0 {
			ss.blockedSince.Store(s.nowMs.Load())
		}
		s.buffered.Add(ob - old)
		return true
	}
	if !ss.authed && ob > preAuthOutput {
		s.buffered.Add(ob - old)
		s.slowKills.Add(1)
		return false
	}
	if s.buffered.Add(ob-old) > s.bufferBound() && !s.shed(ss, 0) {
		s.bufferKills.Add(1)
		return false
	}
	return true
}

// releaseBuffers forgets a closed connection's buffered bytes.
func (s *Server) releaseBuffers(ss *session) {
	s.buffered.Add(-ss.heldIn.Swap(0) - ss.heldOut.Swap(0))
	ss.pending = nil
	if p := ss.shedFor.Swap(0); p != 0 {
		s.pledged.Add(-p)
	}
}

// Buffered is the number of bytes held for all connections: pending input
// and unsent replies.
func (s *Server) Buffered() int64 { return s.buffered.Load() }
