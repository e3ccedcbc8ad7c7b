package userspace

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/strata-dp/strata/dataplane/lb"
)

// serviceMetrics are plain atomics on the data path; the collector reads
// them at scrape time, so counting costs one atomic add.
type serviceMetrics struct {
	accepted, rejected, overflow   atomic.Uint64
	refused, connectTimeouts       atomic.Uint64
	retried, noBackend             atomic.Uint64
	dialAbandoned, migrated        atomic.Uint64
	idleClosed, bytesUp, bytesDown atomic.Uint64
	// paused counts sides paused by backpressure; pauseFailed pauses the
	// poller refused (the session left the loop instead).
	paused, pauseFailed atomic.Uint64
	// noResponse counts sessions whose backend sent nothing within
	// FirstByteTimeout of the client's first bytes.
	noResponse atomic.Uint64
	// connectsWaited counts connects that did not finish inside connect(2)
	// and were awaited off the loop (not exported; tests read it).
	connectsWaited atomic.Uint64
}

func newServiceMetrics() *serviceMetrics { return &serviceMetrics{} }

func (m *serviceMetrics) count(up bool, n int) {
	if up {
		m.bytesUp.Add(uint64(n))
		return
	}
	m.bytesDown.Add(uint64(n))
}

func (m *serviceMetrics) connectFailed(sig lb.Signal) {
	if sig == lb.SignalConnectTimeout {
		m.connectTimeouts.Add(1)
		return
	}
	m.refused.Add(1)
}

var (
	descConns = prometheus.NewDesc("strata_lb_userspace_connections_total",
		"Client connections by outcome.", []string{"service", "outcome"}, nil)
	descActive = prometheus.NewDesc("strata_lb_userspace_active_connections",
		"Client connections currently open.", []string{"service"}, nil)
	descConnect = prometheus.NewDesc("strata_lb_userspace_backend_connect_failures_total",
		"Failed backend connects by reason (passive health signals).", []string{"service", "reason"}, nil)
	descPaused = prometheus.NewDesc("strata_lb_userspace_backpressure_total",
		"Times a side stopped being read because the other side's queue passed --max-buffered (paused), or could not be paused and left the event loop (pause_failed).", []string{"service", "event"}, nil)
	descNoResponse = prometheus.NewDesc("strata_lb_userspace_backend_first_byte_timeouts_total",
		"Sessions whose backend sent no byte within --first-byte-timeout of the client's first bytes (a passive health signal).", []string{"service"}, nil)
	descBytes = prometheus.NewDesc("strata_lb_userspace_bytes_total",
		"Bytes proxied by direction.", []string{"service", "direction"}, nil)
)

// collector exports every service of a proxy: the strata_lb_userspace_*
// families of this mode, and the per-backend families both modes share
// (lb.DescBackend*, backendstats.go).
type collector struct{ p *Proxy }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descConns
	ch <- descActive
	ch <- descConnect
	ch <- descBytes
	ch <- descPaused
	ch <- descNoResponse
	for _, d := range []*prometheus.Desc{lb.DescBackendConnections, lb.DescBackendConnectFailures,
		lb.DescBackendBytes, lb.DescBackendActive, lb.DescBackendFirstByte} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	for _, s := range c.p.snapshot() {
		m := s.m
		counter := func(d *prometheus.Desc, v *atomic.Uint64, label string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v.Load()), s.key, label)
		}
		counter(descConns, &m.accepted, "accepted")
		counter(descConns, &m.rejected, "rejected_limit")
		counter(descConns, &m.overflow, "closed_overflow")
		counter(descConns, &m.noBackend, "no_backend")
		counter(descConns, &m.retried, "retried")
		counter(descConns, &m.migrated, "left_event_loop")
		counter(descConns, &m.idleClosed, "closed_idle")
		counter(descPaused, &m.paused, "paused")
		counter(descPaused, &m.pauseFailed, "pause_failed")
		counter(descConnect, &m.refused, "refused")
		counter(descConnect, &m.connectTimeouts, "timeout")
		ch <- prometheus.MustNewConstMetric(descNoResponse, prometheus.CounterValue, float64(m.noResponse.Load()), s.key)
		counter(descBytes, &m.bytesUp, "to_backend")
		counter(descBytes, &m.bytesDown, "to_client")
		ch <- prometheus.MustNewConstMetric(descActive, prometheus.GaugeValue, float64(s.active.Load()), s.key)
		s.collectBackends(ch)
	}
}
