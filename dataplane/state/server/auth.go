package server

import (
	"crypto/sha256"
	"crypto/subtle"
	"log/slog"
	"net"
	"sync"
	"time"
)

// Guessing the secret. A connection is closed after maxAuthFailures wrong
// secrets (a client then pays a TCP handshake per maxAuthFailures guesses
// instead of guessing at memory speed), every failure is counted
// (strata_state_auth_failures_total), and failures are logged at most once
// per authLogInterval per peer address, with the count since the last line.
const (
	maxAuthFailures = 3
	authLogInterval = 10 * time.Second
	authLogPeers    = 4096 // peers remembered; past it the oldest are forgotten
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

// authFailed counts a wrong secret and reports whether the connection must
// now be closed.
func (s *Server) authFailed(ss *session) bool {
	s.authFails.Add(1)
	ss.authFails++
	s.authLog.failed(s.cfg.Logger, ss.addr, ss.proto)
	if ss.authFails >= maxAuthFailures {
		s.authKills.Add(1)
		return true
	}
	return false
}

// authLog rate-limits the log of failed AUTHs per peer host.
type authLog struct {
	mu    sync.Mutex
	peers map[string]*authPeer
}

type authPeer struct {
	logged time.Time
	missed int // failures not logged since
}

func (a *authLog) failed(log *slog.Logger, addr string, p protocol) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.peers == nil {
		a.peers = map[string]*authPeer{}
	}
	pe, ok := a.peers[host]
	if ok && now.Sub(pe.logged) < authLogInterval {
		pe.missed++
		return
	}
	if !ok {
		if len(a.peers) >= authLogPeers {
			for h, o := range a.peers {
				if now.Sub(o.logged) >= authLogInterval || len(a.peers) >= authLogPeers {
					delete(a.peers, h)
				}
			}
		}
		pe = &authPeer{}
		a.peers[host] = pe
	}
	log.Warn("authentication failed", "peer", host, "protocol", p.String(),
		"failures_since_last_log", pe.missed+1, "interval", authLogInterval)
	pe.logged, pe.missed = now, 0
}
