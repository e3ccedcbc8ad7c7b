package server

import (
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// session is one connection's state; only its event loop touches it,
// except the atomics, which the ticker reads.
type session struct {
	id      uint64
	conn    gnet.Conn
	proto   protocol
	stats   *loopStats
	spin    *spinner // the loop's busy poller; nil when off
	authed  bool
	quit    bool
	batches uint32
	name    string
	addr    string
	created time.Time

	out     []byte   // replies of the current batch
	args    [][]byte // RESP arguments, aliasing the input
	scratch []byte   // values read from the engine

	pending   []byte   // input kept for the next turn (buffer.go)
	inPending bool     // this turn serves pending, not gnet's read buffer
	authFails int      // wrong secrets on this connection
	paused    bool     // in listener.paused: serving waits for the client to read
	upper     [24]byte // upper-cased command name

	lastActive   atomic.Int64 // unix ms of the last input
	blockedSince atomic.Int64 // unix ms since replies stayed unsent; 0: none
	heldOut      atomic.Int64 // unsent reply bytes counted in Server.buffered
	heldIn       atomic.Int64 // cap(pending), counted in Server.buffered
	shedFor      atomic.Int64 // bytes pledged when another connection shed this one (shed.go)
}

const maxKeptBuffer = 1 << 20 // larger per-connection buffers are dropped after use

// batchOutputBudget bounds the replies one wake-up of a connection
// produces. A client that pipelines many large reads gets the rest of its
// commands answered on a later turn of the loop, after the other ready
// connections, instead of holding the loop for all of them at once.
const batchOutputBudget = 1 << 20

// OnOpen admits the connection or refuses it when MaxConns are open.
func (l *listener) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	if sp, ok := c.Context().(*spinner); ok {
		sp.open = true
		return nil, gnet.None
	}
	s := l.s
	if s.conns.Add(1) > int64(s.cfg.MaxConns) {
		s.conns.Add(-1)
		s.rejected.Add(1)
		return l.refusal(), gnet.Close
	}
	s.accepted.Add(1)
	ss := &session{
		id:      s.nextID.Add(1),
		conn:    c,
		proto:   l.proto,
		stats:   s.stats.forLoop(c.EventLoop()),
		authed:  len(s.cfg.Secret) == 0,
		created: time.Now(),
		args:    make([][]byte, 0, 8),
		scratch: make([]byte, 0, 256),
		out:     make([]byte, 0, 512),
	}
	if ra := c.RemoteAddr(); ra != nil {
		ss.addr = ra.String()
	}
	ss.lastActive.Store(s.nowMs.Load())
	if s.cfg.BusyPoll > 0 {
		ss.spin = l.spinnerFor(c.EventLoop())
	}
	c.SetContext(ss)
	l.mu.Lock()
	l.sessions[ss] = struct{}{}
	l.mu.Unlock()
	return nil, gnet.None
}

func (l *listener) refusal() []byte {
	if l.proto == protoRESP {
		return []byte("-ERR max number of clients reached\r\n")
	}
	return wireRefusal()
}

// OnClose forgets the connection.
func (l *listener) OnClose(c gnet.Conn, _ error) gnet.Action {
	if sp, ok := c.Context().(*spinner); ok {
		sp.open, sp.armed = false, false
		return gnet.None
	}
	ss, ok := c.Context().(*session)
	if !ok {
		return gnet.None
	}
	c.SetContext(nil)
	l.mu.Lock()
	delete(l.sessions, ss)
	delete(l.paused, ss)
	l.mu.Unlock()
	l.s.releaseBuffers(ss)
	l.s.conns.Add(-1)
	return gnet.None
}

