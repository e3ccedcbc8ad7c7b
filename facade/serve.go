package facade

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"
)

var (
	bodyNotFound       = []byte(`{"error":"not found"}`)
	bodyNotAllowed     = []byte(`{"error":"method not allowed"}`)
	bodyQueueFull      = []byte(`{"error":"overloaded: queue full"}`)
	bodyQueueTime      = []byte(`{"error":"overloaded: queued too long"}`)
	bodyDeadline       = []byte(`{"error":"overloaded: no time left"}`)
	bodyOK             = []byte("ok\n")
	bodyNotReady       = []byte("draining\n")
	contentTypeJSON    = []byte("application/json")
	headerRetryAfter   = []byte(fasthttp.HeaderRetryAfter)
	headerRequestID    = []byte(RequestIDHeader)
	headerPriority     = []byte(PriorityHeader)
	headerCacheControl = []byte(fasthttp.HeaderCacheControl)
	valueNoStore       = []byte("no-store")
	methodGet          = []byte(fasthttp.MethodGet)
)

// serve is the fasthttp handler: route, identify, admit, run, account.
// It allocates nothing on the way (AllocsPerRun test).
func (a *App) serve(rc *fasthttp.RequestCtx) {
	// fasthttp already read the clock when the request arrived; reading it
	// again costs as much as routing does.
	arrived := rc.Time()
	if arrived.IsZero() {
		arrived = time.Now()
	}
	c := a.ctxPool.Get().(*Ctx)
	c.rc, c.app, c.start = rc, a, arrived
	defer a.putCtx(c)

	if id := rc.Request.Header.PeekBytes(headerRequestID); validRequestID(id) {
		c.reqIDLen = copy(c.reqID[:], id)
	} else {
		c.reqIDLen = a.ids.Next(&c.reqID)
	}
	rc.Response.Header.SetCanonical(headerRequestID, c.reqID[:c.reqIDLen])

	rt, np := a.router.lookup(rc.Method(), rc.Path(), &c.params)
	if rt == nil && rc.IsHead() {
		// HEAD is GET without the body, which fasthttp drops itself.
		rt, np = a.router.lookup(methodGet, rc.Path(), &c.params)
	}
	if rt == nil {
		if !a.unrouted(c) {
			a.account(c, rc.Response.StatusCode(), time.Since(arrived))
		}
		return
	}
	c.route, c.nparams = rt, np
	c.priority = rt.Priority
	if rc.Request.IsBodyStream() {
		if !a.readBody(c) {
			return
		}
		// The budget counts from a whole request, as it did when
		// fasthttp read the body before calling the handler.
		arrived = time.Now()
		c.start = arrived
	}
	if pv := rc.Request.Header.PeekBytes(headerPriority); len(pv) > 0 {
		if !a.trustsPriority(rc.RemoteIP()) {
			a.metrics.priorityUntrusted.Inc()
		} else if p, ok := ParsePriority(pv); ok {
			c.priority = p
		}
	}
	c.deadline = arrived.Add(rt.Timeout)

	v, queued := a.adm.acquire(c.priority, arrived, c.deadline)
	admittedAt := arrived
	if queued {
		admittedAt = arrived.Add(time.Since(arrived))
		a.metrics.queueWait[c.priority].Observe(admittedAt.Sub(arrived).Seconds())
	}
	if v != admitted {
		a.reject(c, v, admittedAt)
		return
	}
	if a.draining.Load() {
		rc.SetConnectionClose()
	}

	if err := a.run(c); err != nil {
		a.writeError(c, err)
	}

	// time.Since reads only the monotonic clock (time.Now reads the wall
	// clock too); arrived carries both, so done keeps a usable wall time.
	done := arrived.Add(time.Since(arrived))
	status := rc.Response.StatusCode()
	failed := status >= fasthttp.StatusInternalServerError
	a.adm.release(done, done.Sub(admittedAt), done.After(c.deadline) || status == fasthttp.StatusGatewayTimeout)
	o := outcomeOK
	if failed {
		o = outcomeError
	}
	a.metrics.requests[c.priority][o].Inc()
	a.metrics.latency[c.priority].Observe(done.Sub(arrived).Seconds())
	a.load.answered(done, done.Sub(arrived), failed)
	a.account(c, status, done.Sub(arrived))
}

