package facade

import (
	"encoding/json"
	"github.com/strata-dp/strata/internal/syncbuf"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/strata-dp/strata/internal/accesslog"
)

// TestRouteMetricsMatchTraffic serves a known mix over loopback and checks
// strata_facade_route_requests_total, the route duration histogram and the
// access log against it exactly: labelled by pattern, never by raw path.
func TestRouteMetricsMatchTraffic(t *testing.T) {
	var logBuf syncbuf.Buffer
	al, err := accesslog.New(&logBuf, accesslog.Config{})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	a := newTestApp(t, Config{Registry: reg, AccessLog: al})
	mustHandle(t, a, "GET", "/api/products/{id}", func(c *Ctx) error {
		if string(c.Param("id")) == "missing" {
			return Errorf(404, "no such product")
		}
		c.Write(200, "application/json", []byte(`{"id":"`+string(c.Param("id"))+`"}`))
		return nil
	})
	mustHandle(t, a, "POST", "/api/cart", func(c *Ctx) error {
		c.Write(201, "application/json", []byte(`{}`))
		return nil
	})
	mustHandle(t, a, "GET", "/api/cart", func(c *Ctx) error {
		return errBoom
	})
	base := serveApp(t, a)
	type call struct {
		method, path string
		status       int
		route        string
	}
	calls := []call{
		{"GET", "/api/products/1", 200, "/api/products/{id}"},
		{"GET", "/api/products/2", 200, "/api/products/{id}"},
		{"GET", "/api/products/3?x=1", 200, "/api/products/{id}"},
		{"GET", "/api/products/missing", 404, "/api/products/{id}"},
		{"POST", "/api/cart", 201, "/api/cart"},
		{"POST", "/api/cart", 201, "/api/cart"},
		{"GET", "/api/cart", 500, "/api/cart"},
		{"GET", "/nope", 404, ""},    // unrouted: logged, not a route series
		{"GET", "/healthz", 200, ""}, // a probe: neither
	}
	for i, c := range calls {
		var hdr map[string]string
		if i == 0 {
			hdr = map[string]string{RequestIDHeader: "req-from-edge"}
		}
		status, _, _ := do(t, c.method, base+c.path, nil, hdr)
		if status != c.status {
			t.Fatalf("%s %s: %d, want %d", c.method, c.path, status, c.status)
		}
	}
	want := map[[3]string]float64{
		{"GET", "/api/products/{id}", "2xx"}: 3,
		{"GET", "/api/products/{id}", "4xx"}: 1,
		{"POST", "/api/cart", "2xx"}:         2,
		{"GET", "/api/cart", "5xx"}:          1,
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[[3]string]float64{}
	counts := map[[2]string]uint64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			switch mf.GetName() {
			case "strata_facade_route_requests_total":
				got[[3]string{l["method"], l["route"], l["status"]}] = m.GetCounter().GetValue()
			case "strata_facade_route_duration_seconds":
				counts[[2]string{l["method"], l["route"]}] = m.GetHistogram().GetSampleCount()
			case "strata_facade_unrouted_total":
				if v := m.GetCounter().GetValue(); v != 1 {
					t.Errorf("unrouted_total = %v, want 1", v)
				}
			}
		}
	}
	for k, v := range got {
		if want[k] != v {
			t.Errorf("route_requests_total%v = %v, want %v", k, v, want[k])
		}
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("route_requests_total%v = %v, want %v", k, got[k], v)
		}
	}
	wantCounts := map[[2]string]uint64{{"GET", "/api/products/{id}"}: 4, {"POST", "/api/cart"}: 2, {"GET", "/api/cart"}: 1}
	if len(counts) != len(wantCounts) {
		t.Errorf("duration series %v, want %v", counts, wantCounts)
	}
	for k, v := range wantCounts {
		if counts[k] != v {
			t.Errorf("route_duration_seconds%v count = %d, want %d", k, counts[k], v)
		}
	}

	al.Close()
	lines := strings.Split(strings.TrimSpace(logBuf.String()), "\n")
	if len(lines) != len(calls)-1 { // the probe is not logged
		t.Fatalf("%d access log lines, want %d:\n%s", len(lines), len(calls)-1, logBuf.String())
	}
	for i, line := range lines {
		var e struct {
			Method, Path, Route, Client, Host string
			Status                            int
			RequestID                         string `json:"request_id"`
		}
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		c := calls[i]
		if e.Method != c.method || e.Path != c.path || e.Status != c.status || e.Route != c.route ||
			!strings.HasPrefix(e.Client, "127.0.0.1:") || !strings.HasPrefix(base, "http://"+e.Host) {
			t.Errorf("line %d: %s, want %+v", i, line, c)
		}
		if i == 0 && e.RequestID != "req-from-edge" || i > 0 && len(e.RequestID) != 32 {
			t.Errorf("line %d: request id %q", i, e.RequestID)
		}
	}
}

var errBoom = Errorf(500, "boom")
