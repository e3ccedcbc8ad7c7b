package main

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/health"
	"github.com/strata-dp/strata/dataplane/lb/mode"
	"github.com/strata-dp/strata/dataplane/lb/xdp"
)

// startXDP loads and attaches the XDP balancer. Health in the xdp modes is
// the active checks only: the program's per-backend counters are exported
// as metrics (strata_lb_xdp_*), not fed back.
func startXDP(m mode.Mode, f lbFlags, log *slog.Logger, reg *prometheus.Registry) (lb.Applier, func(context.Context) error, func(*health.Checker), error) {
	attach := xdp.ModeNative
	if m == mode.XDPGeneric {
		attach = xdp.ModeGeneric
	}
	b, err := xdp.New(xdp.Options{Iface: f.iface, Mode: attach, PinDir: f.pinDir, UnpinOnClose: f.unpin, Logger: log})
	if err != nil {
		return nil, nil, nil, err
	}
	reg.MustRegister(b) // the balancer exports its per-CPU counters itself
	shutdown := func(context.Context) error { return b.Close() }
	return b, shutdown, func(*health.Checker) {}, nil
}
