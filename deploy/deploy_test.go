package deploy_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/strata-dp/strata/deploy"
	"github.com/strata-dp/strata/internal/config"
)

var update = flag.Bool("update", false, "rewrite prometheus/prometheus.yml from the defaults")

func TestDashboardParses(t *testing.T) {
	var d map[string]any
	if err := json.Unmarshal(deploy.Dashboard, &d); err != nil {
		t.Fatalf("grafana/strata.json: %v", err)
	}
	if d["title"] != "Strata" || d["uid"] != "strata" {
		t.Fatalf("title %v, uid %v", d["title"], d["uid"])
	}
	qs, err := deploy.DashboardQueries()
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < 20 {
		t.Fatalf("only %d queries", len(qs))
	}
	for _, q := range qs {
		if len(deploy.MetricFamilies(q.Expr)) == 0 {
			t.Errorf("panel %q: %q names no strata_ metric", q.Panel, q.Expr)
		}
		if strings.Count(q.Expr, "(") != strings.Count(q.Expr, ")") || strings.Count(q.Expr, "{") != strings.Count(q.Expr, "}") {
			t.Errorf("panel %q: unbalanced %q", q.Panel, q.Expr)
		}
	}
	// What the brief of the dashboard promises a panel for.
	all := map[string]bool{}
	for _, q := range qs {
		for _, f := range deploy.MetricFamilies(q.Expr) {
			all[f] = true
		}
	}
	for _, f := range []string{"strata_edge_requests_total", "strata_edge_request_duration_seconds",
		"strata_facade_route_requests_total", "strata_facade_route_duration_seconds",
		"strata_lb_userspace_connections_total", "strata_lb_xdp_service_packets_total",
		"strata_state_commands_total", "strata_state_memory_used_bytes", "strata_state_memory_limit_bytes",
		"strata_state_oom_refused_writes_total", "strata_state_connections", "strata_up_child_restarts_total"} {
		if !all[f] {
			t.Errorf("no panel queries %s", f)
		}
	}
}

func TestMetricFamilies(t *testing.T) {
	got := deploy.MetricFamilies(`histogram_quantile(0.99, sum by (le) (rate(strata_edge_request_duration_seconds_bucket{outcome="hit"}[5m])))` +
		` / sum(strata_state_memory_limit_bytes) + strata_x_sum + strata_x_count`)
	want := []string{"strata_edge_request_duration_seconds", "strata_state_memory_limit_bytes", "strata_x"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// prometheus.yml is what the defaults give: a port moved in
// internal/config/defaults.go fails here (go test ./deploy -update rewrites it).
func TestPrometheusConfigFollowsTheDefaults(t *testing.T) {
	cfg, err := config.Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	want := prometheusConfig(cfg)
	const path = "prometheus/prometheus.yml"
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the defaults' (go test ./deploy -update); want:\n%s", path, want)
	}
	var parsed struct {
		ScrapeConfigs []struct {
			JobName       string `yaml:"job_name"`
			StaticConfigs []struct {
				Targets []string          `yaml:"targets"`
				Labels  map[string]string `yaml:"labels"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	if err := yaml.Unmarshal(got, &parsed); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	n := 0
	for _, j := range parsed.ScrapeConfigs {
		n += len(j.StaticConfigs)
	}
	if want := len(cfg.State.Nodes) + len(cfg.Facades.Nodes) + 4; n != want {
		t.Fatalf("%s scrapes %d processes, the default stack has %d", path, n, want)
	}
}

// prometheusConfig is the scrape configuration of every process strata up
// starts for cfg, one job per role, a node label per process.
func prometheusConfig(cfg *config.Stack) []byte {
	type target struct{ node, addr string }
	var jobs []struct {
		name    string
		targets []target
	}
	add := func(job string, ts ...target) {
		jobs = append(jobs, struct {
			name    string
			targets []target
		}{job, ts})
	}
	var ts []target
	for _, n := range cfg.State.Nodes {
		ts = append(ts, target{n.ID, n.Metrics})
	}
	add("strata-state", ts...)
	add("strata-origin", target{"origin", cfg.Origin.Metrics})
	add("strata-control", target{"control", cfg.Control.Listen})
	ts = nil
	for _, n := range cfg.Facades.Nodes {
		ts = append(ts, target{n.ID, n.Metrics})
	}
	add("strata-facade", ts...)
	add("strata-lb", target{"lb", cfg.LB.Metrics})
	add("strata-edge", target{"edge", cfg.Edge.Metrics})

	var b bytes.Buffer
	b.WriteString(`# Prometheus scrape configuration for ` + "`strata up`" + ` with the default
# configuration (internal/config/defaults.go): every process's /metrics,
# one job per role, a node label per process. Generated and checked by
# deploy/deploy_test.go (go test ./deploy -update rewrites it). With another
# host: or other ports, take the addresses from the "metrics NAME" rows of
# the endpoints table strata up prints. Dashboard: deploy/grafana/strata.json.
global:
  scrape_interval: 15s
  scrape_timeout: 5s

scrape_configs:
`)
	for _, j := range jobs {
		fmt.Fprintf(&b, "  - job_name: %s\n", j.name)
		if j.name == "strata-control" {
			b.WriteString("    # With control.listen beyond loopback the control plane wants its token:\n" +
				"    # authorization: {credentials_file: RUN_DIR/control.token}\n")
		}
		b.WriteString("    static_configs:\n")
		for _, t := range j.targets {
			fmt.Fprintf(&b, "      - targets: [%q]\n        labels: {node: %s}\n", t.addr, t.node)
		}
	}
	return b.Bytes()
}
