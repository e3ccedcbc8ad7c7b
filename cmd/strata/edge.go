package main

import (
	"context"
	"errors"
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
	"github.com/strata-dp/strata/internal/telemetry"
)

func init() {
	register(&command{
		name:    "edge",
		summary: "run the forward-cache proxy (RFC 9111 shared cache) in front of an origin",
		run:     runEdge,
	})
}

func runEdge(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("edge", "--listen ADDR --origin URL [flags]", env)
	var (
		tf          telemetry.Flags
		alf         accesslog.Flags
		listen      = fs.String("listen", "127.0.0.1:8080", "serve clients on this address")
		origin      = fs.String("origin", "", "origin URL that misses go to, e.g. http://127.0.0.1:8000 (the LB VIP)")
		admin       = fs.String("admin", "", "serve the purge API (POST /purge?url=...|tag=...[&soft=1], for --purge-from clients or the --purge-token-file token) on this address; empty: on the --metrics listener")
		memory      = bytesize.Size(edge.DefaultMemoryBytes)
		maxObject   = bytesize.Size(edge.DefaultMaxObjectBytes)
		grace       = fs.Duration("grace", 0, "serve stale this long past freshness while refreshing, and when the origin fails (not for must-revalidate/s-maxage responses)")
		keep        = fs.Duration("keep", edge.DefaultKeep, "keep stale responses with validators this long for conditional revalidation")
		otimeout    = fs.Duration("origin-timeout", edge.DefaultOriginTimeout, "timeout for connecting to, writing to and each read from the origin")
		retryBudget = fs.Float64("origin-retry-budget", edge.DefaultOriginRetryRatio, "retries to the origin at most this share of requests, plus 1 per second "+
			"(0: never retry). A request is retried at most once, and only when idempotent and sent on a reused keep-alive connection that broke before its response")
		oconns    = fs.Int("origin-max-conns", edge.DefaultOriginMaxConns, "connections to the origin at most (pooled, keep-alive)")
		maxConns  = fs.Int("max-conns", edge.DefaultMaxConns, "concurrent client connections at most; at the limit a new one closes the oldest still sending its request head, else the longest idle, and is refused only when all are busy")
		perIP     = fs.Int("max-conns-per-ip", edge.DefaultMaxConnsPerIP, "concurrent client connections per client address (per /64 for IPv6) at most; more are closed at once; 0: no limit")
		idle      = fs.Duration("idle-timeout", edge.DefaultIdleTimeout, "close client connections idle this long between requests")
		headerTO  = fs.Duration("header-timeout", edge.DefaultHeaderTimeout, "close a connection whose request head is not complete this long after its first byte (after accept for the first request); at most --idle-timeout")
		cookies   = fs.Bool("store-set-cookie", false, "store responses that carry Set-Cookie (RFC 9111 allows it; off because it hands one client's cookie to others); they are never coalesced")
		tokenFile = fs.String("purge-token-file", "", "file holding a purge token (at least 16 bytes; surrounding whitespace ignored): clients outside --purge-from may purge with 'Authorization: Bearer TOKEN'")
		purgeFrom stringList
		exemptIP  stringList
	)
	fs.Var(&memory, "memory", "bytes the cache may use for stored responses (suffixes KiB, MiB, GiB)")
	fs.Var(&maxObject, "max-object", "largest response body stored; larger ones are streamed through uncached (capped at a quarter of --memory)")
	fs.Var(&exemptIP, "max-conns-per-ip-exempt", "client networks --max-conns-per-ip does not apply to (repeatable, CIDR, e.g. a trusted proxy; loopback is not exempt unless listed)")
	fs.Var(&purgeFrom, "purge-from", "client networks allowed to purge: the PURGE method and the admin API's /purge alike (repeatable, CIDR; default 127.0.0.0/8 and ::1/128)")
	tf.Bind(fs, "")
	alf.Bind(fs)
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *origin == "" {
		return usagef("--origin is required (e.g. --origin http://127.0.0.1:8000)")
	}
	cfg := edge.Config{
		Origin: *origin, MemoryBytes: int64(memory), MaxObjectBytes: int64(maxObject),
		Grace: *grace, Keep: keepOrNone(*keep), OriginTimeout: *otimeout, OriginMaxConns: *oconns,
		MaxConns: *maxConns, MaxConnsPerIP: perIPOrNone(*perIP), IdleTimeout: *idle, HeaderTimeout: *headerTO,
		StoreSetCookie: *cookies,
	}
	for _, p := range exemptIP {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return usagef("--max-conns-per-ip-exempt: %q is not a CIDR prefix such as 10.0.0.0/8", p)
		}
		cfg.ConnsPerIPExempt = append(cfg.ConnsPerIPExempt, pfx.Masked())
	}
	for _, p := range purgeFrom {
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return usagef("--purge-from: %q is not a CIDR prefix such as 127.0.0.0/8", p)
		}
		cfg.PurgeFrom = append(cfg.PurgeFrom, pfx)
	}
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return usagef("--purge-token-file: %v", err)
		}
		cfg.PurgeToken = strings.TrimSpace(string(b))
		if len(cfg.PurgeToken) < edge.MinPurgeTokenLen {
			return usagef("--purge-token-file: the token in %s is shorter than %d bytes", *tokenFile, edge.MinPurgeTokenLen)
		}
	}
	switch {
	case *retryBudget < 0 || *retryBudget > 1:
		return usagef("--origin-retry-budget: %v is not between 0 and 1", *retryBudget)
	case *retryBudget == 0:
		cfg.OriginRetryRatio, cfg.OriginRetryPerSecond = -1, -1
	default:
		cfg.OriginRetryRatio = *retryBudget
	}
	if memory < 1<<20 {
		return usagef("--memory: %d is below the minimum of 1MiB", memory)
	}
	if *maxConns < 1 {
		return usagef("--max-conns: %d must be at least 1", *maxConns)
	}
	if *perIP < 0 {
		return usagef("--max-conns-per-ip: %d is negative (0 means no limit)", *perIP)
	}
	for name, d := range map[string]time.Duration{"--grace": *grace, "--keep": *keep} {
		if d < 0 {
			return usagef("%s: must not be negative", name)
		}
	}
	for name, d := range map[string]time.Duration{"--idle-timeout": *idle, "--header-timeout": *headerTO} {
		if d <= 0 {
			return usagef("%s: must be positive", name)
		}
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
	cfg.AccessLog = accessLog
	e, err := edge.New(cfg, log)
	if err != nil {
		if errors.Is(err, edge.ErrConfig) {
			return usagef("%v", err)
		}
		return err
	}
	ts := telemetry.NewServer()
	if err := e.Register(ts.Registry); err != nil {
		return fmt.Errorf("edge metrics: %w", err)
	}
	if err := ts.Listen(tf.MetricsAddr); err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("edge listener: %w", err)
	}
	mux := ts.Handler()
	var adminSrv *http.Server
	if *admin != "" {
		aln, err := net.Listen("tcp", *admin)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("edge admin listener: %w", err)
		}
		amux := http.NewServeMux()
		amux.Handle("/purge", e.AdminHandler())
		adminSrv = &http.Server{Handler: amux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = adminSrv.Serve(aln) }()
	} else {
		mux.Handle("/purge", e.AdminHandler())
	}
	tctx, stopTelemetry := context.WithCancel(context.Background())
	defer stopTelemetry()
	go func() { _ = ts.Serve(tctx, mux) }()

	errc := make(chan error, 1)
	go func() { errc <- e.Serve(ln) }()
	ts.SetReady(true)
	log.Info("edge serving", "listen", ln.Addr().String(), "origin", *origin, "memory", int64(memory),
		"metrics", ts.Addr(), "admin", *admin)
	select {
	case err = <-errc:
	case <-ctx.Done():
	}
	ts.SetReady(false)
	log.Info("edge draining")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := e.Shutdown(shutCtx); serr != nil && err == nil {
		err = fmt.Errorf("edge shutdown: %w", serr)
	}
	if adminSrv != nil {
		_ = adminSrv.Shutdown(shutCtx)
	}
	return err
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
