package edge

import (
	"strconv"

	"github.com/valyala/fasthttp"
)

// The cache key is scheme, host and the request target exactly as sent
// (path and query, no normalisation, so that the key and the origin see the
// same resource). Only GET responses are stored; HEAD is answered from them.
// Vary adds the request's values of the named fields as a second key.
// Nothing else a client sends reaches the key, and the request fields an
// origin might reflect without keying (X-Forwarded-Host and friends) are
// stripped before forwarding (origin.go), so one client cannot poison
// another's entry.

// appendKey appends the primary key of req to dst.
// The request was checked (checkTarget) before.
func appendKey(dst []byte, req *fasthttp.Request) []byte {
	host, uri, _ := splitTarget(req.Header.RequestURI(), req.Header.Host())
	dst = append(dst, "http://"...)
	for _, c := range host {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	if len(uri) == 0 || uri[0] != '/' {
		dst = append(dst, '/')
	}
	return append(dst, uri...)
}

// appendVaryKey appends the secondary key for a URL whose responses vary
// on names (lower-case field names) in marker generation gen.
func appendVaryKey(dst []byte, primary []byte, gen uint64, names []string, req *fasthttp.Request) []byte {
	dst = append(dst, primary...)
	dst = append(dst, 0)
	dst = strconv.AppendUint(dst, gen, 10)
	return appendVaryValues(dst, names, req)
}

// appendVaryValues appends the request's values of the Vary fields,
// normalised (RFC 9111 section 4.1 allows it) by dropping the whitespace
// around list commas, so that "a,b" and " a, b " select the same variant.
func appendVaryValues(dst []byte, names []string, req *fasthttp.Request) []byte {
	for _, n := range names {
		dst = append(dst, 0)
		dst = appendListNormalised(dst, req.Header.Peek(n))
	}
	return dst
}

func appendListNormalised(dst, v []byte) []byte {
	v = trimSpace(v)
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c == ',' {
			for len(dst) > 0 && (dst[len(dst)-1] == ' ' || dst[len(dst)-1] == '\t') {
				dst = dst[:len(dst)-1]
			}
			dst = append(dst, ',')
			for i+1 < len(v) && (v[i+1] == ' ' || v[i+1] == '\t') {
				i++
			}
			continue
		}
		dst = append(dst, c)
	}
	return dst
}
