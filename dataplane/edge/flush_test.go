package edge_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/edge"
)

// A response must leave when it is complete, whatever the client has sent
// behind it: an empty line, part of the next request, or a whole next
// request that takes the origin a while. The deadlines below only bound a
// hang; the idle timeout is an hour, so an answer held back until the
// connection closes shows up as a timeout here.

// clientConn is a raw connection to the edge with a reader for responses.
type clientConn struct {
	t  *testing.T
	nc net.Conn
	br *bufio.Reader
}

func dialEdge(t *testing.T, addr string) *clientConn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &clientConn{t: t, nc: nc, br: bufio.NewReader(nc)}
}

func (c *clientConn) send(s string) {
	c.t.Helper()
	if _, err := c.nc.Write([]byte(s)); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// response reads one response to a request with method, within 5 s.
func (c *clientConn) response(method string) (*http.Response, string) {
	c.t.Helper()
	c.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(c.br, &http.Request{Method: method})
	if err != nil {
		c.t.Fatalf("no response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.t.Fatalf("reading body: %v", err)
	}
	return resp, string(body)
}

func longIdle() edge.Config { return edge.Config{IdleTimeout: time.Hour} }

func TestResponseNotWithheldByStrayEmptyLine(t *testing.T) {
	b := newBed(t, longIdle(), fixed(200, "a", "Cache-Control: max-age=60"))
	c := dialEdge(t, b.addr)
	c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n\r\n")
	if resp, body := c.response("GET"); resp.StatusCode != 200 || body != "a" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	// RFC 9112 section 2.2: the empty line is ignored, the connection serves on.
	c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := c.response("GET"); resp.StatusCode != 200 {
		t.Fatalf("second request: %d", resp.StatusCode)
	}
}

func TestResponseNotWithheldByPartialNextRequest(t *testing.T) {
	b := newBed(t, longIdle(), fixed(200, "a", "Cache-Control: max-age=60"))
	c := dialEdge(t, b.addr)
	c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\nG")
	if resp, _ := c.response("GET"); resp.StatusCode != 200 {
		t.Fatalf("first: %d", resp.StatusCode)
	}
	c.send("ET /a HTTP/1.1\r\nHost: x\r\n\r\n")
	if resp, _ := c.response("GET"); resp.StatusCode != 200 {
		t.Fatalf("second: %d", resp.StatusCode)
	}
}

func TestResponseNotHeldBySlowPipelinedRequest(t *testing.T) {
	release := make(chan struct{})
	cfg := longIdle()
	cfg.OriginTimeout = time.Minute
	b := newBed(t, cfg, func(_ int, r *http.Request) reply {
		if r.URL.Path == "/slow" {
			<-release
		}
		return reply{body: r.URL.Path, headers: []string{"Cache-Control: no-store"}}
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	c := dialEdge(t, b.addr)
	c.send("GET /fast HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, body := c.response("GET"); body != "/fast" {
		t.Fatalf("first response %q", body)
	}
	close(release)
	if _, body := c.response("GET"); body != "/slow" {
		t.Fatalf("second response %q", body)
	}
}
