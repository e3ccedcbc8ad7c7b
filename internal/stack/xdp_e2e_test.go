package stack_test

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dp/strata/control"
	"github.com/strata-dp/strata/deploy"
	"github.com/strata-dp/strata/internal/config"
	"github.com/strata-dp/strata/internal/netns"
	"github.com/strata-dp/strata/internal/stack"
	"github.com/strata-dp/strata/internal/testbed"
)

// TestStrataUpXDPEndToEnd runs `strata up --mode xdp`: the edge on this
// host's loopback, the XDP LB natively on a veth in its namespace, facades
// behind it answering by direct server return, state and origin in the
// state namespace. Requests pass, cache, survive a killed facade, and
// SIGTERM removes every process, namespace, link and pinned map.
func TestStrataUpXDPEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds namespaces and starts the whole stack; skipped in -short mode")
	}
	if err := netns.Available(); err != nil {
		t.Skipf("xdp stack: %v", err)
	}
	if left, _ := netns.List(stack.BedPrefix + "-"); len(left) > 0 {
		t.Skipf("another xdp stack's network is up (%v); not touching it", left)
	}
	// Registered first, so it runs last: whatever happened, the network goes.
	t.Cleanup(func() {
		if left, _ := netns.List(stack.BedPrefix + "-"); len(left) > 0 {
			t.Errorf("namespaces left: %v", left)
			testbed.Down(stack.BedPrefix, "")
		}
	})
	u := startUpArgs(t, "127.0.0.63", "--mode", "xdp")
	// The effective configuration carries the bed's addresses.
	bed, err := config.Load(filepath.Join(u.runDir, "stack.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	edge := "http://" + u.cfg.Edge.Listen

	t.Run("a second xdp stack refuses with one line", func(t *testing.T) {
		out, err := exec.Command(strataBin(t), "up", "--mode", "xdp", "--config", writeHostConfig(t, "127.0.0.64")).CombinedOutput()
		msg := strings.TrimSpace(string(out))
		if err == nil || strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "already up") {
			t.Fatalf("second strata up: %v, output %q", err, msg)
		}
	})

	t.Run("the LB runs native XDP on its namespace's veth", func(t *testing.T) {
		if bed.Mode != "xdp" || bed.LB.Services[0].VIP != "198.18.1.1:80" {
			t.Fatalf("effective config: mode %s, VIP %s", bed.Mode, bed.LB.Services[0].VIP)
		}
		_, body := request(t, "GET", "http://"+bed.LB.Metrics+"/metrics", "", nil)
		if !strings.Contains(body, `strata_lb_mode{mode="xdp-native"} 1`) {
			t.Fatalf("LB metrics do not report xdp-native:\n%s", tail([]byte(body), 500))
		}
	})

	t.Run("a request passes every tier", func(t *testing.T) {
		before := metricSum(t, bed.LB.Metrics, "strata_lb_xdp_service_packets_total")
		resp, body := request(t, "GET", edge+"/api/products/1", "", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, `"id"`) {
			t.Fatalf("GET /api/products/1: %s %q", resp.Status, body)
		}
		request(t, "GET", edge+"/api/products/3", "", nil)
		if after := metricSum(t, bed.LB.Metrics, "strata_lb_xdp_service_packets_total"); after <= before {
			t.Fatalf("the XDP program balanced no packet (%v -> %v)", before, after)
		}
	})

	t.Run("state nodes on the bed's network require the run's secret", func(t *testing.T) {
		checkStateAuth(t, u.runDir, bed.State.Nodes[0])
	})

	t.Run("the same request again is served by the edge alone", func(t *testing.T) {
		request(t, "GET", edge+"/api/products/2", "", nil)
		before := originHits(t, bed.Origin.Metrics)
		facadesBefore := facadeRequests(t, bed)
		resp, _ := request(t, "GET", edge+"/api/products/2", "", nil)
		if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(resp.Header.Get("Cache-Status")), "hit") {
			t.Fatalf("second GET: %s, Cache-Status %q", resp.Status, resp.Header.Get("Cache-Status"))
		}
		if after := originHits(t, bed.Origin.Metrics); after != before {
			t.Fatalf("origin hits went from %v to %v on a cached request", before, after)
		}
		if after := facadeRequests(t, bed); after != facadesBefore {
			t.Fatalf("facade requests went from %v to %v on a cached request", facadesBefore, after)
		}
	})

	t.Run("whoami answers from the facades", func(t *testing.T) {
		resp, body := request(t, "GET", edge+"/whoami", "", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, `"facade-`) {
			t.Fatalf("GET /whoami via the edge: %s %q", resp.Status, body)
		}
		// New connections to the VIP from this host spread over the pool.
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		seen := map[string]bool{}
		for i := 0; i < 24; i++ {
			r, err := c.Get("http://" + bed.LB.Services[0].VIP + "/whoami")
			if err != nil {
				t.Fatalf("GET VIP /whoami: %v", err)
			}
			b := make([]byte, 256)
			n, _ := r.Body.Read(b)
			r.Body.Close()
			seen[string(b[:n])] = true
		}
		if len(seen) < 2 {
			t.Fatalf("24 connections to the VIP all went to %v", seen)
		}
	})

	t.Run("a cart survives the facade that wrote it", func(t *testing.T) {
		facade1 := "http://" + bed.Facades.Nodes[0].Listen
		resp, body := request(t, "POST", facade1+"/api/cart", `{"product_id": "7", "quantity": 3}`,
			map[string]string{"Content-Type": "application/json"})
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST /api/cart: %s %q", resp.Status, body)
		}
		var cookie string
		for _, c := range resp.Cookies() {
			cookie = c.Name + "=" + c.Value
		}
		if cookie == "" {
			t.Fatal("POST /api/cart set no session cookie")
		}
		killed := u.pid(t, bed.Facades.Nodes[0].ID)
		if err := syscall.Kill(killed, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		hasCart := func(body string) bool {
			return strings.Contains(body, `"product_id":"7"`) || strings.Contains(body, `"product_id": "7"`)
		}
		resp, body = request(t, "GET", "http://"+bed.Facades.Nodes[1].Listen+"/api/cart", "", map[string]string{"Cookie": cookie})
		if resp.StatusCode != 200 || !hasCart(body) {
			t.Fatalf("GET /api/cart from facade-2: %s %q", resp.Status, body)
		}
		// Through the edge and the XDP LB: XDP cannot retry a flow it sent
		// to the dead node, so allow the health checks time to eject it.
		deadline := time.Now().Add(10 * time.Second)
		for {
			resp, body = request(t, "GET", edge+"/api/cart", "", map[string]string{"Cookie": cookie})
			if resp.StatusCode == 200 && hasCart(body) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("GET /api/cart via the edge after killing facade-1: %s %q", resp.Status, body)
			}
			time.Sleep(100 * time.Millisecond)
		}
		for {
			pid := u.pid(t, bed.Facades.Nodes[0].ID)
			if pid != killed && syscall.Kill(pid, 0) == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s was not restarted (pid still %d)", bed.Facades.Nodes[0].ID, pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
	})

	t.Run("the restart, the metrics rows and the LB's families are visible", func(t *testing.T) {
		// The control plane (root namespace) reads stack.json like in
		// userspace mode.
		deadline := time.Now().Add(10 * time.Second)
		for {
			var s control.Status
			for _, c := range components(t, bed) {
				if c.Name == bed.Facades.Nodes[0].ID {
					s = c
				}
			}
			if s.Restarts == 1 && s.LastExit == "signal: killed" && s.LastRestart != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the killed facade in /api/v1/components: %+v", s)
			}
			time.Sleep(200 * time.Millisecond)
		}
		for _, addr := range metricsAddrs(bed) {
			if !strings.Contains(u.stdout.String(), "http://"+addr+"/metrics") {
				t.Errorf("no row for http://%s/metrics in:\n%s", addr, u.stdout.String())
			}
		}
		exported := map[string]bool{}
		for _, f := range families(scrape(t, bed.LB.Metrics)) {
			exported[f] = true
		}
		qs, err := deploy.DashboardQueries()
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range qs {
			for _, f := range deploy.MetricFamilies(q.Expr) {
				if strings.HasPrefix(f, "strata_lb_xdp_") && !exported[f] {
					t.Errorf("panel %q queries %s, which the LB in xdp mode does not export", q.Panel, f)
				}
			}
		}
		documented := documentedFamilies(t)
		for f := range exported {
			if strings.HasPrefix(f, "strata_") && !documented[f] {
				t.Errorf("the LB in xdp mode exports %s, not in docs/OPERATIONS.md", f)
			}
		}
	})

	t.Run("shutdown removes every process, namespace, link and pinned map", func(t *testing.T) {
		u.stopAndCheck(t)
		if left, _ := netns.List(stack.BedPrefix + "-"); len(left) > 0 {
			t.Errorf("namespaces left: %v", left)
		}
		host := testbed.Options{Prefix: stack.BedPrefix}.HostLinkName()
		if err := netns.Run("ip", "link", "show", host); err == nil {
			t.Errorf("link %s left in the root namespace", host)
		}
		if out, _ := netns.Output("ip", "route", "show", testbed.VIPRange.String()); strings.TrimSpace(out) != "" {
			t.Errorf("route left: %s", out)
		}
		if _, err := os.Stat(stack.PinDir()); err == nil {
			t.Errorf("pinned maps left in %s", stack.PinDir())
		}
	})
}

