package origin

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

func startServer(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
		<-done
	})
	return s, "http://" + ln.Addr().String()
}

func get(t *testing.T, method, url string) (int, string) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	req.Header.SetMethod(method)
	if err := fasthttp.DoTimeout(req, resp, 10*time.Second); err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return resp.StatusCode(), string(resp.Body())
}

func TestRoutes(t *testing.T) {
	s, base := startServer(t, Config{Products: 50, Routes: map[string]Shape{"/svc/reviews": {ErrorRate: 1}}})
	tests := []struct {
		name, method, path string
		wantStatus         int
		wantBody           string
	}{
		{"product", "GET", "/products/7", 200, `"id":"7"`},
		{"last product", "GET", "/products/50", 200, `"name":"Product 50"`},
		{"no such product", "GET", "/products/51", 404, "no such product"},
		{"bad id", "GET", "/products/abc", 404, "no such product"},
		{"catalog products", "GET", "/svc/products", 200, `{"id":"10","name":"Product 10"}`},
		{"pricing", "GET", "/svc/pricing", 200, `"price_cents":{"1":`},
		{"inventory", "GET", "/svc/inventory", 200, `"stock":{"1":`},
		{"reviews fail by shape", "GET", "/svc/reviews", 500, "simulated failure"},
		{"unknown", "GET", "/nope", 404, "not found"},
		{"only GET", "POST", "/products/1", 405, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body := get(t, tc.method, base+tc.path)
			if status != tc.wantStatus || !strings.Contains(body, tc.wantBody) {
				t.Fatalf("%d %q, want %d %q", status, body, tc.wantStatus, tc.wantBody)
			}
			if status == 200 && !json.Valid([]byte(body)) {
				t.Fatalf("invalid JSON %q", body)
			}
		})
	}
	t.Run("stats count hits per route", func(t *testing.T) {
		_, body := get(t, "GET", base+"/stats")
		var st Stats
		if err := json.Unmarshal([]byte(body), &st); err != nil {
			t.Fatal(err)
		}
		if st.Routes["/products"] != 4 || st.Routes["/svc/reviews"] != 1 || st.Routes["other"] != 1 || st.Total != 9 {
			t.Fatalf("stats %+v", st)
		}
		if s.Hits("/products") != 4 {
			t.Fatalf("Hits = %d", s.Hits("/products"))
		}
		if status, _ := get(t, "DELETE", base+"/stats"); status != 204 || s.Hits("/products") != 0 {
			t.Fatalf("reset: %d, hits %d", status, s.Hits("/products"))
		}
	})
	t.Run("shape at run time", func(t *testing.T) {
		for _, tc := range []struct {
			query      string
			wantStatus int
		}{
			{"route=/svc/reviews&latency=none&error_rate=0", 204},
			{"route=/svc/reviews&latency=fast", 400},
			{"route=/svc/reviews&error_rate=2", 400},
			{"route=svc&latency=1ms", 400},
		} {
			if status, body := get(t, "POST", base+"/admin/shape?"+tc.query); status != tc.wantStatus {
				t.Fatalf("%s: %d %q, want %d", tc.query, status, body, tc.wantStatus)
			}
		}
		if status, _ := get(t, "GET", base+"/svc/reviews"); status != 200 {
			t.Fatalf("reshaped reviews answer %d", status)
		}
	})
}

// TestWorkersBoundConcurrency: however many requests arrive at once, no
// more than Workers are served at once.
func TestWorkersBoundConcurrency(t *testing.T) {
	tests := []struct {
		name     string
		workers  int
		wantPeak int64
	}{
		{"one worker", 1, 1},
		{"three workers", 3, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, base := startServer(t, Config{Workers: tc.workers, Default: Shape{Latency: Dist{kind: distFixed, a: 100 * time.Millisecond}}})
			var wg sync.WaitGroup
			for i := 0; i < 6; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					get(t, "GET", base+"/svc/pricing")
				}()
			}
			wg.Wait()
			if got := s.PeakInflight(); got > tc.wantPeak || got < 1 {
				t.Fatalf("peak in flight %d, want at most %d", got, tc.wantPeak)
			}
			if _, body := get(t, "GET", base+"/stats"); !strings.Contains(body, `"inflight":0`) {
				t.Fatalf("stats after the burst: %s", body)
			}
		})
	}
}

func TestHangEndsOnShutdown(t *testing.T) {
	s, err := New(Config{Default: Shape{Latency: Dist{kind: distHang}}})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	got := make(chan int, 1)
	go func() {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://" + ln.Addr().String() + "/svc/pricing")
		_ = fasthttp.DoTimeout(req, resp, 20*time.Second)
		got <- resp.StatusCode()
	}()
	for s.Hits("/svc/pricing") == 0 {
		time.Sleep(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown with a hung request: %v", err)
	}
	if status := <-got; status != 503 {
		t.Fatalf("hung request ended with %d, want 503", status)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"error rate above 1", Config{Default: Shape{ErrorRate: 1.5}}},
		{"negative route rate", Config{Routes: map[string]Shape{"/svc": {ErrorRate: -1}}}},
		{"route without slash", Config{Routes: map[string]Shape{"svc": {}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := New(tc.cfg); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
