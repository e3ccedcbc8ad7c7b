package edge_test

import (
	"encoding/json"
	"github.com/strata-dp/strata/internal/syncbuf"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/strata-dp/strata/dataplane/edge"
	"github.com/strata-dp/strata/internal/accesslog"
)

// TestRequestMetricsMatchTraffic sends a known mix through a real edge
// and origin over loopback and checks strata_edge_requests_total, the
// duration histogram and the access log against it, request by request.
func TestRequestMetricsMatchTraffic(t *testing.T) {
	var logBuf syncbuf.Buffer
	al, err := accesslog.New(&logBuf, accesslog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b := newBed(t, edge.Config{AccessLog: al}, func(_ int, r *http.Request) reply {
		switch r.URL.Path {
		case "/ns":
			return reply{body: "ns", headers: []string{"Cache-Control: no-store"}}
		case "/form":
			return reply{status: 201, body: "created"}
		case "/404":
			return reply{status: 404, body: "nope", headers: []string{"Cache-Control: max-age=60"}}
		case "/v":
			if r.Header.Get("If-None-Match") == `"v1"` {
				return reply{status: 304, headers: []string{`ETag: "v1"`, "Cache-Control: max-age=1"}}
			}
			return reply{body: "v", headers: []string{`ETag: "v1"`, "Cache-Control: max-age=1"}}
		}
		return reply{body: "cached", headers: []string{"Cache-Control: max-age=60"}}
	})
	reg := prometheus.NewRegistry()
	if err := b.edge.Register(reg); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		method, path, header string
		wantStatus           int
		wantCache            string
	}{
		{"GET", "/c", "X-Request-Id: t-1", 200, "miss"},
		{"GET", "/c", "X-Request-Id: t-2", 200, "hit"},
		{"GET", "/c", "", 200, "hit"},
		{"HEAD", "/c", "", 200, "hit"},
		{"GET", "/d", "", 200, "miss"},
		{"GET", "/ns", "", 200, "uncacheable"}, // no-store: not a miss
		{"GET", "/ns", "", 200, "pass"},        // remembered as uncacheable
		{"POST", "/form", "", 201, "pass"},
		{"GET", "/404", "", 404, "miss"},
		{"GET", "/v", "", 200, "miss"},
		{"GET", "/v", "", 200, "revalidated"}, // after the clock moves on
		{"PURGE", "/d", "", 200, "synthetic"},
	}
	for i, s := range steps {
		if s.path == "/v" && s.wantCache == "revalidated" {
			b.advance(2)
		}
		var hdr []string
		if s.header != "" {
			hdr = append(hdr, s.header)
		}
		resp, _ := b.do(s.method, s.path, hdr...)
		if resp.StatusCode != s.wantStatus {
			t.Fatalf("step %d %s %s: status %d, want %d (%s)", i, s.method, s.path, resp.StatusCode, s.wantStatus, resp.Header.Get("Cache-Status"))
		}
		if i == 0 {
			if got := b.lastOriginRequest().Header.Get("X-Request-Id"); got != "t-1" {
				t.Fatalf("origin got X-Request-Id %q, want the client's t-1", got)
			}
		}
		if s.path == "/d" && s.method == "GET" {
			if got := b.lastOriginRequest().Header.Get("X-Request-Id"); len(got) != 32 {
				t.Fatalf("origin got X-Request-Id %q, want one the edge made", got)
			}
		}
	}
	// Missing Host: the edge answers 400 itself.
	if out := b.raw("GET / HTTP/1.1\r\n\r\n"); !strings.HasPrefix(out, "HTTP/1.1 400") {
		t.Fatalf("missing Host answered %q", out)
	}
	want := map[[2]string]float64{
		{"hit", "2xx"}: 3, {"miss", "2xx"}: 3, {"miss", "4xx"}: 1, {"uncacheable", "2xx"}: 1,
		{"pass", "2xx"}: 2, {"revalidated", "2xx"}: 1, {"synthetic", "2xx"}: 1, {"synthetic", "4xx"}: 1,
	}
	total := 0.0
	for _, v := range want {
		total += v
	}
	// A request is accounted after its answer is flushed, so the client
	// can be a moment ahead.
	var got map[[2]string]float64
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got = requestCounts(t, reg)
		sum := 0.0
		for _, v := range got {
			sum += v
		}
		if sum >= total || time.Now().After(deadline) {
			break
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("requests_total{outcome=%q,status=%q} = %v, want %v", k[0], k[1], got[k], v)
		}
	}
	for k, v := range got {
		if _, ok := want[k]; !ok && v != 0 {
			t.Errorf("requests_total{outcome=%q,status=%q} = %v, want 0", k[0], k[1], v)
		}
	}
	// The histogram saw every request under its outcome.
	byOutcome := map[string]float64{}
	for k, v := range want {
		byOutcome[k[0]] += v
	}
	for _, mf := range gather(t, reg, "strata_edge_request_duration_seconds") {
		for _, m := range mf.GetMetric() {
			o := label(m, "outcome")
			if n := float64(m.GetHistogram().GetSampleCount()); n != byOutcome[o] {
				t.Errorf("request_duration_seconds{outcome=%q} count = %v, want %v", o, n, byOutcome[o])
			}
			if m.GetHistogram().GetSampleSum() < 0 || (byOutcome[o] > 0 && m.GetHistogram().GetSampleSum() == 0) {
				t.Errorf("request_duration_seconds{outcome=%q} sum = %v", o, m.GetHistogram().GetSampleSum())
			}
		}
	}
	// Hit ratio as docs/EDGE.md computes it: hits over hits and misses.
	if ratio := byOutcome["hit"] / (byOutcome["hit"] + byOutcome["miss"]); ratio != 3.0/7 {
		t.Errorf("hit ratio %v", ratio)
	}

	if err := al.Close(); err != nil {
		t.Fatal(err)
	}
	if v := gatherValue(t, reg, "strata_edge_access_log_dropped_total"); v != 0 {
		t.Errorf("access_log_dropped_total = %v", v)
	}
	lines := strings.Split(strings.TrimSpace(logBuf.String()), "\n")
	if len(lines) != int(total) {
		t.Fatalf("%d access log lines, want %v:\n%s", len(lines), total, logBuf.String())
	}
	for i, s := range steps {
		var e struct {
			Method, Path, Host, Cache, Client string
			Status                            int
			Bytes                             int64
			RequestID                         string  `json:"request_id"`
			DurationMS                        float64 `json:"duration_ms"`
		}
		if err := json.Unmarshal([]byte(lines[i]), &e); err != nil {
			t.Fatalf("line %d %s: %v", i, lines[i], err)
		}
		if e.Method != s.method || e.Path != s.path || e.Status != s.wantStatus || e.Cache != s.wantCache ||
			e.Host != b.addr || !strings.HasPrefix(e.Client, "127.0.0.1:") || e.DurationMS <= 0 {
			t.Errorf("line %d: %s, want %s %s %d %s", i, lines[i], s.method, s.path, s.wantStatus, s.wantCache)
		}
		if id, _ := strings.CutPrefix(s.header, "X-Request-Id: "); id != "" && e.RequestID != id || id == "" && len(e.RequestID) != 32 {
			t.Errorf("line %d: request id %q", i, e.RequestID)
		}
		if wantBytes := map[string]int64{"/c": 6, "/form": 7}[s.path]; wantBytes > 0 && s.method == "GET" && e.Bytes != wantBytes {
			t.Errorf("line %d: %d body bytes, want %d", i, e.Bytes, wantBytes)
		}
		if s.method == "HEAD" && e.Bytes != 0 {
			t.Errorf("line %d: HEAD logged %d body bytes", i, e.Bytes)
		}
	}
}

