package edge

import (
	"bytes"
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
func appendKey(dst []byte, req *fasthttp.Request) []byte {
	uri := req.Header.RequestURI()
	host := req.Header.Host()
	dst = append(dst, "http://"...)
	if i := bytes.Index(uri, []byte("://")); i > 0 && i < 8 && uri[0] != '/' {
		// absolute-form: the authority inside it wins over Host.
		rest := uri[i+3:]
		j := bytes.IndexByte(rest, '/')
		if j < 0 {
			host, uri = rest, []byte("/")
		} else {
			host, uri = rest[:j], rest[j:]
		}
	}
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

// appendVaryValues appends the request's values of the Vary fields.
func appendVaryValues(dst []byte, names []string, req *fasthttp.Request) []byte {
	for _, n := range names {
		dst = append(dst, 0)
		dst = append(dst, trimSpace(req.Header.Peek(n))...)
	}
	return dst
}
