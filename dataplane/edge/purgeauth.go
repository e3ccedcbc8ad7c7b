package edge

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"net/netip"
)

// Who may purge. Every purge path (the PURGE method on the client
// listener, the admin API by URL and by tag, soft or not) asks the same
// question: is the client in --purge-from, or does it present the purge
// token as "Authorization: Bearer TOKEN"? A purge is cheap to send and
// expensive to suffer (every purged URL becomes an origin request), so
// nothing else may.

// purgeAuth holds the allow list and the token's digest. The token is
// compared as a SHA-256 digest in constant time, so neither its bytes nor
// its length leak through timing.
type purgeAuth struct {
	from     []netip.Prefix
	hasToken bool
	token    [sha256.Size]byte
}

func newPurgeAuth(from []netip.Prefix, token string) purgeAuth {
	a := purgeAuth{from: from}
	if token != "" {
		a.hasToken, a.token = true, sha256.Sum256([]byte(token))
	}
	return a
}

// allows reports whether a purge from ip with the Authorization value
// authz (empty when absent) may run.
func (a *purgeAuth) allows(ip netip.Addr, authz []byte) bool {
	if ip.IsValid() {
		ip = ip.Unmap()
		for _, p := range a.from {
			if p.Contains(ip) {
				return true
			}
		}
	}
	if !a.hasToken {
		return false
	}
	const scheme = "bearer "
	if len(authz) <= len(scheme) || !equalFold(authz[:len(scheme)], scheme) {
		return false
	}
	sum := sha256.Sum256(bytes.TrimSpace(authz[len(scheme):]))
	return subtle.ConstantTimeCompare(sum[:], a.token[:]) == 1
}
