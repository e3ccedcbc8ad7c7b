package accesslog

import (
	"net/netip"
	"time"
)

// Entry is what one request logs. The byte fields are copied by Log and
// may alias request buffers; Cache and Route must be long-lived strings
// (a table of names, a route's pattern), because they are kept as they
// are until the writer formats them.
type Entry struct {
	Time      time.Time // when the request began
	Duration  time.Duration
	Client    netip.AddrPort
	Method    []byte
	Target    []byte // path and query, as sent
	Host      []byte
	RequestID []byte
	Status    int
	Bytes     int64  // body bytes sent
	Cache     string // edge: the cache outcome; empty: left out
	Route     string // facade: the route pattern; empty: left out
}

// textCap bounds the copied text of one record: method, target, host and
// request id share it, each truncated in turn when they do not fit.
const textCap = 1024

// record is one slot of the ring: an Entry with its text copied in.
type record struct {
	unixNano  int64
	duration  time.Duration
	client    netip.AddrPort
	status    int32
	truncated bool
	bytes     int64
	cache     string
	route     string
	// Ends of method, target, host and request id in text.
	ends [4]uint16
	text [textCap]byte
}

// fill copies e into r.
func (r *record) fill(e *Entry) {
	r.unixNano = e.Time.UnixNano()
	r.duration = e.Duration
	r.client = e.Client
	r.status = int32(e.Status)
	r.bytes = e.Bytes
	r.cache, r.route = e.Cache, e.Route
	r.truncated = false
	n := 0
	for i, b := range [4][]byte{e.Method, e.Target, e.Host, e.RequestID} {
		m := copy(r.text[n:], b)
		if m < len(b) {
			r.truncated = true
		}
		n += m
		r.ends[i] = uint16(n)
	}
}

func (r *record) field(i int) []byte {
	start := uint16(0)
	if i > 0 {
		start = r.ends[i-1]
	}
	return r.text[start:r.ends[i]]
}
