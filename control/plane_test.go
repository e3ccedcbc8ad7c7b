package control

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/state/slot"
	"github.com/strata-dp/strata/internal/config"
)

// readyServer answers /readyz with 200 or 503 and /metrics with an LB mode.
func readyServer(t *testing.T, ready bool, metrics string) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, metrics) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func TestViewsReflectWhatTheProcessesSay(t *testing.T) {
	cfg, err := config.Parse([]byte("host: 127.0.0.1\n"))
	if err != nil {
		t.Fatal(err)
	}
	// Facade 1 ready, facade 2 not, facade 3 unreachable; the LB says userspace.
	cfg.Facades.Nodes[0].Metrics = readyServer(t, true, "")
	cfg.Facades.Nodes[1].Metrics = readyServer(t, false, "")
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	cfg.Facades.Nodes[2].Metrics = ln.Addr().String()
	ln.Close()
	cfg.LB.Metrics = readyServer(t, true, "# HELP x\nstrata_lb_mode{mode=\"xdp\"} 0\nstrata_lb_mode{mode=\"userspace\"} 1\n")
	cfg.State.Nodes[0].Metrics = readyServer(t, true, "")

	cp := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cp.inv.pollOnce(ctx)
	if m := cp.scrapeLBMode(ctx); m != "userspace" {
		t.Fatalf("scraped LB mode %q", m)
	}
	m := "userspace"
	cp.lbMode.Store(&m)

	mux := http.NewServeMux()
	cp.Mount(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var sv ServicesView
	getJSON(t, srv.URL+"/api/v1/services", &sv)
	if sv.Mode != "userspace" || sv.ModeSource != "lb" {
		t.Fatalf("mode %q from %q", sv.Mode, sv.ModeSource)
	}
	want := []string{"healthy", "unhealthy", "unhealthy"}
	for i, b := range sv.Services[0].Backends {
		if b.Health != want[i] {
			t.Fatalf("backend %d health %q, want %q", i, b.Health, want[i])
		}
	}
	var st StateView
	getJSON(t, srv.URL+"/api/v1/state", &st)
	if len(st.Nodes) != 3 || !st.Nodes[0].Ready || st.Nodes[1].Ready || st.Nodes[2].SlotRanges[0][1] != slot.Count-1 {
		t.Fatalf("state view: %+v", st)
	}
	var as AutoscalerView
	getJSON(t, srv.URL+"/api/v1/autoscaler", &as)
	if as.Current != 3 || as.Ready != 1 || as.Enabled {
		t.Fatalf("autoscaler view: %+v", as)
	}
	resp, err := http.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "/api/v1/services") {
		t.Fatal("dashboard does not load the API")
	}
	for _, field := range []string{"c.restarts", "c.last_exit", "c.last_restart"} {
		if !strings.Contains(string(body), field) {
			t.Errorf("the dashboard does not show %s", field)
		}
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