// run calls the route's chain and turns a panic into an error, so that one
// bad request neither kills the node nor leaks its admission slot.
func (a *App) run(c *Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("facade: handler panic: %v", r)
		}
	}()
	return c.route.chained(c)
}

func (a *App) putCtx(c *Ctx) {
	a.releaseBody(c)
	c.reset()
	a.ctxPool.Put(c)
}

// unrouted answers a request no route matched; it reports true for a
// health probe, which is neither counted nor logged.
func (a *App) unrouted(c *Ctx) (probe bool) {
	rc := c.rc
	if a.probe(rc) {
		return true
	}
	a.metrics.notFound.Inc()
	rc.Response.Header.SetCanonical(headerCacheControl, valueNoStore)
	rc.Response.Header.SetContentTypeBytes(contentTypeJSON)
	if allow := a.router.allowed(rc.Path(), nil); len(allow) > 0 {
		rc.Response.Header.SetBytesV(fasthttp.HeaderAllow, allow)
		rc.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		rc.SetBody(bodyNotAllowed)
		return false
	}
	rc.SetStatusCode(fasthttp.StatusNotFound)
	rc.SetBody(bodyNotFound)
	return false
}

// probe answers GET /healthz and GET /readyz on the serving port, for load
// balancers whose health checks go to the backend's own address: /readyz
// turns 503 as soon as the node drains, so the LB stops sending before the
// listener closes. A route registered at those paths takes precedence.
func (a *App) probe(rc *fasthttp.RequestCtx) bool {
	if !rc.IsGet() && !rc.IsHead() {
		return false
	}
	ok := true
	switch string(rc.Path()) {
	case "/healthz":
	case "/readyz":
		ok = a.serving.Load() && !a.draining.Load()
	default:
		return false
	}
	rc.Response.Header.SetCanonical(headerCacheControl, valueNoStore)
	rc.SetContentType("text/plain; charset=utf-8")
	if !ok {
		rc.SetStatusCode(fasthttp.StatusServiceUnavailable)
		rc.SetBody(bodyNotReady)
		return true
	}
	rc.SetBody(bodyOK)
	return true
}

// reject answers a request admission turned away: a fixed body, no handler,
// no state, so shedding costs next to nothing.
func (a *App) reject(c *Ctx, v verdict, now time.Time) {
	rc := c.rc
	status, body, o := fasthttp.StatusServiceUnavailable, bodyQueueTime, outcomeRejectedQueueTime
	switch v {
	case rejectQueueFull:
		status, body, o = fasthttp.StatusTooManyRequests, bodyQueueFull, outcomeRejectedFull
	case rejectDeadline:
		body, o = bodyDeadline, outcomeRejectedDeadline
	}
	rc.SetStatusCode(status)
	rc.Response.Header.SetCanonical(headerRetryAfter, a.retryAfter)
	rc.Response.Header.SetCanonical(headerCacheControl, valueNoStore)
	rc.Response.Header.SetContentTypeBytes(contentTypeJSON)
	rc.SetBody(body)
	a.metrics.requests[c.priority][o].Inc()
	a.load.rejected(now)
	a.account(c, status, time.Since(c.start))
}

// writeError answers for a handler that returned an error.
func (a *App) writeError(c *Ctx, err error) {
	status, msg := fasthttp.StatusInternalServerError, "internal error"
	var se *StatusError
	switch {
	case errors.As(err, &se):
		status, msg = se.Status, se.Msg
	case errors.Is(err, ErrDeadline), errors.Is(err, context.DeadlineExceeded), errors.Is(err, fasthttp.ErrTimeout):
		status, msg = fasthttp.StatusGatewayTimeout, "deadline exceeded"
	case errors.Is(err, ErrStoreFull):
		status, msg = fasthttp.StatusServiceUnavailable, "state tier full"
	}
	body, _ := json.Marshal(struct {
		Error     string `json:"error"`
		RequestID string `json:"request_id"`
	}{msg, string(c.RequestID())})
	rc := c.rc
	rc.Response.Header.SetCanonical(headerCacheControl, valueNoStore)
	rc.SetStatusCode(status)
	rc.Response.Header.SetContentTypeBytes(contentTypeJSON)
	rc.SetBody(body)
}
