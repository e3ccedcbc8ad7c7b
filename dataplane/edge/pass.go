package edge

import (
	"bytes"
	"net/url"

	"github.com/valyala/fasthttp"
)

// handlePass forwards a request the cache cannot answer (any method but
// GET, HEAD and PURGE) and, after a successful unsafe method, invalidates
// the URL and the URLs in Location and Content-Location (RFC 9111 section
// 4.4).
func (e *Edge) handlePass(c *conn) {
	e.m.passes.Inc()
	c.outcome = outcomePass
	oreq := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	resp.Header.SetNoDefaultContentType(true) // never invent a Content-Type
	defer func() {
		_ = resp.CloseBodyStream()
		fasthttp.ReleaseResponse(resp)
		fasthttp.ReleaseRequest(oreq)
	}()
	e.originRequest(oreq, c, false)
	if err := e.originDo(oreq, resp); err != nil {
		e.m.originErrors.Inc()
		e.originFailed(c, nil, false, nil, "method", 0, err)
		return
	}
	status := resp.StatusCode()
	if !validStatus(status) {
		e.m.originErrors.Inc()
		e.originFailed(c, nil, false, nil, "method", 0, errBadStatus)
		return
	}
	p := parseResponse(&resp.Header, e.now())
	if unsafeMethod(c.req.Header.Method()) && status >= 200 && status < 400 {
		c.key = appendKey(c.key[:0], &c.req)
		e.invalidate(string(c.key))
		for _, name := range []string{"Location", "Content-Location"} {
			if v := resp.Header.Peek(name); len(v) > 0 {
				if k, ok := sameOriginKey(c.key, v); ok {
					e.invalidate(k)
				}
			}
		}
	}
	e.stream(c, resp, p, nil, false, csForward("method", status, false, "", false))
}

func unsafeMethod(m []byte) bool {
	switch string(m) {
	case "GET", "HEAD", "OPTIONS", "TRACE":
		return false
	}
	return true
}

// invalidate removes every stored response for the URL with primary key k.
func (e *Edge) invalidate(k string) {
	for _, key := range e.variantsOf(k) {
		e.store.Delete(key)
	}
}

// sameOriginKey resolves a Location or Content-Location against the request
// key and returns its cache key when it names the same host (a response
// must not invalidate another origin's entries).
func sameOriginKey(reqKey, ref []byte) (string, bool) {
	base, err := url.Parse(string(reqKey))
	if err != nil {
		return "", false
	}
	u, err := base.Parse(string(ref))
	if err != nil || !bytes.EqualFold([]byte(u.Host), []byte(base.Host)) || (u.Scheme != "http" && u.Scheme != "") {
		return "", false
	}
	return "http://" + string(lower([]byte(u.Host))) + u.RequestURI(), true
}
