package balancer

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/mode"
	"github.com/strata-dp/strata/dataplane/lb/userspace"
	"github.com/strata-dp/strata/dataplane/lb/xdp"
)

// dataPath is the mode that carries the traffic, as the node drives it.
type dataPath struct {
	lb.Applier
	shutdown func(context.Context) error
	metrics  prometheus.Collector
}

func (p dataPath) Shutdown(ctx context.Context) error { return p.shutdown(ctx) }

// startPath starts the data path of a resolved mode. Passive signals go to
// obs; in the xdp modes there are none (the program's per-backend counters
// are exported as metrics, strata_lb_backend_* and strata_lb_xdp_*, not fed
// back).
func startPath(m mode.Mode, cfg Config, obs lb.Observer, log *slog.Logger) (dataPath, error) {
	if m.IsXDP() {
		attach := xdp.ModeNative
		if m == mode.XDPGeneric {
			attach = xdp.ModeGeneric
		}
		b, err := xdp.New(xdp.Options{Iface: cfg.XDP.Iface, Mode: attach, PinDir: cfg.XDP.PinDir, UnpinOnClose: cfg.XDP.Unpin, Logger: log})
		if err != nil {
			return dataPath{}, err
		}
		// The balancer exports its per-CPU counters itself.
		return dataPath{Applier: b, shutdown: func(context.Context) error { return b.Close() }, metrics: b}, nil
	}
	p := userspace.New(cfg.Proxy.options(obs, log))
	return dataPath{Applier: p, shutdown: p.Shutdown, metrics: p.Collector()}, nil
}
