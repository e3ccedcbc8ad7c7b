package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/strata-dp/strata/bench/loadgen"
)

func init() {
	register(&Scenario{
		Name:    "edge",
		Systems: []string{"strata", "varnish", "nginx"},
		Summary: "edge cache vs Varnish and nginx proxy_cache: 1 KB hits, open-loop latency, misses, coalescing, Zipf hit ratio",
		Run:     runEdgeScenario,
	})
}

// Conditions of the edge scenario (issue 6, "Performance").
const (
	edgeMemory      = 256 << 20
	edgeSmallMemory = 16 << 20 // the Zipf test's equal memory budget
	edgeHitPath     = "/obj/1k"
	edgeBurst       = 32 // concurrent requests per coalescing burst
	edgeSlow        = 50 * time.Millisecond
)

// startCache starts one caching system in front of origin with the given
// memory and returns its listen address.
func (h *Harness) startCache(ctx context.Context, sys, origin string, memory int) (string, error) {
	addr, err := FreeAddr()
	if err != nil {
		return "", err
	}
	var p *Process
	switch sys {
	case "strata":
		if err := h.Strata.HasFlag(ctx, "edge", "--memory"); err != nil {
			return "", err
		}
		p, err = h.Strata.Start("strata edge", "edge", "--listen", addr, "--origin", "http://"+origin,
			"--memory", strconv.Itoa(memory), "--metrics", "", "--log-level", "warn")
	case "varnish":
		p, err = h.startVarnish(addr, origin, memory)
	case "nginx":
		p, err = h.startNginx(addr, origin, memory)
	default:
		err = fmt.Errorf("unknown cache %q", sys)
	}
	if err != nil {
		return "", err
	}
	h.Track(p)
	if err := WaitHTTP(ctx, p, "http://"+addr+edgeHitPath, 20*time.Second); err != nil {
		return "", err
	}
	return addr, nil
}

func (h *Harness) startVarnish(addr, origin string, memory int) (*Process, error) {
	bin, err := LookTool("varnishd")
	if err != nil {
		return nil, err
	}
	host, port, err := splitHostPort(origin)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp(h.Dir, "varnish-")
	if err != nil {
		return nil, fmt.Errorf("varnish dir: %w", err)
	}
	_ = os.Chmod(dir, 0o755)
	vcl, err := RenderPeerConfig(dir, "default.vcl", map[string]any{"OriginHost": host, "OriginPort": port})
	if err != nil {
		return nil, err
	}
	return Start("varnishd", bin, "-F", "-f", vcl, "-a", addr, "-T", "127.0.0.1:0",
		"-s", fmt.Sprintf("malloc,%dm", memory>>20), "-n", filepath.Join(dir, "work"))
}

func (h *Harness) startNginx(addr, origin string, memory int) (*Process, error) {
	bin, err := LookTool("nginx")
	if err != nil {
		return nil, err
	}
	// The cache directory goes on tmpfs when there is one: the other caches
	// keep objects in memory, and a disk-backed directory would measure the
	// disk instead of nginx.
	base := h.Dir
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		base = "/dev/shm"
	}
	dir, err := os.MkdirTemp(base, "strata-bench-nginx-")
	if err != nil {
		return nil, fmt.Errorf("nginx dir: %w", err)
	}
	h.Cleanup(func() { _ = os.RemoveAll(dir) })
	// Workers run unprivileged and must write the cache directory.
	_ = os.Chmod(dir, 0o777)
	user := ""
	if os.Geteuid() == 0 {
		user = "root"
	}
	conf, err := RenderPeerConfig(dir, "nginx-proxy-cache.conf", map[string]any{
		"User": user, "Dir": dir, "Listen": addr, "Origin": origin, "MaxSize": fmt.Sprintf("%dm", memory>>20),
	})
	if err != nil {
		return nil, err
	}
	return Start("nginx", bin, "-p", dir, "-e", "stderr", "-c", conf)
}

