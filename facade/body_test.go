package facade

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestDeclaredBodiesAreNotAllocated is the red-team attack of 1 Dec 2026
// on a facade: connections that each declare a 1 MB request body and send
// none of it. fasthttp's server allocated the declared size before calling
// the handler (1,000 of them took a facade from 23 MB to 1 GB); a facade
// must hold only what arrived.
func TestDeclaredBodiesAreNotAllocated(t *testing.T) {
	for _, tc := range []struct{ name, head string }{
		{"content-length", "POST /up HTTP/1.1\r\nHost: a.test\r\nContent-Length: 1000000\r\n\r\n"},
		{"chunked", "POST /up HTTP/1.1\r\nHost: a.test\r\nTransfer-Encoding: chunked\r\n\r\nf4240\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newTestApp(t, Config{})
			mustHandle(t, a, "POST", "/up", func(c *Ctx) error {
				c.Write(200, "text/plain", c.Request().Body())
				return nil
			})
			addr := strings.TrimPrefix(serveApp(t, a), "http://")
			const conns = 200 // 200 MB declared
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
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, c)
				if _, err := c.Write([]byte(tc.head)); err != nil {
					t.Fatal(err)
				}
			}
			time.Sleep(500 * time.Millisecond) // let every head be read
			runtime.GC()                       // what is live: the buffers the connections hold
			var after runtime.MemStats
			runtime.ReadMemStats(&after)
			grown := int64(after.HeapAlloc) - int64(before.HeapAlloc)
			t.Logf("heap grew %d KiB for %d connections declaring 1 MB each", grown>>10, conns)
			if grown > 16<<20 {
				t.Fatalf("heap grew %d MiB for %d connections that sent no body bytes", grown>>20, conns)
			}
		})
	}
}

// rawExchange sends req on a new connection to addr and returns the
// answer's status line and whether the facade closed the connection.
func rawExchange(t *testing.T, addr, req string) (status string, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(req)); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Status, resp.Close
}

// TestRequestBodies: a routed handler gets the body whole however it is
// framed; bodies over the limit, past the node's budget, or too slow are
// refused with the connection closed and counted; the budget is whole
// again afterwards.
func TestRequestBodies(t *testing.T) {
	reg := prometheus.NewRegistry()
	a := newTestApp(t, Config{Registry: reg, MaxRequestBodySize: 200 << 10, MaxBodyBuffer: 256 << 10, ReadTimeout: 500 * time.Millisecond})
	var got atomic.Value
	mustHandle(t, a, "POST", "/up", func(c *Ctx) error {
		got.Store(string(c.Request().Body()))
		c.Write(200, "text/plain", nil)
		return nil
	})
	addr := strings.TrimPrefix(serveApp(t, a), "http://")
	big := strings.Repeat("b", 150<<10)
	for _, tc := range []struct{ name, req, want string }{
		{"content-length", "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", "hello"},
		{"large content-length", "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 153600\r\n\r\n" + big, big},
		{"chunked", "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"},
		{"large chunked", "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n25800\r\n" + big + "\r\n0\r\n\r\n", big},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, _ := rawExchange(t, addr, tc.req); status != "200 OK" {
				t.Fatalf("status %q", status)
			}
			if s, _ := got.Load().(string); s != tc.want {
				t.Fatalf("handler got %d bytes, want %d", len(s), len(tc.want))
			}
		})
	}
	for _, tc := range []struct{ name, req, status, reason string }{
		// Judged once fasthttp's prefetch of 8 KiB has arrived.
		{"declared too large", "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 300000\r\n\r\n" + strings.Repeat("d", 9000), "413 Request Entity Too Large", "too_large"},
		{"chunked too large", "POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n32001\r\n" + strings.Repeat("c", 0x32001) + "\r\n0\r\n\r\n", "413 Request Entity Too Large", "too_large"},
		{"too slow", "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10000\r\n\r\n" + strings.Repeat("s", 9000), "408 Request Timeout", "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, closed := rawExchange(t, addr, tc.req)
			if status != tc.status || !closed {
				t.Fatalf("status %q, closed %v; want %q and close", status, closed, tc.status)
			}
			if v := testCounterValue(a.metrics.bodyRefused[reasonIndex(tc.reason)]); v < 1 {
				t.Fatalf("body_refused_total{reason=%q} = %v", tc.reason, v)
			}
		})
	}
	t.Run("budget", func(t *testing.T) {
		// One client holds 150 KiB of a 200 KiB body; the next body
		// would pass the 256 KiB budget.
		first, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer first.Close()
		first.Write([]byte("POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 204800\r\n\r\n" + big))
		for deadline := time.Now().Add(2 * time.Second); a.bodyBudget.Used() < 150<<10; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("the first body is not buffered: %d", a.bodyBudget.Used())
			}
		}
		status, closed := rawExchange(t, addr, "POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 153600\r\n\r\n"+big)
		if status != "503 Service Unavailable" || !closed {
			t.Fatalf("status %q, closed %v; want 503 and close", status, closed)
		}
		if v := testCounterValue(a.metrics.bodyRefused[bodyRefusedBudget]); v != 1 {
			t.Fatalf("body_refused_total{reason=buffer_full} = %v", v)
		}
		first.Write([]byte(strings.Repeat("b", 204800-len(big))))
		first.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(first), nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("first body: %v %v", resp, err)
		}
	})
	for deadline := time.Now().Add(2 * time.Second); a.bodyBudget.Used() != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d body bytes still charged", a.bodyBudget.Used())
		}
	}
}

func reasonIndex(name string) int {
	for i, n := range bodyRefusalNames {
		if n == name {
			return i
		}
	}
	return -1
}
