package edge

import (
	"iter"
	"net/http"
	"strconv"
	"time"

	"github.com/strata-dp/strata/dataplane/edge/cachecontrol"
	"github.com/valyala/fasthttp"
)

// Reasons a response is not stored, reported in Cache-Status as detail=.
const (
	reasonNoStore      = "no-store"
	reasonPrivate      = "private"
	reasonAuth         = "authorization"
	reasonSetCookie    = "set-cookie"
	reasonVaryStar     = "vary-star"
	reasonStatus       = "status"
	reasonNoFreshness  = "no-freshness"
	reasonTooLarge     = "too-large"
	reasonReqNoStore   = "request-no-store"
	reasonMethod       = "method"
	reasonStoreFull    = "store-refused"
	reasonOriginError  = "origin-error"
	reasonOnlyIfCached = "only-if-cached"
)

// parsed is what the edge learns from an origin response's header.
type parsed struct {
	status  int
	fields  []field
	cc      cachecontrol.Directives // the directives that apply to this cache
	expires int64                   // unix seconds; 0 absent; -1 invalid
	date    int64
	ageHdr  int64
	etag    []byte
	lastMod []byte
	vary    []string
	varyAll bool
	cookie  bool
	tags    []string
}

// hopByHop are never stored or forwarded (RFC 9110 section 7.6.1), plus the
// fields this cache computes itself (Age, Content-Length) and the ones that
// target it and must not travel further (Surrogate-*, Cache-Tag).
var hopByHop = []string{
	"connection", "keep-alive", "proxy-connection", "te", "transfer-encoding",
	"upgrade", "trailer", "proxy-authenticate", "proxy-authorization",
}

func isHopByHop(k []byte, connNamed []byte) bool {
	for _, h := range hopByHop {
		if equalFold(k, h) {
			return true
		}
	}
	return len(connNamed) > 0 && listHas(connNamed, k)
}

// parseResponse copies the origin's header into a parsed view. now is the
// response time, used when Date is missing or invalid.
func parseResponse(rh *fasthttp.ResponseHeader, now int64) *parsed {
	return parseFields(rh.StatusCode(), rh.All(), rh.Peek("Connection"), now)
}

// fieldSeq iterates a stored field list like a fasthttp header.
func fieldSeq(fields []field) iter.Seq2[[]byte, []byte] {
	return func(yield func([]byte, []byte) bool) {
		for _, f := range fields {
			if !yield(f.key, f.value) {
				return
			}
		}
	}
}

// parseFields reads a response's fields: what is kept for storage and what
// decides caching. connNamed is the Connection field's value, whose listed
// names are hop-by-hop too.
func parseFields(status int, all iter.Seq2[[]byte, []byte], connNamed []byte, now int64) *parsed {
	p := &parsed{status: status}
	var cc, cdn, surrogate cachecontrol.Directives
	cc.Reset()
	cdn.Reset()
	surrogate.Reset()
	for k, v := range all {
		switch {
		case isHopByHop(k, connNamed), equalFold(k, "content-length"):
			continue
		case equalFold(k, "age"):
			if n, ok := cachecontrol.ParseDelta(trimSpace(v)); ok {
				p.ageHdr = n
			}
			continue
		case equalFold(k, "cdn-cache-control"):
			cdn.Add(v) // kept: a CDN further down may target it too
		case equalFold(k, "surrogate-control"):
			surrogate.Add(v)
			continue
		case equalFold(k, "surrogate-key"), equalFold(k, "cache-tag"):
			p.tags = appendTags(p.tags, v)
			continue
		case equalFold(k, "cache-control"):
			cc.Add(v)
		case equalFold(k, "expires"):
			p.expires = parseHTTPDate(v)
			if p.expires == 0 {
				p.expires = -1
			}
		case equalFold(k, "date"):
			p.date = parseHTTPDate(v)
		case equalFold(k, "etag"):
			p.etag = append([]byte{}, v...)
		case equalFold(k, "last-modified"):
			p.lastMod = append([]byte{}, v...)
		case equalFold(k, "vary"):
			p.vary, p.varyAll = appendVary(p.vary, v)
		case equalFold(k, "set-cookie"):
			p.cookie = true
		}
		p.fields = append(p.fields, field{append([]byte{}, k...), append([]byte{}, v...)})
	}
	// RFC 9213: a targeted field replaces Cache-Control and Expires for the
	// caches it targets; CDN-Cache-Control wins over Surrogate-Control.
	switch {
	case cdn.Present:
		p.cc, p.expires = cdn, 0
	case surrogate.Present:
		p.cc, p.expires = surrogate, 0
	default:
		p.cc = cc
	}
	// Qualified no-cache="a" and private="a": the named fields are not
	// stored; the rest of the response is (RFC 9111 5.2.2.4, 5.2.2.7).
	if p.cc.NoCache && len(p.cc.NoCacheFields) > 0 {
		p.fields = dropFields(p.fields, p.cc.NoCacheFields)
		p.cc.NoCache = false
	}
	if p.cc.Private && len(p.cc.PrivateFields) > 0 {
		p.fields = dropFields(p.fields, p.cc.PrivateFields)
		p.cc.Private = false
	}
	p.cc.NoCacheFields, p.cc.PrivateFields = nil, nil // they point into the origin's buffer
	if p.date == 0 {
		p.date = now
		p.fields = append(p.fields, field{[]byte("Date"), appendHTTPDate(nil, now)})
	}
	return p
}