func runEdgeScenario(ctx context.Context, h *Harness) error {
	h.Version(ctx, "varnishd")
	h.Version(ctx, "nginx")
	h.Version(ctx, "wrk")
	if _, err := LookTool("wrk"); err != nil {
		h.SkipAll(err)
		return nil
	}
	origin, err := FreeAddr()
	if err != nil {
		return err
	}
	if _, err := h.StartOrigin(ctx, []string{origin}, "--size", "1024", "--slow", edgeSlow.String()); err != nil {
		return err
	}
	addrs, systems := h.StartEach(ctx, []string{"strata", "varnish", "nginx"}, func(ctx context.Context, sys string) (string, error) {
		return h.startCache(ctx, sys, origin, edgeMemory)
	})
	if len(systems) == 0 {
		return nil
	}
	addrOf := func(s string) string { return addrs[s] }
	rate := Pick(h.Opts, 2000.0, 5000.0)
	dur := h.Opts.RunDuration(DefaultRun)
	h.Condition("hit", fmt.Sprintf("wrk -t2 -c%d keep-alive, %v per run, GET %s (1024-byte body, max-age=3600), memory %d MiB each", wrkConns, dur, edgeHitPath, edgeMemory>>20))
	h.Condition("hit_open_loop", fmt.Sprintf("%.0f req/s fixed rate, %d connections, latency from intended send time", rate, wrkConns))
	h.Condition("miss", fmt.Sprintf("wrk -c%d, every request a new URL (cacheable), origin answers at once", wrkConns))
	h.Condition("miss_coalesce", fmt.Sprintf("bursts of %d concurrent GETs of one new URL; origin answers after %v", edgeBurst, edgeSlow))
	steps := []struct {
		name  string
		trial Trial
	}{
		{"hit-1k", h.hitTrial(addrOf, origin)},
		{"hit-1k-open", h.OpenLoopTrial("hit-1k-open", addrOf, edgeHitPath, rate)},
		{"miss-1k", h.missTrial(addrOf)},
		{"miss-coalesce", h.coalesceTrial(addrOf, origin)},
	}
	for _, st := range steps {
		if err := h.Alternate(ctx, st.name, systems, st.trial); err != nil {
			return err
		}
	}
	return h.zipfHitRatio(ctx, origin)
}

// hitTrial is the wrk hit run plus a check that it measured hits: the
// share of requests that did not reach the origin.
func (h *Harness) hitTrial(addrOf func(string) string, origin string) Trial {
	return func(ctx context.Context, sys string) ([]Sample, error) {
		before, err := OriginCount(origin)
		if err != nil {
			return nil, err
		}
		w := loadgen.Wrk{URL: "http://" + addrOf(sys) + edgeHitPath, Conns: wrkConns, Threads: 2, Duration: h.runDuration()}
		r, err := w.Run(ctx)
		if err != nil {
			return nil, err
		}
		samples, err := wrkSamples("hit-1k", r)
		if err != nil {
			return nil, err
		}
		after, err := OriginCount(origin)
		if err != nil {
			return nil, err
		}
		hit := 1 - float64(after-before)/float64(r.Requests)
		return append(samples, Sample{"hit-1k", MetricHitRatio, hit}), nil
	}
}

// missScript makes every wrk request a URL no cache has seen: a per-thread
// prefix, a per-run nonce and a counter.
const missScript = `
local counter = 0
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  prefix = "/miss/" .. args[1] .. "-" .. tid .. "-"
end
function request()
  counter = counter + 1
  return wrk.format(nil, prefix .. counter)
end
`

func (h *Harness) missTrial(addrOf func(string) string) Trial {
	script := filepath.Join(h.Dir, "miss.lua")
	var nonce int
	return func(ctx context.Context, sys string) ([]Sample, error) {
		if err := os.WriteFile(script, []byte(missScript), 0o644); err != nil {
			return nil, fmt.Errorf("miss script: %w", err)
		}
		nonce++
		w := loadgen.Wrk{
			URL: "http://" + addrOf(sys), Conns: wrkConns, Threads: 2, Duration: h.runDuration(),
			Script: script, ScriptArgs: []string{fmt.Sprintf("%s-%d-%d", sys, nonce, time.Now().UnixNano())},
		}
		r, err := w.Run(ctx)
		if err != nil {
			return nil, err
		}
		return wrkSamples("miss-1k", r)
	}
}
