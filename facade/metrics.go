package facade

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/strata-dp/strata/internal/accesslog"
)

// outcome classifies a finished request for the per-class counters.
type outcome uint8

const (
	outcomeOK                outcome = iota // answered below 500
	outcomeError                            // answered 5xx by the handler or the framework
	outcomeRejectedFull                     // its class queue was full (429)
	outcomeRejectedQueueTime                // waited too long in the queue (503)
	outcomeRejectedDeadline                 // its deadline left no time to wait (503)
	outcomeDraining                         // arrived while the node drains (503)
	numOutcomes
)

var outcomeNames = [numOutcomes]string{"ok", "error", "rejected_queue_full", "rejected_queue_time", "rejected_deadline", "draining"}

// metrics are the App's Prometheus collectors, resolved per class and
// outcome up front so the request path only does atomic adds.
type metrics struct {
	requests  [numPriorities][numOutcomes]prometheus.Counter
	latency   [numPriorities]prometheus.Observer
	queueWait [numPriorities]prometheus.Observer
	notFound  prometheus.Counter
	// Per route (routemetrics.go): children resolved by Handle.
	routeRequests *prometheus.CounterVec
	routeDuration *prometheus.HistogramVec
	// priorityUntrusted counts priority headers ignored because the peer
	// is not in TrustPriorityFrom.
	priorityUntrusted prometheus.Counter
	// bodyRefused counts refused request bodies by reason (body.go).
	bodyRefused [numBodyRefusals]prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, a *admission, al *accesslog.Writer) (*metrics, error) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strata_facade_requests_total",
		Help: "Requests by priority class and outcome (ok, error, rejected_*, draining).",
	}, []string{"class", "outcome"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "strata_facade_request_duration_seconds",
		Help:    "Time from arrival to answer of admitted requests, by priority class.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 17),
	}, []string{"class"})
	queueWait := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "strata_facade_queue_wait_seconds",
		Help:    "Time queued before admission or rejection, for requests that queued, by class.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 14),
	}, []string{"class"})
	notFound := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "strata_facade_unrouted_total",
		Help: "Requests that matched no route (404 or 405).",
	})
	inflight := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "strata_facade_inflight",
		Help: "Requests running now.",
	}, func() float64 { n, _, _ := a.snapshot(); return float64(n) })
	limit := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "strata_facade_concurrency_limit",
		Help: "The adaptive concurrency limit now.",
	}, func() float64 { _, l, _ := a.snapshot(); return float64(l) })
	untrusted := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "strata_facade_priority_untrusted_total",
		Help: "Priority headers ignored because the peer is not in --trust-priority-from.",
	})
	routeRequests, routeDuration := newRouteVecs()
	dropped := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "strata_facade_access_log_dropped_total",
		Help: "Access log entries dropped because the log's queue was full (the writer fell behind).",
	}, func() float64 { return float64(al.Dropped()) })
	cs := []prometheus.Collector{requests, latency, queueWait, notFound, inflight, limit, untrusted, routeRequests, routeDuration, dropped}
	m := &metrics{notFound: notFound, priorityUntrusted: untrusted, routeRequests: routeRequests, routeDuration: routeDuration}
	for p := PriorityHigh; p < numPriorities; p++ {
		for o := outcome(0); o < numOutcomes; o++ {
			m.requests[p][o] = requests.WithLabelValues(p.String(), outcomeNames[o])
		}
		m.latency[p] = latency.WithLabelValues(p.String())
		m.queueWait[p] = queueWait.WithLabelValues(p.String())
		class := p
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name:        "strata_facade_queue_depth",
			Help:        "Requests waiting for admission, by priority class.",
			ConstLabels: prometheus.Labels{"class": p.String()},
		}, func() float64 { _, _, q := a.snapshot(); return float64(q[class]) }))
	}
	if reg != nil {
		for _, c := range cs {
			if err := reg.Register(c); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}
