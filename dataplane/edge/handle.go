package edge

import (
	"github.com/strata-dp/strata/dataplane/edge/cachecontrol"
	"github.com/valyala/fasthttp"
)

// handle answers the request in c.req.
func (e *Edge) handle(c *conn) {
	h := &c.req.Header
	flags, bad := scanRequest(h.RawHeaders())
	if bad == "" && !h.IsConnect() {
		bad = checkTarget(h)
	}
	if bad != "" {
		// The framing of what follows is in doubt too: hang up.
		e.m.badRequests.Inc()
		c.closeAfter = true
		c.writeError(fasthttp.StatusBadRequest, csDetail(bad))
		return
	}
	c.flags = flags
	switch {
	case h.IsGet():
		e.handleRead(c, false)
	case h.IsHead():
		e.handleRead(c, true)
	case string(h.Method()) == "PURGE":
		e.handlePurge(c)
	case h.IsConnect():
		c.closeAfter = true
		c.writeError(fasthttp.StatusMethodNotAllowed, csDetail("connect"))
	default:
		e.handlePass(c)
	}
}

// checkTarget validates Host and the request-target: a Host, when present,
// must be valid even when an absolute-form target overrides it (RFC 9112
// section 3.2), and "*" is for OPTIONS only. A missing Host on HTTP/1.1
// was refused while reading the request.
func checkTarget(h *fasthttp.RequestHeader) string {
	if hf := h.Host(); len(hf) > 0 && !validHost(hf) {
		return reasonBadHost
	}
	_, _, form := splitTarget(h.RequestURI(), h.Host())
	switch {
	case form == badForm:
		return reasonBadTarget
	case form == asteriskForm && !h.IsOptions():
		return reasonBadTarget
	}
	return ""
}

// requestDirectives reads the request's Cache-Control (or Pragma) into d.
func requestDirectives(req *fasthttp.Request, d *cachecontrol.Directives) {
	d.Reset()
	if cc := req.Header.Peek("Cache-Control"); len(cc) > 0 {
		for k, v := range req.Header.All() {
			if equalFold(k, "cache-control") {
				d.Add(v)
			}
		}
		return
	}
	if p := req.Header.Peek("Pragma"); len(p) > 0 && listHas(p, []byte("no-cache")) {
		d.NoCache = true // RFC 9111 section 5.4, HTTP/1.0 clients
	}
}

// acceptsFresh applies the request directives to a fresh stored response.
func acceptsFresh(d *cachecontrol.Directives, o *object, age int64) bool {
	switch {
	case d.NoCache:
		return false
	case d.MaxAge != cachecontrol.Unset && age > d.MaxAge:
		return false
	case d.MinFresh != cachecontrol.Unset && o.lifetime-age < d.MinFresh:
		return false
	}
	return true
}

// acceptsStale reports whether the client's max-stale lets a stale response
// through (never for must-revalidate, RFC 9111 section 5.2.2.2).
func acceptsStale(d *cachecontrol.Directives, o *object, age int64) bool {
	if d.MaxStale == cachecontrol.Unset || d.NoCache || o.mustRevalidate || o.noCache {
		return false
	}
	if d.MaxAge != cachecontrol.Unset && age > d.MaxAge {
		return false
	}
	return age-o.lifetime <= d.MaxStale
}

// handleRead serves GET and HEAD: from the store when it can, otherwise
// through validation or a (coalesced) fetch.
func (e *Edge) handleRead(c *conn, headOnly bool) {
	req := &c.req
	c.key = appendKey(c.key[:0], req)
	var rcc cachecontrol.Directives
	if c.flags&hasDirectives != 0 {
		requestDirectives(req, &rcc)
	} else {
		rcc.Reset()
	}
	now := e.now()
	o, lr := e.lookup(c, req)
	var age int64
	if o != nil {
		age = o.age(now)
		if o.expired(age) {
			o, lr = nil, lookupURIMiss
		}
	}
	if o != nil && o.pass && !rcc.OnlyIfCached {
		// Known not to be shareable: no waiting behind other requests.
		e.m.misses.Inc()
		c.outcome = outcomePass
		e.fetch(c, nil, &rcc, headOnly, nil, "uri-miss")
		return
	}
	if o != nil && o.pass {
		o = nil
	}
	if o == nil {
		if rcc.OnlyIfCached {
			e.m.misses.Inc()
			c.writeError(fasthttp.StatusGatewayTimeout, csDetail(reasonOnlyIfCached))
			return
		}
		fwd := "uri-miss"
		if lr == lookupVaryMiss {
			fwd = "vary-miss"
		}
		e.m.misses.Inc()
		e.fetchCoalesced(c, &rcc, headOnly, nil, fwd)
		return
	}
	if o.fresh(age) && acceptsFresh(&rcc, o, age) {
		e.m.hits.Inc()
		c.outcome = outcomeHit
		c.serveStored(o, age, csHit, o.lifetime-age, headOnly)
		return
	}
	if !rcc.NoCache && !o.fresh(age) && o.staleAllowed(age, o.swr) {
		e.m.stale.Inc()
		c.outcome = outcomeStale
		c.serveStored(o, age, csHitStale, 0, headOnly)
		e.refreshInBackground(c, o)
		return
	}
	if !o.fresh(age) && acceptsStale(&rcc, o, age) {
		e.m.stale.Inc()
		c.outcome = outcomeStale
		c.serveStored(o, age, csHitMaxStale, 0, headOnly)
		return
	}
	if rcc.OnlyIfCached {
		c.writeError(fasthttp.StatusGatewayTimeout, csDetail(reasonOnlyIfCached))
		return
	}
	fwd := "stale"
	if o.fresh(age) {
		fwd = "request" // the client's directives asked for validation
	}
	e.fetchCoalesced(c, &rcc, headOnly, o, fwd)
}
