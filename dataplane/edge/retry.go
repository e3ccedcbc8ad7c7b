package edge

import (
	"errors"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// originDo sends req to the origin. A failure is retried only when all of
// these hold: the method is idempotent (RFC 9110 section 9.2.2), the
// request went out on a reused keep-alive connection that broke before any
// of the response arrived, it was no timeout, and the retry budget has a
// token. A failure on a fresh connection is never retried, so an origin
// that resets connections sees each request once, or twice when a stale
// connection came first. The pool may hold several stale connections at
// once (a backend behind the load balancer died, and every connection the
// LB had pinned to it broke together), so a request may step past up to
// maxStaleRetries of them; each costs a token. The budget (after
// Finagle's and Envoy's) keeps retries to a share of requests, so that an
// origin in trouble never sees more than that share on top of its load.
func (e *Edge) originDo(req *fasthttp.Request, resp *fasthttp.Response) error {
	e.retries.deposit()
	for retried := 0; ; retried++ {
		err := e.origin.DoTimeout(req, resp, e.cfg.OriginTimeout)
		if err == nil || !idempotent(req.Header.Method()) || isOriginTimeout(err) || !e.originConns.brokeWhenReused(resp.LocalAddr()) {
			return err
		}
		if retried == maxStaleRetries {
			return err
		}
		if !e.retries.withdraw(time.Now()) {
			e.m.retryBudgetExhausted.Inc()
			return err
		}
		e.m.originRetries.Inc()
	}
}

// maxStaleRetries bounds how many broken reused connections one request
// steps past (originDo).
const maxStaleRetries = 3

func idempotent(method []byte) bool {
	switch string(method) {
	case "GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE":
		return true
	}
	return false
}

func isOriginTimeout(err error) bool {
	return errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) ||
		errors.Is(err, fasthttp.ErrNoFreeConns)
}

// retryBudget grants ratio retries per request, plus minPerSecond
// regardless of traffic so that a quiet edge can retry at all; unspent
// tokens are capped at max(10, 10*minPerSecond), so a quiet spell does not
// bank a burst.
type retryBudget struct {
	ratio, minPerSecond, cap float64

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newRetryBudget(ratio, minPerSecond float64) *retryBudget {
	return &retryBudget{ratio: ratio, minPerSecond: minPerSecond, cap: max(10, 10*minPerSecond),
		tokens: minPerSecond, last: time.Now()}
}

func (b *retryBudget) deposit() {
	if b.ratio <= 0 {
		return
	}
	b.mu.Lock()
	b.tokens = min(b.cap, b.tokens+b.ratio)
	b.mu.Unlock()
}

func (b *retryBudget) withdraw(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ratio < 0 {
		return false
	}
	b.tokens = min(b.cap, b.tokens+b.minPerSecond*now.Sub(b.last).Seconds())
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
