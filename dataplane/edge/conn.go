package edge

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/strata-dp/strata/internal/bodybuf"
	"github.com/strata-dp/strata/internal/requestid"
	"github.com/valyala/fasthttp"
)

// conn is one client connection: requests are read with fasthttp's parser
// and answered in order (pipelining included); each response is flushed as
// soon as it is complete, whatever is buffered behind it, so that a slow or
// partial next request never holds back the answer to the previous one.
type conn struct {
	e        *Edge
	nc       net.Conn
	br       *bufio.Reader
	bw       *bufio.Writer
	req      fasthttp.Request
	out      countingWriter // under bw: counts what reaches the client
	clientIP netip.Addr
	// clientAddr is the peer's address and port, for the access log.
	clientAddr netip.AddrPort

	key, vkey, num, scratch []byte

	// body holds the current request's body (body.go), charged to
	// Edge.bodyBudget until the answer is out.
	body bodybuf.Buffer

	flags       uint8 // scanRequest of the current request
	armedAt     int64 // coarse second the idle deadline was last set
	headArmed   bool  // the read deadline is the header deadline
	closeAfter  bool  // answer with Connection: close and hang up
	keepAlive10 bool  // HTTP/1.0 client that asked for keep-alive

	// Accounting of the current request (outcome.go).
	start    time.Time
	outcome  outcome
	status   int   // the status written, 0 until a response head is
	headEnd  int64 // written() when the response head ended
	reqID    [requestid.MaxLen]byte
	reqIDLen int // 0: not resolved yet

	idle      atomic.Bool
	idleSince atomic.Int64 // coarse second it began waiting for a request
	shed      atomic.Bool  // closed by admission to make room

	// Admission state, guarded by Edge.mu (admit.go).
	ipKey              netip.Addr
	limited            bool // counted against MaxConnsPerIP
	counted            bool // holds one of MaxConns
	listed             bool // on Edge.heads
	listPrev, listNext *conn
}

func newConn(e *Edge, nc net.Conn) *conn {
	c := &conn{
		e:       e,
		nc:      nc,
		flags:   allFlags,
		key:     make([]byte, 0, 256),
		vkey:    make([]byte, 0, 256),
		num:     make([]byte, 0, 24),
		scratch: make([]byte, 0, 256),
	}
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		c.clientIP = ap.Addr().Unmap()
		c.clientAddr = netip.AddrPortFrom(c.clientIP, ap.Port())
	}
	c.ipKey = ipKey(c.clientIP)
	c.limited = e.limitedIP(c.clientIP)
	return c
}

// wakeIfIdle makes a connection waiting for its next request give up now;
// one busy with a request finishes it and then hangs up (it sees shutting).
func (c *conn) wakeIfIdle() {
	if c.idle.Load() {
		_ = c.nc.SetReadDeadline(time.Unix(1, 0))
	}
}

func (c *conn) serve() {
	e := c.e
	e.m.conns.Inc()
	defer func() {
		c.releaseBody()
		_ = c.nc.Close()
		e.m.conns.Dec()
		e.forget(c)
	}()
	// The buffers are allocated here, off the accept loop, and only for
	// admitted connections.
	c.br = bufio.NewReaderSize(c.nc, e.cfg.MaxHeaderBytes)
	c.out.c = c
	c.bw = bufio.NewWriterSize(&c.out, 16<<10)
	// The first head is due HeaderTimeout after accept: a connection that
	// never sends a byte is a slowloris too. Admission listed it already.
	_ = c.nc.SetWriteDeadline(time.Now().Add(e.cfg.IdleTimeout))
	_ = c.nc.SetReadDeadline(time.Now().Add(e.cfg.HeaderTimeout))
	c.headArmed = true
	for {
		c.idle.Store(true)
		if e.shutting.Load() {
			return
		}
		if !c.awaitHead() {
			return
		}
		c.idle.Store(false)
		c.begin()
		if !c.readRequest() {
			answered := c.bw.Buffered() > 0
			flushed := c.bw.Flush() == nil
			c.finish()
			c.releaseBody()
			if flushed && answered {
				c.lingerClose()
			}
			return
		}
		c.closeAfter = c.req.Header.ConnectionClose() || e.shutting.Load()
		c.keepAlive10 = !c.closeAfter && !c.req.Header.IsHTTP11()
		e.handle(c)
		c.idleSince.Store(e.now())
		err := c.bw.Flush()
		c.finish()
		c.releaseBody()
		if err == nil && c.closeAfter {
			c.lingerClose()
		}
		if err != nil || c.closeAfter {
			return
		}
	}
}

