package health

import (
	"net/netip"
	"slices"
	"time"

	"github.com/strata-dp/strata/dataplane/lb"
)

// Outlier detection, after Envoy's consecutive gateway failures: a backend
// that accepts connections and then leaves sessions unanswered passes every
// TCP check, so the data path's verdicts eject it instead. Each ejection
// lasts Options.OutlierEjection times how often it has been ejected lately,
// so a backend that keeps hanging spends longer and longer out; once the
// time is up, Rise passing active checks bring it back (slow start
// included), and its next unanswered sessions eject it again.
//
// The proxy cannot tell a hung backend from a client that sent half a
// request and stopped (slowloris): both leave the backend silent. So a
// streak only ejects an outlier: a backend that answered nobody for
// outlierWindow while another backend of one of its services answered
// someone. A flood of half requests spread over the pool, or a pool of
// one, ejects nothing; one aimed at a single backend by its flow hash
// ejects it only while it answers no other client, and never more than
// Options.MaxEjectedShare of the pool.

// outlierWindow is how long an outlier must have answered nobody.
const outlierWindow = 2 * time.Second

// unanswered counts a session the backend left unanswered.
func (c *Checker) unanswered(addr netip.AddrPort) {
	if c.opts.Outliers < 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st, found := c.states[addr]
	if !found {
		return
	}
	st.silent++
	now := time.Now()
	if !st.up || st.silent < c.opts.Outliers || now.Sub(st.lastAnswer) < outlierWindow || !c.peerAnsweredLocked(addr, now) {
		return
	}
	if st.ejections > 0 && !st.upSince.IsZero() {
		// Healthy time since the last return wears the multiplier down.
		st.ejections = max(0, st.ejections-int(now.Sub(st.upSince)/c.opts.OutlierEjection))
	}
	st.ejections = min(st.ejections+1, maxEjectionMultiplier)
	st.ejectedFor = time.Duration(st.ejections) * c.opts.OutlierEjection
	st.until = now.Add(st.ejectedFor)
	st.up, st.downSince, st.succ, st.silent = false, now, 0, 0
	c.outlierEjections.Add(1)
	c.opts.Logger.Warn("health: backend ejected: sessions unanswered", "backend", addr,
		"consecutive", c.opts.Outliers, "for", st.ejectedFor)
	c.kickLocked()
}

// answered clears the unanswered streak.
func (c *Checker) answered(addr netip.AddrPort) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, found := c.states[addr]; found {
		st.silent, st.lastAnswer = 0, time.Now()
	}
}

// peerAnsweredLocked reports whether another backend of a service that has
// addr answered a session within outlierWindow.
func (c *Checker) peerAnsweredLocked(addr netip.AddrPort, now time.Time) bool {
	for _, s := range c.cfg.Services {
		if !slices.ContainsFunc(s.Backends, func(b lb.Backend) bool { return b.Addr == addr }) {
			continue
		}
		for _, b := range s.Backends {
			if st := c.states[b.Addr]; b.Addr != addr && st != nil && st.up && now.Sub(st.lastAnswer) < outlierWindow {
				return true
			}
		}
	}
	return false
}
