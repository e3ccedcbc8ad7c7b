package balancer

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/health"
	"github.com/strata-dp/strata/dataplane/lb/mode"
)

// Node is a running LB node: a data path, serving, and the health checker
// that drives it.
type Node struct {
	cfg     Config
	log     *slog.Logger
	mode    mode.Mode
	path    dataPath
	checker *health.Checker
}

var _ lb.Applier = (*Node)(nil)

// New validates cfg, resolves its mode, starts that data path and applies
// cfg.Services to it through the health checker. On error nothing stays
// loaded or listening.
func New(ctx context.Context, cfg Config) (*Node, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	n := &Node{cfg: cfg, log: cfg.Logger}
	if n.log == nil {
		n.log = slog.New(slog.DiscardHandler)
	}
	chosen, reason, err := mode.Resolve(cfg.Mode, cfg.XDP.Iface)
	if err != nil {
		return nil, err
	}
	n.mode = chosen
	n.log.Info("lb mode", "requested", string(cfg.Mode), "mode", string(chosen), "reason", reason)
	// The checker comes first: the userspace proxy reports passive signals
	// to it from its first connection. It applies to the data path, which
	// exists before the first Apply.
	n.checker = health.New(applyFunc(func(ctx context.Context, c lb.Config) error {
		return n.path.Apply(ctx, c)
	}), cfg.Health.options(n.log))
	if n.path, err = startPath(chosen, cfg, n.checker, n.log); err != nil {
		return nil, err
	}
	if err := n.checker.SetConfig(ctx, cfg.Services); err != nil {
		if serr := n.path.Shutdown(context.Background()); serr != nil {
			n.log.Error("lb: stop data path", "err", serr)
		}
		return nil, fmt.Errorf("lb: apply configuration: %w", err)
	}
	return n, nil
}

// Apply replaces the services the node serves: the live configuration of a
// control plane. It goes through the health checker, so ejected backends
// stay out.
func (n *Node) Apply(ctx context.Context, cfg lb.Config) error {
	return n.checker.SetConfig(ctx, cfg)
}

// Mode is the mode that runs.
func (n *Node) Mode() mode.Mode { return n.mode }

// Register adds the node's metrics to reg: the mode in use, the health
// checker's and the data path's.
func (n *Node) Register(reg prometheus.Registerer) error {
	modeGauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "strata_lb_mode", Help: "The LB mode in use (1 for the active mode).",
	}, []string{"mode"})
	modeGauge.WithLabelValues(string(n.mode)).Set(1)
	for _, c := range []prometheus.Collector{modeGauge, n.checker.Collector(), n.path.metrics} {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("lb metrics: %w", err)
		}
	}
	return nil
}

// Run checks backends until ctx ends, then stops the data path, letting open
// connections finish for Config.Drain.
func (n *Node) Run(ctx context.Context) error {
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	healthDone := make(chan struct{})
	go func() { _ = n.checker.Run(runCtx); close(healthDone) }()
	for _, s := range n.Applied().Services {
		n.log.Info("lb serving", "service", s.Key(), "backends", len(s.Backends), "mode", string(n.mode))
	}
	<-ctx.Done()
	n.log.Info("lb draining", "for", n.cfg.Drain)
	dctx, dcancel := context.WithTimeout(context.WithoutCancel(ctx), n.cfg.Drain)
	defer dcancel()
	err := n.path.Shutdown(dctx)
	cancel()
	<-healthDone
	return err
}

// Shutdown stops the data path of a node that never ran: Run does it
// itself when its context ends.
func (n *Node) Shutdown(ctx context.Context) error { return n.path.Shutdown(ctx) }

// Applied is the configuration last applied to the data path, weights as
// health rewrote them.
func (n *Node) Applied() lb.Config { return n.checker.Applied() }

// Statuses is the health verdict on every checked backend.
func (n *Node) Statuses() []health.Status { return n.checker.Statuses() }

type applyFunc func(context.Context, lb.Config) error

func (f applyFunc) Apply(ctx context.Context, cfg lb.Config) error { return f(ctx, cfg) }
