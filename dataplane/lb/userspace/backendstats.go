package userspace

import (
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/internal/latency"
)

// backendStats are one backend's counters within a service: atomics that
// the event loops and pipes add to, read by the collector at scrape time.
// One exists per backend address for as long as the backend is configured
// or still has sessions, across table generations, so a weight change does
// not reset its counters.
type backendStats struct {
	id string // the backend label, lb.Backend.ID(), resolved on apply

	conns, failures    atomic.Uint64
	bytesUp, bytesDown atomic.Uint64
	active             atomic.Int64
	firstByte          latency.Histogram

	// retired: the backend left the configuration; the collector forgets
	// it once its last session ends. Guarded by service.mu.
	retired bool
}

// firstByteBounds span a loopback answer to a backend about to be judged
// silent (--first-byte-timeout defaults to seconds).
var firstByteBounds = latency.NewBounds(1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

// bindStats gives t the stats of its backends, creating those of new ones
// and dropping or retiring those that left. It runs before t is stored.
func (s *service) bindStats(t *table) {
	s.mu.Lock()
	defer s.mu.Unlock()
	configured := make(map[netip.AddrPort]bool, len(t.svc.Backends))
	for _, b := range t.svc.Backends {
		configured[b.Addr] = true
		st, ok := s.backends[b.Addr]
		if !ok {
			st = &backendStats{id: b.ID()}
			s.backends[b.Addr] = st
		}
		st.retired = false
	}
	for addr, st := range s.backends {
		switch {
		case configured[addr]:
		case st.active.Load() == 0:
			// Bounded without scrapes: nothing refers to it any more.
			delete(s.backends, addr)
		default:
			st.retired = true
		}
	}
	t.stats = make([]*backendStats, len(t.backends))
	for i, a := range t.backends {
		t.stats[i] = s.backends[a]
	}
}

// count adds n bytes moved toward the backend (up) or the client to the
// service's and the backend's counters.
func (sess *session) count(up bool, n int) {
	sess.svc.m.count(up, n)
	be := sess.be
	if be == nil {
		return
	}
	if up {
		be.bytesUp.Add(uint64(n))
		return
	}
	be.bytesDown.Add(uint64(n))
}

// answered records the backend's first byte of a session, at now, that
// followed the client's first bytes at firstUp (unix nanoseconds).
func (sess *session) answered(firstUp, now int64) {
	if be := sess.be; be != nil && firstUp != 0 {
		be.firstByte.Observe(firstByteBounds, time.Duration(now-firstUp))
	}
}

// collectBackends exports the per-backend families of one service and
// forgets retired backends without sessions.
func (s *service) collectBackends(ch chan<- prometheus.Metric) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for addr, st := range s.backends {
		if st.retired && st.active.Load() == 0 {
			delete(s.backends, addr)
			continue
		}
		counter := func(d *prometheus.Desc, v uint64, labels ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), append([]string{s.key, st.id}, labels...)...)
		}
		counter(lb.DescBackendConnections, st.conns.Load())
		counter(lb.DescBackendConnectFailures, st.failures.Load())
		counter(lb.DescBackendBytes, st.bytesUp.Load(), lb.DirectionToBackend)
		counter(lb.DescBackendBytes, st.bytesDown.Load(), lb.DirectionToClient)
		ch <- prometheus.MustNewConstMetric(lb.DescBackendActive, prometheus.GaugeValue, float64(st.active.Load()), s.key, st.id)
		var fb latency.Snapshot
		fb.Add(&st.firstByte)
		ch <- fb.Metric(lb.DescBackendFirstByte, firstByteBounds, s.key, st.id)
	}
}
