package bench

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/strata-dp/strata/bench/loadgen"
	"github.com/valyala/fasthttp"
)

// Metric names used across scenarios. Names ending in _ms, _ns or _mib are
// "lower is better"; the report reads them that way.
const (
	MetricRPS      = "requests_per_sec"
	MetricOps      = "ops_per_sec"
	MetricP50      = "p50_ms"
	MetricP99      = "p99_ms"
	MetricP999     = "p999_ms"
	MetricHitRatio = "hit_ratio"
	MetricRSS      = "rss_mib"
	MetricNsPerPkt = "ns_per_packet"
	MetricPPS      = "packets_per_sec"
	MetricFetches  = "origin_fetches_per_burst"
	MetricBurstMs  = "burst_ms"
	MetricKeysHeld = "keys_held"
	MetricErrors   = "error_ratio"
	// MetricServerCPU is the server's processor time per operation, in
	// microseconds, read from /proc around a run.
	MetricServerCPU = "server_cpu_us_per_op"
	// MetricLoadgenCPU is the share of one processor the load generator
	// used: near 1 it, not the server, bounded the throughput.
	MetricLoadgenCPU = "loadgen_cpu"
)

// wrkConns is the closed-loop concurrency of every HTTP scenario (issue 6:
// "keep-alive load with 64 connections").
const wrkConns = 64

// StartOrigin runs the shared origin (`strata bench serve origin`) on addrs.
func (h *Harness) StartOrigin(ctx context.Context, addrs []string, extra ...string) (*Process, error) {
	args := append([]string{"serve", "origin", "--listen", strings.Join(addrs, ",")}, extra...)
	p, err := h.Strata.Start("origin", "bench", args...)
	if err != nil {
		return nil, err
	}
	h.Track(p)
	for _, a := range addrs {
		if err := p.WaitTCP(ctx, a, 10*time.Second); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// WrkTrial measures closed-loop throughput and p99 with wrk at url (the
// system's address is looked up per run by addrOf).
func (h *Harness) WrkTrial(name string, addrOf func(system string) string, path string, headers ...string) Trial {
	return func(ctx context.Context, system string) ([]Sample, error) {
		w := loadgen.Wrk{
			URL:      "http://" + addrOf(system) + path,
			Conns:    wrkConns,
			Threads:  2,
			Duration: h.runDuration(),
			Headers:  headers,
		}
		r, err := w.Run(ctx)
		if err != nil {
			return nil, err
		}
		return wrkSamples(name, r)
	}
}

// wrkSamples turns a wrk report into figures. Throughput counts successful
// answers only (a fast error page, or a 429 from admission control, is not
// throughput) and error_ratio says what share failed; a run in which most
// requests failed measured something else and is refused.
func wrkSamples(name string, r *loadgen.WrkResult) ([]Sample, error) {
	bad := r.Non2xx + r.SocketErrors
	if r.Requests == 0 {
		return nil, fmt.Errorf("wrk completed no requests")
	}
	if bad > r.Requests {
		bad = r.Requests
	}
	if bad*2 > r.Requests {
		return nil, fmt.Errorf("%d of %d requests failed (non-2xx/3xx %d, socket errors %d)", bad, r.Requests, r.Non2xx, r.SocketErrors)
	}
	ok := float64(r.Requests-bad) / float64(r.Requests)
	return []Sample{
		{name, MetricRPS, r.RequestsPerSec * ok},
		{name, MetricP99, r.P99ms},
		{name, MetricErrors, 1 - ok},
	}, nil
}

// OpenLoopTrial measures latency at a fixed rate, corrected for coordinated
// omission, and the share of requests that failed.
func (h *Harness) OpenLoopTrial(name string, addrOf func(system string) string, path string, rate float64) Trial {
	return func(ctx context.Context, system string) ([]Sample, error) {
		o := loadgen.OpenLoop{
			URL:      "http://" + addrOf(system) + path,
			Rate:     rate,
			Duration: h.runDuration(),
			Conns:    wrkConns,
		}
		r, err := o.Run(ctx)
		if err != nil {
			return nil, err
		}
		bad := r.Errors + r.Non2xx
		if r.Sent == 0 || bad*2 > r.Sent {
			return nil, fmt.Errorf("open loop: %d of %d requests failed (errors %d, non-2xx %d)", bad, r.Sent, r.Errors, r.Non2xx)
		}
		ms := func(q float64) float64 { return float64(r.Hist.Quantile(q)) / float64(time.Millisecond) }
		return []Sample{
			{name, MetricP50, ms(0.50)},
			{name, MetricP99, ms(0.99)},
			{name, MetricP999, ms(0.999)},
			{name, MetricErrors, float64(bad) / float64(r.Sent)},
		}, nil
	}
}

// WaitHTTP waits until GET url answers 200, failing early if p exits.
func WaitHTTP(ctx context.Context, p *Process, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var last string
	for {
		status, _, err := fasthttp.GetTimeout(nil, url, time.Second)
		if err == nil && status == fasthttp.StatusOK {
			return nil
		}
		if err != nil {
			last = err.Error()
		} else {
			last = "status " + strconv.Itoa(status)
		}
		if p != nil {
			if done, perr := p.Exited(); done {
				return fmt.Errorf("%w: %s exited (%v): %s", ErrNotReady, p.Name, perr, p.Output())
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			out := ""
			if p != nil {
				out = ": " + p.Output()
			}
			return fmt.Errorf("%w: GET %s did not answer 200 within %v (last: %s)%s", ErrNotReady, url, timeout, last, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("address %q: %w", addr, err)
	}
	return host, port, nil
}

func mkdir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("mkdir: %w", err)
	}
	return nil
}
