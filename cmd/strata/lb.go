package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/health"
	"github.com/strata-dp/strata/dataplane/lb/mode"
	"github.com/strata-dp/strata/dataplane/lb/userspace"
	"github.com/strata-dp/strata/internal/bytesize"
	"github.com/strata-dp/strata/internal/config"
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
	fs.StringVar(&f.mode, "mode", "auto", "xdp, xdp-native, xdp-generic, userspace or auto (best the host allows)")
	fs.StringVar(&f.vip, "vip", "", "virtual service address ADDR:PORT (or use --config)")
	fs.Var(&f.backends, "backend", "backend ADDR:PORT[=WEIGHT], repeatable or comma-separated")
	fs.StringVar(&f.proto, "proto", "tcp", "protocol of the --vip service: tcp or udp (udp: xdp modes only)")
	fs.StringVar(&f.scheduler, "scheduler", "maglev", "maglev or wrr")
	fs.StringVar(&f.forwarding, "forwarding", "l2", "xdp modes: l2 (rewrite MAC) or ipip (encapsulate)")
	fs.StringVar(&f.iface, "iface", "", "interface for the xdp modes (auto probes it)")
	fs.StringVar(&f.config, "config", "", "the stack configuration (docs/CONFIG.md): serve its lb.services with its lb.health policy")
	fs.StringVar(&f.health, "health", "tcp", "active check: tcp, http:/PATH or off")
	fs.DurationVar(&f.healthInterval, "health-interval", health.DefaultInterval, "interval between checks of one backend")
	fs.DurationVar(&f.healthTimeout, "health-timeout", health.DefaultTimeout, "timeout of one check")
	fs.IntVar(&f.rise, "rise", health.DefaultRise, "successes that bring a backend back")
	fs.IntVar(&f.fall, "fall", health.DefaultFall, "failures that eject a backend")
	fs.DurationVar(&f.slowStart, "slow-start", health.DefaultSlowStart, "ramp a returning backend's weight over this long (0: off)")
	fs.Float64Var(&f.maxEjected, "max-ejected", health.DefaultMaxEjectedShare, "largest share of a service's backends ejected at once (0..1]")
	fs.DurationVar(&f.connectTimeout, "connect-timeout", time.Second, "userspace: backend connect timeout")
	fs.DurationVar(&f.idleTimeout, "idle-timeout", 5*time.Minute, "userspace: close sessions idle this long")
	fs.DurationVar(&f.firstByteTimeout, "first-byte-timeout", userspace.DefaultFirstByteTimeout, "userspace: a session whose backend sends nothing this long after the client's first bytes counts against the backend (0: off)")
	fs.IntVar(&f.outliers, "outliers", health.DefaultOutliers, "userspace: consecutive unanswered sessions that eject a backend as an outlier (0: off)")
	fs.DurationVar(&f.outlierEjection, "outlier-ejection", health.DefaultOutlierEjection, "how long an outlier's first ejection lasts; each further one lasts one more, up to 10x")
	fs.IntVar(&f.maxConns, "max-conns", 50000, "userspace: concurrent client connections per service")
	f.maxBuffered = userspace.DefaultMaxBuffered
	fs.Var(&f.maxBuffered, "max-buffered", "userspace: bytes queued toward one side of a session before the other side is no longer read (backpressure; 4KiB..64MiB)")
	fs.IntVar(&f.loops, "loops", 0, "userspace: gnet event loops per service (0: GOMAXPROCS)")
	fs.StringVar(&f.pinDir, "pin-dir", "", "xdp modes: bpffs directory for the pinned maps (default /sys/fs/bpf/strata)")
	fs.BoolVar(&f.unpin, "unpin", false, "xdp modes: remove the pinned maps on exit (drops tracked flows)")
	fs.DurationVar(&f.drain, "drain", 5*time.Second, "on SIGTERM, let open connections finish this long")
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

