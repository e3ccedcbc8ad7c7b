package main

import (
	"context"
	"flag"
	"log/slog"
	"net/netip"
	"os"
	"time"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/balancer"
	"github.com/strata-dp/strata/dataplane/lb/mode"
	"github.com/strata-dp/strata/internal/bytesize"
	"github.com/strata-dp/strata/internal/config"
	"github.com/strata-dp/strata/internal/lifecycle"
	"github.com/strata-dp/strata/internal/telemetry"
)

func init() {
	register(&command{
		name:    "lb",
		summary: "the load balancer: XDP (native or generic) or the userspace gnet proxy",
		run:     runLB,
	})
}

func lbProbeIface() string { return os.Getenv("STRATA_LB_IFACE") }

type lbFlags struct {
	mode, vip, proto, scheduler, forwarding, iface, config, health string
	backends                                                       stringList
	healthInterval, healthTimeout, slowStart                       time.Duration
	rise, fall                                                     int
	maxEjected                                                     float64
	connectTimeout, idleTimeout, drain                             time.Duration
	maxConns, loops                                                int
	maxBuffered                                                    bytesize.Size
	firstByteTimeout, outlierEjection                              time.Duration
	outliers                                                       int
	pinDir                                                         string
	unpin                                                          bool
	set                                                            map[string]bool // flags given explicitly
}

func (f *lbFlags) bind(fs *flag.FlagSet) {
	d := balancer.DefaultConfig(lb.Config{})
	fs.StringVar(&f.mode, "mode", string(d.Mode), "xdp, xdp-native, xdp-generic, userspace or auto (best the host allows)")
	fs.StringVar(&f.vip, "vip", "", "virtual service address ADDR:PORT (or use --config)")
	fs.Var(&f.backends, "backend", "backend ADDR:PORT[=WEIGHT], repeatable or comma-separated")
	fs.StringVar(&f.proto, "proto", lb.DefaultProto.String(), "protocol of the --vip service: tcp or udp (udp: xdp modes only)")
	fs.StringVar(&f.scheduler, "scheduler", string(lb.DefaultScheduler), "maglev or wrr")
	fs.StringVar(&f.forwarding, "forwarding", string(lb.DefaultForwarding), "xdp modes: l2 (rewrite MAC) or ipip (encapsulate)")
	fs.StringVar(&f.iface, "iface", "", "interface for the xdp modes (auto probes it)")
	fs.StringVar(&f.config, "config", "", "the stack configuration (docs/CONFIG.md): serve its lb.services with its lb.health policy")
	fs.StringVar(&f.health, "health", d.Health.Check, "active check: tcp, http:/PATH or off")
	fs.DurationVar(&f.healthInterval, "health-interval", d.Health.Interval, "interval between checks of one backend")
	fs.DurationVar(&f.healthTimeout, "health-timeout", d.Health.Timeout, "timeout of one check")
	fs.IntVar(&f.rise, "rise", d.Health.Rise, "successes that bring a backend back")
	fs.IntVar(&f.fall, "fall", d.Health.Fall, "failures that eject a backend")
	fs.DurationVar(&f.slowStart, "slow-start", d.Health.SlowStart, "ramp a returning backend's weight over this long (0: off)")
	fs.Float64Var(&f.maxEjected, "max-ejected", d.Health.MaxEjected, "largest share of a service's backends ejected at once (0..1]")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", d.Proxy.ConnectTimeout, "userspace: backend connect timeout")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", d.Proxy.IdleTimeout, "userspace: close sessions idle this long")
	fs.DurationVar(&f.firstByteTimeout, "first-byte-timeout", d.Proxy.FirstByteTimeout, "userspace: a session whose backend sends nothing this long after the client's first bytes counts against the backend (0: off)")
	fs.IntVar(&f.outliers, "outliers", d.Health.Outliers, "userspace: consecutive unanswered sessions that eject a backend as an outlier (0: off)")
	fs.DurationVar(&f.outlierEjection, "outlier-ejection", d.Health.OutlierEjection, "how long an outlier's first ejection lasts; each further one lasts one more, up to 10x")
	fs.IntVar(&f.maxConns, "max-conns", d.Proxy.MaxConns, "userspace: concurrent client connections per service")
	f.maxBuffered = bytesize.Size(d.Proxy.MaxBuffered)
	fs.Var(&f.maxBuffered, "max-buffered", "userspace: bytes queued toward one side of a session before the other side is no longer read (backpressure; 4KiB..64MiB)")
	fs.IntVar(&f.loops, "loops", d.Proxy.Loops, "userspace: gnet event loops per service (0: GOMAXPROCS)")
	fs.StringVar(&f.pinDir, "pin-dir", "", "xdp modes: bpffs directory for the pinned maps (default /sys/fs/bpf/strata)")
	fs.BoolVar(&f.unpin, "unpin", false, "xdp modes: remove the pinned maps on exit (drops tracked flows)")
	fs.DurationVar(&f.drain, "drain", d.Drain, "on SIGTERM, let open connections finish this long")
}

