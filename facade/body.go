package facade

import (
	"errors"
	"io"
	"net"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// Request bodies are read by the framework, not by fasthttp's server: its
// non-streaming mode allocated the declared Content-Length before calling
// the handler, so 1,000 connections declaring 1 MB and sending nothing
// took a facade to 1 GB (red team, 1 Dec 2026). The server streams
// (StreamRequestBody; it prefetches at most 8 KiB), and serve reads a
// routed request's body into a buffer that grows only after bytes arrive,
// within MaxRequestBodySize, charged to MaxBodyBuffer for the whole node,
// under the connection's ReadTimeout (from the start of the request head).
// The handler then finds it in Request().Body() as before. Buffers up to
// 64 KiB go back to a pool; larger ones are dropped after the request.

// Defaults of Config.MaxRequestBodySize and Config.MaxBodyBuffer.
const (
	DefaultMaxRequestBodySize = 1 << 20
	DefaultMaxBodyBuffer      = 128 << 20
)

var (
	errBodyTooLarge = errors.New("facade: request body over the limit")
	errBodyBudget   = errors.New("facade: request body buffer budget spent")
)

// Reasons a body was refused, labelling strata_facade_body_refused_total.
const (
	bodyRefusedTooLarge = iota
	bodyRefusedBudget
	bodyRefusedTimeout
	bodyRefusedMalformed
	numBodyRefusals
)

var bodyRefusalNames = [numBodyRefusals]string{"too_large", "buffer_full", "timeout", "malformed"}

// readBody reads a streamed request body into c.body and hands it to the
// request; it answers and reports false when the body is refused. A
// request without a streamed body (tests calling Handler directly, GETs)
// costs nothing.
func (a *App) readBody(c *Ctx) bool {
	rc := c.rc
	if !rc.Request.IsBodyStream() {
		return true
	}
	cl := rc.Request.Header.ContentLength()
	if cl == 0 {
		return true
	}
	limit := a.cfg.MaxRequestBodySize
	var err error
	if cl > limit {
		err = errBodyTooLarge
	} else {
		err = a.fillBody(c, rc.RequestBodyStream(), cl, limit)
	}
	if err == nil {
		rc.Request.SetBodyRaw(c.body.B)
		return true
	}
	status, reason := fasthttp.StatusBadRequest, bodyRefusedMalformed
	var ne net.Error
	switch {
	case errors.Is(err, errBodyTooLarge):
		status, reason = fasthttp.StatusRequestEntityTooLarge, bodyRefusedTooLarge
	case errors.Is(err, errBodyBudget):
		status, reason = fasthttp.StatusServiceUnavailable, bodyRefusedBudget
	case errors.As(err, &ne) && ne.Timeout():
		status, reason = fasthttp.StatusRequestTimeout, bodyRefusedTimeout
	}
	a.metrics.bodyRefused[reason].Inc()
	rc.SetConnectionClose() // the rest of the body is not read
	rc.Response.Header.SetCanonical(headerCacheControl, valueNoStore)
	rc.SetStatusCode(status)
	rc.SetBodyString(fasthttp.StatusMessage(status) + "\n")
	a.account(c, status, 0)
	return false
}

// fillBody reads the stream to its end (cl bytes, or a chunked body when
// cl < 0) into c.body, growing it only once what arrived fills it.
func (a *App) fillBody(c *Ctx, r io.Reader, cl, limit int) error {
	if cl > 0 {
		limit = cl
	}
	buf := &c.body
	for {
		if len(buf.B) == cap(buf.B) {
			if len(buf.B) >= limit {
				// Full: a fixed-length body is complete; a chunked one
				// must end here.
				var one [1]byte
				n, err := r.Read(one[:])
				switch {
				case n > 0:
					return errBodyTooLarge
				case err == io.EOF:
					return nil
				case err != nil:
					return err
				}
				continue
			}
			if !buf.Grow(len(buf.B)+1, limit, a.bodyBudget) {
				return errBodyBudget
			}
		}
		n, err := r.Read(buf.B[len(buf.B):cap(buf.B)])
		buf.B = buf.B[:len(buf.B)+n]
		if err == io.EOF {
			if cl > 0 && len(buf.B) < cl {
				return io.ErrUnexpectedEOF
			}
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// releaseBody returns the request's body buffer and its budget once the
// handler is done; the request no longer points at it.
func (a *App) releaseBody(c *Ctx) {
	if c.body.B == nil {
		return
	}
	if c.rc != nil {
		c.rc.Request.SetBodyRaw(nil)
	}
	c.body.Release()
}

func newBodyRefused(reg prometheus.Registerer) ([numBodyRefusals]prometheus.Counter, error) {
	var out [numBodyRefusals]prometheus.Counter
	vec := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "strata_facade_body_refused_total",
		Help: "Request bodies refused, and their connections closed, by reason (too_large, buffer_full, timeout, malformed).",
	}, []string{"reason"})
	for i := range out {
		out[i] = vec.WithLabelValues(bodyRefusalNames[i])
	}
	if reg != nil {
		if err := reg.Register(vec); err != nil {
			return out, err
		}
	}
	return out, nil
}
