package server

// Shedding at the buffer bound. When the bytes held for all connections
// reach MaxBuffered, the connection closed is the one holding the most,
// not the one that happens to grow next: otherwise tenants that keep the
// bound full with slow, unfinished commands made every other client's
// large command fail (red-team finding N7: 15 of 20 SETs of 200 KiB
// closed under 400 slow writers). A holder of megabytes goes before a
// client whose whole command is a fraction of it; the largest connection
// is still closed when it is the one growing.
//
// A shed connection is closed by its own event loop, later; until then
// its bytes stay counted in buffered and are pledged, so the grower may
// use them at once: the bound is buffered - pledged, and the bytes held
// exceed MaxBuffered only by what shed connections hold until their loops
// close them (one turn), at most half of it (maxPledgedDiv) plus one
// connection. Finding the largest holder walks every connection, but only
// at the bound, and each walk frees a connection larger than the growth
// it admits.

// maxShedPerGrowth bounds the connections one growth may shed, and
// maxPledgedDiv the bytes of shed connections not yet closed: over
// MaxBuffered/maxPledgedDiv the grower is closed instead.
const (
	maxShedPerGrowth = 4
	maxPledgedDiv    = 2
)

// bufferBound is what buffered may reach: MaxBuffered plus the bytes of
// connections already shed.
func (s *Server) bufferBound() int64 { return s.cfg.MaxBuffered + s.pledged.Load() }

// held is the bytes counted for ss.
func (ss *session) held() int64 { return ss.heldIn.Load() + ss.heldOut.Load() }

// shed makes room for growth of ss already added to buffered by closing
// the connections that hold the most, as long as each holds more than ss
// will; it reports whether the growth now fits.
func (s *Server) shed(ss *session, growth int64) bool {
	mine := ss.held() + growth
	for range maxShedPerGrowth {
		if s.pledged.Load() > s.cfg.MaxBuffered/maxPledgedDiv {
			return false // closes are pending: ss goes rather than more
		}
		v := s.largestHolder(ss)
		if v == nil {
			return false
		}
		n := v.held()
		if n <= mine {
			return false // ss is the largest: it goes
		}
		if !v.shedFor.CompareAndSwap(0, n) {
			continue // another grower shed it first
		}
		s.pledged.Add(n)
		s.bufferKills.Add(1)
		_ = v.conn.Close()
		if s.buffered.Load() <= s.bufferBound() {
			return true
		}
	}
	return false
}

// largestHolder is the connection other than ss holding the most bytes
// that is not shed already, or nil.
func (s *Server) largestHolder(ss *session) *session {
	var best *session
	var most int64
	for _, l := range s.listeners {
		l.mu.Lock()
		for o := range l.sessions {
			if o == ss || o.shedFor.Load() != 0 {
				continue
			}
			if n := o.held(); n > most {
				best, most = o, n
			}
		}
		l.mu.Unlock()
	}
	return best
}
