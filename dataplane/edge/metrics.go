package edge

import (
	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	hits, misses, stale, passes prometheus.Counter
	revalidated, revalidatedNew prometheus.Counter
	coalesced, originErrors     prometheus.Counter
	staleIfError, streamed      prometheus.Counter
	badRequests, rejectedConns  prometheus.Counter
	purged, purgeRefused        prometheus.Counter
	originRetries               prometheus.Counter
	retryBudgetExhausted        prometheus.Counter
	rejectedPerIP               prometheus.Counter
	headerTimeouts              prometheus.Counter
	bodyTimeouts                prometheus.Counter
	bodyBudgetRefused           prometheus.Counter
	shedIncomplete, shedIdle    prometheus.Counter
	purgeSeconds                prometheus.Histogram
	conns                       prometheus.Gauge

	// Per request, resolved once here so that accounting a request is an
	// atomic add and a histogram observation (outcome.go).
	requestsVec *prometheus.CounterVec
	durationVec *prometheus.HistogramVec
	requests    [numOutcomes][numStatusClasses]prometheus.Counter
	duration    [numOutcomes]prometheus.Observer
}

// durationBuckets span a hit (tens of microseconds) to an origin timeout.
var durationBuckets = prometheus.ExponentialBuckets(50e-6, 2, 18)

// resolveRequestMetrics makes the per-outcome families and their children.
func (m *metrics) resolveRequestMetrics() {
	m.requestsVec = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "strata", Subsystem: "edge", Name: "requests_total",
		Help: "Answered requests by cache outcome (hit, stale, collapsed, revalidated, miss, uncacheable, pass, error, synthetic) and status class.",
	}, []string{"outcome", "status"})
	m.durationVec = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "strata", Subsystem: "edge", Name: "request_duration_seconds",
		Help:    "Time from a request's first byte to its answer flushed to the client, by cache outcome.",
		Buckets: durationBuckets,
	}, []string{"outcome"})
	for o := range outcome(numOutcomes) {
		for s := range numStatusClasses {
			m.requests[o][s] = m.requestsVec.WithLabelValues(outcomeNames[o], statusClassNames[s])
		}
		m.duration[o] = m.durationVec.WithLabelValues(outcomeNames[o])
	}
}

func newMetrics() *metrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Namespace: "strata", Subsystem: "edge", Name: name, Help: help})
	}
	m := &metrics{
		hits:           c("hits_total", "Requests answered from a fresh stored response."),
		misses:         c("misses_total", "GET/HEAD requests with no usable stored response."),
		stale:          c("stale_served_total", "Stale responses served (stale-while-revalidate, max-stale)."),
		passes:         c("passes_total", "Requests passed to the origin uncached (other methods)."),
		revalidated:    c("revalidations_total", "Validations the origin answered with 304."),
		revalidatedNew: c("revalidations_replaced_total", "Validations the origin answered with a new response."),
		coalesced:      c("coalesced_waiters_total", "Requests that waited for another request's origin fetch."),
		originErrors:   c("origin_errors_total", "Origin fetches that failed (connect, timeout, bad response)."),
		staleIfError:   c("stale_if_error_total", "Stale responses served because the origin failed."),
		streamed:       c("streamed_total", "Responses streamed through uncached because of their size."),
		badRequests:    c("bad_requests_total", "Client requests rejected as malformed or over a limit."),
		rejectedConns:  c("rejected_connections_total", "Client connections closed at once because --max-conns were all busy with requests."),
		rejectedPerIP:  c("rejected_per_ip_total", "Client connections closed at once because their address had --max-conns-per-ip open."),
		headerTimeouts: c("header_timeouts_total", "Client connections closed because a request head took longer than --header-timeout."),
		bodyTimeouts:   c("body_timeouts_total", "Client connections closed because a request body took longer than --body-timeout."),
		bodyBudgetRefused: c("body_buffer_refused_total",
			"Requests answered 503 and closed because their body would pass --max-body-buffer."),
		shedIncomplete: c("shed_incomplete_total", "Connections still reading a request head closed, oldest first, to admit a new one at --max-conns."),
		shedIdle:       c("shed_idle_total", "Idle keep-alive connections closed, longest idle first, to admit a new one at --max-conns."),
		purged:         c("purged_objects_total", "Stored responses removed or marked stale by purges."),
		purgeRefused:   c("purge_refused_total", "Purges refused: client outside --purge-from without the purge token."),
		originRetries:  c("origin_retries_total", "Origin requests retried (idempotent, on a reused connection that broke before the response)."),
		retryBudgetExhausted: c("origin_retry_budget_exhausted_total",
			"Origin requests that qualified for a retry but found the retry budget spent."),
		purgeSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "strata", Subsystem: "edge", Name: "purge_duration_seconds",
			Help: "Time to execute a purge.", Buckets: prometheus.ExponentialBuckets(1e-6, 4, 12),
		}),
		conns: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "strata", Subsystem: "edge", Name: "connections", Help: "Open client connections."}),
	}
	m.resolveRequestMetrics()
	return m
}

// Register adds the edge's metrics, including the store's, to reg.
func (e *Edge) Register(reg prometheus.Registerer) error {
	m := e.m
	st := e.store
	cs := []prometheus.Collector{
		m.hits, m.misses, m.stale, m.passes, m.revalidated, m.revalidatedNew, m.coalesced,
		m.originErrors, m.staleIfError, m.streamed, m.badRequests, m.rejectedConns, m.purged, m.purgeRefused, m.originRetries, m.retryBudgetExhausted,
		m.rejectedPerIP, m.headerTimeouts, m.bodyTimeouts, m.bodyBudgetRefused, m.shedIncomplete, m.shedIdle,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "strata", Subsystem: "edge", Name: "body_buffer_bytes",
			Help: "Bytes of request-body buffers held by all connections (bounded by --max-body-buffer)."},
			func() float64 { return float64(e.bodyBudget.Used()) }),
		m.purgeSeconds, m.conns, m.requestsVec, m.durationVec,
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "strata", Subsystem: "edge", Name: "access_log_dropped_total",
			Help: "Access log entries dropped because the log's queue was full (the writer fell behind)."},
			func() float64 { return float64(e.cfg.AccessLog.Dropped()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "strata", Subsystem: "edge", Name: "stored_bytes",
			Help: "Bytes charged to the store (bounded by --memory)."}, func() float64 { return float64(st.Stats().Bytes) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "strata", Subsystem: "edge", Name: "stored_objects",
			Help: "Entries in the store (responses and Vary markers)."}, func() float64 { return float64(st.Stats().Objects) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "strata", Subsystem: "edge", Name: "memory_limit_bytes",
			Help: "The store's byte budget (--memory)."}, func() float64 { return float64(st.Capacity()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "strata", Subsystem: "edge", Name: "evicted_bytes_total",
			Help: "Bytes evicted by the admission/eviction policy."}, func() float64 { return float64(st.Stats().EvictedBytes) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "strata", Subsystem: "edge", Name: "evicted_objects_total",
			Help: "Entries evicted by the admission/eviction policy."}, func() float64 { return float64(st.Stats().EvictedObjects) }),
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return err
		}
	}
	return nil
}
