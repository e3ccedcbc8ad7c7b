package edge_test

import (
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/edge"
)

// TestDeclaredBodiesAreNotAllocated is the red-team attack of 1 Dec 2026:
// connections that each declare an 8 MB request body (by Content-Length,
// or by one chunk's size) and then send nothing. The edge used to allocate
// the declared size at once (fasthttp's ContinueReadBody), so 250 of them
// took it to 2 GB; it must hold no more than what has arrived.
func TestDeclaredBodiesAreNotAllocated(t *testing.T) {
	for _, tc := range []struct{ name, head string }{
		{"content-length", "POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 8000000\r\n\r\n"},
		{"chunked", "POST /up HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\n7a1200\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBed(t, edge.Config{}, fixed(200, "ok"))
			const conns = 40 // 320 MB declared
			runtime.GC()
			var before runtime.MemStats
			runtime.ReadMemStats(&before)
			var held []net.Conn
			t.Cleanup(func() {
				for _, c := range held {
					c.Close()
				}
			})
			for range conns {
				c, err := net.Dial("tcp", b.addr)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, c)
				if _, err := c.Write([]byte(tc.head)); err != nil {
					t.Fatal(err)
				}
			}
			waitConns(t, b, conns)
			time.Sleep(300 * time.Millisecond) // let every head be read
			runtime.GC()                       // what is live: the buffers the connections hold
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			t.Logf("heap grew %d KiB for %d connections declaring 8 MB each", grown>>10, conns)
			if grown > 16<<20 {
				t.Fatalf("heap grew %d MiB for %d connections that sent no body bytes", grown>>20, conns)
			}
		})
	}
}

// bodyOf is a request with a body of n bytes of 'b'.
func bodyOf(n int) string { return strings.Repeat("b", n) }

