package facade

import (
	"net"
	"net/netip"
)

// Priority is a request's admission class. Lower values are served first.
type Priority uint8

// The priority classes. A route rule sets the class; a trusted peer
// (Config.TrustPriorityFrom) may override it with the PriorityHeader. The
// edge strips the header from what clients send, and facades ignore it
// from untrusted peers.
const (
	PriorityHigh Priority = iota
	PriorityNormal
	PriorityLow
	numPriorities
)

// PriorityHeader carries the class from the edge to the facade.
const PriorityHeader = "X-Strata-Priority"

var priorityNames = [numPriorities]string{"high", "normal", "low"}

func (p Priority) String() string {
	if p < numPriorities {
		return priorityNames[p]
	}
	return "invalid"
}

// ParsePriority maps a header value (high, normal, low; case-insensitive) to
// a class. ok is false for anything else, including an empty value.
func ParsePriority(b []byte) (p Priority, ok bool) {
	for i, name := range priorityNames {
		if equalFold(b, name) {
			return Priority(i), true
		}
	}
	return PriorityNormal, false
}

// trustsPriority reports whether the peer at ip may set the class.
func (a *App) trustsPriority(ip net.IP) bool {
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	addr = addr.Unmap()
	for _, p := range a.cfg.TrustPriorityFrom {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

func equalFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range b {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
