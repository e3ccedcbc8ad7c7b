package facade

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"testing"
	"time"
)

// TestDrain: Shutdown turns the node not ready, lets the request in flight
// finish with its answer, and returns once it has.
func TestDrain(t *testing.T) {
	a := newTestApp(t, Config{DrainDelay: time.Second})
	entered, finish := make(chan struct{}), make(chan struct{})
	mustHandle(t, a, "GET", "/slow", func(c *Ctx) error {
		close(entered)
		<-finish
		c.Write(200, "text/plain", []byte("finished"))
		return nil
	})
	base := serveApp(t, a)
	if !a.Load().Ready {
		t.Fatal("serving node not ready")
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, _, body := do(t, "GET", base+path, nil, nil); status != 200 || string(body) != "ok\n" {
			t.Fatalf("GET %s: %d %q", path, status, body)
		}
	}
	type answer struct {
		status int
		body   string
	}
	got := make(chan answer, 1)
	go func() {
		status, _, body := do(t, "GET", base+"/slow", nil, nil)
		got <- answer{status, string(body)}
	}()
	<-entered
	shut := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		shut <- a.Shutdown(ctx)
	}()
	for !a.Draining() {
		time.Sleep(time.Millisecond)
	}
	if a.Load().Ready {
		t.Fatal("draining node reports ready")
	}
	// The serving port's own probe says so too (the listener is still open
	// during the drain delay).
	if status, _, body := do(t, "GET", base+"/readyz", nil, nil); status != 503 {
		t.Fatalf("GET /readyz while draining: %d %q", status, body)
	}
	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned (%v) while a request was in flight", err)
	case <-time.After(200 * time.Millisecond):
	}
	close(finish)
	if ans := <-got; ans.status != 200 || ans.body != "finished" {
		t.Fatalf("in-flight request got %d %q", ans.status, ans.body)
	}
	if err := <-shut; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
}

func TestLoadReport(t *testing.T) {
	a := newTestApp(t, Config{Admission: AdmissionConfig{MaxInflight: 7, FixedLimit: true}})
	mustHandle(t, a, "GET", "/ok", func(c *Ctx) error { c.Write(200, "text/plain", nil); return nil })
	mustHandle(t, a, "GET", "/err", func(c *Ctx) error { return Errorf(502, "bad gateway") })
	base := serveApp(t, a)
	for i := 0; i < 3; i++ {
		do(t, "GET", base+"/ok", nil, nil)
	}
	do(t, "GET", base+"/err", nil, nil)

	rec := httptest.NewRecorder()
	a.LoadHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/load", nil))
	var r LoadReport
	if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil {
		t.Fatalf("GET /load: %v: %q", err, rec.Body.String())
	}
	tests := []struct {
		name string
		ok   bool
	}{
		{"node", r.Node == "test-node"},
		{"ready", r.Ready},
		{"limit", r.Limit == 7 && r.MaxInflight == 7},
		{"nothing in flight", r.Inflight == 0 && r.QueueDepth == 0},
		{"error rate 1/4", r.ErrorRate == 0.25},
		{"rate counts 4 requests", r.RequestsPerSec*r.WindowSeconds == 4},
		{"latency measured", r.LatencyP99Millis > 0 && r.LatencyP50Millis <= r.LatencyP99Millis},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Fatalf("report %+v", r)
			}
		})
	}
}