// TestRequestBodiesForwarded: bodies reach the origin intact however they
// are framed and however they are cut into segments, and the buffer is
// given back once the answer is out.
func TestRequestBodiesForwarded(t *testing.T) {
	big := bodyOf(300 << 10)
	for _, tc := range []struct{ name, req, want string }{
		{"content-length", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", "hello"},
		{"large content-length", "POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 307200\r\n\r\n" + big, big},
		{"chunked", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n", "hello world"},
		{"chunked upper hex", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nA\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
		{"large chunk", "POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n4b000\r\n" + big + "\r\n0\r\n\r\n", big},
		{"expect", "PUT /p HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nhi", "hi"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := newBed(t, edge.Config{}, fixed(200, "ok", "Cache-Control: no-store"))
			for _, step := range []int{len(tc.req), 7, 1} {
				if step == 1 && len(tc.req) > 4096 {
					continue
				}
				c := dialEdge(t, b.addr)
				for i := 0; i < len(tc.req); i += step {
					c.send(tc.req[i:min(i+step, len(tc.req))])
				}
				method := strings.Fields(tc.req)[0]
				resp, _ := c.response(method)
				if resp.StatusCode == 100 {
					resp, _ = c.response(method)
				}
				if resp.StatusCode != 200 {
					t.Fatalf("step %d: status %d", step, resp.StatusCode)
				}
				if got := b.lastOriginBody(); got != tc.want {
					t.Fatalf("step %d: origin got a body of %d bytes, want %d", step, len(got), len(tc.want))
				}
				if tr := b.lastOriginRequest().Header.Get("X-Trailer"); tr != "" {
					t.Fatalf("a trailer field was forwarded as a header: %q", tr)
				}
				c.nc.Close()
			}
			waitConns(t, b, 0)
			if n := b.edge.BodyBufferBytes(); n != 0 {
				t.Fatalf("%d body bytes still charged after the answers", n)
			}
		})
	}
}

// TestBadChunkedBodiesRefused: chunk framing fasthttp's parser refuses is
// refused by the edge's own decoder too.
func TestBadChunkedBodiesRefused(t *testing.T) {
	b := newBed(t, edge.Config{MaxBodyBytes: 1 << 20, MaxBodyBuffer: 1 << 20}, fixed(200, "ok"))
	for _, chunks := range []string{
		"5 ;x\r\nhello\r\n0\r\n\r\n",      // whitespace before the extension
		"5\nhello\r\n0\r\n\r\n",           // bare LF
		"5\r\nhelloXX0\r\n\r\n",           // no CRLF after the data
		"g\r\nhello\r\n0\r\n\r\n",         // not hex
		"\r\nhello\r\n0\r\n\r\n",          // no size
		"5;a\rb\r\nhello\r\n0\r\n\r\n",    // CR inside the line
		"1000000000000000\r\n",            // overflow
		"200000\r\n",                      // over MaxBodyBytes: 413
		"5\r\nhello\r\n0\r\nX-T: 1\n\r\n", // trailer line without CR
	} {
		out := b.raw("POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks)
		if !strings.HasPrefix(out, "HTTP/1.1 400 ") && !strings.HasPrefix(out, "HTTP/1.1 413 ") {
			t.Errorf("%q: got %.60q, want 400 or 413", chunks, out)
		}
	}
	if n := b.hits.Load(); n != 0 {
		t.Fatalf("%d malformed bodies reached the origin", n)
	}
}

// TestBodyBufferBudget: when the bodies being received fill
// MaxBodyBuffer, the request that would pass it gets 503 and a close,
// counted, and the budget is whole again once the others are done.
func TestBodyBufferBudget(t *testing.T) {
	b := newBed(t, edge.Config{MaxBodyBytes: 1 << 20, MaxBodyBuffer: 1 << 20}, fixed(200, "ok", "Cache-Control: no-store"))
	reg := registry(t, b)
	// One client has sent 900 KB of a 1 MB body and pauses.
	first := dialEdge(t, b.addr)
	first.send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 1048576\r\n\r\n" + bodyOf(900<<10))
	deadline := time.Now().Add(5 * time.Second)
	for b.edge.BodyBufferBytes() < 900<<10 {
		if time.Now().After(deadline) {
			t.Fatalf("the first body is not being buffered: %d bytes charged", b.edge.BodyBufferBytes())
		}
		time.Sleep(5 * time.Millisecond)
	}
	second := dialEdge(t, b.addr)
	second.send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n" + bodyOf(300000))
	resp, _ := second.response("POST")
	if resp.StatusCode != 503 || !resp.Close {
		t.Fatalf("second body over the budget: %d, close %v; want 503 and close", resp.StatusCode, resp.Close)
	}
	if v := gatherValue(t, reg, "strata_edge_body_buffer_refused_total"); v != 1 {
		t.Fatalf("body_buffer_refused_total = %v, want 1", v)
	}
	first.send(bodyOf(1048576 - 900<<10))
	if resp, _ := first.response("POST"); resp.StatusCode != 200 {
		t.Fatalf("first body: %d", resp.StatusCode)
	}
	if got := len(b.lastOriginBody()); got != 1048576 {
		t.Fatalf("origin got %d bytes", got)
	}
	first.nc.Close()
	waitConns(t, b, 0)
	if n := b.edge.BodyBufferBytes(); n != 0 {
		t.Fatalf("%d body bytes still charged", n)
	}
}

// TestBodyTimeout: a body must arrive whole within BodyTimeout of its
// head, however it trickles.
func TestBodyTimeout(t *testing.T) {
	b := newBed(t, edge.Config{IdleTimeout: time.Hour, BodyTimeout: 300 * time.Millisecond}, fixed(200, "ok"))
	reg := registry(t, b)
	c := dialEdge(t, b.addr)
	c.send("POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n")
	for range 5 {
		c.send("x") // trickling does not extend it
		time.Sleep(100 * time.Millisecond)
	}
	resp, _ := c.response("POST")
	if resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
		t.Fatalf("slow body: %d, close %v; want 408 and close", resp.StatusCode, resp.Close)
	}
	if v := gatherValue(t, reg, "strata_edge_body_timeouts_total"); v != 1 {
		t.Fatalf("body_timeouts_total = %v, want 1", v)
	}
}