// config builds the LB configuration from --config or the single-service
// flags; every bad value is a usage error naming its flag.
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
	if svc.VIP, err = parseAddrPort(f.vip); err != nil {
		return lb.Config{}, usagef("--vip: %q is not ADDR:PORT", f.vip)
	}
	if svc.Proto, err = lb.ParseProto(f.proto); err != nil {
		return lb.Config{}, usagef("--proto: %v", err)
	}
	switch svc.Scheduler {
	case lb.Maglev, lb.RoundRobin:
	default:
		return lb.Config{}, usagef("--scheduler: %q is not one of maglev, wrr", f.scheduler)
	}
	switch svc.Forwarding {
	case lb.L2, lb.IPIP:
	default:
		return lb.Config{}, usagef("--forwarding: %q is not one of l2, ipip", f.forwarding)
	}
	for _, s := range f.backends {
		b, err := lb.ParseBackend(s)
		if err != nil {
			return lb.Config{}, usagef("--backend: %v", err)
		}
		svc.Backends = append(svc.Backends, b)
	}
	cfg := lb.Config{Services: []lb.Service{svc}}
	if err := cfg.Validate(); err != nil {
		return lb.Config{}, usagef("%v", err)
	}
	return cfg, nil
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
	// checks below judge the values in effect.
	cfg, err := f.lbConfig()
	if err != nil {
		return err
	}
	want, err := mode.Parse(f.mode)
	if err != nil {
		return usagef("%v", err)
	}
	kind, path, err := health.ParseSpec(f.health)
	if err != nil {
		return usagef("--health: %v", err)
	}
	if f.maxEjected <= 0 || f.maxEjected > 1 {
		return usagef("--max-ejected: %v is not in (0, 1]", f.maxEjected)
	}
	if f.rise < 1 || f.fall < 1 || f.maxConns < 1 {
		return usagef("--rise, --fall and --max-conns must be at least 1")
	}
	if f.maxBuffered < 4<<10 || f.maxBuffered > 64<<20 {
		return usagef("--max-buffered: %v is not in 4KiB..64MiB", f.maxBuffered)
	}
	if f.firstByteTimeout < 0 || f.outliers < 0 || f.outlierEjection <= 0 {
		return usagef("--first-byte-timeout and --outliers must be at least 0, --outlier-ejection positive")
	}
	if f.loops < 0 || f.loops > 1024 {
		return usagef("--loops: %d is not in 0..1024", f.loops)
	}
	log, err := tf.Logger(env.stderr)
	if err != nil {
		return usagef("%v", err)
	}
	chosen, reason, err := resolveMode(want, f.iface)
	if err != nil {
		return err
	}
	log.Info("lb mode", "requested", string(want), "mode", string(chosen), "reason", reason)

	ts := telemetry.NewServer()
	if err := ts.Listen(tf.MetricsAddr); err != nil {
		return err
	}
	modeGauge := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "strata_lb_mode", Help: "The LB mode in use (1 for the active mode).",
	}, []string{"mode"})
	modeGauge.WithLabelValues(string(chosen)).Set(1)
	ts.Registry.MustRegister(modeGauge)

	slow := f.slowStart
	if slow == 0 {
		slow = -1
	}
	outliers := f.outliers
	if outliers == 0 {
		outliers = -1
	}
	hopts := health.Options{Kind: kind, Path: path, Interval: f.healthInterval, Timeout: f.healthTimeout,
		Rise: f.rise, Fall: f.fall, SlowStart: slow, MaxEjectedShare: f.maxEjected,
		Outliers: outliers, OutlierEjection: f.outlierEjection, Logger: log}

	applier, shutdown, observe, err := startDataPath(chosen, f, log, ts.Registry)
	if err != nil {
		return err
	}
	checker := health.New(applier, hopts)
	ts.Registry.MustRegister(checker.Collector())
	observe(checker)
	if err := checker.SetConfig(ctx, cfg); err != nil {
		shutdown(context.Background())
		return fmt.Errorf("lb: apply configuration: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	healthDone := make(chan struct{})
	go func() { checker.Run(runCtx); close(healthDone) }()
	metricsDone := make(chan struct{})
	go func() { ts.Serve(runCtx, nil); close(metricsDone) }()
	ts.SetReady(true)
	for _, s := range cfg.Services {
		log.Info("lb serving", "service", s.Key(), "backends", len(s.Backends), "mode", string(chosen))
	}
	<-ctx.Done()
	ts.SetReady(false)
	log.Info("lb draining", "for", f.drain)
	dctx, dcancel := context.WithTimeout(context.Background(), f.drain)
	defer dcancel()
	err = shutdown(dctx)
	cancel()
	<-healthDone
	<-metricsDone
	return err
}

// resolveMode turns the requested mode into the one that runs.
func resolveMode(want mode.Mode, iface string) (mode.Mode, string, error) {
	if want == mode.Userspace {
		return mode.Userspace, "requested", nil
	}
	r := mode.Detect(iface)
	if want == mode.Auto {
		if r.Choice.IsXDP() && !xdpBuilt {
			return mode.Userspace, r.Reason + "; this build has no XDP data path", nil
		}
		return r.Choice, r.Reason, nil
	}
	if iface == "" {
		return "", "", usagef("--iface is required for --mode %s", want)
	}
	if !xdpBuilt {
		return "", "", usagef("--mode %s: this build has no XDP data path (use userspace or auto)", want)
	}
	if (want == mode.XDPNative && !r.Native) || (want == mode.XDPGeneric && !r.Generic) {
		return "", "", fmt.Errorf("lb: --mode %s not possible here: %s", want, r.Reason)
	}
	return want, "requested", nil
}

// startDataPath starts the chosen data path and returns it as an Applier,
// its shutdown, and a hook that connects passive health signals.
func startDataPath(m mode.Mode, f lbFlags, log *slog.Logger, reg *prometheus.Registry) (lb.Applier, func(context.Context) error, func(*health.Checker), error) {
	if m.IsXDP() {
		return startXDP(m, f, log, reg)
	}

	var obs observerHook
	firstByte := f.firstByteTimeout
	if firstByte == 0 {
		firstByte = -1
	}
	p := userspace.New(userspace.Options{
		ConnectTimeout: f.connectTimeout, IdleTimeout: f.idleTimeout, MaxConns: f.maxConns, Loops: f.loops,
		MaxBuffered: int(f.maxBuffered), FirstByteTimeout: firstByte,
		Observer: &obs, Logger: log,
	})
	reg.MustRegister(p.Collector())
	return p, p.Shutdown, func(c *health.Checker) { obs.set(c) }, nil
}

// observerHook forwards the proxy's passive signals to the health checker,
// which is created after the proxy.
type observerHook struct {
	c atomic.Pointer[health.Checker]
}

func (o *observerHook) set(c *health.Checker) { o.c.Store(c) }

func (o *observerHook) ObservePassive(b netip.AddrPort, s userspace.Signal) {
	if c := o.c.Load(); c != nil {
		c.ObservePassive(b, s)
	}
}

func parseAddrPort(s string) (netip.AddrPort, error) { return netip.ParseAddrPort(s) }
