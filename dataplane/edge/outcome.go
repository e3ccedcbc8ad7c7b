package edge

import "time"

// outcome is what the cache did with one request, as Cache-Status says
// it; it labels strata_edge_requests_total and the duration histogram.
// The hit ratio is over hits and misses only: passes and uncacheable
// answers were never the cache's to serve (docs/EDGE.md, Metrics).
type outcome uint8

const (
	outcomeSynthetic   outcome = iota // answered by the edge itself: bad request, purge, only-if-cached
	outcomeHit                        // a fresh stored response
	outcomeStale                      // a stale stored response: stale-while-revalidate, max-stale, stale-if-error
	outcomeCollapsed                  // waited for another request's fetch and got its response
	outcomeRevalidated                // the origin answered a validation with 304
	outcomeMiss                       // fetched from the origin and stored (or storable)
	outcomeUncacheable                // fetched for the cache, but the answer may not be stored (no-store, private, ...)
	outcomePass                       // not for the cache: other methods, URLs known uncacheable, request no-store
	outcomeError                      // the origin failed and nothing stale could stand in: 502/504
	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	"synthetic", "hit", "stale", "collapsed", "revalidated", "miss", "uncacheable", "pass", "error",
}

// Status classes of strata_edge_requests_total: index status/100, and 0
// for codes outside 100-599.
const numStatusClasses = 6

var statusClassNames = [numStatusClasses]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

func statusClass(status int) int {
	if status < 100 || status > 599 {
		return 0
	}
	return status / 100
}

// settle classifies a request whose answer came from the origin, by
// whether the answer was stored and, if not, why.
func (c *conn) settle(stored bool, reason string) {
	switch {
	case stored || reason == reasonStoreFull:
		c.outcome = outcomeMiss // cacheable: a miss whether or not it fit
	case c.outcome == outcomePass || reason == reasonReqNoStore:
		c.outcome = outcomePass
	default:
		c.outcome = outcomeUncacheable
	}
}

// begin starts accounting for the request about to be read.
func (c *conn) begin() {
	c.start = time.Now()
	c.outcome = outcomeSynthetic
	c.status = 0
	c.reqIDLen = 0
	c.headEnd = 0
}

// finish accounts for the request begun last, once its answer is flushed:
// counters and histogram by outcome, then the access log. A request that
// got no answer (the connection was shed or timed out silently) counts
// nowhere. Allocation-free: the children are resolved at start.
func (c *conn) finish() {
	if c.status == 0 {
		return
	}
	d := time.Since(c.start)
	m := c.e.m
	m.requests[c.outcome][statusClass(c.status)].Inc()
	m.duration[c.outcome].Observe(d.Seconds())
	if al := c.e.cfg.AccessLog; al.Sampled() {
		c.logAccess(al, d)
	}
}
