package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/strata-dp/strata/dataplane/edge"
	"github.com/strata-dp/strata/internal/accesslog"
	"github.com/strata-dp/strata/internal/bytesize"
	"github.com/strata-dp/strata/internal/httpserve"
	"github.com/strata-dp/strata/internal/lifecycle"
	"github.com/strata-dp/strata/internal/telemetry"
)

func init() {
	register(&command{
		name:    "edge",
		summary: "run the forward-cache proxy (RFC 9111 shared cache) in front of an origin",
		run:     runEdge,
	})
}

// edgeFlags are the edge's flags; config turns them into the edge's
// configuration, which edge.New judges.
type edgeFlags struct {
	listen, origin, admin, tokenFile string
	memory, maxObject, bodyBuffer    bytesize.Size
	grace, keep, originTimeout       time.Duration
	idle, headerTimeout, bodyTimeout time.Duration
	retryBudget                      float64
	originMaxConns, maxConns, perIP  int
	cookies                          bool
	purgeFrom, exemptIP              stringList
}

func (f *edgeFlags) bind(fs *flag.FlagSet) {
	fs.StringVar(&f.listen, "listen", "127.0.0.1:8080", "serve clients on this address")
	fs.StringVar(&f.origin, "origin", "", "origin URL that misses go to, e.g. http://127.0.0.1:8000 (the LB VIP)")
	fs.StringVar(&f.admin, "admin", "", "serve the purge API (POST /purge?url=...|tag=...[&soft=1], for --purge-from clients or the --purge-token-file token) on this address; empty: on the --metrics listener")
	f.memory, f.maxObject, f.bodyBuffer = edge.DefaultMemoryBytes, edge.DefaultMaxObjectBytes, edge.DefaultMaxBodyBuffer
	fs.DurationVar(&f.grace, "grace", 0, "serve stale this long past freshness while refreshing, and when the origin fails (not for must-revalidate/s-maxage responses)")
	fs.DurationVar(&f.keep, "keep", edge.DefaultKeep, "keep stale responses with validators this long for conditional revalidation")
	fs.DurationVar(&f.originTimeout, "origin-timeout", edge.DefaultOriginTimeout, "timeout for connecting to, writing to and each read from the origin")
	fs.Float64Var(&f.retryBudget, "origin-retry-budget", edge.DefaultOriginRetryRatio, "retries to the origin at most this share of requests, plus 1 per second "+
		"(0: never retry). A request is retried only when idempotent and sent on a reused keep-alive connection that broke before its response, past at most 3 such connections")
	fs.IntVar(&f.originMaxConns, "origin-max-conns", edge.DefaultOriginMaxConns, "connections to the origin at most (pooled, keep-alive)")
	fs.IntVar(&f.maxConns, "max-conns", edge.DefaultMaxConns, "concurrent client connections at most; at the limit a new one closes the oldest still sending its request head, else the longest idle, and is refused only when all are busy")
	fs.IntVar(&f.perIP, "max-conns-per-ip", edge.DefaultMaxConnsPerIP, "concurrent client connections per client address (per /64 for IPv6) at most; more are closed at once; 0: no limit")
	fs.DurationVar(&f.idle, "idle-timeout", edge.DefaultIdleTimeout, "close client connections idle this long between requests")
	fs.DurationVar(&f.headerTimeout, "header-timeout", edge.DefaultHeaderTimeout, "close a connection whose request head is not complete this long after its first byte (after accept for the first request); at most --idle-timeout")
	fs.DurationVar(&f.bodyTimeout, "body-timeout", edge.DefaultBodyTimeout, "a request body must arrive whole this long after its head, else 408 and close")
	fs.BoolVar(&f.cookies, "store-set-cookie", false, "store responses that carry Set-Cookie (RFC 9111 allows it; off because it hands one client's cookie to others); they are never coalesced")
	fs.StringVar(&f.tokenFile, "purge-token-file", "", "file holding a purge token (at least 16 bytes; surrounding whitespace ignored): clients outside --purge-from may purge with 'Authorization: Bearer TOKEN'")
	fs.Var(&f.memory, "memory", "bytes the cache may use for stored responses (suffixes KiB, MiB, GiB)")
	fs.Var(&f.maxObject, "max-object", "largest response body stored; larger ones are streamed through uncached (capped at a quarter of --memory)")
	fs.Var(&f.bodyBuffer, "max-body-buffer", "request-body bytes all connections may hold at once (memory is taken as bytes arrive); a request whose body would pass it gets 503 and close. At least the 8MiB body limit")
	fs.Var(&f.exemptIP, "max-conns-per-ip-exempt", "client networks --max-conns-per-ip does not apply to (repeatable, CIDR, e.g. a trusted proxy; loopback is not exempt unless listed)")
	fs.Var(&f.purgeFrom, "purge-from", "client networks allowed to purge: the PURGE method and the admin API's /purge alike (repeatable, CIDR; default 127.0.0.0/8 and ::1/128)")
}

