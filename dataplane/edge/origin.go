package edge

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// unkeyedRequestFields are request fields an origin may reflect into a
// response (links, redirects, method) although they are not part of the
// cache key. They are dropped from forwarded requests so that one client
// cannot poison the entry every other client gets; the edge sets the
// X-Forwarded-* it vouches for itself.
var unkeyedRequestFields = []string{
	"x-forwarded-host", "x-forwarded-proto", "x-forwarded-scheme", "x-forwarded-port",
	"x-forwarded-server", "forwarded", "x-original-url", "x-rewrite-url", "x-host",
	"x-http-method-override", "x-http-method", "x-method-override",
}

// conditionalFields are answered by the edge from what it stores, so a
// fetch meant for storage asks the origin for the whole response.
var conditionalFields = []string{"if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range", "range"}

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
	uri := src.Header.RequestURI()
	if len(uri) > 0 && uri[0] != '/' && uri[0] != '*' {
		// absolute-form: the origin gets origin-form, host in Host.
		if i := bytes.Index(uri, []byte("://")); i > 0 {
			rest := uri[i+3:]
			if j := bytes.IndexByte(rest, '/'); j >= 0 {
				dst.Header.SetHostBytes(rest[:j])
				uri = rest[j:]
			} else {
				dst.Header.SetHostBytes(rest)
				uri = []byte("/")
			}
		}
	}
	dst.SetRequestURIBytes(uri)
	if len(dst.Header.Host()) == 0 {
		dst.Header.SetHostBytes(src.Header.Host())
	}
	if len(dst.Header.Host()) == 0 {
		// HTTP/1.0 without Host: the origin's own name.
		dst.Header.SetHost(e.originHost)
	}
	connNamed := src.Header.Peek("Connection")
	var xff, via []byte
	for k, v := range src.Header.All() {
		switch {
		case isHopByHop(k, connNamed), equalFold(k, "host"), equalFold(k, "content-length"),
			hasName(unkeyedRequestFields, k):
			continue
		case forCache && hasName(conditionalFields, k):
			continue
		case equalFold(k, "x-forwarded-for"):
			xff = append(append(xff, v...), ", "...)
			continue
		case equalFold(k, "via"):
			via = append(append(via, v...), ", "...)
			continue
		}
		dst.Header.AddBytesKV(k, v)
	}
	if c.clientIP.IsValid() {
		xff = c.clientIP.AppendTo(xff)
		dst.Header.SetBytesV("X-Forwarded-For", xff)
	}
	dst.Header.SetBytesV("Via", append(via, "1.1 strata"...))
	dst.Header.Set("X-Forwarded-Proto", "http")
	dst.Header.SetBytesV("X-Forwarded-Host", src.Header.Host())
	if !forCache {
		dst.SetBodyRaw(src.Body())
	}
}
