package main

import (
	"context"
	"errors"
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

func runFacade(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("facade", "--listen ADDR --state ADDR[,ADDR...] --origin URL [flags]", env)
	listen := fs.String("listen", "127.0.0.1:8101", "serve the facade on this address")
	var stateAddrs stringList
	fs.Var(&stateAddrs, "state", "state node ADDR (binary protocol); repeatable or comma-separated (required)")
	stateSecretFile := fs.String("state-secret-file", "", "file holding the state tier's shared secret (the nodes' --auth-secret-file), sent with AUTH on every connection")
	originURL := fs.String("origin", "http://127.0.0.1:8200", "base URL of the sample origin")
	nodeID := fs.String("node-id", "", "id of this node in /whoami and load reports (default: facade-PORT)")
	maxInflight := fs.Int("max-inflight", facade.DefaultMaxInflight, "most requests run at once; the adaptive limit stays at or below it")
	fixedLimit := fs.Bool("fixed-limit", false, "use --max-inflight as a fixed limit instead of adapting it")
	queueLen := fs.Int("queue-len", facade.DefaultQueueLen, "waiting requests per priority class before rejecting with 429")
	maxQueueTime := fs.Duration("max-queue-time", facade.DefaultMaxQueueTime, "longest wait for admission before rejecting with 503 (high priority: 4x)")
	requestTimeout := fs.Duration("request-timeout", facade.DefaultRequestTimeout, "time budget of one request (its deadline)")
	drainDelay := fs.Duration("drain-delay", facade.DefaultDrainDelay, "on SIGTERM, keep serving this long after /readyz turns false")
	drainTimeout := fs.Duration("drain-timeout", facade.DefaultDrainTimeout, "on SIGTERM, longest wait for in-flight requests")
	var trustPriority stringList
	fs.Var(&trustPriority, "trust-priority-from", "peers whose X-Strata-Priority header is honoured (CIDR, repeatable or comma-separated; none: nobody); "+
		"from others it is ignored and the route's class applies. Default loopback, where the userspace LB connects from")
	var tf telemetry.Flags
	tf.Bind(fs, "")
	var alf accesslog.Flags
	alf.Bind(fs)
	fs.Lookup("metrics").Usage = "serve /metrics, /healthz, /readyz and the load report GET /load on this address (empty: off)"
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if len(stateAddrs) == 0 {
		return usagef("--state: at least one state node address is required")
	}
	for _, a := range stateAddrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return usagef("--state: %q is not HOST:PORT", a)
		}
	}
	switch {
	case *maxInflight < 1:
		return usagef("--max-inflight: %d must be at least 1", *maxInflight)
	case *queueLen < 1:
		return usagef("--queue-len: %d must be at least 1", *queueLen)
	case *maxQueueTime <= 0:
		return usagef("--max-queue-time: %v must be positive", *maxQueueTime)
	case *requestTimeout <= 0:
		return usagef("--request-timeout: %v must be positive", *requestTimeout)
	case *drainDelay < 0 || *drainTimeout <= 0:
		return usagef("--drain-delay and --drain-timeout: must not be negative")
	}
	var stateSecret []byte
	if *stateSecretFile != "" {
		var err error
		if stateSecret, err = secret.Read(*stateSecretFile); err != nil {
			return usagef("--state-secret-file: %v", err)
		}
	}
	trust, err := parseTrustPriority(trustPriority)
	if err != nil {
		return err
	}
	id := *nodeID
	if id == "" {
		_, port, err := net.SplitHostPort(*listen)
		if err != nil {
			return usagef("--listen: %q is not HOST:PORT", *listen)
		}
		id = "facade-" + port
	}
	log, err := tf.Logger(env.stderr)
	if err != nil {
		return usagef("%v", err)
	}
	accessLog, closeAccessLog, err := alf.Open(env.stdout)
	if err != nil {
		return usagef("%v", err)
	}
	defer closeAccessLog()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	defer func() { _ = ln.Close() }()
	ts := telemetry.NewServer()
	if err := ts.Listen(tf.MetricsAddr); err != nil {
		return err
	}
	store, err := dialState(ctx, stateAddrs, client.Options{Secret: stateSecret})
	if err != nil {
		return fmt.Errorf("state tier %v: %w", []string(stateAddrs), err)
	}
	defer func() { _ = store.Close() }()

	app, err := facade.New(facade.Config{
		NodeID:            id,
		Store:             store,
		Logger:            log,
		Registry:          ts.Registry,
		RequestTimeout:    *requestTimeout,
		DrainDelay:        *drainDelay,
		TrustPriorityFrom: trust,
		AccessLog:         accessLog,
		Admission: facade.AdmissionConfig{
			MaxInflight:  *maxInflight,
			FixedLimit:   *fixedLimit,
			QueueLen:     *queueLen,
			MaxQueueTime: *maxQueueTime,
		},
	})
	if err != nil {
		return err
	}
	if err := sample.Register(app, sample.Config{Origin: *originURL, Registry: ts.Registry}); err != nil {
		return usagef("%v", err)
	}

	mux := ts.Handler()
	mux.Handle("/load", app.LoadHandler())
	tctx, stopTelemetry := context.WithCancel(context.WithoutCancel(ctx))
	defer stopTelemetry()
	go func() { _ = ts.Serve(tctx, mux) }()

	errc := make(chan error, 1)
	go func() { errc <- app.Serve(ln) }()
	ts.SetReady(true)
	log.Info("facade serving", "listen", ln.Addr().String(), "node", id, "state", []string(stateAddrs),
		"origin", *originURL, "max_inflight", strconv.Itoa(*maxInflight), "metrics", ts.Addr())
	select {
	case err := <-errc:
		return fmt.Errorf("facade: %w", err)
	case <-ctx.Done():
	}
	ts.SetReady(false)
	log.Info("facade draining", "delay", *drainDelay)
	shutCtx, cancel := context.WithTimeout(context.Background(), *drainDelay+*drainTimeout)
	defer cancel()
	if err := app.Shutdown(shutCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	log.Info("facade stopped")
	return nil
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
