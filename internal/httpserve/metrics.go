package httpserve

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics count what the limits did. Every listener served in one registry
// shares them: a process has one operators' listener.
type metrics struct {
	// Connections open, by what they are doing.
	silent, head, active, idle, closing                              prometheus.Gauge
	shedSilent, shedIncomplete, shedIdle, shedClosing, rejectedConns prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	counter := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: name, Help: help})
	}
	conns := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "strata_httpserve_connections",
		Help: "Connections open on the operators' HTTP listener (admin API, /metrics, /healthz, /readyz), by state: " +
			"silent (nothing received yet), head (receiving the first request head), active, idle, " +
			"closing (answered for the last time, lingering for the client to read it)."}, []string{"state"})
	m := &metrics{
		shedSilent: counter("strata_httpserve_shed_silent_total",
			"Connections closed, to admit a new one, that had sent nothing yet (more than --max-conns of them)."),
		shedIncomplete: counter("strata_httpserve_shed_incomplete_total",
			"Connections closed at a connection limit, to admit a new one, before their first request head was complete."),
		shedIdle: counter("strata_httpserve_shed_idle_total",
			"Idle keep-alive connections closed at a connection limit to admit a new one."),
		shedClosing: counter("strata_httpserve_shed_closing_total",
			"Connections closed at --max-conns, to admit a new one, while lingering after an error answer or an unread body."),
		rejectedConns: counter("strata_httpserve_rejected_connections_total",
			"New connections closed at once because every connection was busy with a request."),
	}
	if reg != nil {
		var err error
		if conns, err = register(reg, conns); err != nil {
			return nil, err
		}
		for _, c := range []*prometheus.Counter{&m.shedSilent, &m.shedIncomplete, &m.shedIdle, &m.shedClosing, &m.rejectedConns} {
			if *c, err = register(reg, *c); err != nil {
				return nil, err
			}
		}
	}
	m.silent, m.head = conns.WithLabelValues("silent"), conns.WithLabelValues("head")
	m.active, m.idle = conns.WithLabelValues("active"), conns.WithLabelValues("idle")
	m.closing = conns.WithLabelValues("closing")
	return m, nil
}

// gauge is the connections gauge of a connection in phase p and state s,
// nil once it is gone.
func (m *metrics) gauge(p phase, s http.ConnState) prometheus.Gauge {
	switch {
	case p == phaseGone:
		return nil
	case p != phaseAdmitted:
		return m.silent
	case s == http.StateNew:
		return m.head
	case s == http.StateIdle:
		return m.idle
	case s == stateClosing:
		return m.closing
	default:
		return m.active
	}
}

// register registers c in reg, or returns the collector of that name
// already there (a second listener, or Serve run again).
func register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var dup prometheus.AlreadyRegisteredError
	if errors.As(err, &dup) {
		if existing, ok := dup.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, fmt.Errorf("httpserve metrics: %w", err)
}
