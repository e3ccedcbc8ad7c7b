package httpserve

import (
	"container/list"
	"net"
	"net/http"
	"net/netip"
	"sync"
)

// admission decides which connections an operators' listener serves;
// net/http's ConnState hook tells it what each one is doing. Four bounds
// hold under any client behaviour:
//
//   - at most maxPending connections accepted and not yet read from: only
//     there does Accept wait, for the scheduler, never for a client;
//   - at most silentPerConn × maxConns connections read from that have
//     sent nothing yet (silent): a new one closes the oldest of them;
//   - at most maxPerIP connections per client address (per /64 for IPv6)
//     that have sent something and are not busy with a request;
//   - at most maxConns connections that have sent something, in all.
//
// At the last two bounds a connection that has just sent its first bytes
// closes the oldest one, among those the bound counts, that is still
// sending its first request head (StateNew: net/http marks a connection
// active only once a whole head has arrived), else the one idle the
// longest. At maxConns it is itself closed at once when every connection
// is busy with a request. The per-address bound never refuses: it sheds
// among that address's connections, and busy ones count only toward
// maxConns. On loopback the operators' tools and a local attacker share
// 127.0.0.1, so refusing there, or letting 32 slow requests from it fill
// the address's share, would be the lock-out all over again (the edge,
// whose clients are remote, refuses instead).
//
// A connection is admitted to the last two bounds by its first read that
// returns bytes, not when it is accepted. Clients connect faster than a
// process schedules goroutines (one time slice of the accept loop is a
// thousand connections): counted from accept, a good client would wait its
// turn to be read among the connections the next arrivals shed, and a
// flood from its own address would close it before anything read the head
// it sent at once. Admitted with its bytes in hand, and as active when they
// hold its whole head, it cannot be shed before it is served. Until then
// it is silent, and only a thousand silent arrivals (at the default
// maxConns) shed it: more than the connections that do not even send a
// request line, plus those whose clients have connected and not written
// yet, which under a flood on a busy host are hundreds.
//
// Unlike the edge's version of this (dataplane/edge/admit.go), which keeps
// its request path lock-free, this one takes a mutex on every connection
// state change, twice per request: these listeners serve scrapes and
// operator calls, not user traffic, and net/http gives no cheaper hook.
type admission struct {
	maxConns, maxPerIP int
	m                  *metrics
	// pending holds a token for each connection accepted and not yet read
	// from (nil: unbounded).
	pending chan struct{}

	mu     sync.Mutex
	silent list.List // of *conn read from, nothing read yet, oldest first
	open   int       // admitted connections
	heads  list.List // of admitted *conn in StateNew, oldest first
	idle   list.List // of *conn in StateIdle, idle the longest first
	// of *conn in stateClosing, the first shed: net/http lingers up to
	// half a second after an error answer or an unread body, and a flood
	// of oversized heads would otherwise fill maxConns with them.
	closing list.List
	addrs   map[netip.Addr]*addrConns
}

// addrConns are one client address's admitted connections.
type addrConns struct {
	open        int       // admitted
	heads, idle list.List // those the per-address bound counts
}

func (ac *addrConns) waiting() int { return ac.heads.Len() + ac.idle.Len() }

// phase is where a connection is in admission.
type phase uint8

const (
	phaseGone     phase = iota // shed, refused or closed
	phasePending               // accepted, not yet read from
	phaseSilent                // read from, nothing read yet
	phaseAdmitted              // counted by the bounds
)

// stateClosing is a connection net/http has answered for the last time
// and closed for writing (conn.CloseWrite).
const stateClosing http.ConnState = 0x7f

// silentPerConn × maxConns bounds the silent connections. Each costs a
// goroutine and a 4 KiB read buffer: 10 MiB at the default maxConns.
const silentPerConn = 4

// maxPending bounds the connections accepted and not yet read from. It
// need not be large: their goroutines read as soon as they run.
const maxPending = 64

func newAdmission(maxConns, maxPerIP int, m *metrics) *admission {
	a := &admission{maxConns: maxConns, maxPerIP: maxPerIP, m: m, addrs: map[netip.Addr]*addrConns{}}
	if maxConns > 0 {
		a.pending = make(chan struct{}, min(maxConns, maxPending))
	}
	return a
}

// clientKey is the address the per-address bound counts: the IPv4 address,
// or the IPv6 address's /64, where one host gets a whole prefix. Non-TCP
// connections (tests' pipes) are not counted per address.
func clientKey(ra net.Addr) (netip.Addr, bool) {
	ta, ok := ra.(*net.TCPAddr)
	if !ok {
		return netip.Addr{}, false
	}
	ip := ta.AddrPort().Addr().Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		ip = p.Addr()
	}
	return ip, ip.IsValid()
}

// accepted counts in c, which holds a pending token.
func (a *admission) accepted(c *conn) {
	a.mu.Lock()
	a.setLocked(c, phasePending, http.StateNew)
	a.mu.Unlock()
}

// start makes c silent as its goroutine first reads, closing the oldest
// silent connection at the bound. It reports false when c is gone.
func (a *admission) start(c *conn) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.phase != phasePending {
		return false
	}
	a.unpendLocked()
	if a.maxConns > 0 && a.silent.Len() >= silentPerConn*a.maxConns {
		a.m.shedSilent.Inc()
		a.dropLocked(a.silent.Front().Value.(*conn))
	}
	a.setLocked(c, phaseSilent, http.StateNew)
	c.elem = a.silent.PushBack(c)
	return true
}

