package edge

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/strata-dp/strata/dataplane/edge/cachecontrol"
	"github.com/valyala/fasthttp"
)

// fetch sends c's GET (or HEAD, sent as GET so the answer can be stored) to
// the origin, conditionally when a stale object with validators exists,
// serves the answer to c and stores it when allowed. It returns the stored
// object, or nil when nothing was stored.
// A leader of coalesced requests passes its flight f (nil otherwise), so a
// body streamed while stored can be shared as it arrives.
func (e *Edge) fetch(c *conn, f *flight, rcc *cachecontrol.Directives, headOnly bool, stale *object, fwd string) *object {
	oreq := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	resp.Header.SetNoDefaultContentType(true) // never invent a Content-Type
	defer func() {
		_ = resp.CloseBodyStream()
		fasthttp.ReleaseResponse(resp)
		fasthttp.ReleaseRequest(oreq)
	}()
	e.originRequest(oreq, c, true)
	if stale != nil {
		if len(stale.etag) > 0 {
			oreq.Header.SetBytesV("If-None-Match", stale.etag)
		}
		if len(stale.lastMod) > 0 {
			oreq.Header.SetBytesV("If-Modified-Since", stale.lastMod)
		}
	}
	reqTime := e.now()
	err := e.originDo(oreq, resp)
	respTime := e.now()
	if err != nil {
		e.m.originErrors.Inc()
		e.originFailed(c, rcc, headOnly, stale, fwd, 0, err)
		return nil
	}
	status := resp.StatusCode()
	if !validStatus(status) {
		e.m.originErrors.Inc()
		e.originFailed(c, rcc, headOnly, stale, fwd, 0, errBadStatus)
		return nil
	}
	if stale != nil && status == fasthttp.StatusNotModified {
		return e.refreshFrom304(c, stale, &resp.Header, reqTime, respTime, headOnly)
	}
	if stale != nil && status >= 500 && e.serveStaleIfError(c, rcc, headOnly, stale, status) {
		return nil
	}
	p := parseResponse(&resp.Header, respTime)
	if cl := resp.Header.ContentLength(); cl > 0 && int64(cl) > e.cfg.MaxObjectBytes {
		e.rememberPass(c.key, respTime)
		c.settle(false, reasonTooLarge)
		e.stream(c, resp, p, nil, headOnly, csForward(fwd, status, false, reasonTooLarge, false))
		return nil
	}
	if bs := resp.BodyStream(); bs != nil && bodyAllowed(status) {
		if cl := resp.Header.ContentLength(); cl < 0 || cl > teeThreshold {
			return e.tee(c, f, rcc, resp, bs, p, reqTime, respTime, headOnly, fwd, stale)
		}
	}
	body, complete, err := readBody(resp, e.cfg.MaxObjectBytes)
	if err != nil {
		e.m.originErrors.Inc()
		e.originFailed(c, rcc, headOnly, stale, fwd, 0, err)
		return nil
	}
	if !complete {
		e.rememberPass(c.key, respTime)
		c.settle(false, reasonTooLarge)
		e.stream(c, resp, p, body, headOnly, csForward(fwd, status, false, reasonTooLarge, false))
		return nil
	}
	o := e.buildObject(p, body, reqTime, respTime, &c.req)
	reason := storeReason(&c.req, rcc, p, int64(len(body)), e.cfg.MaxObjectBytes, e.cfg.StoreSetCookie)
	if reason == "" && o.lifetime == 0 && !o.hasValidator() && max(o.swr, o.sie) <= 0 {
		// Stale on arrival and nothing to revalidate with: storing it
		// would only take space.
		reason = reasonNoFreshness
	}
	stored := false
	if reason == "" {
		if err := e.insert(c.key, &c.req, o); err != nil {
			reason = reasonStoreFull
		} else {
			stored = true
		}
	}
	if stale != nil {
		e.m.revalidatedNew.Inc()
		if !stored {
			e.store.Delete(stale.key)
		}
	}
	if !stored && passReason(reason) {
		e.rememberPass(c.key, respTime)
	}
	c.settle(stored, reason)
	age := o.age(respTime)
	ttl := int64(-1)
	if stored {
		ttl = max(0, o.lifetime-age)
	}
	c.serveStored(o, age, csForward(fwd, status, stored, reason, false), ttl, headOnly)
	if stored {
		return o
	}
	return nil
}

// passSeconds is how long a URL whose response could not be shared skips
// coalescing.
const passSeconds = 10

// passReason reports the store refusals that say something about the URL
// rather than about one request.
func passReason(reason string) bool {
	switch reason {
	case reasonPrivate, reasonNoStore, reasonSetCookie, reasonVaryStar, reasonTooLarge:
		return true
	}
	return false
}