// OnTraffic answers every whole command received so far with one write.
func (l *listener) OnTraffic(c gnet.Conn) gnet.Action {
	ss, ok := c.Context().(*session)
	if !ok {
		if sp, ok := c.Context().(*spinner); ok {
			return sp.turn(c)
		}
		return gnet.Close
	}
	s := l.s
	if ss.shedFor.Load() != 0 {
		return gnet.Close // shed at the buffer bound, its close still queued
	}
	wall := time.Now()
	if ss.spin != nil {
		ss.spin.touch(wall)
	}
	now := wall.UnixMilli()
	s.eng.SetClock(now)
	if c.InboundBuffered() > 0 {
		// Input, not a wake-up by the ticker or a paused turn.
		ss.lastActive.Store(now)
	}
	if since := ss.blockedSince.Load(); since != 0 {
		if c.OutboundBuffered() == 0 {
			ss.blockedSince.Store(0)
		} else if now-since > s.cfg.SlowTimeout.Milliseconds() {
			s.slowKills.Add(1)
			return gnet.Close
		}
	}
	in, ok := s.takeInput(ss, c)
	if !ok {
		return gnet.Close
	}
	if len(in) == 0 || c.OutboundBuffered() >= batchOutputBudget {
		// A wake-up without input: the ticker asks for the unsent
		// replies to be counted again. Or the client has not read a
		// batch of replies yet: its commands wait, held and counted,
		// until it does (the ticker wakes it every pausedInterval),
		// instead of making replies nobody reads.
		if len(in) > 0 {
			l.pause(ss)
		} else if c.OutboundBuffered() < batchOutputBudget {
			l.resume(ss)
		}
		if !s.keepInput(ss, c, in, 0) || !s.accountOutput(ss, c) {
			return gnet.Close
		}
		return gnet.None
	}
	l.resume(ss)
	// Reading the clock again costs more than a GET on some virtual
	// machines, so one batch in 16 is timed for the latency histogram.
	ss.batches++
	timed := ss.batches%16 == 1
	var n int
	var closeConn bool
	out := ss.out[:0]
	if l.proto == protoRESP {
		out, n, closeConn = s.serveRESP(ss, in, out)
	} else {
		out, n, closeConn = s.serveBinary(ss, in, out)
	}
	if n > 0 {
		ss.stats.bytesIn.Add(uint64(n))
	}
	if !closeConn && !s.keepInput(ss, c, in, n) {
		closeConn = true
	}
	if len(out) > 0 {
		ss.stats.bytesOut.Add(uint64(len(out)))
		_, _ = c.Write(out)
	}
	if timed {
		s.stats.observe(l.proto, time.Since(wall))
	}
	more := n < len(in) && len(out) >= batchOutputBudget
	if cap(out) > maxKeptBuffer {
		out = make([]byte, 0, 512)
	}
	ss.out = out[:0]
	if cap(ss.scratch) > maxKeptBuffer {
		ss.scratch = make([]byte, 0, 256)
	}
	if closeConn {
		return gnet.Close
	}
	if more {
		// Whole commands are left over: come back to them after the
		// other connections of this loop had their turn.
		_ = c.Wake(nil)
	}
	if !s.accountOutput(ss, c) {
		return gnet.Close
	}
	if ob := c.OutboundBuffered(); ob > 0 {
		if ob > s.cfg.MaxOutbound {
			s.slowKills.Add(1)
			return gnet.Close
		}
		if ss.blockedSince.Load() == 0 {
			ss.blockedSince.Store(now)
		}
	}
	return gnet.None
}

// spinnerFor returns the busy poller of loop, creating it on the loop's
// first connection. A loop whose poller cannot be made (descriptors
// exhausted) serves without one, and that is logged once.
func (l *listener) spinnerFor(loop gnet.EventLoop) *spinner {
	l.mu.Lock()
	defer l.mu.Unlock()
	sp, ok := l.spinners[loop]
	if ok {
		return sp
	}
	sp, err := l.newSpinner(loop)
	if err != nil {
		l.s.cfg.Logger.Warn("event loop serves without busy polling", "listener", l.proto.String(), "err", err)
	}
	l.spinners[loop] = sp
	return sp
}
