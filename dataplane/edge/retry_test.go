package edge_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/strata-dp/strata/dataplane/edge"
)

// flakyOrigin answers the first perConn requests on each connection
// (uncacheable, keep-alive), then resets the connection on the next one
// after reading it; perConn 0 resets every connection at its first request.
type flakyOrigin struct {
	perConn  int
	requests atomic.Int64
	// firstDelay holds each connection's first answer this long, so that
	// concurrent first requests open a connection each.
	firstDelay time.Duration
}

func (o *flakyOrigin) start(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go o.serve(nc)
		}
	}()
	return ln.Addr().String()
}

func (o *flakyOrigin) serve(nc net.Conn) {
	defer nc.Close()
	br := bufio.NewReader(nc)
	for n := 0; ; n++ {
		method := ""
		length := 0
		for i := 0; ; i++ {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			l = strings.TrimRight(l, "\r\n")
			if l == "" {
				break
			}
			if i == 0 {
				method, _, _ = strings.Cut(l, " ")
			}
			if k, v, _ := strings.Cut(l, ":"); strings.EqualFold(k, "content-length") {
				fmt.Sscan(strings.TrimSpace(v), &length)
			}
		}
		br.Discard(length)
		o.requests.Add(1)
		if n >= o.perConn {
			nc.(*net.TCPConn).SetLinger(0) // RST, as a crashing origin or a middlebox sends
			return
		}
		if n == 0 && o.firstDelay > 0 {
			time.Sleep(o.firstDelay)
		}
		body := method + " ok"
		fmt.Fprintf(nc, "HTTP/1.1 200 OK\r\nCache-Control: no-store\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	}
}

func retryEdge(t *testing.T, origin string, cfg edge.Config) (*edge.Edge, string, *prometheus.Registry) {
	t.Helper()
	cfg.Origin = "http://" + origin
	cfg.MemoryBytes = 16 << 20
	cfg.OriginTimeout = 2 * time.Second
	e, err := edge.New(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	if err := e.Register(reg); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go e.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		e.Shutdown(ctx)
	})
	return e, ln.Addr().String(), reg
}

func counter(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

func statusFor(t *testing.T, c *http.Client, method, url string) int {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(""))
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	io.Copy(io.Discard, resp.Body) // else the edge may see its client go and drop the origin connection
	resp.Body.Close()
	return resp.StatusCode
}

// TestOriginResetNotRetried is finding 10: an origin resetting every
// connection got the same GET five times. A fresh connection's failure is
// the origin's answer, not a stale keep-alive: no retry.
func TestOriginResetNotRetried(t *testing.T) {
	o := &flakyOrigin{perConn: 0}
	_, addr, reg := retryEdge(t, o.start(t), edge.Config{})
	c := &http.Client{Timeout: 10 * time.Second}
	if st := statusFor(t, c, "GET", "http://"+addr+"/x"); st != http.StatusBadGateway {
		t.Fatalf("status %d, want 502", st)
	}
	if n := o.requests.Load(); n != 1 {
		t.Fatalf("the origin got the GET %d times, want 1", n)
	}
	if r := counter(t, reg, "strata_edge_origin_retries_total"); r != 0 {
		t.Fatalf("strata_edge_origin_retries_total = %v, want 0", r)
	}
}

// TestRetryOnceOnBrokenKeepAlive: a keep-alive connection the origin
// dropped while idle is retried once on a new one, for idempotent
// methods only.
func TestRetryOnceOnBrokenKeepAlive(t *testing.T) {
	for _, tc := range []struct {
		method      string
		wantStatus  int
		wantRetries float64
	}{
		{"GET", 200, 1}, {"HEAD", 200, 1}, {"PUT", 200, 1}, {"DELETE", 200, 1}, {"POST", 502, 0}, {"PATCH", 502, 0},
	} {
		t.Run(tc.method, func(t *testing.T) {
			o := &flakyOrigin{perConn: 1}
			_, addr, reg := retryEdge(t, o.start(t), edge.Config{})
			c := &http.Client{Timeout: 10 * time.Second}
			if st := statusFor(t, c, tc.method, "http://"+addr+"/a"); st != 200 {
				t.Fatalf("first request: %d", st)
			}
			if st := statusFor(t, c, tc.method, "http://"+addr+"/b"); st != tc.wantStatus {
				t.Fatalf("request on the broken keep-alive connection: %d, want %d", st, tc.wantStatus)
			}
			if r := counter(t, reg, "strata_edge_origin_retries_total"); r != tc.wantRetries {
				t.Fatalf("strata_edge_origin_retries_total = %v, want %v", r, tc.wantRetries)
			}
			if n, want := o.requests.Load(), int64(2+tc.wantRetries); n != want {
				t.Fatalf("the origin got %d requests, want %d", n, want)
			}
		})
	}
}

// TestRetryStepsPastSeveralStaleConnections: a backend behind the load
// balancer dies and every pooled connection the LB had pinned to it breaks
// at once. A GET steps past each broken reused connection (one retry and
// one token each, at most maxStaleRetries) until a fresh connection
// answers, instead of failing on the second stale one.
func TestRetryStepsPastSeveralStaleConnections(t *testing.T) {
	o := &flakyOrigin{perConn: 1, firstDelay: 200 * time.Millisecond}
	_, addr, reg := retryEdge(t, o.start(t), edge.Config{OriginRetryRatio: 1})
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	// Three requests at once: three pooled connections, each broken after
	// its one answer.
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if st := statusFor(t, c, "GET", fmt.Sprintf("http://%s/p%d", addr, i)); st != 200 {
				t.Errorf("first request %d: %d", i, st)
			}
		})
	}
	wg.Wait()
	if st := statusFor(t, c, "GET", "http://"+addr+"/after"); st != 200 {
		t.Fatalf("GET past three stale connections: %d, want 200", st)
	}
	if r := counter(t, reg, "strata_edge_origin_retries_total"); r != 3 {
		t.Fatalf("strata_edge_origin_retries_total = %v, want 3 (one per stale connection)", r)
	}
	if n := o.requests.Load(); n != 3+4 {
		t.Fatalf("the origin got %d requests, want 7 (3 first, 3 on stale connections, 1 fresh)", n)
	}
}

// TestRetryBudgetBoundsRetries: against an origin that breaks every
// connection after one answer, every request would qualify for a retry;
// the budget (10% of requests, no per-second allowance here) holds them to
// a tenth.
func TestRetryBudgetBoundsRetries(t *testing.T) {
	o := &flakyOrigin{perConn: 1}
	_, addr, reg := retryEdge(t, o.start(t), edge.Config{OriginRetryRatio: 0.1, OriginRetryPerSecond: -1})
	c := &http.Client{Timeout: 10 * time.Second}
	const n = 60
	for i := range n {
		statusFor(t, c, "GET", fmt.Sprintf("http://%s/r%d", addr, i))
	}
	retries := counter(t, reg, "strata_edge_origin_retries_total")
	exhausted := counter(t, reg, "strata_edge_origin_retry_budget_exhausted_total")
	if retries > 0.1*n || retries < 1 {
		t.Fatalf("%v retries for %d requests, want 1..%v", retries, n, 0.1*n)
	}
	if exhausted < 1 {
		t.Fatalf("strata_edge_origin_retry_budget_exhausted_total = %v, want > 0", exhausted)
	}
	if got := o.requests.Load(); got > n+int64(retries) {
		t.Fatalf("the origin got %d requests for %d, more than the %v retries explain", got, n, retries)
	}
}