// admit counts c in with its first bytes, shedding another connection if
// a bound requires it, or reports false when c must be refused. A c whose
// first bytes hold a whole request head is admitted as active: net/http is
// about to say so, and until it does (its hook waits for a.mu behind other
// connections' admissions) nothing may shed it.
func (a *admission) admit(c *conn, headDone bool) bool {
	key, perAddr := clientKey(c.RemoteAddr())
	perAddr = perAddr && a.maxPerIP > 0
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.phase != phaseSilent {
		return false // shed while its bytes arrived
	}
	a.silent.Remove(c.elem)
	c.elem = nil
	if ac := a.addrs[key]; perAddr && !headDone && ac != nil && ac.waiting() >= a.maxPerIP {
		a.shedLocked(nil, &ac.heads, &ac.idle)
	}
	if a.maxConns > 0 && a.open >= a.maxConns && !a.shedLocked(&a.closing, &a.heads, &a.idle) {
		a.m.rejectedConns.Inc()
		a.setLocked(c, phaseGone, 0)
		return false
	}
	if perAddr {
		// Looked up again: shedding the address's last connection
		// deleted its entry.
		ac := a.addrs[key]
		if ac == nil {
			ac = &addrConns{}
			a.addrs[key] = ac
		}
		ac.open++
		c.key, c.addr = key, ac
	}
	a.open++
	state := http.StateNew
	if headDone {
		state = http.StateActive
	}
	a.setLocked(c, phaseAdmitted, state)
	a.listLocked(c)
	return true
}

// shedLocked closes the front of closing (when given), else of heads,
// else of idle, and reports false when all are empty: every connection
// counted is busy with a request.
func (a *admission) shedLocked(closing, heads, idle *list.List) bool {
	var e *list.Element
	if closing != nil {
		e = closing.Front()
	}
	switch {
	case e != nil:
		a.m.shedClosing.Inc()
	case heads.Front() != nil:
		e = heads.Front()
		a.m.shedIncomplete.Inc()
	case idle.Front() != nil:
		e = idle.Front()
		a.m.shedIdle.Inc()
	default:
		return false
	}
	a.dropLocked(e.Value.(*conn))
	return true
}

// dropLocked closes v and frees what it holds at once, before its
// goroutine notices, so that the connection being admitted can have it.
func (a *admission) dropLocked(v *conn) {
	a.releaseLocked(v)
	_ = v.Conn.Close()
}

// connState is the http.Server's ConnState hook.
func (a *admission) connState(nc net.Conn, s http.ConnState) {
	c, ok := nc.(*conn)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case c.phase != phaseAdmitted, s == http.StateNew:
		// Not admitted yet (StateNew comes at accept), or gone.
	case s == http.StateClosed:
		a.releaseLocked(c)
	case c.state == stateClosing:
		// Nothing follows but StateClosed.
	default:
		a.unlistLocked(c)
		a.setLocked(c, phaseAdmitted, s)
		a.listLocked(c)
		// A request done makes one more idle connection for the
		// per-address bound; c is the newest of them.
		if ac := c.addr; ac != nil && ac.waiting() > a.maxPerIP {
			a.shedLocked(nil, &ac.heads, &ac.idle)
		}
	}
}

// closeWrite moves c to the connections shed first.
func (a *admission) closeWrite(c *conn) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c.phase == phaseAdmitted && c.state != stateClosing {
		a.unlistLocked(c)
		a.setLocked(c, phaseAdmitted, stateClosing)
		a.listLocked(c)
	}
}

// releaseLocked frees what c holds, once.
func (a *admission) releaseLocked(c *conn) {
	switch c.phase {
	case phaseGone:
		return
	case phasePending:
		a.unpendLocked()
	case phaseSilent:
		a.silent.Remove(c.elem)
		c.elem = nil
	case phaseAdmitted:
		a.unlistLocked(c)
		a.open--
		if ac := c.addr; ac != nil {
			if ac.open--; ac.open == 0 {
				delete(a.addrs, c.key)
			}
		}
	}
	a.setLocked(c, phaseGone, 0)
}

// unpendLocked gives back a pending token.
func (a *admission) unpendLocked() {
	if a.pending != nil {
		<-a.pending
	}
}

// setLocked moves c to a phase and state, and the connections gauge with
// it.
func (a *admission) setLocked(c *conn, p phase, s http.ConnState) {
	from := a.m.gauge(c.phase, c.state)
	c.phase, c.state = p, s
	if to := a.m.gauge(p, s); to != from {
		if from != nil {
			from.Dec()
		}
		if to != nil {
			to.Inc()
		}
	}
}

// listLocked puts an admitted c on the lists of its state, if it has any:
// an active or hijacked connection is on none and cannot be shed.
func (a *admission) listLocked(c *conn) {
	l, al := a.listsLocked(c)
	if l == nil {
		return
	}
	c.elem = l.PushBack(c)
	if al != nil {
		c.addrElem = al.PushBack(c)
	}
}

// unlistLocked takes an admitted c off the lists listLocked put it on.
func (a *admission) unlistLocked(c *conn) {
	l, al := a.listsLocked(c)
	if l == nil || c.elem == nil {
		return
	}
	l.Remove(c.elem)
	if al != nil {
		al.Remove(c.addrElem)
	}
	c.elem, c.addrElem = nil, nil
}

// listsLocked are the lists of an admitted c's state, in all and for its
// address (nil when it has none).
func (a *admission) listsLocked(c *conn) (all, addr *list.List) {
	switch c.state {
	case http.StateNew:
		all = &a.heads
		if c.addr != nil {
			addr = &c.addr.heads
		}
	case http.StateIdle:
		all = &a.idle
		if c.addr != nil {
			addr = &c.addr.idle
		}
	case stateClosing:
		all = &a.closing
	}
	return all, addr
}
