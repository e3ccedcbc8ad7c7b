package edge

import (
	"time"

	"github.com/strata-dp/strata/internal/accesslog"
	"github.com/strata-dp/strata/internal/requestid"
)

// requestIDs makes the ids of requests that arrive without a usable one;
// one per process, like the boot prefix it carries.
var requestIDs = requestid.NewSource()

// requestID is the current request's X-Request-Id: the client's when it
// is valid (requestid.Valid), else a new one. It is what the edge logs and
// what it forwards to the origin, so that a facade logs the same id.
func (c *conn) requestID() []byte {
	if c.reqIDLen == 0 {
		if id := c.req.Header.Peek(requestid.Header); requestid.Valid(id) {
			c.reqIDLen = copy(c.reqID[:], id)
		} else {
			c.reqIDLen = requestIDs.Next(&c.reqID)
		}
	}
	return c.reqID[:c.reqIDLen]
}

// countingWriter counts the bytes written to a client connection, for the
// access log's body bytes.
type countingWriter struct {
	c *conn
	n int64
}

func (w *countingWriter) Write(p []byte) (int, error) {
	n, err := w.c.nc.Write(p)
	w.n += int64(n)
	return n, err
}

// written is the count of bytes handed to the connection so far, sent or
// buffered.
func (c *conn) written() int64 { return c.out.n + int64(c.bw.Buffered()) }

func (c *conn) logAccess(w *accesslog.Writer, d time.Duration) {
	h := &c.req.Header
	e := accesslog.Entry{
		Time: c.start, Duration: d, Client: c.clientAddr,
		Method: h.Method(), Target: h.RequestURI(), Host: h.Host(), RequestID: c.requestID(),
		Status: c.status, Bytes: max(0, c.written()-c.headEnd), Cache: outcomeNames[c.outcome],
	}
	w.Log(&e)
}