// awaitHead waits for the first byte of the next request under the idle
// deadline and skips the empty lines RFC 9112 section 2.2 says to ignore
// before a request line. A head that is not complete in the buffer by then
// gets the header deadline, counted from that first byte, and goes on the
// list of incomplete heads that admission sheds from. It reports false
// when the connection should close without an answer.
func (c *conn) awaitHead() bool {
	e := c.e
	if !c.headArmed {
		// Re-arming a deadline costs a timer update; once a second is
		// precise enough for an idle timeout counted in seconds.
		if now := e.now(); now != c.armedAt {
			_ = c.nc.SetDeadline(time.Now().Add(e.cfg.IdleTimeout))
			c.armedAt = now
		}
	}
	for {
		if _, err := c.br.Peek(1); err != nil {
			if c.headArmed && isTimeout(err) && !c.shed.Load() && !e.shutting.Load() {
				e.m.headerTimeouts.Inc()
			}
			return false
		}
		buf, _ := c.br.Peek(c.br.Buffered())
		n := 0
		for n < len(buf) && (buf[n] == '\r' || buf[n] == '\n') {
			n++
		}
		_, _ = c.br.Discard(n)
		if n < len(buf) {
			if c.headArmed || bytes.Contains(buf[n:], crlfcrlf) {
				return true // already under the header deadline, or complete
			}
		}
		if !c.headArmed {
			_ = c.nc.SetReadDeadline(time.Now().Add(e.cfg.HeaderTimeout))
			c.headArmed = true
			e.headStarted(c)
		}
		if n < len(buf) {
			return true
		}
		// Only empty lines so far: wait for the request line, under the
		// header deadline.
	}
}

var crlfcrlf = []byte("\r\n\r\n")

// headRead ends the header deadline once a head is complete: the body and
// the response are bounded by the idle timeout again.
func (c *conn) headRead() {
	if !c.headArmed {
		return
	}
	c.headArmed = false
	c.e.headEnded(c)
	_ = c.nc.SetDeadline(time.Now().Add(c.e.cfg.IdleTimeout))
	c.armedAt = c.e.now()
}

// A connection closed by the edge after an answer keeps reading for this
// long, or this many bytes, at most.
const (
	lingerTime  = 500 * time.Millisecond
	lingerBytes = 64 << 10
)

