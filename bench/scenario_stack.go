package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

func init() {
	register(&Scenario{
		Name:    "stack",
		Systems: []string{"strata"},
		Summary: "the whole path through strata up: client -> edge -> LB -> facade -> state",
		Run:     runStackScenario,
	})
}

// stackPorts are the fixed loopback addresses of `strata up` (INTERFACES.md).
var stackPorts = []string{
	"127.0.0.1:8080", "127.0.0.1:8000", "127.0.0.1:8101", "127.0.0.1:8102", "127.0.0.1:8200",
	"127.0.0.1:7001", "127.0.0.1:7002", "127.0.0.1:7003",
	"127.0.0.1:6381", "127.0.0.1:6382", "127.0.0.1:6383", "127.0.0.1:9090",
}

const stackEdge = "127.0.0.1:8080"

// ErrPortsBusy is returned when a fixed port of strata up is taken.
var ErrPortsBusy = errors.New("fixed ports of strata up are in use")

// checkPortsFree fails if any address is already bound, naming them all, so
// the scenario never measures some other process by mistake.
func checkPortsFree(addrs []string) error {
	var busy []string
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			busy = append(busy, a)
			continue
		}
		l.Close()
	}
	if len(busy) > 0 {
		return fmt.Errorf("%w: %s (stop what holds them, e.g. another 'strata up')", ErrPortsBusy, strings.Join(busy, ", "))
	}
	return nil
}

func runStackScenario(ctx context.Context, h *Harness) error {
	h.Version(ctx, "wrk")
	if _, err := LookTool("wrk"); err != nil {
		h.SkipAll(err)
		return nil
	}
	// strata up runs every role as a child process of the same binary.
	for _, sub := range []string{"up", "state", "origin", "control", "facade", "lb", "edge"} {
		if err := h.Strata.Has(ctx, sub); err != nil {
			h.Skip("strata", "", fmt.Errorf("strata up needs it: %w", err))
			return nil
		}
	}
	if err := checkPortsFree(stackPorts); err != nil {
		h.Skip("strata", "", err)
		return nil
	}
	p, err := h.Strata.Start("strata up", "up", "--mode", "userspace")
	if err != nil {
		h.Skip("strata", "", err)
		return nil
	}
	// strata up promises to stop within 10 s on SIGTERM.
	h.Cleanup(func() { p.Stop(12 * time.Second) })
	if err := WaitHTTP(ctx, p, "http://"+stackEdge+"/api/products/1", 60*time.Second); err != nil {
		// strata up checks all its addresses itself (metrics ports too).
		if strings.Contains(p.Output(), "in use") {
			err = fmt.Errorf("%w: %s", ErrPortsBusy, p.Output())
		}
		h.Skip("strata", "", err)
		return nil
	}
	addrOf := func(string) string { return stackEdge }
	rate := Pick(h.Opts, 1000.0, 3000.0)
	dur := h.Opts.RunDuration(DefaultRun)
	h.Condition("products", fmt.Sprintf("wrk -t2 -c%d keep-alive, %v per run, GET /api/products/1 via the edge %s (edge hits after the first)", wrkConns, dur, stackEdge))
	h.Condition("whoami", fmt.Sprintf("wrk -t2 -c%d, GET /whoami via the edge (no-store: every request crosses edge, LB and a facade)", wrkConns))
	h.Condition("open_loop", fmt.Sprintf("%.0f req/s fixed rate, %d connections, latency from intended send time", rate, wrkConns))
	steps := []struct {
		name  string
		trial Trial
	}{
		{"products-1", h.WrkTrial("products-1", addrOf, "/api/products/1")},
		{"products-1-open", h.OpenLoopTrial("products-1-open", addrOf, "/api/products/1", rate)},
		{"whoami", h.WrkTrial("whoami", addrOf, "/whoami")},
		{"whoami-open", h.OpenLoopTrial("whoami-open", addrOf, "/whoami", rate)},
	}
	for _, st := range steps {
		if err := h.Alternate(ctx, st.name, []string{"strata"}, st.trial); err != nil {
			return err
		}
	}
	return nil
}
