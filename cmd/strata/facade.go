package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/strata-dp/strata/dataplane/state/client"
	"github.com/strata-dp/strata/facade"
	"github.com/strata-dp/strata/facade/sample"
	"github.com/strata-dp/strata/facade/statestore"
	"github.com/strata-dp/strata/internal/accesslog"
	"github.com/strata-dp/strata/internal/bytesize"
	"github.com/strata-dp/strata/internal/lifecycle"
	"github.com/strata-dp/strata/internal/secret"
	"github.com/strata-dp/strata/internal/telemetry"
)

func init() {
	register(&command{
		name:    "facade",
		summary: "run a facade node of the sample application",
		run:     runFacade,
	})
}

// facadeFlags are a facade node's flags.
type facadeFlags struct {
	listen, stateSecretFile, origin, nodeID string
	state, trustPriority                    stringList
	maxInflight, queueLen                   int
	fixedLimit                              bool
	maxQueueTime, requestTimeout            time.Duration
	drainDelay, drainTimeout                time.Duration
	bodyBuffer                              bytesize.Size
}

func (f *facadeFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8101", "serve the facade on this address")
	fs.Var(&f.state, "state", "state node ADDR (binary protocol); repeatable or comma-separated (required)")
	fs.StringVar(&f.stateSecretFile, "state-secret-file", "", "file holding the state tier's shared secret (the nodes' --auth-secret-file), sent with AUTH on every connection")
	fs.StringVar(&f.origin, "origin", "http://127.0.0.1:8200", "base URL of the sample origin")
	fs.StringVar(&f.nodeID, "node-id", "", "id of this node in /whoami and load reports (default: facade-PORT)")
	fs.IntVar(&f.maxInflight, "max-inflight", facade.DefaultMaxInflight, "most requests run at once; the adaptive limit stays at or below it")
	fs.BoolVar(&f.fixedLimit, "fixed-limit", false, "use --max-inflight as a fixed limit instead of adapting it")
	fs.IntVar(&f.queueLen, "queue-len", facade.DefaultQueueLen, "waiting requests per priority class before rejecting with 429")
	fs.DurationVar(&f.maxQueueTime, "max-queue-time", facade.DefaultMaxQueueTime, "longest wait for admission before rejecting with 503 (high priority: 4x)")
	fs.DurationVar(&f.requestTimeout, "request-timeout", facade.DefaultRequestTimeout, "time budget of one request (its deadline)")
	fs.DurationVar(&f.drainDelay, "drain-delay", facade.DefaultDrainDelay, "on SIGTERM, keep serving this long after /readyz turns false")
	fs.DurationVar(&f.drainTimeout, "drain-timeout", facade.DefaultDrainTimeout, "on SIGTERM, longest wait for in-flight requests")
	f.bodyBuffer = facade.DefaultMaxBodyBuffer
	fs.Var(&f.bodyBuffer, "max-body-buffer", "request-body bytes all requests may hold at once (memory is taken as bytes arrive); a request whose body would pass it gets 503 and close. At least the 1MiB body limit")
	fs.Var(&f.trustPriority, "trust-priority-from", "peers whose X-Strata-Priority header is honoured (CIDR, repeatable or comma-separated; none: nobody); "+
		"from others it is ignored and the route's class applies. Default loopback, where the userspace LB connects from")
}

// config is the facade's configuration without its Store, Logger and
// Registry, and the state tier's secret; values only the command line can
// get wrong are usage errors naming their flag.
func (f *facadeFlags) config() (facade.Config, []byte, error) {
	var cfg facade.Config
	if len(f.state) == 0 {
		return cfg, nil, usagef("--state: at least one state node address is required")
	}
	for _, a := range f.state {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return cfg, nil, usagef("--state: %q is not HOST:PORT", a)
		}
	}
	switch {
	case f.maxInflight < 1:
		return cfg, nil, usagef("--max-inflight: %d must be at least 1", f.maxInflight)
	case f.queueLen < 1:
		return cfg, nil, usagef("--queue-len: %d must be at least 1", f.queueLen)
	case f.maxQueueTime <= 0:
		return cfg, nil, usagef("--max-queue-time: %v must be positive", f.maxQueueTime)
	case f.requestTimeout <= 0:
		return cfg, nil, usagef("--request-timeout: %v must be positive", f.requestTimeout)
	case f.drainDelay < 0 || f.drainTimeout <= 0:
		return cfg, nil, usagef("--drain-delay and --drain-timeout: must not be negative")
	case f.bodyBuffer < facade.DefaultMaxRequestBodySize:
		return cfg, nil, usagef("--max-body-buffer: %d is below the largest request body (1MiB)", f.bodyBuffer)
	}
	var stateSecret []byte
	if f.stateSecretFile != "" {
		var err error
		if stateSecret, err = secret.Read(f.stateSecretFile); err != nil {
			return cfg, nil, usagef("--state-secret-file: %v", err)
		}
	}
	trust, err := parseTrustPriority(f.trustPriority)
	if err != nil {
		return cfg, nil, err
	}
	id := f.nodeID
	if id == "" {
		_, port, err := net.SplitHostPort(f.listen)
		if err != nil {
			return cfg, nil, usagef("--listen: %q is not HOST:PORT", f.listen)
		}
		id = "facade-" + port
	}
	return facade.Config{
		NodeID:            id,
		RequestTimeout:    f.requestTimeout,
		DrainDelay:        f.drainDelay,
		TrustPriorityFrom: trust,
		MaxBodyBuffer:     int64(f.bodyBuffer),
		Admission: facade.AdmissionConfig{
			MaxInflight:  f.maxInflight,
			FixedLimit:   f.fixedLimit,
			QueueLen:     f.queueLen,
			MaxQueueTime: f.maxQueueTime,
		},
	}, stateSecret, nil
}

