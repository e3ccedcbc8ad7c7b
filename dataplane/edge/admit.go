package edge

import "net/netip"

// Admission decides, at accept, whether a client connection may be served.
// Three bounds hold under any client behaviour:
//
//   - at most MaxConnsPerIP connections per client address (per /64 for
//     IPv6, where one host gets a whole prefix), so that one client cannot
//     take every slot;
//   - at most MaxConns connections in all; when they are taken, the oldest
//     connection still reading a request head is closed to make room, then
//     the longest idle keep-alive connection, and only when every
//     connection is busy with a request is the new one refused;
//   - a request head must arrive within HeaderTimeout (conn.go).
//
// Slowloris clients therefore lose their slots to new clients instead of
// locking them out: a head that trickles in is the oldest incomplete one
// long before it completes. Everything here runs under Edge.mu, once per
// accepted connection and once per request head that was not already
// complete in the read buffer; a request that arrives in one piece takes
// no lock. Finding the longest idle connection is a scan of all of them,
// done only at the limit with no incomplete head to shed: keeping idle
// connections in order would cost a lock on every request instead.

// connList is an intrusive doubly-linked list of connections in the order
// they were pushed: pushing and removing allocate nothing.
type connList struct{ head, tail *conn }

func (l *connList) push(c *conn) {
	c.listPrev, c.listNext, c.listed = l.tail, nil, true
	if l.tail != nil {
		l.tail.listNext = c
	} else {
		l.head = c
	}
	l.tail = c
}

func (l *connList) remove(c *conn) {
	if !c.listed {
		return
	}
	if c.listPrev != nil {
		c.listPrev.listNext = c.listNext
	} else {
		l.head = c.listNext
	}
	if c.listNext != nil {
		c.listNext.listPrev = c.listPrev
	} else {
		l.tail = c.listPrev
	}
	c.listPrev, c.listNext, c.listed = nil, nil, false
}

// ipKey is the address a per-client limit counts: the address itself for
// IPv4, its /64 for IPv6. The zero Addr (a pipe, a unix socket) is not
// limited.
func ipKey(a netip.Addr) netip.Addr {
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.Addr()
	}
	return a
}

// limitedIP reports whether the per-address limit applies to a.
func (e *Edge) limitedIP(a netip.Addr) bool {
	if e.cfg.MaxConnsPerIP <= 0 || !a.IsValid() {
		return false
	}
	for _, p := range e.cfg.ConnsPerIPExempt {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// admitLocked counts c in or reports why not; e.mu is held. On success c is
// on the list of connections reading a head (its first one), so that it
// can itself be shed if it never sends one.
func (e *Edge) admitLocked(c *conn) bool {
	if c.limited && e.perIP[c.ipKey] >= e.cfg.MaxConnsPerIP {
		e.m.rejectedPerIP.Inc()
		return false
	}
	if e.open >= e.cfg.MaxConns && !e.shedLocked() {
		e.m.rejectedConns.Inc()
		return false
	}
	e.open++
	if c.limited {
		e.perIP[c.ipKey]++
	}
	c.counted = true
	e.heads.push(c)
	return true
}

// shedLocked closes one connection to make room: the oldest still reading
// a request head, else the one idle the longest. It reports false when
// every connection is busy with a request.
func (e *Edge) shedLocked() bool {
	if v := e.heads.head; v != nil {
		e.m.shedIncomplete.Inc()
		e.dropLocked(v)
		return true
	}
	var victim *conn
	var since int64
	for c := range e.conns {
		if !c.counted || !c.idle.Load() {
			continue
		}
		if s := c.idleSince.Load(); victim == nil || s < since {
			victim, since = c, s
		}
	}
	if victim == nil {
		return false
	}
	e.m.shedIdle.Inc()
	e.dropLocked(victim)
	return true
}

// dropLocked closes v and releases its slot at once, before its goroutine
// notices, so that the connection being admitted can have it.
func (e *Edge) dropLocked(v *conn) {
	v.shed.Store(true)
	e.releaseLocked(v)
	_ = v.nc.Close()
}

// releaseLocked gives back c's slot and per-address count, once.
func (e *Edge) releaseLocked(c *conn) {
	e.heads.remove(c)
	if !c.counted {
		return
	}
	c.counted = false
	e.open--
	if c.limited {
		if n := e.perIP[c.ipKey] - 1; n > 0 {
			e.perIP[c.ipKey] = n
		} else {
			delete(e.perIP, c.ipKey)
		}
	}
}

// headStarted puts c on the list of connections reading a head.
func (e *Edge) headStarted(c *conn) {
	e.mu.Lock()
	if c.counted && !c.listed {
		e.heads.push(c)
	}
	e.mu.Unlock()
}

// headEnded takes c off that list.
func (e *Edge) headEnded(c *conn) {
	e.mu.Lock()
	e.heads.remove(c)
	e.mu.Unlock()
}
