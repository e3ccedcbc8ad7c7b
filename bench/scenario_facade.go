package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/strata-dp/strata/bench/overload"
)

func init() {
	register(&Scenario{
		Name:    "facade",
		Systems: []string{"strata", "fasthttp"},
		Summary: "facade framework (strata facade) vs raw fasthttp handlers doing the same work",
		Run:     runFacadeScenario,
	})
}

// The routes both systems serve, straight at the node: /whoami exercises
// routing, middleware, admission and response writing with no backend call;
// /api/products/1 adds a state-tier read (cache-aside, warm after the first
// request). The difference is the framework's own cost (issue 7: at most 10%).
const (
	facadeWhoami  = "/whoami"
	facadeProduct = "/api/products/1"
)

// facadeDeps are the state node and origin both systems share.
type facadeDeps struct {
	state  string // binary protocol address
	origin string // host:port
}

// startFacadeDeps starts strata state and strata origin, or says why not.
func (h *Harness) startFacadeDeps(ctx context.Context) (*facadeDeps, error) {
	for _, sub := range []string{"state", "origin"} {
		if err := h.Strata.Has(ctx, sub); err != nil {
			return nil, err
		}
	}
	d := &facadeDeps{}
	var err error
	if d.state, err = FreeAddr(); err != nil {
		return nil, err
	}
	sp, err := h.Strata.Start("strata state", "state", "--listen", d.state, "--metrics", "", "--log-level", "warn")
	if err != nil {
		return nil, err
	}
	h.Track(sp)
	if err := sp.WaitTCP(ctx, d.state, 15*time.Second); err != nil {
		return nil, err
	}
	if d.origin, err = FreeAddr(); err != nil {
		return nil, err
	}
	op, err := h.Strata.Start("strata origin", "origin", "--listen", d.origin, "--metrics", "", "--log-level", "warn")
	if err != nil {
		return nil, err
	}
	h.Track(op)
	if err := op.WaitTCP(ctx, d.origin, 15*time.Second); err != nil {
		return nil, err
	}
	return d, nil
}

func (h *Harness) startFacade(ctx context.Context, sys string, deps *facadeDeps) (string, error) {
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
		if deps == nil {
			return "", fmt.Errorf("%w: strata facade needs strata state and strata origin", ErrMissing)
		}
		p, err = h.Strata.Start("strata facade", "facade", "--listen", addr, "--state", deps.state,
			"--origin", "http://"+deps.origin, "--metrics", "", "--log-level", "warn")
	case "fasthttp":
		args := []string{"serve", "raw-facade", "--listen", addr, "--id", "raw-1"}
		if deps != nil {
			args = append(args, "--state", deps.state, "--origin", "http://"+deps.origin)
		}
		p, err = h.Strata.Start("raw fasthttp facade", "bench", args...)
	default:
		err = fmt.Errorf("unknown facade system %q", sys)
	}
	if err != nil {
		return "", err
	}
	h.Track(p)
	if err := WaitHTTP(ctx, p, "http://"+addr+facadeWhoami, 20*time.Second); err != nil {
		return "", err
	}
	if deps != nil {
		// Warm the state tier so the measured path is the cache-aside hit.
		if err := WaitHTTP(ctx, p, "http://"+addr+facadeProduct, 10*time.Second); err != nil {
			return "", err
		}
	}
	return addr, nil
}

func runFacadeScenario(ctx context.Context, h *Harness) error {
	h.Version(ctx, "wrk")
	if _, err := LookTool("wrk"); err != nil {
		h.SkipAll(err)
		return nil
	}
	deps, err := h.startFacadeDeps(ctx)
	if err != nil {
		h.Skip("strata", "", err)
		h.Skip("fasthttp", "products-1", err)
	}
	addrs, systems := h.StartEach(ctx, []string{"strata", "fasthttp"}, func(ctx context.Context, sys string) (string, error) {
		if sys == "strata" && deps == nil {
			return "", errAlreadySkipped
		}
		return h.startFacade(ctx, sys, deps)
	})
	if len(systems) == 0 {
		return nil
	}
	addrOf := func(s string) string { return addrs[s] }
	rate := Pick(h.Opts, 2000.0, 5000.0)
	dur := h.Opts.RunDuration(DefaultRun)
	h.Condition("whoami", fmt.Sprintf("wrk -t2 -c%d keep-alive, %v per run, GET %s straight at the node", wrkConns, dur, facadeWhoami))
	h.Condition("products", fmt.Sprintf("wrk -t2 -c%d, GET %s straight at the node, served from one strata state node (warm)", wrkConns, facadeProduct))
	h.Condition("open_loop", fmt.Sprintf("%.0f req/s fixed rate, %d connections, latency from intended send time", rate, wrkConns))
	type step struct {
		name  string
		trial Trial
	}
	steps := []step{
		{"whoami", h.WrkTrial("whoami", addrOf, facadeWhoami)},
		{"whoami-open", h.OpenLoopTrial("whoami-open", addrOf, facadeWhoami, rate)},
	}
	if deps != nil {
		steps = append(steps, step{"products-1", h.WrkTrial("products-1", addrOf, facadeProduct)})
	}
	for _, st := range steps {
		if err := h.Alternate(ctx, st.name, systems, st.trial); err != nil {
			return err
		}
	}
	return h.overheadPair(ctx)
}

// overheadPair measures bench/overload's overhead pair: the same small
// piece of work (GET /api/items/{id}, a JSON body and a request id) as a
// facade route and as a bare fasthttp handler, each in its own process.
func (h *Harness) overheadPair(ctx context.Context) error {
	addrs := map[string]string{}
	var systems []string
	for _, sys := range []string{"strata", "fasthttp"} {
		kind := map[string]string{"strata": "overhead-framework", "fasthttp": "overhead-raw"}[sys]
		addr, err := FreeAddr()
		if err != nil {
			return err
		}
		p, err := h.Strata.Start(kind, "bench", "serve", kind, "--listen", addr)
		if err != nil {
			h.Skip(sys, "items-overhead", err)
			continue
		}
		h.Track(p)
		if err := WaitHTTP(ctx, p, "http://"+addr+overload.OverheadPath, 15*time.Second); err != nil {
			h.Skip(sys, "items-overhead", err)
			continue
		}
		addrs[sys] = addr
		systems = append(systems, sys)
	}
	h.Condition("items_overhead", fmt.Sprintf("bench/overload's overhead pair: GET %s as a facade route vs a bare fasthttp handler, wrk -t2 -c%d", overload.OverheadPath, wrkConns))
	return h.Alternate(ctx, "items-overhead", systems, h.WrkTrial("items-overhead", func(s string) string { return addrs[s] }, overload.OverheadPath))
}