func runFacade(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("facade", "--listen ADDR --state ADDR[,ADDR...] --origin URL [flags]", env)
	var f facadeFlags
	f.bind(fs)
	var tf telemetry.Flags
	tf.Bind(fs, "")
	var alf accesslog.Flags
	alf.Bind(fs)
	fs.Lookup("metrics").Usage = "serve /metrics, /healthz, /readyz and the load report GET /load on this address (empty: off)"
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	cfg, stateSecret, err := f.config()
	if err != nil {
		return err
	}
	if cfg.Logger, err = tf.Logger(env.stderr); err != nil {
		return usagef("%v", err)
	}
	accessLog, closeAccessLog, err := alf.Open(env.stdout)
	if err != nil {
		return usagef("%v", err)
	}
	defer func() {
		if err := closeAccessLog(); err != nil {
			cfg.Logger.Warn("access log", "err", err)
		}
	}()
	cfg.AccessLog = accessLog

	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", f.listen, err)
	}
	defer func() { _ = ln.Close() }()
	ts := telemetry.NewServer()
	if err := ts.Listen(tf.MetricsAddr); err != nil {
		return err
	}
	store, err := dialState(ctx, f.state, client.Options{Secret: stateSecret})
	if err != nil {
		return fmt.Errorf("state tier %v: %w", []string(f.state), err)
	}
	defer func() { _ = store.Close() }()
	cfg.Store, cfg.Registry = store, ts.Registry
	app, err := facade.New(cfg)
	if err != nil {
		return err
	}
	if err := sample.Register(app, sample.Config{Origin: f.origin, Registry: ts.Registry}); err != nil {
		return usagef("%v", err)
	}
	mux := ts.Handler()
	mux.Handle("/load", app.LoadHandler())
	// The drain delay is the app's own (facade.Config.DrainDelay): it turns
	// its load report and serving port not ready first.
	return lifecycle.Run(ctx, lifecycle.Role{
		Name: "facade", Log: cfg.Logger, Telemetry: ts, Handler: mux,
		Serve: func(context.Context) error {
			if err := app.Serve(ln); err != nil {
				return fmt.Errorf("facade: %w", err)
			}
			return nil
		},
		Shutdown: app.Shutdown, Grace: f.drainDelay + f.drainTimeout,
		Attrs: []any{"listen", ln.Addr().String(), "node", cfg.NodeID, "state", []string(f.state),
			"origin", f.origin, "max_inflight", strconv.Itoa(f.maxInflight), "metrics", ts.Addr()},
	})
}

// parseTrustPriority reads --trust-priority-from; "none" trusts nobody,
// and no flag means the facade's default, loopback.
func parseTrustPriority(vals []string) ([]netip.Prefix, error) {
	if len(vals) == 0 {
		return facade.DefaultTrustPriorityFrom, nil
	}
	out := []netip.Prefix{}
	for _, v := range vals {
		if v == "none" {
			continue
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return nil, usagef("--trust-priority-from: %q is not a CIDR prefix such as 127.0.0.0/8 (or none)", v)
		}
		out = append(out, p)
	}
	return out, nil
}

// dialState connects to the state tier, retrying for a while: in a stack
// started at once the state nodes may still be binding.
// A wrong secret is not retried: it will not get better.
func dialState(ctx context.Context, addrs []string, opts client.Options) (*statestore.Store, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		store, err := statestore.Dial(ctx, addrs, opts)
		if err == nil || errors.Is(err, client.ErrAuth) {
			return store, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(200 * time.Millisecond):
		}
	}
}
