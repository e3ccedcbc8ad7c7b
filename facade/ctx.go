package facade

import (
	"context"
	"encoding/json"
	"log/slog"
	"time"

	"github.com/strata-dp/strata/internal/bodybuf"
	"github.com/valyala/fasthttp"
)

// Handler serves one request. It returns nil once it has written the
// response, or an error for the framework to answer with (see StatusError).
type Handler func(c *Ctx) error

// Ctx is the per-request context handed to middleware and handlers. It is
// pooled: never keep it, or anything taken from it, after the handler returns.
type Ctx struct {
	rc       *fasthttp.RequestCtx
	app      *App
	route    *Route
	start    time.Time
	deadline time.Time
	priority Priority
	params   [maxParams]Param
	nparams  int
	reqID    [maxRequestID]byte
	reqIDLen int
	std      context.Context
	cancel   context.CancelFunc
	body     bodybuf.Buffer // the request body, read by App.readBody
}

// Raw is the underlying fasthttp request context.
func (c *Ctx) Raw() *fasthttp.RequestCtx { return c.rc }

// Request is the incoming request.
func (c *Ctx) Request() *fasthttp.Request { return &c.rc.Request }

// Response is the response being built.
func (c *Ctx) Response() *fasthttp.Response { return &c.rc.Response }

// Method and Path of the request.
func (c *Ctx) Method() []byte { return c.rc.Method() }

// Path is the request path (without the query).
func (c *Ctx) Path() []byte { return c.rc.Path() }

// Param returns the path parameter name, or nil if the route has none such.
// The bytes alias the request and are valid until the handler returns.
func (c *Ctx) Param(name string) []byte {
	for i := 0; i < c.nparams; i++ {
		if c.params[i].Name == name {
			return c.params[i].Value
		}
	}
	return nil
}

// Route is the matched route.
func (c *Ctx) Route() *Route { return c.route }

// Deadline is when the request must be answered; outgoing calls must end by
// then (fasthttp has no cancellation, so pass it on explicitly).
func (c *Ctx) Deadline() time.Time { return c.deadline }

// Remaining is the time left until the deadline (negative once passed).
func (c *Ctx) Remaining() time.Duration { return time.Until(c.deadline) }

// Priority is the request's admission class.
func (c *Ctx) Priority() Priority { return c.priority }

// RequestID is the id of this request: the X-Request-Id the caller sent, or
// one made by this node. Valid until the handler returns.
func (c *Ctx) RequestID() []byte { return c.reqID[:c.reqIDLen] }

// Store is the state tier (nil if the App has none).
func (c *Ctx) Store() Store { return c.app.store }

// Log is the App's logger. Do not log per request on hot routes: count.
func (c *Ctx) Log() *slog.Logger { return c.app.log }

// NodeID is the id of this facade node.
func (c *Ctx) NodeID() string { return c.app.nodeID }

// Context returns a context.Context that ends at the request deadline, for
// APIs that take one (the state client). It is made on first use and
// cancelled when the request ends; it costs an allocation, the rest of Ctx
// does not.
func (c *Ctx) Context() context.Context {
	if c.std == nil {
		c.std, c.cancel = context.WithDeadline(context.Background(), c.deadline)
	}
	return c.std
}

// Write sets the status, the content type and the body.
func (c *Ctx) Write(status int, contentType string, body []byte) {
	c.rc.SetStatusCode(status)
	c.rc.SetContentType(contentType)
	c.rc.SetBody(body)
}

// JSON encodes v as the JSON body with the given status.
func (c *Ctx) JSON(status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	c.Write(status, "application/json", b)
	return nil
}

// SetHeader sets a response header.
func (c *Ctx) SetHeader(key, value string) { c.rc.Response.Header.Set(key, value) }

// SetCacheControl sets the Cache-Control response header.
func (c *Ctx) SetCacheControl(value string) {
	c.rc.Response.Header.Set(fasthttp.HeaderCacheControl, value)
}

// reset clears what the next request must not see. Parameters beyond
// nparams and the request id bytes beyond reqIDLen are never read, so only
// the references are cleared, not the arrays (which would cost a copy of
// the whole struct per request).
func (c *Ctx) reset() {
	if c.cancel != nil {
		c.cancel()
	}
	for i := 0; i < c.nparams; i++ {
		c.params[i] = Param{}
	}
	c.rc, c.app, c.route, c.std, c.cancel = nil, nil, nil, nil, nil
	c.nparams, c.reqIDLen, c.priority = 0, 0, 0
	c.start, c.deadline = time.Time{}, time.Time{}
}
