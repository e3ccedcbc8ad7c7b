package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/strata-dp/strata/internal/lifecycle"
	"github.com/strata-dp/strata/internal/origin"
	"github.com/strata-dp/strata/internal/telemetry"
)

func init() {
	register(&command{
		name:    "origin",
		summary: "run the sample origin: a backend simulator with shaped latency and errors",
		run:     runOrigin,
	})
}

// originFlags are the sample origin's flags.
type originFlags struct {
	listen, latency           string
	errorRate                 float64
	routeLatency, routeErrors stringList
	workers, products         int
}

func (f *originFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8200", "serve the origin on this address")
	fs.StringVar(&f.latency, "latency", "none", "latency of every route: none, 5ms, fixed:5ms, uniform:1ms-10ms, normal:10ms,2ms, exp:5ms or hang")
	fs.Float64Var(&f.errorRate, "error-rate", 0, "share of requests answered 500, 0..1")
	fs.Var(&f.routeLatency, "route-latency", "ROUTE=DIST: latency of one route prefix, e.g. /svc/reviews=hang (repeatable)")
	fs.Var(&f.routeErrors, "route-error-rate", "ROUTE=F: error rate of one route prefix, e.g. /svc/pricing=0.1 (repeatable)")
	fs.IntVar(&f.workers, "workers", 0, "serve at most N requests at once, queueing the rest (0: no bound)")
	fs.IntVar(&f.products, "products", 1000, "number of products, ids 1..N")
}

// config is the origin's configuration without its Registry; a value that
// does not parse or is out of range is a usage error naming its flag.
func (f *originFlags) config() (origin.Config, error) {
	def, err := origin.ParseDist(f.latency)
	if err != nil {
		return origin.Config{}, usagef("--latency: %v", err)
	}
	if f.errorRate < 0 || f.errorRate > 1 {
		return origin.Config{}, usagef("--error-rate: %v is outside 0..1", f.errorRate)
	}
	if f.workers < 0 {
		return origin.Config{}, usagef("--workers: %d is negative", f.workers)
	}
	if f.products < 1 {
		return origin.Config{}, usagef("--products: %d must be at least 1", f.products)
	}
	cfg := origin.Config{Default: origin.Shape{Latency: def, ErrorRate: f.errorRate}, Routes: map[string]origin.Shape{},
		Workers: f.workers, Products: f.products}
	for _, rl := range f.routeLatency {
		route, dist, ok := strings.Cut(rl, "=")
		d, err := origin.ParseDist(dist)
		if !ok || !strings.HasPrefix(route, "/") || err != nil {
			return cfg, usagef("--route-latency: %q: want /ROUTE=DIST (%v)", rl, err)
		}
		sh, found := cfg.Routes[route]
		if !found {
			sh.ErrorRate = f.errorRate
		}
		sh.Latency = d
		cfg.Routes[route] = sh
	}
	for _, re := range f.routeErrors {
		route, rate, ok := strings.Cut(re, "=")
		r, err := strconv.ParseFloat(rate, 64)
		if !ok || !strings.HasPrefix(route, "/") || err != nil || r < 0 || r > 1 {
			return cfg, usagef("--route-error-rate: %q: want /ROUTE=F with F in 0..1", re)
		}
		sh, found := cfg.Routes[route]
		if !found {
			sh.Latency = def
		}
		sh.ErrorRate = r
		cfg.Routes[route] = sh
	}
	return cfg, nil
}

func runOrigin(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("origin", "--listen ADDR [--latency DIST] [--error-rate F] [flags]", env)
	var f originFlags
	f.bind(fs)
	var tf telemetry.Flags
	tf.Bind(fs, "")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	cfg, err := f.config()
	if err != nil {
		return err
	}
	log, err := tf.Logger(env.stderr)
	if err != nil {
		return usagef("%v", err)
	}
	ts := telemetry.NewServer()
	cfg.Registry = ts.Registry
	srv, err := origin.New(cfg)
	if err != nil {
		return usagef("%v", err)
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", f.listen, err)
	}
	if err := ts.Listen(tf.MetricsAddr); err != nil {
		_ = ln.Close()
		return err
	}
	return lifecycle.Run(ctx, lifecycle.Role{
		Name: "origin", Log: log, Telemetry: ts,
		Serve: func(context.Context) error {
			if err := srv.Serve(ln); err != nil {
				return fmt.Errorf("origin: %w", err)
			}
			return nil
		},
		Shutdown: srv.Shutdown,
		Attrs: []any{"listen", ln.Addr().String(), "latency", cfg.Default.Latency.String(), "error_rate", f.errorRate,
			"workers", f.workers, "metrics", ts.Addr()},
	})
}
