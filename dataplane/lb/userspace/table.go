package userspace

import (
	"fmt"
	"net/netip"
	"sync/atomic"

	"github.com/strata-dp/strata/dataplane/lb"
)

// maxAttempts bounds how many backends one new connection tries before the
// client is closed; each failed attempt is a passive health signal.
const maxAttempts = 3

// table is one generation of a service's scheduling state. It is immutable
// and shared by every event loop through an atomic pointer.
type table struct {
	svc      lb.Service
	backends []netip.AddrPort // in lookup-index order
	weighted []bool           // backends[i] has weight > 0
	stats    []*backendStats  // backends[i]'s counters (service.bindStats)
	lookup   lookuper
	live     int // backends with weight > 0
	// rr is set for weighted round robin: new flows take the next ring
	// entry instead of their hash.
	rr   bool
	next atomic.Uint32
}

// flowKey is what a new flow looks up: its hash, or the next ring position.
func (t *table) flowKey(hash uint32) uint32 {
	if t.rr {
		return t.next.Add(1)
	}
	return hash
}

// lookuper maps a flow hash to an index into table.backends.
type lookuper interface {
	Lookup(hash uint32) int
}

func newTable(svc lb.Service) (*table, error) {
	t := &table{svc: svc, rr: svc.Scheduler == lb.RoundRobin}
	for _, b := range svc.Backends {
		if b.Weight > 0 {
			t.live++
		}
	}
	if t.live == 0 {
		// A fully drained service keeps its listener and refuses flows.
		return t, nil
	}
	l, order, err := buildLookup(svc)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", svc.Key(), err)
	}
	t.lookup, t.backends = l, order
	w := make(map[netip.AddrPort]bool, len(svc.Backends))
	for _, b := range svc.Backends {
		w[b.Addr] = b.Weight > 0
	}
	t.weighted = make([]bool, len(order))
	for i, a := range order {
		t.weighted[i] = w[a]
	}
	return t, nil
}

// pick returns the backend for a flow on the given attempt; attempt 0 is the
// choice XDP mode makes for the same flow, later attempts rehash so that a
// refused connection moves to another backend.
func (t *table) pick(hash uint32, attempt int, avoid *[maxAttempts]netip.AddrPort) (netip.AddrPort, bool) {
	i := t.pickIndex(hash, attempt, avoid)
	if i < 0 {
		return netip.AddrPort{}, false
	}
	return t.backends[i], true
}

// pickIndex is pick as an index into t.backends, or -1.
func (t *table) pickIndex(hash uint32, attempt int, avoid *[maxAttempts]netip.AddrPort) int {
	if t.lookup == nil {
		return -1
	}
	h := hash
	for i := 0; i < 8; i++ {
		if attempt > 0 || i > 0 {
			h = rehash(h + uint32(attempt*8+i))
		}
		j := t.lookup.Lookup(h)
		if !avoided(avoid, t.backends[j]) {
			return j
		}
	}
	// Small pools: rehashing can keep landing on avoided backends, so walk
	// the pool from a hashed start for any weighted one left.
	n := len(t.backends)
	for i := 0; i < n; i++ {
		j := (int(h%uint32(n)) + i) % n
		if t.weighted[j] && !avoided(avoid, t.backends[j]) {
			return j
		}
	}
	return -1
}

func avoided(avoid *[maxAttempts]netip.AddrPort, b netip.AddrPort) bool {
	for _, a := range avoid {
		if a == b {
			return true
		}
	}
	return false
}

// rehash is a 32-bit finaliser (murmur3 fmix32): cheap and well mixed, so
// retries land on independent slots.
func rehash(h uint32) uint32 {
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}
