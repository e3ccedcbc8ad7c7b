package stack_test

import (
	"encoding/json"
	"os"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dp/strata/control"
	"github.com/strata-dp/strata/deploy"
	"github.com/strata-dp/strata/internal/config"
)

// TestStrataUpRestartsAndMetricsAreVisible runs one stack for the
// operability checks: the endpoints table lists every /metrics address; a
// SIGKILLed child of each kind shows in /api/v1/components (restarts, last
// exit, last restart, a new since) and in the control plane's metrics
// within seconds; every metric family the Grafana dashboard queries exists
// on the running stack; every family the stack exports is in
// docs/OPERATIONS.md.
func TestStrataUpRestartsAndMetricsAreVisible(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack as processes; skipped in -short mode")
	}
	u := startUp(t, "127.0.0.62")
	cfg := u.cfg

	t.Run("the endpoints table lists every /metrics address", func(t *testing.T) {
		out := u.stdout.String()
		for _, addr := range metricsAddrs(cfg) {
			if !strings.Contains(out, "http://"+addr+"/metrics") {
				t.Errorf("no row for http://%s/metrics in:\n%s", addr, out)
			}
		}
	})

	// A little of every kind of traffic, so that labelled families have
	// series: cached and uncached reads, a cart (state writes), a 404.
	edge := "http://" + cfg.Edge.Listen
	for i := 0; i < 2; i++ {
		for _, path := range []string{"/api/products/1", "/api/products/2", "/whoami", "/no-such-route"} {
			request(t, "GET", edge+path, "", nil)
		}
	}
	if resp, body := request(t, "POST", edge+"/api/cart", `{"product_id": "7", "quantity": 1}`,
		map[string]string{"Content-Type": "application/json"}); resp.StatusCode/100 != 2 {
		t.Fatalf("POST /api/cart: %s %q", resp.Status, body)
	}

	t.Run("a killed child of each kind shows its restart", func(t *testing.T) {
		victims := []string{cfg.Facades.Nodes[0].ID, cfg.State.Nodes[1].ID, "edge", "lb", "origin"}
		// The control plane polls each second: wait until it has seen
		// every process ready.
		before := map[string]control.Status{}
		for deadline := time.Now().Add(10 * time.Second); ; {
			ready := 0
			for _, s := range components(t, cfg) {
				before[s.Name] = s
				if s.Ready {
					ready++
				}
			}
			if ready == len(before) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not every process ready after 10 s: %+v", before)
			}
			time.Sleep(200 * time.Millisecond)
		}
		for _, name := range victims {
			if s := before[name]; !s.Ready || s.Restarts != 0 || s.LastExit != "" || s.LastRestart != nil {
				t.Fatalf("%s before the kill: %+v", name, s)
			}
			if err := syscall.Kill(u.pid(t, name), syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
		killedAt := time.Now()
		deadline := killedAt.Add(10 * time.Second)
		for {
			pending := map[string]control.Status{}
			for _, s := range components(t, cfg) {
				b, isVictim := before[s.Name]
				switch {
				case !isVictim:
				case !contains(victims, s.Name):
					if s.Restarts != 0 || !s.Since.Equal(b.Since) {
						t.Fatalf("%s was not killed, but: %+v (before %+v)", s.Name, s, b)
					}
				case s.Restarts != 1 || s.LastExit != "signal: killed" || s.LastRestart == nil ||
					s.LastRestart.Before(killedAt.Add(-time.Second)) || !s.Since.After(b.Since) || !s.Ready:
					pending[s.Name] = s
				}
			}
			if len(pending) == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("10 s after the kills, not shown as restarted and ready again: %+v", pending)
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("every restart shown %v after the kills", time.Since(killedAt).Round(10*time.Millisecond))
		body := scrape(t, cfg.Control.Listen)
		for _, name := range victims {
			for _, line := range []string{`strata_up_child_restarts_total{child="` + name + `"} 1`,
				`strata_up_child_last_exit_timestamp_seconds{child="` + name + `",status="signal: killed"} `} {
				if !strings.Contains(body, line) {
					t.Errorf("control plane metrics lack %s", line)
				}
			}
		}
	})

	// The restarted edge and LB serve again; more traffic for the scrape.
	for _, path := range []string{"/api/products/1", "/api/products/3"} {
		request(t, "GET", edge+path, "", nil)
	}
	exported := map[string]bool{}
	for _, addr := range metricsAddrs(cfg) {
		for _, f := range families(scrape(t, addr)) {
			exported[f] = true
		}
	}

	t.Run("every family the dashboard queries exists", func(t *testing.T) {
		qs, err := deploy.DashboardQueries()
		if err != nil {
			t.Fatal(err)
		}
		xdpSource, err := os.ReadFile("../../dataplane/lb/xdp/metrics.go")
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			for _, f := range deploy.MetricFamilies(q.Expr) {
				switch {
				case exported[f]:
				case strings.HasPrefix(f, "strata_lb_xdp_") && strings.Contains(string(xdpSource), `"`+f+`"`):
					// Only an LB in xdp mode exports these: the userspace
					// stack cannot, the LB's xdp collector names it.
				default:
					t.Errorf("panel %q queries %s, which no process of a running stack exports", q.Panel, f)
				}
			}
		}
	})

	t.Run("every exported family is in docs/OPERATIONS.md", func(t *testing.T) {
		documented := documentedFamilies(t)
		var missing []string
		for f := range exported {
			if strings.HasPrefix(f, "strata_") && !documented[f] {
				missing = append(missing, f)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("exported but not in docs/OPERATIONS.md's Metric families: %v", missing)
		}
	})

	t.Run("shutdown leaves nothing running", func(t *testing.T) {
		u.stopAndCheck(t)
	})
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// metricsAddrs is every /metrics address of the stack.
func metricsAddrs(cfg *config.Stack) []string {
	addrs := []string{cfg.Origin.Metrics, cfg.Control.Listen, cfg.LB.Metrics, cfg.Edge.Metrics}
	for _, n := range cfg.State.Nodes {
		addrs = append(addrs, n.Metrics)
	}
	for _, n := range cfg.Facades.Nodes {
		addrs = append(addrs, n.Metrics)
	}
	return addrs
}

func components(t *testing.T, cfg *config.Stack) []control.Status {
	t.Helper()
	resp, body := request(t, "GET", "http://"+cfg.Control.Listen+"/api/v1/components", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("/api/v1/components: %s", resp.Status)
	}
	var v []control.Status
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("/api/v1/components: %v", err)
	}
	return v
}

func scrape(t *testing.T, addr string) string {
	t.Helper()
	resp, body := request(t, "GET", "http://"+addr+"/metrics", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%s/metrics: %s", addr, resp.Status)
	}
	return body
}

// families are the metric families of a Prometheus text page.
func families(page string) []string {
	var out []string
	for _, line := range strings.Split(page, "\n") {
		if rest, ok := strings.CutPrefix(line, "# TYPE "); ok {
			out = append(out, strings.Fields(rest)[0])
		}
	}
	return out
}

// documentedFamilies are the families in docs/OPERATIONS.md's table under
// "### Metric families".
func documentedFamilies(t *testing.T) map[string]bool {
	t.Helper()
	doc, err := os.ReadFile("../../docs/OPERATIONS.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "\n### Metric families\n")
	if !ok {
		t.Fatal("docs/OPERATIONS.md has no ### Metric families")
	}
	section, _, _ = strings.Cut(section, "\n### ")
	name := regexp.MustCompile("^\\| [a-z]+ \\| `(strata_[a-z0-9_]+)")
	out := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		if m := name.FindStringSubmatch(line); m != nil {
			out[m[1]] = true
		}
	}
	if len(out) < 50 {
		t.Fatalf("docs/OPERATIONS.md lists only %d families", len(out))
	}
	return out
}
