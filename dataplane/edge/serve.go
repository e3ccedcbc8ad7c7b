package edge

import (
	"bytes"
	"strconv"
)

// serveStored answers from o: a 304 when the client's validators match, a
// 206 or 416 for a Range, the whole response otherwise. The common case,
// no conditional and no Range, allocates nothing.
func (c *conn) serveStored(o *object, age int64, cs []byte, ttl int64, headOnly bool) {
	h := &c.req.Header
	if o.status == 200 && c.flags&(hasConditional|hasRange) != 0 {
		if inm := h.Peek("If-None-Match"); len(inm) > 0 {
			if etagMatchWeak(inm, o.etag) {
				c.writeNotModified(o, age, cs, ttl)
				return
			}
		} else if ims := h.Peek("If-Modified-Since"); len(ims) > 0 {
			if t := parseHTTPDate(ims); t > 0 && lastModified(o) > 0 && lastModified(o) <= t {
				c.writeNotModified(o, age, cs, ttl)
				return
			}
		}
		if rng := h.Peek("Range"); len(rng) > 0 && c.ifRangeHolds(o) {
			if start, end, ok := parseRange(rng, int64(len(o.body))); ok {
				c.writeRange(o, age, cs, ttl, start, end, headOnly)
				return
			} else if end == -416 {
				c.writeUnsatisfiable(o, age, cs)
				return
			}
		}
	}
	c.writeObject(o, age, cs, ttl, headOnly)
}

// lastModified is Last-Modified, or Date when there is none (RFC 9110
// section 13.1.3 lets a cache compare against Date).
func lastModified(o *object) int64 {
	if t := parseHTTPDate(o.lastMod); t > 0 {
		return t
	}
	for _, f := range o.headers {
		if equalFold(f.key, "date") {
			return parseHTTPDate(f.value)
		}
	}
	return 0
}

// etagMatchWeak is the weak comparison of RFC 9110 section 8.8.3.2 against
// an If-None-Match list.
func etagMatchWeak(list, etag []byte) bool {
	if len(etag) == 0 {
		return bytes.Equal(trimSpace(list), []byte("*"))
	}
	if bytes.Equal(trimSpace(list), []byte("*")) {
		return true
	}
	want := bytes.TrimPrefix(etag, []byte("W/"))
	for len(list) > 0 {
		i := bytes.IndexByte(list, ',')
		item := list
		if i >= 0 {
			item, list = list[:i], list[i+1:]
		} else {
			list = nil
		}
		if bytes.Equal(bytes.TrimPrefix(trimSpace(item), []byte("W/")), want) {
			return true
		}
	}
	return false
}

// ifRangeHolds evaluates If-Range: a strong ETag match or an exact
// Last-Modified date; absent means the range applies.
func (c *conn) ifRangeHolds(o *object) bool {
	ir := trimSpace(c.req.Header.Peek("If-Range"))
	if len(ir) == 0 {
		return true
	}
	if ir[0] == '"' {
		return len(o.etag) > 0 && !bytes.HasPrefix(o.etag, []byte("W/")) && bytes.Equal(ir, o.etag)
	}
	t := parseHTTPDate(ir)
	return t > 0 && t == parseHTTPDate(o.lastMod)
}

// notModifiedFields are the fields a 304 repeats (RFC 9110 section 15.4.5).
var notModifiedFields = []string{"cache-control", "content-location", "date", "etag", "expires", "vary", "last-modified"}

func (c *conn) writeNotModified(o *object, age int64, cs []byte, ttl int64) {
	c.writeHeadFields(304, o.headers, func(k []byte) bool {
		for _, n := range notModifiedFields {
			if equalFold(k, n) {
				return false
			}
		}
		return true
	})
	c.writeAge(age)
	c.endHead(cs, ttl)
}

func (c *conn) writeAge(age int64) {
	c.num = strconv.AppendInt(c.num[:0], age, 10)
	c.writeField("Age", c.num)
}

func skipContentLength(k []byte) bool { return equalFold(k, "content-length") }

func (c *conn) writeRange(o *object, age int64, cs []byte, ttl int64, start, end int64, headOnly bool) {
	c.writeHeadFields(206, o.headers, skipContentLength)
	c.writeAge(age)
	cr := append([]byte("bytes "), strconv.FormatInt(start, 10)...)
	cr = append(append(cr, '-'), strconv.FormatInt(end, 10)...)
	cr = append(append(cr, '/'), strconv.Itoa(len(o.body))...)
	c.writeField("Content-Range", cr)
	c.writeField("Content-Length", strconv.AppendInt(nil, end-start+1, 10))
	c.endHead(cs, ttl)
	if !headOnly {
		c.bw.Write(o.body[start : end+1])
	}
}

func (c *conn) writeUnsatisfiable(o *object, age int64, cs []byte) {
	c.writeHeadFields(416, nil, nil)
	c.writeAge(age)
	c.writeField("Content-Range", []byte("bytes */"+strconv.Itoa(len(o.body))))
	c.writeField("Content-Length", []byte("0"))
	c.endHead(cs, -1)
}

// parseRange parses a single byte range against a body of size n. It
// returns ok=false to serve the whole body (no range, several ranges, a
// unit other than bytes) and end=-416 when the range cannot be satisfied.
func parseRange(v []byte, n int64) (start, end int64, ok bool) {
	v = trimSpace(v)
	if !bytes.HasPrefix(v, []byte("bytes=")) {
		return 0, 0, false
	}
	spec := trimSpace(v[len("bytes="):])
	if bytes.IndexByte(spec, ',') >= 0 {
		return 0, 0, false // multipart/byteranges: the full body is valid too
	}
	dash := bytes.IndexByte(spec, '-')
	if dash < 0 {
		return 0, 0, false
	}
	first, last := trimSpace(spec[:dash]), trimSpace(spec[dash+1:])
	switch {
	case len(first) == 0: // suffix: the last N bytes
		s, err := strconv.ParseInt(string(last), 10, 64)
		if err != nil || s < 0 {
			return 0, 0, false
		}
		if s == 0 || n == 0 {
			return 0, -416, false
		}
		return max(0, n-s), n - 1, true
	default:
		a, err := strconv.ParseInt(string(first), 10, 64)
		if err != nil || a < 0 {
			return 0, 0, false
		}
		b := n - 1
		if len(last) > 0 {
			if b, err = strconv.ParseInt(string(last), 10, 64); err != nil || b < a {
				return 0, 0, false
			}
		}
		if a >= n {
			return 0, -416, false
		}
		return a, min(b, n-1), true
	}
}
