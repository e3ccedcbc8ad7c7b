package bench

import (
	"context"
	"fmt"
	"time"
)

func init() {
	register(&Scenario{
		Name:    "facade",
		Systems: []string{"strata", "fasthttp"},
		Summary: "facade framework (strata facade) vs a raw fasthttp handler doing the same work",
		Run:     runFacadeScenario,
	})
}

// facadePath is the route both systems serve: it exercises routing,
// middleware, admission and response writing without a backend call, so the
// difference is the framework's own cost (issue 7: at most 10%).
const facadePath = "/whoami"

func (h *Harness) startFacade(ctx context.Context, sys string) (string, error) {
	addr, err := FreeAddr()
	if err != nil {
		return "", err
	}
	var p *Process
	switch sys {
	case "strata":
		if err := h.Strata.Has(ctx, "facade"); err != nil {
			return "", err
		}
		state, origin, err := h.facadeDeps(ctx)
		if err != nil {
			return "", err
		}
		p, err = h.Strata.Start("strata facade", "facade", "--listen", addr, "--state", state,
			"--origin", "http://"+origin, "--metrics", "", "--log-level", "warn")
		if err != nil {
			return "", err
		}
	case "fasthttp":
		p, err = h.Strata.Start("raw fasthttp facade", "bench", "serve", "raw-facade", "--listen", addr, "--id", "raw-1")
		if err != nil {
			return "", err
		}
	default:
		return "", fmt.Errorf("unknown facade system %q", sys)
	}
	h.Track(p)
	if err := WaitHTTP(ctx, p, "http://"+addr+facadePath, 20*time.Second); err != nil {
		return "", err
	}
	return addr, nil
}

// facadeDeps starts what a facade node needs: a state node (strata state)
// and an origin (strata origin when built in, else the bench origin).
func (h *Harness) facadeDeps(ctx context.Context) (state, origin string, err error) {
	if err := h.Strata.Has(ctx, "state"); err != nil {
		return "", "", fmt.Errorf("strata facade needs a state node: %w", err)
	}
	if state, err = FreeAddr(); err != nil {
		return "", "", err
	}
	sp, err := h.Strata.Start("strata state", "state", "--listen", state, "--metrics", "", "--log-level", "warn")
	if err != nil {
		return "", "", err
	}
	h.Track(sp)
	if err := sp.WaitTCP(ctx, state, 15*time.Second); err != nil {
		return "", "", err
	}
	if origin, err = FreeAddr(); err != nil {
		return "", "", err
	}
	if h.Strata.Has(ctx, "origin") == nil {
		op, err := h.Strata.Start("strata origin", "origin", "--listen", origin, "--metrics", "", "--log-level", "warn")
		if err != nil {
			return "", "", err
		}
		h.Track(op)
		if err := op.WaitTCP(ctx, origin, 15*time.Second); err != nil {
			return "", "", err
		}
		return state, origin, nil
	}
	_, err = h.StartOrigin(ctx, []string{origin})
	return state, origin, err
}

func runFacadeScenario(ctx context.Context, h *Harness) error {
	h.Version(ctx, "wrk")
	if _, err := LookTool("wrk"); err != nil {
		h.SkipAll(err)
		return nil
	}
	addrs := map[string]string{}
	var systems []string
	for _, sys := range []string{"strata", "fasthttp"} {
		a, err := h.startFacade(ctx, sys)
		if err != nil {
			h.Skip(sys, "", err)
			continue
		}
		addrs[sys] = a
		systems = append(systems, sys)
	}
	if len(systems) == 0 {
		return nil
	}
	addrOf := func(s string) string { return addrs[s] }
	rate := Pick(h.Opts, 2000.0, 5000.0)
	dur := h.Opts.RunDuration(3 * time.Second)
	h.Condition("whoami", fmt.Sprintf("wrk -t2 -c%d keep-alive, %v per run, GET %s straight at the node", wrkConns, dur, facadePath))
	h.Condition("whoami_open_loop", fmt.Sprintf("%.0f req/s fixed rate, %d connections, latency from intended send time", rate, wrkConns))
	steps := []struct {
		name  string
		trial Trial
	}{
		{"whoami", h.WrkTrial("whoami", addrOf, facadePath)},
		{"whoami-open", h.OpenLoopTrial("whoami-open", addrOf, facadePath, rate)},
	}
	for _, st := range steps {
		if err := h.Alternate(ctx, st.name, systems, st.trial); err != nil {
			return err
		}
	}
	return nil
}
