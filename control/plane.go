package control

import (
	"bufio"
	"context"
	_ "embed"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/internal/config"
)

//go:embed dashboard.html
var dashboardHTML []byte

// Plane is the control plane of one stack.
type Plane struct {
	cfg    *config.Stack
	log    *slog.Logger
	inv    *Inventory
	lbMode atomic.Pointer[string]
	client *http.Client
}

// New builds the control plane for cfg and registers its metrics on reg.
func New(cfg *config.Stack, log *slog.Logger, reg prometheus.Registerer) *Plane {
	var targets []Target
	add := func(name, tier, metricsAddr string) {
		targets = append(targets, Target{Name: name, Tier: tier, Probe: "http://" + metricsAddr + "/readyz"})
	}
	for _, n := range cfg.State.Nodes {
		add(n.ID, "state", n.Metrics)
	}
	add("origin", "origin", cfg.Origin.Metrics)
	for _, n := range cfg.Facades.Nodes {
		add(n.ID, "facade", n.Metrics)
	}
	add("lb", "lb", cfg.LB.Metrics)
	add("edge", "edge", cfg.Edge.Metrics)
	cp := &Plane{cfg: cfg, log: log, inv: NewInventory(targets, 500*time.Millisecond),
		client: &http.Client{Timeout: time.Second}}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "strata_control_components_ready", Help: "Processes of the stack whose /readyz answers 200.",
	}, func() float64 {
		n := 0
		for _, s := range cp.inv.All() {
			if s.Ready {
				n++
			}
		}
		return float64(n)
	}))
	reg.MustRegister(newRestartCollector(cp.inv))
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "strata_control_components", Help: "Processes of the stack the control plane watches.",
	}, func() float64 { return float64(len(targets)) }))
	return cp
}

// WatchSupervisor reads each process's restarts from the stack.json of the
// strata up that supervises the stack (its run directory), on every poll;
// call it before Run. Empty path: nothing is read.
func (cp *Plane) WatchSupervisor(path string) {
	if path != "" {
		cp.inv.WatchSupervisor(path, cp.log)
	}
}

// Run watches the stack until ctx is done.
func (cp *Plane) Run(ctx context.Context) {
	go cp.inv.Run(ctx, time.Second)
	t := time.NewTicker(2 * time.Second)
	defer t.Stop()
	for {
		if m := cp.scrapeLBMode(ctx); m != "" {
			cp.lbMode.Store(&m)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// scrapeLBMode reads strata_lb_mode{mode="..."} 1 from the LB's metrics.
func (cp *Plane) scrapeLBMode(ctx context.Context) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+cp.cfg.LB.Metrics+"/metrics", nil)
	if err != nil {
		return ""
	}
	resp, err := cp.client.Do(req)
	if err != nil {
		return ""
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		rest, ok := strings.CutPrefix(line, `strata_lb_mode{mode="`)
		if !ok {
			continue
		}
		mode, value, ok := strings.Cut(rest, `"} `)
		if ok && strings.TrimSpace(value) == "1" {
			return mode
		}
	}
	return ""
}

// Mount adds the admin API and the dashboard to mux.
func (cp *Plane) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /api/v1/services", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, cp.servicesView())
	})
	mux.HandleFunc("GET /api/v1/state", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, cp.stateView())
	})
	mux.HandleFunc("GET /api/v1/autoscaler", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, cp.autoscalerView())
	})
	mux.HandleFunc("GET /api/v1/components", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, cp.inv.All())
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(dashboardHTML)
	})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}
