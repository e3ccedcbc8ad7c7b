package edge

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// conn is one client connection: requests are read with fasthttp's parser
// and answered in order (pipelining included); the buffered writer is
// flushed when no further request is already waiting.
type conn struct {
	e        *Edge
	nc       net.Conn
	br       *bufio.Reader
	bw       *bufio.Writer
	req      fasthttp.Request
	clientIP netip.Addr

	key, vkey, num, scratch []byte

	flags       uint8 // scanRequest of the current request
	armedAt     int64 // coarse second the connection deadline was last set
	closeAfter  bool  // answer with Connection: close and hang up
	keepAlive10 bool  // HTTP/1.0 client that asked for keep-alive
	idle        atomic.Bool
}

func newConn(e *Edge, nc net.Conn) *conn {
	c := &conn{
		e:       e,
		nc:      nc,
		br:      bufio.NewReaderSize(nc, e.cfg.MaxHeaderBytes),
		bw:      bufio.NewWriterSize(nc, 16<<10),
		flags:   allFlags,
		key:     make([]byte, 0, 256),
		vkey:    make([]byte, 0, 256),
		num:     make([]byte, 0, 24),
		scratch: make([]byte, 0, 256),
	}
	if ap, err := netip.ParseAddrPort(nc.RemoteAddr().String()); err == nil {
		c.clientIP = ap.Addr().Unmap()
	}
	return c
}

// wakeIfIdle makes a connection waiting for its next request give up now;
// one busy with a request finishes it and then hangs up (it sees shutting).
func (c *conn) wakeIfIdle() {
	if c.idle.Load() {
		c.nc.SetReadDeadline(time.Unix(1, 0))
	}
}

func (c *conn) serve() {
	e := c.e
	e.m.conns.Inc()
	defer func() {
		c.nc.Close()
		e.m.conns.Dec()
		e.forget(c)
	}()
	for {
		c.idle.Store(true)
		if e.shutting.Load() {
			return
		}
		// Re-arming a deadline costs a timer update; once a second is
		// precise enough for an idle timeout counted in seconds.
		if now := e.now(); now != c.armedAt {
			c.nc.SetDeadline(time.Now().Add(e.cfg.IdleTimeout))
			c.armedAt = now
		}
		if _, err := c.br.Peek(1); err != nil {
			return
		}
		c.idle.Store(false)
		if !c.readRequest() {
			c.bw.Flush()
			return
		}
		c.closeAfter = c.req.Header.ConnectionClose() || e.shutting.Load()
		c.keepAlive10 = !c.closeAfter && !c.req.Header.IsHTTP11()
		e.handle(c)
		if c.closeAfter || c.br.Buffered() == 0 {
			if err := c.bw.Flush(); err != nil {
				return
			}
		}
		if c.closeAfter {
			return
		}
	}
}

// readRequest reads one request into c.req, answering and returning false
// when it is malformed or over a limit.
func (c *conn) readRequest() bool {
	e := c.e
	c.req.Reset()
	c.closeAfter = true
	c.keepAlive10 = false
	if err := c.req.Header.Read(c.br); err != nil {
		e.m.badRequests.Inc()
		var small *fasthttp.ErrSmallBuffer
		if errors.As(err, &small) {
			c.writeError(fasthttp.StatusRequestHeaderFieldsTooLarge, csDetail("header-too-large"))
		} else {
			c.writeError(fasthttp.StatusBadRequest, csDetail("bad-request"))
		}
		return false
	}
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
	if c.req.MayContinue() {
		c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		c.bw.Flush()
	}
	if err := c.req.ContinueReadBody(c.br, e.cfg.MaxBodyBytes, false); err != nil {
		e.m.badRequests.Inc()
		if errors.Is(err, fasthttp.ErrBodyTooLarge) {
			c.writeError(fasthttp.StatusRequestEntityTooLarge, csDetail("body-too-large"))
		} else {
			c.writeError(fasthttp.StatusBadRequest, csDetail("bad-body"))
		}
		return false
	}
	return true
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
