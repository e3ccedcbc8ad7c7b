package overload

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/strata-dp/strata/facade"
	"github.com/valyala/fasthttp"
)

func requestCtx(path string) *fasthttp.RequestCtx {
	var req fasthttp.Request
	req.SetRequestURI(path)
	rc := new(fasthttp.RequestCtx)
	rc.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 4242}, nil)
	return rc
}

func pair(tb testing.TB) map[string]fasthttp.RequestHandler {
	tb.Helper()
	fw, _, err := FrameworkHandler(facade.Config{Registry: prometheus.NewRegistry()})
	if err != nil {
		tb.Fatal(err)
	}
	return map[string]fasthttp.RequestHandler{"raw": RawHandler(), "framework": fw}
}

// TestOverheadPairAgree: both handlers answer the same request the same way,
// and neither allocates.
func TestOverheadPairAgree(t *testing.T) {
	for name, h := range pair(t) {
		t.Run(name, func(t *testing.T) {
			rc := requestCtx(OverheadPath)
			h(rc)
			if rc.Response.StatusCode() != 200 || string(rc.Response.Body()) != `{"id":"42"}` || len(rc.Response.Header.Peek(facade.RequestIDHeader)) == 0 {
				t.Fatalf("%d %q", rc.Response.StatusCode(), rc.Response.Body())
			}
			allocs := testing.AllocsPerRun(1000, func() {
				rc.Response.Reset()
				h(rc)
			})
			if allocs != 0 && !raceEnabled {
				t.Fatalf("%v allocations per request", allocs)
			}
		})
	}
}

// BenchmarkOverhead runs the raw handler and the framework route side by
// side on one request context: the difference is the framework's cost per
// request (compare with benchstat, or read ns/op of raw vs framework).
func BenchmarkOverhead(b *testing.B) {
	for _, name := range []string{"raw", "framework"} {
		h := pair(b)[name]
		b.Run(name, func(b *testing.B) {
			rc := requestCtx(OverheadPath)
			b.ReportAllocs()
			for b.Loop() {
				rc.Response.Reset()
				h(rc)
			}
		})
		b.Run(name+"-parallel", func(b *testing.B) {
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				rc := requestCtx(OverheadPath)
				for pb.Next() {
					rc.Response.Reset()
					h(rc)
				}
			})
		})
	}
}

// BenchmarkOverheadHTTP serves each handler from a fasthttp server on
// loopback and drives it with parallel keep-alive clients: the throughput
// ratio framework/raw is the overhead a user would see (the issue's
// "at most 10%").
func BenchmarkOverheadHTTP(b *testing.B) {
	for _, name := range []string{"raw", "framework"} {
		h := pair(b)[name]
		b.Run(name, func(b *testing.B) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			srv := &fasthttp.Server{Handler: h}
			go srv.Serve(ln)
			defer srv.Shutdown()
			client := &fasthttp.HostClient{Addr: ln.Addr().String(), MaxConns: 64}
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				req.SetRequestURI(OverheadPath)
				req.SetHost(client.Addr)
				for pb.Next() {
					if err := client.Do(req, resp); err != nil || resp.StatusCode() != 200 {
						b.Errorf("%v %d", err, resp.StatusCode())
						return
					}
				}
			})
		})
	}
}

// BenchmarkOverheadRatio serves both handlers at once and alternates short
// rounds of keep-alive requests between them, so that a host whose load
// drifts during the run hurts both alike; it reports framework/raw as the
// time ratio (1.10 would be 10% overhead).
func BenchmarkOverheadRatio(b *testing.B) {
	const clients, perRound = 4, 250
	handlers := pair(b)
	var addrs [2]string
	var servers []*fasthttp.Server
	defer func() {
		for _, srv := range servers {
			srv.Shutdown()
		}
	}()
	for i, name := range []string{"raw", "framework"} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		srv := &fasthttp.Server{Handler: handlers[name]}
		go srv.Serve(ln)
		servers = append(servers, srv)
		addrs[i] = ln.Addr().String()
	}
	var spent [2]time.Duration
	round := func(i int) {
		hc := &fasthttp.HostClient{Addr: addrs[i], MaxConns: clients}
		defer hc.CloseIdleConnections()
		var wg sync.WaitGroup
		start := time.Now()
		for c := 0; c < clients; c++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
				defer fasthttp.ReleaseRequest(req)
				defer fasthttp.ReleaseResponse(resp)
				req.SetRequestURI(OverheadPath)
				req.SetHost(addrs[i])
				for n := 0; n < perRound; n++ {
					if err := hc.Do(req, resp); err != nil || resp.StatusCode() != 200 {
						b.Errorf("%v %d", err, resp.StatusCode())
						return
					}
				}
			}()
		}
		wg.Wait()
		spent[i] += time.Since(start)
	}
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		// Alternate which goes first, so warm-up favours neither.
		first := n % 2
		round(first)
		round(1 - first)
	}
	b.ReportMetric(float64(spent[1])/float64(spent[0]), "framework/raw")
	b.ReportMetric(float64(clients*perRound*b.N)/spent[0].Seconds(), "raw-req/s")
	b.ReportMetric(float64(clients*perRound*b.N)/spent[1].Seconds(), "framework-req/s")
}
