package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net/netip"
	"sync"
	"time"
)

// Guessing the secret. A connection is closed after maxAuthFailures wrong
// secrets, and every failure is counted (strata_state_auth_failures_total).
// That alone still let one address guess 16,600 times a second by
// reconnecting (red-team finding N5), so each peer address also has a
// failure budget, a token bucket of authBurst failures refilled by one per
// authRefill: once it is spent, AUTH from that address is refused without
// comparing the secret, the right one included, and the connection closed
// (strata_state_auth_throttled_total), until the bucket refills. A correct
// client sharing an address with a guesser waits too; that is the price of
// not telling the guesser when it is right.
//
// Failures are logged once per authLogInterval per address, with the
// failures and refusals since the last line: the first at once, the rest
// by the listeners' ticker (authGuard.flush), so a burst is logged within the
// interval even when the guesser stops. The table of addresses is fixed
// (authPeers); a new address replaces the least recently seen one, whose
// pending counts are logged first. IPv6 addresses are tracked per /64, as
// one host may hold a whole prefix.
const (
	maxAuthFailures = 3
	authBurst       = 10
	authRefill      = time.Second
	authLogInterval = 10 * time.Second
	authPeers       = 4096
)

// checkSecret compares the SHA-256 digests of p and the secret in constant
// time, so neither the secret's bytes nor its length show in the timing.
func (s *Server) checkSecret(p []byte) bool {
	if len(s.cfg.Secret) == 0 {
		return true
	}
	got := sha256.Sum256(p)
	return subtle.ConstantTimeCompare(got[:], s.secretDigest[:]) == 1
}

// authAllowed reports whether the connection's address may try a secret
// now; when it may not, the refusal is counted and the connection must be
// closed.
func (s *Server) authAllowed(ss *session) bool {
	if s.authGuard.allow(s.cfg.Logger, peerKey(ss.addr), time.Now()) {
		return true
	}
	s.authThrottled.Add(1)
	return false
}

// authFailed counts a wrong secret and reports whether the connection must
// now be closed.
func (s *Server) authFailed(ss *session) bool {
	s.authFails.Add(1)
	ss.authFails++
	s.authGuard.failed(s.cfg.Logger, peerKey(ss.addr), ss.proto, time.Now())
	if ss.authFails >= maxAuthFailures {
		s.authKills.Add(1)
		return true
	}
	return false
}

// throttledText is the error of a refused AUTH (RESP; the binary protocol
// answers status Busy with it).
const throttledText = "too many failed AUTH attempts from this address; try again later"

var throttledAnswer = []byte(throttledText)

// peerKey is the address a connection's failures are charged to: its
// IPv4 address, or its IPv6 /64.
func peerKey(addr string) netip.Addr {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return netip.Addr{}
	}
	a := ap.Addr().Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		a = p.Addr()
	}
	return a
}

// authGuard is the per-address failure budget and log (see above).
type authGuard struct {
	mu      sync.Mutex
	byAddr  map[netip.Addr]int32 // index into peers
	peers   []authPeer           // a ring of recency: head is the most recent
	head    int32                // -1: empty
	pending int                  // peers with counts not yet logged
	// Limits, the constants above; tests shorten them.
	burst    float64
	refill   time.Duration
	logEvery time.Duration
	size     int
}

type authPeer struct {
	addr       netip.Addr
	tokens     float64 // failures allowed now
	at         time.Time
	logged     time.Time
	proto      protocol
	failures   int // not logged yet
	throttled  int // refusals not logged yet
	prev, next int32
}

func (g *authGuard) init() {
	if g.byAddr != nil {
		return
	}
	if g.size == 0 {
		g.burst, g.refill, g.logEvery, g.size = authBurst, authRefill, authLogInterval, authPeers
	}
	g.byAddr = make(map[netip.Addr]int32, g.size)
	g.peers = make([]authPeer, 0, g.size)
	g.head = -1
}

// peer returns the entry of a, refilled to now and made the most recent,
// replacing the least recent entry when the table is full. The caller
// holds g.mu.
func (g *authGuard) peer(log *slog.Logger, a netip.Addr, now time.Time) *authPeer {
	g.init()
	i, ok := g.byAddr[a]
	switch {
	case ok:
		g.unlink(i)
	case len(g.peers) < g.size:
		i = int32(len(g.peers))
		g.peers = append(g.peers, authPeer{})
	default:
		i = g.peers[g.head].prev // the least recent
		g.unlink(i)
		old := &g.peers[i]
		g.logPeer(log, old)
		delete(g.byAddr, old.addr)
	}
	p := &g.peers[i]
	if !ok {
		*p = authPeer{addr: a, tokens: g.burst, at: now}
		g.byAddr[a] = i
	}
	g.pushFront(i)
	if d := now.Sub(p.at); d > 0 {
		p.tokens = min(g.burst, p.tokens+float64(d)/float64(g.refill))
		p.at = now
	}
	return p
}

func (g *authGuard) unlink(i int32) {
	p := &g.peers[i]
	if p.next == i { // the only one
		g.head = -1
		return
	}
	g.peers[p.prev].next, g.peers[p.next].prev = p.next, p.prev
	if g.head == i {
		g.head = p.next
	}
}

func (g *authGuard) pushFront(i int32) {
	p := &g.peers[i]
	if g.head < 0 {
		p.prev, p.next, g.head = i, i, i
		return
	}
	h := &g.peers[g.head]
	p.prev, p.next = h.prev, g.head
	g.peers[h.prev].next = i
	h.prev = i
	g.head = i
}

// allow reports whether a may try a secret: whether a failure is left in
// its budget. A refusal is logged with the failures.
func (g *authGuard) allow(log *slog.Logger, a netip.Addr, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.peer(log, a, now)
	if p.tokens >= 1 {
		return true
	}
	g.note(log, p, now, 0, 1)
	return false
}

// failed spends one failure of a's budget and logs it, or keeps it for
// the next line.
func (g *authGuard) failed(log *slog.Logger, a netip.Addr, proto protocol, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	p := g.peer(log, a, now)
	p.tokens = max(p.tokens-1, 0)
	p.proto = proto
	g.note(log, p, now, 1, 0)
}

// note adds to p's unlogged counts and logs them if p's last line is older
// than the interval. The caller holds g.mu.
func (g *authGuard) note(log *slog.Logger, p *authPeer, now time.Time, failures, throttled int) {
	if p.failures == 0 && p.throttled == 0 {
		g.pending++
	}
	p.failures += failures
	p.throttled += throttled
	if now.Sub(p.logged) >= g.logEvery {
		g.logPeer(log, p)
		p.logged = now
	}
}

// logPeer writes p's unlogged counts, if any. The caller holds g.mu.
func (g *authGuard) logPeer(log *slog.Logger, p *authPeer) {
	if p.failures == 0 && p.throttled == 0 {
		return
	}
	log.Warn("authentication failed", "peer", p.addr.String(), "protocol", p.proto.String(),
		"failures_since_last_log", p.failures, "refused_since_last_log", p.throttled,
		"interval", g.logEvery)
	p.failures, p.throttled = 0, 0
	g.pending--
}

// flush logs the counts of every address whose last line is older than
// the interval; the listeners' ticker calls it.
func (g *authGuard) flush(log *slog.Logger, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending == 0 {
		return
	}
	for i := range g.peers {
		p := &g.peers[i]
		if (p.failures != 0 || p.throttled != 0) && now.Sub(p.logged) >= g.logEvery {
			g.logPeer(log, p)
			p.logged = now
		}
	}
}
