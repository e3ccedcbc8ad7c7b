package main

import (
	"context"
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

func runOrigin(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("origin", "--listen ADDR [--latency DIST] [--error-rate F] [flags]", env)
	listen := fs.String("listen", "127.0.0.1:8200", "serve the origin on this address")
	latency := fs.String("latency", "none", "latency of every route: none, 5ms, fixed:5ms, uniform:1ms-10ms, normal:10ms,2ms, exp:5ms or hang")
	errorRate := fs.Float64("error-rate", 0, "share of requests answered 500, 0..1")
	var routeLatency, routeErrors stringList
	fs.Var(&routeLatency, "route-latency", "ROUTE=DIST: latency of one route prefix, e.g. /svc/reviews=hang (repeatable)")
	fs.Var(&routeErrors, "route-error-rate", "ROUTE=F: error rate of one route prefix, e.g. /svc/pricing=0.1 (repeatable)")
	workers := fs.Int("workers", 0, "serve at most N requests at once, queueing the rest (0: no bound)")
	products := fs.Int("products", 1000, "number of products, ids 1..N")
	var tf telemetry.Flags
	tf.Bind(fs, "")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	def, err := origin.ParseDist(*latency)
	if err != nil {
		return usagef("--latency: %v", err)
	}
	if *errorRate < 0 || *errorRate > 1 {
		return usagef("--error-rate: %v is outside 0..1", *errorRate)
	}
	if *workers < 0 {
		return usagef("--workers: %d is negative", *workers)
	}
	if *products < 1 {
		return usagef("--products: %d must be at least 1", *products)
	}
	cfg := origin.Config{Default: origin.Shape{Latency: def, ErrorRate: *errorRate}, Routes: map[string]origin.Shape{},
		Workers: *workers, Products: *products}
	for _, rl := range routeLatency {
		route, dist, ok := strings.Cut(rl, "=")
		d, err := origin.ParseDist(dist)
		if !ok || !strings.HasPrefix(route, "/") || err != nil {
			return usagef("--route-latency: %q: want /ROUTE=DIST (%v)", rl, err)
		}
		sh, found := cfg.Routes[route]
		if !found {
			sh.ErrorRate = *errorRate
		}
		sh.Latency = d
		cfg.Routes[route] = sh
	}
	for _, re := range routeErrors {
		route, rate, ok := strings.Cut(re, "=")
		f, err := strconv.ParseFloat(rate, 64)
		if !ok || !strings.HasPrefix(route, "/") || err != nil || f < 0 || f > 1 {
			return usagef("--route-error-rate: %q: want /ROUTE=F with F in 0..1", re)
		}
		sh, found := cfg.Routes[route]
		if !found {
			sh.Latency = def
		}
		sh.ErrorRate = f
		cfg.Routes[route] = sh
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
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	if err := ts.Listen(tf.MetricsAddr); err != nil {
		ln.Close()
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
		Attrs: []any{"listen", ln.Addr().String(), "latency", def.String(), "error_rate", *errorRate,
			"workers", *workers, "metrics", ts.Addr()},
	})
}
