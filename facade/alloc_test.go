package facade

import (
	"io"
	"net"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/strata-dp/strata/internal/accesslog"
	"github.com/valyala/fasthttp"
)

// requestCtx builds a reusable request context for path with headers,
// from 127.0.0.1.
func requestCtx(method, path string, hdr map[string]string) *fasthttp.RequestCtx {
	return requestCtxFrom(net.IPv4(127, 0, 0, 1), method, path, hdr)
}

// requestCtxFrom is requestCtx from the peer ip.
func requestCtxFrom(ip net.IP, method, path string, hdr map[string]string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.Header.SetMethod(method)
	req.SetRequestURI(path)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rc := new(fasthttp.RequestCtx)
	rc.Init(&req, &net.TCPAddr{IP: ip, Port: 4242}, nil)
	return rc
}

// TestHotPathAllocatesNothing: routing, request ids, priority, admission,
// the middleware chain, metrics (per class and per route), load accounting
// and the access log allocate nothing.
func TestHotPathAllocatesNothing(t *testing.T) {
	al, err := accesslog.New(io.Discard, accesslog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	a := newTestApp(t, Config{Registry: prometheus.NewRegistry(), AccessLog: al})
	body := []byte(`{"ok":true}`)
	pass := MiddlewareFunc(func(next Handler) Handler {
		return func(c *Ctx) error {
			c.SetHeader("X-Mw", "1")
			return next(c)
		}
	})
	if err := a.Use(pass); err != nil {
		t.Fatal(err)
	}
	mustHandle(t, a, "GET", "/api/items/{id}", func(c *Ctx) error {
		if len(c.Param("id")) == 0 {
			return Errorf(400, "no id")
		}
		c.Write(200, "application/json", body)
		return nil
	})
	h := a.Handler()
	tests := []struct {
		name string
		path string
		hdr  map[string]string
		peer net.IP
	}{
		{"routed", "/api/items/42", nil, nil},
		{"with priority and request id", "/api/items/42", map[string]string{PriorityHeader: "high", RequestIDHeader: "req-1"}, nil},
		{"priority from an untrusted peer", "/api/items/42", map[string]string{PriorityHeader: "high"}, net.IPv4(192, 0, 2, 7)},
		{"not found", "/nope", nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			peer := tc.peer
			if peer == nil {
				peer = net.IPv4(127, 0, 0, 1)
			}
			rc := requestCtxFrom(peer, "GET", tc.path, tc.hdr)
			h(rc) // warm pools and lazily built metric children
			allocs := testing.AllocsPerRun(1000, func() {
				rc.Response.Reset()
				h(rc)
			})
			if allocs != 0 && !raceEnabled {
				t.Fatalf("%v allocations per request, want 0", allocs)
			}
		})
	}
	if n := testCounterValue(a.routes[0].stats.requests[2]); n < 3000 {
		t.Fatalf("route_requests_total{status=2xx} = %v after the routed cases, want at least 3000", n)
	}
	t.Run("rejected", func(t *testing.T) {
		// One slot, held; a budget too short to queue: every request is
		// turned away at once.
		a := newTestApp(t, Config{Registry: prometheus.NewRegistry(), Admission: AdmissionConfig{MaxInflight: 1, FixedLimit: true}})
		mustHandle(t, a, "GET", "/x", func(c *Ctx) error { return nil }, WithTimeout(time.Nanosecond))
		h := a.Handler()
		if v, _ := a.adm.acquire(PriorityNormal, time.Now(), time.Now().Add(time.Hour)); v != admitted {
			t.Fatal(v)
		}
		rc := requestCtx("GET", "/x", nil)
		h(rc)
		if rc.Response.StatusCode() != 503 || len(rc.Response.Header.Peek("Retry-After")) == 0 {
			t.Fatalf("%d %q", rc.Response.StatusCode(), rc.Response.Body())
		}
		allocs := testing.AllocsPerRun(1000, func() {
			rc.Response.Reset()
			h(rc)
		})
		if allocs != 0 && !raceEnabled {
			t.Fatalf("%v allocations per rejection, want 0", allocs)
		}
	})
}

func testCounterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}
