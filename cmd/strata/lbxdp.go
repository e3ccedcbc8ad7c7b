package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/health"
	"github.com/strata-dp/strata/dataplane/lb/mode"
)

// xdpBuilt reports whether this binary carries the XDP data path; until the
// XDP manager is linked in, auto never picks XDP.
const xdpBuilt = false

func startXDP(m mode.Mode, _ lbFlags, _ *slog.Logger, _ *prometheus.Registry) (lb.Applier, func(context.Context) error, func(*health.Checker), error) {
	return nil, nil, nil, fmt.Errorf("lb: %s chosen but this build has no XDP data path", m)
}
