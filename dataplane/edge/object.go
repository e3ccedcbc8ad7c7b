package edge

import (
	"strconv"
	"sync/atomic"
)

// field is one header field line.
type field struct {
	key, value []byte
}

// object is one stored response. It is immutable once published to the
// store, except for the two atomic flags; anything that changes a response
// (a 304 update, a new fetch) builds a new object.
type object struct {
	key     string
	status  int
	headers []field // end-to-end fields as stored, Via included
	body    []byte
	// head is the status line and every stored field, each ending in CRLF:
	// a hit writes head, then Age and Cache-Status, then the blank line and
	// body.
	head []byte

	etag    []byte
	lastMod []byte

	requestTime, responseTime int64 // unix seconds
	initialAge                int64 // corrected_initial_age, RFC 9111 4.2.3
	lifetime                  int64 // freshness lifetime, seconds
	swr, sie                  int64 // stale-while-revalidate, stale-if-error; -1 unset
	noCache                   bool  // validate before every reuse
	mustRevalidate            bool  // never serve stale
	retain                    int64 // seconds of age after which the object is dropped

	varyNames  []string // lower-case field names from Vary
	varyValues string   // the request's values of those fields when stored
	tags       []string // Surrogate-Key and Cache-Tag, exact match

	marker *varyMarker // non-nil: this entry only says how the URL varies
	// pass marks a URL whose last response could not be shared (private,
	// no-store, Set-Cookie, too large): requests for it go straight to the
	// origin instead of queueing behind each other (Varnish's hit-for-miss).
	pass bool
	// setCookie: the response carries Set-Cookie (stored only with
	// Config.StoreSetCookie).
	setCookie bool

	soft       atomic.Bool // soft-purged or invalidated: stale from now on
	refreshing atomic.Bool // a background refresh is running
}

// age is the current_age of RFC 9111 section 4.2.3 at time now.
func (o *object) age(now int64) int64 {
	resident := now - o.responseTime
	if resident < 0 {
		resident = 0
	}
	return o.initialAge + resident
}

// fresh reports whether the object may be served without validation.
func (o *object) fresh(age int64) bool {
	return age < o.lifetime && !o.noCache && !o.soft.Load()
}

// staleAllowed reports whether a stale object may be served for window
// seconds past its lifetime (stale-while-revalidate, stale-if-error, grace).
func (o *object) staleAllowed(age, window int64) bool {
	if o.mustRevalidate || window <= 0 {
		return false
	}
	stale := age - o.lifetime
	if stale < 0 {
		stale = 0 // soft-purged or no-cache while still "fresh"
	}
	return stale < window
}

// expired reports whether the object is past any use and should be dropped.
func (o *object) expired(age int64) bool { return age >= o.retain }

// hasValidator reports whether a conditional request can revalidate it.
func (o *object) hasValidator() bool { return len(o.etag) > 0 || len(o.lastMod) > 0 }

// bodyBytes is what the object costs in the store.
func (o *object) cost() int64 {
	n := int64(len(o.head) + len(o.body) + len(o.key) + len(o.varyValues))
	for _, f := range o.headers {
		n += int64(len(f.key)+len(f.value)) + 48
	}
	return n + 256
}

// buildHead serialises the status line and fields.
func buildHead(status int, fields []field) []byte {
	n := 32
	for _, f := range fields {
		n += len(f.key) + len(f.value) + 4
	}
	b := make([]byte, 0, n)
	b = appendStatusLine(b, status)
	for _, f := range fields {
		b = appendField(b, f.key, f.value)
	}
	return b
}

func appendStatusLine(b []byte, status int) []byte {
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, ' ')
	return append(b, statusText(status)...)
}

func appendField(b, k, v []byte) []byte {
	b = append(b, "\r\n"...)
	b = append(b, k...)
	b = append(b, ": "...)
	return append(b, v...)
}