func gather(t *testing.T, reg *prometheus.Registry, name string) []*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []*dto.MetricFamily
	for _, mf := range mfs {
		if mf.GetName() == name {
			out = append(out, mf)
		}
	}
	if len(out) == 0 {
		t.Fatalf("metric %s not registered", name)
	}
	return out
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func requestCounts(t *testing.T, reg *prometheus.Registry) map[[2]string]float64 {
	t.Helper()
	got := map[[2]string]float64{}
	for _, mf := range gather(t, reg, "strata_edge_requests_total") {
		for _, m := range mf.GetMetric() {
			got[[2]string{label(m, "outcome"), label(m, "status")}] = m.GetCounter().GetValue()
		}
	}
	return got
}

// TestRequestOutcomesMatchTraffic covers the outcomes the first test does
// not: stale (stale-while-revalidate and stale-if-error), collapsed
// waiters, origin errors, only-if-cached and a request's no-store.
func TestRequestOutcomesMatchTraffic(t *testing.T) {
	var slowOrigin atomic.Bool
	herdGate := make(chan struct{})
	b := newBed(t, edge.Config{OriginTimeout: time.Second}, func(_ int, r *http.Request) reply {
		if slowOrigin.Load() {
			return reply{delay: 1500 * time.Millisecond, body: "late"}
		}
		switch r.URL.Path {
		case "/swr":
			return reply{body: "swr", headers: []string{"Cache-Control: max-age=1, stale-while-revalidate=60"}}
		case "/sie":
			return reply{body: "sie", headers: []string{"Cache-Control: max-age=1, stale-if-error=60"}}
		case "/herd":
			<-herdGate // until both followers wait behind this fetch
			return reply{body: "herd", headers: []string{"Cache-Control: max-age=60"}}
		}
		return reply{body: "x", headers: []string{"Cache-Control: max-age=60"}}
	})
	reg := prometheus.NewRegistry()
	if err := b.edge.Register(reg); err != nil {
		t.Fatal(err)
	}
	b.do("GET", "/swr")                                    // miss
	b.do("GET", "/sie")                                    // miss
	b.do("GET", "/x", "Cache-Control: no-store")           // pass: the request forbids storing
	b.do("GET", "/never", "Cache-Control: only-if-cached") // synthetic 504
	b.advance(2)
	if resp, _ := b.do("GET", "/swr"); !strings.Contains(resp.Header.Get("Cache-Status"), "stale-while-revalidate") {
		t.Fatalf("Cache-Status %q", resp.Header.Get("Cache-Status"))
	}
	// Let the background refresh finish before the origin turns slow.
	for deadline := time.Now().Add(5 * time.Second); b.hits.Load() < 4 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	slowOrigin.Store(true)
	if resp, _ := b.do("GET", "/sie"); resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Cache-Status"), "stale-if-error") {
		t.Fatalf("stale-if-error: %d %q", resp.StatusCode, resp.Header.Get("Cache-Status"))
	}
	if resp, _ := b.do("GET", "/down"); resp.StatusCode != 504 {
		t.Fatalf("origin timeout answered %d", resp.StatusCode)
	}
	slowOrigin.Store(false)
	// Three at once: one leader, two collapsed behind it.
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() { b.do("GET", "/herd") })
	}
	for deadline := time.Now().Add(5 * time.Second); gatherValue(t, reg, "strata_edge_coalesced_waiters_total") < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the followers never joined the leader's fetch")
		}
	}
	close(herdGate)
	wg.Wait()
	want := map[[2]string]float64{
		{"miss", "2xx"}: 3, {"pass", "2xx"}: 1, {"synthetic", "5xx"}: 1, {"stale", "2xx"}: 2,
		{"error", "5xx"}: 1, {"collapsed", "2xx"}: 2,
	}
	var got map[[2]string]float64
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		got = requestCounts(t, reg)
		sum := 0.0
		for _, v := range got {
			sum += v
		}
		if sum >= 10 || time.Now().After(deadline) {
			break
		}
	}
	for k, v := range got {
		if want[k] != v {
			t.Errorf("requests_total{outcome=%q,status=%q} = %v, want %v", k[0], k[1], v, want[k])
		}
	}
}