// dropFields removes the fields named in the comma-separated list.
func dropFields(fields []field, list []byte) []field {
	out := fields[:0]
	for _, f := range fields {
		if !listHas(list, f.key) {
			out = append(out, f)
		}
	}
	return out
}

// storeReason says why a response to req must not be stored, or "".
// cookies allows storing responses that set cookies.
func storeReason(req *fasthttp.Request, reqCC *cachecontrol.Directives, p *parsed, bodyLen, maxObject int64, cookies bool) string {
	cc := &p.cc
	understood := heuristicallyCacheable(p.status) || understoodStatus(p.status)
	switch {
	case reqCC.NoStore:
		return reasonReqNoStore
	case p.status < 200 || p.status == 206 || p.status == 304:
		return reasonStatus
	case cc.MustUnderstand && !understood:
		return reasonStatus
	case cc.NoStore && !(cc.MustUnderstand && understood):
		return reasonNoStore
	case cc.Private:
		return reasonPrivate
	case len(req.Header.Peek("Authorization")) > 0 && !cc.Public && !cc.MustRevalidate && cc.SMaxAge == cachecontrol.Unset:
		return reasonAuth
	case p.cookie && !cookies:
		// Shared caches may store these, but handing one client's cookie to
		// another is the classic CDN leak; Strata never does.
		return reasonSetCookie
	case p.varyAll:
		return reasonVaryStar
	case bodyLen > maxObject:
		return reasonTooLarge
	}
	explicit := cc.SMaxAge != cachecontrol.Unset || cc.MaxAge != cachecontrol.Unset || p.expires != 0 || cc.Invalid
	if !explicit && !cc.Public && !heuristicallyCacheable(p.status) {
		return reasonStatus
	}
	return ""
}

// lifetime is the freshness lifetime, RFC 9111 section 4.2.1, for a shared
// cache, with the heuristic of section 4.2.2 (10% of the time since
// Last-Modified, at most a day).
func lifetime(p *parsed) int64 {
	cc := &p.cc
	switch {
	case cc.Invalid:
		return 0
	case cc.SMaxAge != cachecontrol.Unset:
		return cc.SMaxAge
	case cc.MaxAge != cachecontrol.Unset:
		return cc.MaxAge
	case p.expires == -1:
		return 0
	case p.expires != 0:
		return max(0, p.expires-p.date)
	}
	if lm := parseHTTPDate(p.lastMod); lm > 0 && (heuristicallyCacheable(p.status) || cc.Public) && p.date > lm {
		return min((p.date-lm)/10, 86400)
	}
	return 0
}

func heuristicallyCacheable(status int) bool {
	switch status {
	case 200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501:
		return true
	}
	return false
}

func understoodStatus(status int) bool {
	switch status {
	case 302, 303, 307, 400, 401, 403, 500, 502, 503, 504:
		return true
	}
	return false
}

func parseHTTPDate(v []byte) int64 {
	if len(v) == 0 {
		return 0
	}
	t, err := http.ParseTime(string(trimSpace(v)))
	if err != nil {
		return 0
	}
	return t.Unix()
}

func appendHTTPDate(b []byte, unix int64) []byte {
	return time.Unix(unix, 0).UTC().AppendFormat(b, http.TimeFormat)
}

func appendTags(tags []string, v []byte) []string {
	for _, t := range splitAny(v, " ,") {
		tags = append(tags, string(t))
	}
	return tags
}

func appendVary(names []string, v []byte) ([]string, bool) {
	all := false
	for _, n := range splitAny(v, ", ") {
		if string(n) == "*" {
			all = true
			continue
		}
		names = append(names, string(lower(n)))
	}
	return names, all
}

// contentLengthField is the Content-Length this cache sends for a body.
func contentLengthField(n int) field {
	return field{[]byte("Content-Length"), strconv.AppendInt(nil, int64(n), 10)}
}
