package edge

import (
	"bufio"
	"io"
	"time"

	"github.com/strata-dp/strata/dataplane/edge/cachecontrol"
	"github.com/valyala/fasthttp"
)

// buildObject turns a parsed origin response into an object, computing its
// age and freshness by RFC 9111 section 4.2.
func (e *Edge) buildObject(p *parsed, body []byte, reqTime, respTime int64, req *fasthttp.Request) *object {
	fields := p.fields
	if bodyAllowed(p.status) {
		fields = append(fields[:len(fields):len(fields)], contentLengthField(len(body)))
	}
	o := &object{
		status: p.status, headers: fields, body: body, head: buildHead(p.status, fields),
		etag: p.etag, lastMod: p.lastMod, requestTime: reqTime, responseTime: respTime,
		varyNames: p.vary, tags: p.tags, setCookie: p.cookie,
	}
	apparent := max(0, respTime-p.date)
	corrected := p.ageHdr + max(0, respTime-reqTime)
	o.initialAge = max(apparent, corrected)
	o.lifetime = lifetime(p)
	cc := &p.cc
	o.noCache = cc.NoCache
	o.mustRevalidate = cc.MustRevalidate || cc.ProxyRevalidate || cc.NoCache
	o.swr, o.sie = cc.StaleWhileRevalidate, cc.StaleIfError
	// The operator's grace applies unless the origin asked shared caches
	// for strictness (must-revalidate, proxy-revalidate, s-maxage).
	if grace := int64(e.cfg.Grace / time.Second); grace > 0 && !o.mustRevalidate && cc.SMaxAge == cachecontrol.Unset {
		o.swr, o.sie = max(o.swr, grace), max(o.sie, grace)
	}
	o.retain = o.lifetime + max(o.swr, o.sie, 0) + int64(e.cfg.Keep/time.Second)
	if len(p.vary) > 0 {
		o.varyValues = string(appendVaryValues(nil, p.vary, req))
	}
	return o
}

// refreshFrom304 updates a stored response from a 304 (RFC 9111 section
// 4.3.4): the 304's fields replace the stored ones of the same name, the
// body stays, freshness restarts from this exchange.
func (e *Edge) refreshFrom304(c *conn, stale *object, rh *fasthttp.ResponseHeader, reqTime, respTime int64, headOnly bool) *object {
	e.m.revalidated.Inc()
	c.outcome = outcomeRevalidated
	upd := parseResponse(rh, respTime)
	merged := make([]field, 0, len(stale.headers)+len(upd.fields))
	for _, f := range stale.headers {
		if equalFold(f.key, "content-length") || hasField(upd.fields, f.key) {
			continue
		}
		merged = append(merged, f)
	}
	merged = append(merged, upd.fields...)
	p := parseFields(stale.status, fieldSeq(merged), nil, respTime)
	if len(p.tags) == 0 {
		p.tags = stale.tags
	}
	o := e.buildObject(p, stale.body, reqTime, respTime, &c.req)
	// A 304 that sets a cookie answers this client only.
	stored := (!p.cookie || e.cfg.StoreSetCookie) && e.insert(c.key, &c.req, o) == nil
	age := o.age(respTime)
	c.serveStored(o, age, csForward("stale", 304, stored, "", false), max(0, o.lifetime-age), headOnly)
	if stored {
		return o
	}
	return nil
}

func hasField(fields []field, k []byte) bool {
	for _, f := range fields {
		if equalFoldBytes(f.key, k) {
			return true
		}
	}
	return false
}

// refreshInBackground revalidates o after a stale-while-revalidate answer,
// once at a time per object and at most maxBackground at once.
func (e *Edge) refreshInBackground(c *conn, o *object) {
	if e.shutting.Load() || !o.refreshing.CompareAndSwap(false, true) {
		return
	}
	select {
	case e.bgSem <- struct{}{}:
	default:
		o.refreshing.Store(false)
		return
	}
	bc := &conn{
		e: e, nc: c.nc, clientIP: c.clientIP,
		bw:  bufio.NewWriterSize(io.Discard, 4096),
		key: append([]byte(nil), c.key...),
	}
	c.req.CopyTo(&bc.req)
	e.bgWG.Add(1)
	go func() {
		defer func() {
			<-e.bgSem
			o.refreshing.Store(false)
			e.bgWG.Done()
		}()
		var rcc cachecontrol.Directives
		rcc.Reset()
		e.fetch(bc, nil, &rcc, true, o, "stale")
	}()
}
