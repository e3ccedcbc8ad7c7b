package edge

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// Purge removes (or, soft, marks stale) every stored response for the
// absolute http URL rawURL, all Vary variants included, and returns how
// many it touched. A soft-purged response is revalidated on its next use
// and may still be served stale where stale serving is allowed.
func (e *Edge) Purge(rawURL string, soft bool) (int, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return 0, ErrPurgeURL
	}
	start := time.Now()
	key := "http://" + strings.ToLower(u.Host) + u.RequestURI()
	n := e.purgeKeys(e.variantsOf(key), soft)
	e.m.purgeSeconds.Observe(time.Since(start).Seconds())
	return n, nil
}

// PurgeTag purges every stored response tagged tag (exact match) by
// Surrogate-Key or Cache-Tag. It scans the store: O(stored objects).
func (e *Edge) PurgeTag(tag string, soft bool) int {
	start := time.Now()
	var keys []string
	e.store.Range(func(k string, o *object) bool {
		if slices.Contains(o.tags, tag) {
			keys = append(keys, k)
		}
		return true
	})
	n := e.purgeKeys(keys, soft)
	e.m.purgeSeconds.Observe(time.Since(start).Seconds())
	return n
}

func (e *Edge) purgeKeys(keys []string, soft bool) int {
	n := 0
	for _, k := range keys {
		if soft {
			if o, ok := e.store.Get([]byte(k)); ok && o.marker == nil && !o.pass {
				o.soft.Store(true)
				n++
			}
			continue
		}
		if o, ok := e.store.Get([]byte(k)); ok && e.store.Delete(k) && o.marker == nil && !o.pass {
			n++
		}
	}
	e.m.purged.Add(float64(n))
	return n
}

// handlePurge answers the PURGE method for clients purgeAuth allows. The
// header Strata-Soft-Purge: 1 makes it soft.
func (e *Edge) handlePurge(c *conn) {
	if !e.purgeAuth.allows(c.clientIP, c.req.Header.Peek("Authorization")) {
		e.m.purgeRefused.Inc()
		c.writeError(fasthttp.StatusForbidden, csDetail("purge-not-allowed"))
		return
	}
	c.key = appendKey(c.key[:0], &c.req)
	soft := string(c.req.Header.Peek("Strata-Soft-Purge")) == "1"
	start := time.Now()
	n := e.purgeKeys(e.variantsOf(string(c.key)), soft)
	e.m.purgeSeconds.Observe(time.Since(start).Seconds())
	body := "purged " + strconv.Itoa(n) + "\n"
	status := fasthttp.StatusOK
	if n == 0 {
		status = fasthttp.StatusNotFound
	}
	c.writeHeadFields(status, nil, nil)
	c.writeField("Content-Type", []byte("text/plain; charset=utf-8"))
	c.writeField("Content-Length", []byte(strconv.Itoa(len(body))))
	c.endHead(csDetail("purge"), -1)
	c.bw.WriteString(body)
}
