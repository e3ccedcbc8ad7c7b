package facade

import (
	"net"
	"net/netip"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/strata-dp/strata/internal/accesslog"
)

// Status classes of strata_facade_route_requests_total: index status/100,
// and 0 for codes outside 100-599.
const numStatusClasses = 6

var statusClassNames = [numStatusClasses]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(status int) int {
	if status < 100 || status > 599 {
		return 0
	}
	return status / 100
}

// routeStats are one route's collectors, resolved when the route is
// registered so that a request only adds and observes: labelled by the
// route's pattern, never the raw path, so the series are bounded by the
// routes.
type routeStats struct {
	requests [numStatusClasses]prometheus.Counter
	duration prometheus.Observer
}

func newRouteVecs() (*prometheus.CounterVec, *prometheus.HistogramVec) {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strata_facade_route_requests_total",
		Help: "Answered requests by route (method and pattern) and status class, rejections by admission control included.",
	}, []string{"method", "route", "status"})
	duration := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "strata_facade_route_duration_seconds",
		Help:    "Time from arrival to answer by route (method and pattern), rejections included.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 17),
	}, []string{"method", "route"})
	return requests, duration
}

func (m *metrics) forRoute(method, pattern string) routeStats {
	var s routeStats
	for i := range numStatusClasses {
		s.requests[i] = m.routeRequests.WithLabelValues(method, pattern, statusClassNames[i])
	}
	s.duration = m.routeDuration.WithLabelValues(method, pattern)
	return s
}

// account counts an answered request under its route, when it has one,
// and logs it when the access log samples it.
func (a *App) account(c *Ctx, status int, d time.Duration) {
	if rt := c.route; rt != nil {
		rt.stats.requests[statusClass(status)].Inc()
		rt.stats.duration.Observe(d.Seconds())
	}
	if al := a.cfg.AccessLog; al.Sampled() {
		a.logAccess(al, c, status, d)
	}
}

func (a *App) logAccess(al *accesslog.Writer, c *Ctx, status int, d time.Duration) {
	rc := c.rc
	var client netip.AddrPort
	if ta, ok := rc.RemoteAddr().(*net.TCPAddr); ok {
		ap := ta.AddrPort()
		client = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	var bytes int64
	if !rc.IsHead() {
		bytes = int64(len(rc.Response.Body()))
	}
	e := accesslog.Entry{
		Time: c.start, Duration: d, Client: client,
		Method: rc.Method(), Target: rc.RequestURI(), Host: rc.Host(), RequestID: c.reqID[:c.reqIDLen],
		Status: status, Bytes: bytes,
	}
	if c.route != nil {
		e.Route = c.route.Pattern
	}
	al.Log(&e)
}
