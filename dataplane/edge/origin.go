package edge

import (
	"bytes"

	"github.com/strata-dp/strata/internal/requestid"
	"github.com/valyala/fasthttp"
)

// unkeyedRequestFields are request fields an origin may reflect into a
// response (links, redirects, rewritten paths, method) or trust as the
// client's address although they are not part of the cache key. They are
// dropped from forwarded requests so that one client cannot poison the
// entry every other client gets, nor choose the address the origin
// believes it has; the edge sets the X-Forwarded-* and X-Real-IP it
// vouches for itself. The list follows the headers cache-poisoning
// scanners try (PortSwigger's Param Miner) and the red team's re-run of
// 1 Dec 2026; TestUnkeyedFieldsDropped holds every one.
var unkeyedRequestFields = []string{
	// Host, scheme, port and prefix the origin builds links from.
	"x-forwarded-host", "x-forwarded-proto", "x-forwarded-scheme", "x-forwarded-port",
	"x-forwarded-server", "x-forwarded-prefix", "x-forwarded-ssl", "front-end-https",
	"x-url-scheme", "forwarded", "x-host", "x-original-host", "x-http-host-override",
	// Paths an origin or its framework routes by instead of the target.
	"x-original-url", "x-rewrite-url", "x-envoy-original-path", "x-forwarded-uri",
	"x-forwarded-path", "x-original-uri",
	// Method overrides.
	"x-http-method-override", "x-http-method", "x-method-override", "x-original-method",
	"x-override-url", "x-wap-profile",
	// Redirects served by object stores.
	"x-amz-website-redirect-location",
	// The client's address: the edge is the trust boundary and says it.
	"x-forwarded-for", "x-real-ip", "true-client-ip", "x-client-ip", "client-ip",
	"cf-connecting-ip", "fastly-client-ip", "x-proxyuser-ip", "x-cluster-client-ip",
	"x-originating-ip", "x-remote-ip", "x-remote-addr", "x-original-forwarded-for",
	"x-envoy-external-address", "forwarded-for", "x-forwarded",
}

// conditionalFields are answered by the edge from what it stores, so a
// fetch meant for storage asks the origin for the whole response.
var conditionalFields = []string{"if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range"}

// internalField reports the fields Strata's tiers use to steer one another
// (X-Strata-Priority picks a facade's admission class; Strata-Soft-Purge
// is the edge's own), which a client must not set for itself: the whole
// X-Strata-* and Strata-* namespace is dropped from forwarded requests.
func internalField(k []byte) bool {
	const x, s = "x-strata-", "strata-"
	return len(k) > len(x) && equalFold(k[:len(x)], x) || len(k) > len(s) && equalFold(k[:len(s)], s)
}

// underscored reports a field name with an underscore. Such names are
// dropped, as nginx does by default (underscores_in_headers off): origins
// that map fields to CGI-style variables (PHP, WSGI, Rack) read
// X_Forwarded_Host as X-Forwarded-Host, which would slip every name of
// unkeyedRequestFields past the list above.
func underscored(k []byte) bool { return bytes.IndexByte(k, '_') >= 0 }

func hasName(names []string, k []byte) bool {
	for _, n := range names {
		if equalFold(k, n) {
			return true
		}
	}
	return false
}

// originRequest builds the request to the origin from c's request. A
// forCache request is a plain GET for the whole representation.
func (e *Edge) originRequest(dst *fasthttp.Request, c *conn, forCache bool) {
	src := &c.req
	if forCache {
		dst.Header.SetMethod(fasthttp.MethodGet)
	} else {
		dst.Header.SetMethodBytes(src.Header.Method())
	}
	named, target, form := splitTarget(src.Header.RequestURI(), src.Header.Host())
	host := named
	if len(host) == 0 {
		// HTTP/1.0 without Host: the origin's own name.
		host = []byte(e.originHost)
	}
	if form == asteriskForm {
		dst.SetRequestURIBytes(target)
	} else {
		// fasthttp's client re-parses the target with Host, and takes
		// origin-form "//x?u=http://y" for host x; handed the absolute
		// form it keeps host and target apart.
		abs := make([]byte, 0, len(e.originScheme)+3+len(host)+1+len(target))
		abs = append(append(append(abs, e.originScheme...), "://"...), host...)
		if len(target) == 0 || target[0] != '/' {
			abs = append(abs, '/')
		}
		dst.SetRequestURIBytes(append(abs, target...))
	}
	dst.Header.SetHostBytes(host)
	connNamed := src.Header.Peek("Connection")
	var via []byte
	for k, v := range src.Header.All() {
		switch {
		case isHopByHop(k, connNamed), equalFold(k, "host"), equalFold(k, "content-length"),
			hasName(unkeyedRequestFields, k), internalField(k), underscored(k):
			continue
		case forCache && hasName(conditionalFields, k):
			continue
		case equalFold(k, "via"):
			via = append(append(via, v...), ", "...)
			continue
		case equalFold(k, "x-request-id"):
			continue // replaced by the id the edge logs
		}
		dst.Header.AddBytesKV(k, v)
	}
	if c.clientIP.IsValid() {
		// Replaced, not appended to: what a client claims about the hops
		// before it is not the edge's to relay.
		var buf [48]byte
		ip := c.clientIP.AppendTo(buf[:0])
		dst.Header.SetBytesV("X-Forwarded-For", ip)
		dst.Header.SetBytesV("X-Real-IP", ip)
	}
	dst.Header.SetBytesV("Via", append(via, "1.1 strata"...))
	dst.Header.Set("X-Forwarded-Proto", "http")
	dst.Header.SetBytesV("X-Forwarded-Host", named)
	dst.Header.SetBytesV(requestid.Header, c.requestID())
	if !forCache {
		dst.SetBodyRaw(src.Body())
	}
}