// TestStrataUpXDPFailedStartLeavesNothing makes start-up fail after the
// network is built (a ready timeout no stack meets) and checks that the
// namespaces, the host link and every process are gone.
func TestStrataUpXDPFailedStartLeavesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("builds namespaces; skipped in -short mode")
	}
	if err := netns.Available(); err != nil {
		t.Skipf("xdp stack: %v", err)
	}
	if left, _ := netns.List(stack.BedPrefix + "-"); len(left) > 0 {
		t.Skipf("another xdp stack's network is up (%v); not touching it", left)
	}
	t.Cleanup(func() { testbed.Down(stack.BedPrefix, "") })
	runDir := filepath.Join(t.TempDir(), "run")
	cmd := exec.Command(strataBin(t), "up", "--mode", "xdp", "--config", writeHostConfig(t, "127.0.0.65"),
		"--run-dir", runDir, "--ready-timeout", "300ms")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("strata up with a 300ms ready timeout succeeded:\n%s", out)
	}
	if !strings.Contains(string(out), "mode=xdp") {
		t.Fatalf("start-up failed before the network was built:\n%s", out)
	}
	if !strings.Contains(string(out), "not ready") && !strings.Contains(string(out), "end to end") {
		t.Fatalf("the failure does not say what was not ready:\n%s", out)
	}
	if left, _ := netns.List(stack.BedPrefix + "-"); len(left) > 0 {
		t.Errorf("namespaces left after a failed start: %v", left)
	}
	if err := netns.Run("ip", "link", "show", testbed.Options{Prefix: stack.BedPrefix}.HostLinkName()); err == nil {
		t.Error("host link left after a failed start")
	}
	u := &upStack{runDir: runDir}
	for _, p := range u.processes(t) {
		if syscall.Kill(p.Pid, 0) == nil {
			t.Errorf("%s (pid %d) still running", p.Name, p.Pid)
		}
	}
}

func writeHostConfig(t *testing.T, host string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stack.yaml")
	if err := os.WriteFile(p, []byte("host: "+host+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