// lingerClose ends a connection the edge closes after answering (an error,
// Connection: close): it sends FIN first and discards what the client
// still sends, for a moment, because closing a socket with unread input
// makes the kernel send a reset, which can destroy the answer before the
// client reads it. Meanwhile the connection counts as idle, first in line
// to be shed.
func (c *conn) lingerClose() {
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	c.idleSince.Store(0)
	c.idle.Store(true)
	_ = c.nc.SetReadDeadline(time.Now().Add(lingerTime))
	_, _ = io.CopyN(io.Discard, c.nc, lingerBytes)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// readRequest reads one request into c.req, answering and returning false
// when it is malformed or over a limit.
func (c *conn) readRequest() bool {
	e := c.e
	c.req.Reset()
	c.closeAfter = true
	c.keepAlive10 = false
	if err := c.req.Header.Read(c.br); err != nil {
		switch {
		case c.shed.Load():
			return false // closed to make room: nobody to answer
		case isTimeout(err) && e.shutting.Load():
			return false // woken by Shutdown
		case isTimeout(err):
			// RFC 9110 section 15.5.9; a short write deadline, since a
			// client this slow may not read either.
			e.m.headerTimeouts.Inc()
			_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
			c.writeError(fasthttp.StatusRequestTimeout, csDetail("header-timeout"))
			return false
		}
		e.m.badRequests.Inc()
		var small *fasthttp.ErrSmallBuffer
		if errors.As(err, &small) {
			c.writeError(fasthttp.StatusRequestHeaderFieldsTooLarge, csDetail("header-too-large"))
		} else {
			c.writeError(fasthttp.StatusBadRequest, csDetail("bad-request"))
		}
		return false
	}
	c.headRead()
	if c.req.Header.Len() > e.cfg.MaxHeaderCount {
		e.m.badRequests.Inc()
		c.writeError(fasthttp.StatusRequestHeaderFieldsTooLarge, csDetail("too-many-fields"))
		return false
	}
	if c.req.Header.IsHTTP11() && len(c.req.Header.Host()) == 0 {
		e.m.badRequests.Inc()
		c.writeError(fasthttp.StatusBadRequest, csDetail("missing-host"))
		return false
	}
	if c.req.Header.ContentLength() == -1 && hasContentLength(c.req.Header.RawHeaders()) {
		// RFC 9112 section 6.3: both framings is a smuggling attempt.
		e.m.badRequests.Inc()
		c.writeError(fasthttp.StatusBadRequest, csDetail("conflicting-framing"))
		return false
	}
	return c.readBody()
}

// readBody reads the request's body, if it has one, under the body
// deadline (BodyTimeout from the end of the head), into memory that grows
// only as bytes arrive (body.go).
func (c *conn) readBody() bool {
	e := c.e
	cl := c.req.Header.ContentLength()
	switch {
	case cl == -2:
		// No framing on a request is no body (RFC 9112 section 6.3).
		if !c.req.Header.IsGet() && !c.req.Header.IsHead() {
			c.req.Header.SetContentLength(0)
		}
		return true
	case cl == 0:
		return true
	case cl > e.cfg.MaxBodyBytes:
		e.m.badRequests.Inc()
		c.writeError(fasthttp.StatusRequestEntityTooLarge, csDetail("body-too-large"))
		return false
	}
	if c.req.MayContinue() {
		c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		_ = c.bw.Flush()
	}
	_ = c.nc.SetReadDeadline(time.Now().Add(e.cfg.BodyTimeout))
	c.armedAt = 0 // the idle deadline must be set again
	var err error
	if cl > 0 {
		err = c.readFixedBody(cl)
	} else {
		err = c.readChunkedBody()
	}
	if err == nil {
		c.req.SetBodyRaw(c.body.B)
		if cl < 0 {
			c.req.Header.SetContentLength(len(c.body.B))
		}
		return true
	}
	switch {
	case c.shed.Load() || isTimeout(err) && e.shutting.Load():
		return false
	case isTimeout(err):
		e.m.bodyTimeouts.Inc()
		_ = c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		c.writeError(fasthttp.StatusRequestTimeout, csDetail("body-timeout"))
	case errors.Is(err, errBodyBudget):
		// Not the client's fault alone, but it must not wait: 503 and
		// close frees its share at once.
		e.m.bodyBudgetRefused.Inc()
		c.writeError(fasthttp.StatusServiceUnavailable, csDetail("body-buffer-full"))
	case errors.Is(err, errBodyTooLarge):
		e.m.badRequests.Inc()
		c.writeError(fasthttp.StatusRequestEntityTooLarge, csDetail("body-too-large"))
	default:
		e.m.badRequests.Inc()
		c.writeError(fasthttp.StatusBadRequest, csDetail("bad-body"))
	}
	return false
}

// hasContentLength scans a raw header block for a Content-Length line.
func hasContentLength(raw []byte) bool {
	for len(raw) > 0 {
		i := bytes.IndexByte(raw, '\n')
		line := raw
		if i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		if j := bytes.IndexByte(line, ':'); j > 0 && equalFold(trimSpace(line[:j]), "content-length") {
			return true
		}
	}
	return false
}