// rememberPass stores a small pass marker under the URL's primary key.
func (e *Edge) rememberPass(primary []byte, now int64) {
	o := &object{key: string(primary), pass: true, responseTime: now, retain: passSeconds}
	_ = e.store.Set(o.key, o, int64(len(o.key))+64)
}

var errBadStatus = errors.New("edge: origin status code out of range")

// validStatus reports a final status code this edge can relay; 1xx
// interim responses are consumed by the client library.
func validStatus(s int) bool { return s >= 200 && s <= 999 }

// originFailed answers when the origin could not be reached or sent an
// unusable response: stale if allowed, 504 on a timeout, 502 otherwise.
func (e *Edge) originFailed(c *conn, rcc *cachecontrol.Directives, headOnly bool, stale *object, fwd string, status int, err error) {
	if stale != nil && e.serveStaleIfError(c, rcc, headOnly, stale, status) {
		return
	}
	c.outcome = outcomeError
	code := fasthttp.StatusBadGateway
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) {
		code = fasthttp.StatusGatewayTimeout
	}
	c.writeError(code, csForward(fwd, 0, false, reasonOriginError, false))
}

// serveStaleIfError serves stale when stale-if-error (from the response,
// the request or --grace) covers its age. status is the origin's 5xx, or 0.
func (e *Edge) serveStaleIfError(c *conn, rcc *cachecontrol.Directives, headOnly bool, stale *object, status int) bool {
	age := stale.age(e.now())
	window := max(stale.sie, rcc.StaleIfError)
	if !stale.staleAllowed(age, window) {
		return false
	}
	e.m.staleIfError.Inc()
	c.outcome = outcomeStale
	c.serveStored(stale, age, csForward("stale", status, false, "stale-if-error", false), 0, headOnly)
	return true
}

// readBody reads a response body of at most limit bytes. complete is false
// when the body is larger; body then holds what was read so far (nothing
// when the length was announced).
func readBody(resp *fasthttp.Response, limit int64) (body []byte, complete bool, err error) {
	bs := resp.BodyStream()
	if bs == nil {
		b := resp.Body()
		return append([]byte(nil), b...), int64(len(b)) <= limit, nil
	}
	if cl := resp.Header.ContentLength(); cl >= 0 {
		if int64(cl) > limit {
			return nil, false, nil
		}
		buf := make([]byte, cl)
		if _, err := io.ReadFull(bs, buf); err != nil {
			return nil, false, err
		}
		return buf, true, nil
	}
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(bs, limit+1))
	if err != nil {
		return nil, false, err
	}
	return buf.Bytes(), n <= limit, nil
}

// stream passes a response through without storing it: the header at once,
// then the body as it arrives (prefix first: what was already read).
func (e *Edge) stream(c *conn, resp *fasthttp.Response, p *parsed, prefix []byte, headOnly bool, cs []byte) {
	e.m.streamed.Inc()
	c.writeHeadFields(p.status, p.fields, nil)
	if p.ageHdr > 0 {
		c.writeAge(p.ageHdr) // relayed, not stored: the origin's Age stands
	}
	cl := resp.Header.ContentLength()
	chunked := false
	switch {
	case !bodyAllowed(p.status):
	case cl >= 0:
		c.writeField("Content-Length", strconv.AppendInt(nil, int64(cl), 10))
	case c.req.Header.IsHTTP11():
		c.writeField("Transfer-Encoding", []byte("chunked"))
		chunked = true
	default:
		c.closeAfter = true // HTTP/1.0: the end of the body is the end of the connection
	}
	c.endHead(cs, -1)
	if headOnly || !bodyAllowed(p.status) {
		return
	}
	write := func(b []byte) error {
		if len(b) == 0 {
			return nil
		}
		if chunked {
			c.bw.WriteString(strconv.FormatInt(int64(len(b)), 16))
			c.bw.WriteString("\r\n")
		}
		c.bw.Write(b)
		if chunked {
			c.bw.WriteString("\r\n")
		}
		return c.bw.Flush()
	}
	if err := write(prefix); err != nil {
		c.closeAfter = true
		return
	}
	bs := resp.BodyStream()
	if bs == nil {
		if err := write(resp.Body()); err != nil {
			c.closeAfter = true
			return
		}
	} else {
		buf := make([]byte, 32<<10)
		defer func() { c.armedAt = 0 }() // the idle deadline must be set again
		for {
			_ = c.nc.SetWriteDeadline(time.Now().Add(e.cfg.OriginTimeout))
			n, err := bs.Read(buf)
			if werr := write(buf[:n]); werr != nil {
				c.closeAfter = true
				return
			}
			if err == io.EOF {
				break
			}
			if err != nil {
				// The origin broke off mid-body: the client must see a
				// truncated message, not a complete one.
				e.m.originErrors.Inc()
				c.outcome = outcomeError
				c.closeAfter = true
				return
			}
		}
	}
	if chunked {
		c.bw.WriteString("0\r\n\r\n")
	}
}
