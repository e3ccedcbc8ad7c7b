package edge

import (
	"io"
	"strconv"
	"sync"

	"github.com/strata-dp/strata/dataplane/edge/cachecontrol"
	"github.com/valyala/fasthttp"
)

// teeThreshold: bodies of unknown length or larger than this are sent to
// the client as they arrive from the origin while they are stored, instead
// of being read whole first.
const teeThreshold = 64 << 10

// growing is a response body being received: the leader appends, coalesced
// waiters read what has arrived and wait for more. Bytes below len(buf) are
// never rewritten, so a reader may keep a slice of them after unlocking.
type growing struct {
	status     int
	fields     []field
	cl         int // announced length, -1 unknown
	varyNames  []string
	varyValues string

	mu     sync.Mutex
	cond   *sync.Cond
	buf    []byte
	done   bool
	failed bool // the body will not complete: readers must abort
}

func newGrowing(p *parsed, cl int, prov *object) *growing {
	g := &growing{status: p.status, fields: p.fields, cl: cl, varyNames: prov.varyNames, varyValues: prov.varyValues}
	g.cond = sync.NewCond(&g.mu)
	if cl >= 0 {
		g.buf = make([]byte, 0, cl)
	}
	return g
}

func (g *growing) append(b []byte) {
	g.mu.Lock()
	g.buf = append(g.buf, b...)
	g.mu.Unlock()
	g.cond.Broadcast()
}

func (g *growing) finish(failed bool) {
	g.mu.Lock()
	g.done, g.failed = true, g.failed || failed
	g.mu.Unlock()
	g.cond.Broadcast()
}

// next waits until there are bytes past from, or the end.
func (g *growing) next(from int) (chunk []byte, done, failed bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for len(g.buf) <= from && !g.done {
		g.cond.Wait()
	}
	return g.buf[from:], g.done, g.failed
}

// writeStreamHead starts a response whose body follows in pieces.
func (c *conn) writeStreamHead(status int, fields []field, cl int, cs []byte) (chunked bool) {
	c.writeHeadFields(status, fields, nil)
	switch {
	case !bodyAllowed(status):
	case cl >= 0:
		c.writeField("Content-Length", strconv.AppendInt(c.num[:0], int64(cl), 10))
	case c.req.Header.IsHTTP11():
		c.writeField("Transfer-Encoding", []byte("chunked"))
		chunked = true
	default:
		c.closeAfter = true // HTTP/1.0: the body ends with the connection
	}
	c.endHead(cs, -1)
	return chunked
}

// writeChunk sends part of a body and flushes it.
func (c *conn) writeChunk(b []byte, chunked bool) error {
	if len(b) == 0 {
		return nil
	}
	if chunked {
		c.bw.WriteString(strconv.FormatInt(int64(len(b)), 16))
		c.bw.WriteString("\r\n")
	}
	c.bw.Write(b)
	if chunked {
		c.bw.WriteString("\r\n")
	}
	return c.bw.Flush()
}

// tee streams an origin body to c while storing it, publishing it to the
// flight's waiters as it arrives. It returns the stored object or nil.
func (e *Edge) tee(c *conn, f *flight, rcc *cachecontrol.Directives, resp *fasthttp.Response, bs io.Reader, p *parsed,
	reqTime, respTime int64, headOnly bool, fwd string, stale *object) *object {
	cl := resp.Header.ContentLength()
	if cl < 0 {
		cl = -1
	}
	prov := e.buildObject(p, nil, reqTime, respTime, &c.req)
	reason := storeReason(&c.req, rcc, p, 0, e.cfg.MaxObjectBytes, e.cfg.StoreSetCookie)
	g := newGrowing(p, cl, prov)
	if reason == "" && f != nil && !p.cookie {
		f.publish(g)
	}
	chunked := c.writeStreamHead(p.status, p.fields, cl, csForward(fwd, p.status, false, "streamed", false))
	clientOK := !headOnly
	keep := reason == ""
	buf := make([]byte, 32<<10)
	defer func() { c.armedAt = 0 }()
	for {
		n, err := bs.Read(buf)
		if n > 0 {
			if keep && int64(len(g.buf)+n) > e.cfg.MaxObjectBytes {
				keep, reason = false, reasonTooLarge
				g.finish(true)
				e.rememberPass(c.key, respTime)
			}
			if keep {
				g.append(buf[:n])
			}
			if clientOK && c.writeChunk(buf[:n], chunked) != nil {
				clientOK = false // keep reading for the store and the waiters
				c.closeAfter = true
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			e.m.originErrors.Inc()
			c.outcome = outcomeError
			g.finish(true)
			c.closeAfter = true // the client must see a truncated message
			return nil
		}
	}
	if clientOK && chunked {
		c.bw.WriteString("0\r\n\r\n")
	}
	g.finish(false)
	if !keep {
		c.settle(false, reason)
		if passReason(reason) {
			e.rememberPass(c.key, respTime)
		}
		if stale != nil {
			e.store.Delete(stale.key)
		}
		return nil
	}
	o := e.buildObject(p, g.buf, reqTime, respTime, &c.req)
	if o.lifetime == 0 && !o.hasValidator() && max(o.swr, o.sie) <= 0 {
		c.settle(false, reasonNoFreshness)
		return nil
	}
	if err := e.insert(c.key, &c.req, o); err != nil {
		c.settle(false, reasonStoreFull)
		return nil
	}
	c.settle(true, "")
	if stale != nil {
		e.m.revalidatedNew.Inc()
	}
	return o
}

// serveGrowing answers a coalesced waiter from a body still arriving.
func (c *conn) serveGrowing(g *growing, fwd string, headOnly bool) {
	c.outcome = outcomeCollapsed
	chunked := c.writeStreamHead(g.status, g.fields, g.cl, csForward(fwd, g.status, false, "streamed", true))
	if headOnly || !bodyAllowed(g.status) {
		return
	}
	sent := 0
	for {
		chunk, done, failed := g.next(sent)
		if failed {
			c.closeAfter = true
			return
		}
		if err := c.writeChunk(chunk, chunked); err != nil {
			c.closeAfter = true
			return
		}
		sent += len(chunk)
		if done {
			break
		}
	}
	if chunked {
		c.bw.WriteString("0\r\n\r\n")
	}
}