// config is the edge's configuration; a value that does not parse, or that
// only the command line can get wrong, is a usage error naming its flag.
func (f *edgeFlags) config() (edge.Config, error) {
	if f.origin == "" {
		return edge.Config{}, usagef("--origin is required (e.g. --origin http://127.0.0.1:8000)")
	}
	cfg := edge.Config{
		Origin: f.origin, MemoryBytes: int64(f.memory), MaxObjectBytes: int64(f.maxObject),
		Grace: f.grace, Keep: keepOrNone(f.keep), OriginTimeout: f.originTimeout, OriginMaxConns: f.originMaxConns,
		MaxConns: f.maxConns, MaxConnsPerIP: perIPOrNone(f.perIP), IdleTimeout: f.idle, HeaderTimeout: f.headerTimeout,
		BodyTimeout: f.bodyTimeout, MaxBodyBuffer: int64(f.bodyBuffer), StoreSetCookie: f.cookies,
	}
	for _, p := range f.exemptIP {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return cfg, usagef("--max-conns-per-ip-exempt: %q is not a CIDR prefix such as 10.0.0.0/8", p)
		}
		cfg.ConnsPerIPExempt = append(cfg.ConnsPerIPExempt, pfx.Masked())
	}
	for _, p := range f.purgeFrom {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return cfg, usagef("--purge-from: %q is not a CIDR prefix such as 127.0.0.0/8", p)
		}
		cfg.PurgeFrom = append(cfg.PurgeFrom, pfx)
	}
	if f.tokenFile != "" {
		b, err := os.ReadFile(f.tokenFile)
		if err != nil {
			return cfg, usagef("--purge-token-file: %v", err)
		}
		cfg.PurgeToken = strings.TrimSpace(string(b))
		if len(cfg.PurgeToken) < edge.MinPurgeTokenLen {
			return cfg, usagef("--purge-token-file: the token in %s is shorter than %d bytes", f.tokenFile, edge.MinPurgeTokenLen)
		}
	}
	switch {
	case f.retryBudget < 0 || f.retryBudget > 1:
		return cfg, usagef("--origin-retry-budget: %v is not between 0 and 1", f.retryBudget)
	case f.retryBudget == 0:
		cfg.OriginRetryRatio, cfg.OriginRetryPerSecond = -1, -1
	default:
		cfg.OriginRetryRatio = f.retryBudget
	}
	if f.memory < edge.MinMemoryBytes {
		return cfg, usagef("--memory: %d is below the minimum of 1MiB", f.memory)
	}
	if f.maxConns < 1 {
		return cfg, usagef("--max-conns: %d must be at least 1", f.maxConns)
	}
	if f.perIP < 0 {
		return cfg, usagef("--max-conns-per-ip: %d is negative (0 means no limit)", f.perIP)
	}
	for name, d := range map[string]time.Duration{"--grace": f.grace, "--keep": f.keep} {
		if d < 0 {
			return cfg, usagef("%s: must not be negative", name)
		}
	}
	if f.bodyBuffer < edge.DefaultMaxBodyBytes {
		return cfg, usagef("--max-body-buffer: %d is below the largest request body (8MiB)", f.bodyBuffer)
	}
	for name, d := range map[string]time.Duration{"--idle-timeout": f.idle, "--header-timeout": f.headerTimeout, "--body-timeout": f.bodyTimeout} {
		if d <= 0 {
			return cfg, usagef("%s: must be positive", name)
		}
	}
	return cfg, nil
}

func runEdge(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("edge", "--listen ADDR --origin URL [flags]", env)
	var f edgeFlags
	f.bind(fs)
	var tf telemetry.Flags
	tf.Bind(fs, "")
	var alf accesslog.Flags
	alf.Bind(fs)
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
	accessLog, closeAccessLog, err := alf.Open(env.stdout)
	if err != nil {
		return usagef("%v", err)
	}
	defer func() {
		if err := closeAccessLog(); err != nil {
			log.Warn("access log", "err", err)
		}
	}()
	cfg.AccessLog = accessLog
	e, err := edge.New(cfg, log)
	if errors.Is(err, edge.ErrConfig) {
		return usagef("%v", err)
	} else if err != nil {
		return err
	}
	ts := telemetry.NewServer()
	if err := e.Register(ts.Registry); err != nil {
		return fmt.Errorf("edge metrics: %w", err)
	}
	if err := ts.Listen(tf.MetricsAddr); err != nil {
		return err
	}
	role, err := f.role(e, ts)
	if err != nil {
		return err
	}
	role.Log, role.Attrs = log, append(role.Attrs, "origin", f.origin, "memory", int64(f.memory), "metrics", ts.Addr(), "admin", f.admin)
	return lifecycle.Run(ctx, role)
}

// role binds the client listener and the purge API (on --admin, or on
// the telemetry listener) and returns the edge as a role serving them.
func (f *edgeFlags) role(e *edge.Edge, ts *telemetry.Server) (lifecycle.Role, error) {
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return lifecycle.Role{}, fmt.Errorf("edge listener: %w", err)
	}
	mux := ts.Handler()
	// The purge API on its own --admin listener is an operators' listener
	// like --metrics, within the same limits (internal/httpserve).
	stopAdmin := func() {}
	if f.admin != "" {
		aln, err := net.Listen("tcp", f.admin)
		if err != nil {
			_ = ln.Close()
			return lifecycle.Role{}, fmt.Errorf("edge admin listener: %w", err)
		}
		amux := http.NewServeMux()
		amux.Handle("/purge", e.AdminHandler())
		actx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = httpserve.Serve(actx, aln, amux, httpserve.DefaultLimits) // returns once stopped
		}()
		stopAdmin = func() { cancel(); <-done }
	} else {
		mux.Handle("/purge", e.AdminHandler())
	}
	return lifecycle.Role{
		Name: "edge", Telemetry: ts, Handler: mux,
		Serve: func(context.Context) error { return e.Serve(ln) },
		Shutdown: func(ctx context.Context) error {
			defer stopAdmin()
			return e.Shutdown(ctx)
		},
		Attrs: []any{"listen", ln.Addr().String()},
	}, nil
}

// keepOrNone maps --keep 0 to the library's "none" (zero there means the
// default).
func keepOrNone(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// perIPOrNone maps --max-conns-per-ip 0 to the library's "no limit" (zero
// there means the default).
func perIPOrNone(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