// healthFrom takes the health policy of the stack file for every health
// flag that was not given on the command line.
func (f *lbFlags) healthFrom(h config.Health) {
	if !f.set["health"] {
		f.health = h.Check
	}
	if !f.set["health-interval"] {
		f.healthInterval = h.Interval
	}
	if !f.set["health-timeout"] {
		f.healthTimeout = h.Timeout
	}
	if !f.set["rise"] {
		f.rise = h.Rise
	}
	if !f.set["fall"] {
		f.fall = h.Fall
	}
	if !f.set["max-ejected"] {
		f.maxEjected = h.MaxEjected
	}
}

// lbConfig parses the services from --config or the single-service flags;
// a value that does not parse is a usage error naming its flag. Judging the
// values is the node's (balancer.Config.Validate).
func (f *lbFlags) lbConfig() (lb.Config, error) {
	if f.config != "" {
		if f.vip != "" || len(f.backends) > 0 {
			return lb.Config{}, usagef("--config and --vip/--backend are exclusive")
		}
		stack, err := config.Load(f.config)
		if err != nil {
			return lb.Config{}, usagef("--config: %v", err)
		}
		cfg, err := stack.LBConfig()
		if err != nil {
			return lb.Config{}, usagef("--config: %v", err)
		}
		f.healthFrom(stack.LB.Health)
		return cfg, nil
	}
	if f.vip == "" || len(f.backends) == 0 {
		return lb.Config{}, usagef("need --vip and at least one --backend (or --config FILE)")
	}
	svc := lb.Service{Name: "default", Scheduler: lb.Scheduler(f.scheduler), Forwarding: lb.Forwarding(f.forwarding)}
	var err error
	if svc.VIP, err = netip.ParseAddrPort(f.vip); err != nil {
		return lb.Config{}, usagef("--vip: %q is not ADDR:PORT", f.vip)
	}
	if svc.Proto, err = lb.ParseProto(f.proto); err != nil {
		return lb.Config{}, usagef("--proto: %v", err)
	}
	for _, s := range f.backends {
		b, err := lb.ParseBackend(s)
		if err != nil {
			return lb.Config{}, usagef("--backend: %v", err)
		}
		svc.Backends = append(svc.Backends, b)
	}
	return lb.Config{Services: []lb.Service{svc}}, nil
}

// nodeConfig is the node the flags describe, serving services.
func (f *lbFlags) nodeConfig(services lb.Config, want mode.Mode, log *slog.Logger) balancer.Config {
	return balancer.Config{
		Services: services,
		Mode:     want,
		Health: balancer.Health{
			Check: f.health, Interval: f.healthInterval, Timeout: f.healthTimeout, Rise: f.rise, Fall: f.fall,
			SlowStart: f.slowStart, MaxEjected: f.maxEjected, Outliers: f.outliers, OutlierEjection: f.outlierEjection,
		},
		Proxy: balancer.Proxy{
			ConnectTimeout: f.connectTimeout, IdleTimeout: f.idleTimeout, FirstByteTimeout: f.firstByteTimeout,
			MaxConns: f.maxConns, MaxBuffered: int(f.maxBuffered), Loops: f.loops,
		},
		XDP:    balancer.XDP{Iface: f.iface, PinDir: f.pinDir, Unpin: f.unpin},
		Drain:  f.drain,
		Logger: log,
	}
}

func runLB(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("lb", "--mode xdp|userspace|auto --vip ADDR:PORT --backend ADDR:PORT[=WEIGHT] ... [--iface IFACE] [--config FILE] [--health tcp|http:/path|off]", env)
	var f lbFlags
	f.bind(fs)
	var tf telemetry.Flags
	tf.Bind(fs, "")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	// The services (and, with --config, the health policy) come first: the
	// node judges the values in effect.
	services, err := f.lbConfig()
	if err != nil {
		return err
	}
	want, err := mode.Parse(f.mode)
	if err != nil {
		return usagef("%v", err)
	}
	log, err := tf.Logger(env.stderr)
	if err != nil {
		return usagef("%v", err)
	}
	cfg := f.nodeConfig(services, want, log)
	if err := cfg.Validate(); err != nil {
		return usagef("%v", err)
	}

	ts := telemetry.NewServer()
	if err := ts.Listen(tf.MetricsAddr); err != nil {
		return err
	}
	node, err := balancer.New(ctx, cfg)
	if err != nil {
		return err
	}
	if err := node.Register(ts.Registry); err != nil {
		_ = node.Shutdown(context.Background()) // the registration error is the one to report
		return err
	}
	// The node drains by itself (--drain) once ctx is done.
	return lifecycle.Run(ctx, lifecycle.Role{
		Name: "lb node", Log: log, Telemetry: ts, Serve: node.Run,
		Attrs: []any{"mode", string(node.Mode()), "metrics", ts.Addr()},
	})
}
