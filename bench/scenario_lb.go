package bench

import (
	"context"
	"fmt"
	"strings"
	"time"
)

func init() {
	register(&Scenario{
		Name:    "lb-userspace",
		Systems: []string{"strata", "haproxy"},
		Summary: "userspace L4 load balancer vs HAProxy TCP mode over the same 4 backends",
		Run:     runLBUserspaceScenario,
	})
}

const lbBackends = 4

func (h *Harness) startLB(ctx context.Context, sys string, backends []string) (string, error) {
	vip, err := FreeAddr()
	if err != nil {
		return "", err
	}
	var p *Process
	switch sys {
	case "strata":
		if err := h.Strata.Has(ctx, "lb"); err != nil {
			return "", err
		}
		// No active health checks, like the HAProxy config: the backends are
		// up for the whole run.
		args := []string{"--mode", "userspace", "--vip", vip, "--health", "off", "--metrics", "", "--log-level", "warn"}
		for _, b := range backends {
			args = append(args, "--backend", b)
		}
		p, err = h.Strata.Start("strata lb", "lb", args...)
	case "haproxy":
		var bin, cfg string
		if bin, err = LookTool("haproxy"); err != nil {
			return "", err
		}
		if cfg, err = RenderPeerConfig(h.Dir, "haproxy.cfg", map[string]any{"Listen": vip, "Backends": backends}); err != nil {
			return "", err
		}
		p, err = Start("haproxy", bin, "-db", "-f", cfg)
	default:
		err = fmt.Errorf("unknown load balancer %q", sys)
	}
	if err != nil {
		return "", err
	}
	h.Track(p)
	if err := WaitHTTP(ctx, p, "http://"+vip+"/lb", 15*time.Second); err != nil {
		return "", err
	}
	return vip, nil
}

func runLBUserspaceScenario(ctx context.Context, h *Harness) error {
	h.Version(ctx, "haproxy")
	h.Version(ctx, "wrk")
	if _, err := LookTool("wrk"); err != nil {
		h.SkipAll(err)
		return nil
	}
	backends := make([]string, lbBackends)
	for i := range backends {
		a, err := FreeAddr()
		if err != nil {
			return err
		}
		backends[i] = a
	}
	if _, err := h.StartOrigin(ctx, backends, "--size", "1024"); err != nil {
		return err
	}
	addrs, systems := h.StartEach(ctx, []string{"strata", "haproxy"}, func(ctx context.Context, sys string) (string, error) {
		return h.startLB(ctx, sys, backends)
	})
	if len(systems) == 0 {
		return nil
	}
	addrOf := func(s string) string { return addrs[s] }
	rate := Pick(h.Opts, 2000.0, 5000.0)
	dur := h.Opts.RunDuration(DefaultRun)
	h.Condition("backends", fmt.Sprintf("%d fasthttp backends answering 1024 bytes (%s)", lbBackends, strings.Join(backends, ", ")))
	h.Condition("keepalive", fmt.Sprintf("wrk -t2 -c%d keep-alive through the VIP, %v per run", wrkConns, dur))
	h.Condition("conn_per_request", fmt.Sprintf("wrk -t2 -c%d with 'Connection: close' (a new TCP connection through the LB per request)", wrkConns))
	h.Condition("open_loop", fmt.Sprintf("%.0f req/s fixed rate, %d connections, latency from intended send time", rate, wrkConns))
	steps := []struct {
		name  string
		trial Trial
	}{
		{"keepalive", h.WrkTrial("keepalive", addrOf, "/lb")},
		{"conn-per-request", h.WrkTrial("conn-per-request", addrOf, "/lb", "Connection: close")},
		{"keepalive-open", h.OpenLoopTrial("keepalive-open", addrOf, "/lb", rate)},
	}
	for _, st := range steps {
		if err := h.Alternate(ctx, st.name, systems, st.trial); err != nil {
			return err
		}
	}
	return nil
}
