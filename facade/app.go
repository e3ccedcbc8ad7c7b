package facade

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/strata-dp/strata/internal/accesslog"
	"github.com/strata-dp/strata/internal/bodybuf"
	"github.com/strata-dp/strata/internal/requestid"
	"github.com/valyala/fasthttp"
)

// Config configures an App. Zero values take the defaults noted.
type Config struct {
	// NodeID names this facade node in /whoami-like answers and load reports.
	NodeID string
	// Store is the state tier; helpers that need it fail with ErrNoStore
	// when it is nil.
	Store Store
	// Logger receives lifecycle logs, never per-request ones (default: discard).
	Logger *slog.Logger
	// Registry receives the App's Prometheus collectors (nil: not exported).
	Registry prometheus.Registerer
	// RequestTimeout is the default request budget (default 2s).
	RequestTimeout time.Duration
	// Admission shapes admission control.
	Admission AdmissionConfig
	// MaxRequestBodySize bounds request bodies (default 1 MiB; 413 and
	// close beyond it, judged from a declared Content-Length before any
	// byte is read).
	MaxRequestBodySize int
	// MaxBodyBuffer bounds the request-body bytes all requests hold at
	// once (default DefaultMaxBodyBuffer, at least MaxRequestBodySize); a
	// request whose body would pass it gets 503 and close. Memory is taken
	// as body bytes arrive, never for a declared length.
	MaxBodyBuffer int64
	// MaxConns bounds concurrent client connections (default 10000).
	MaxConns int
	// ReadTimeout, WriteTimeout and IdleTimeout bound each connection
	// (defaults 10s, 10s, 60s); ReadTimeout covers a request's head and
	// body together.
	ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// DrainDelay is how long Shutdown keeps serving after turning not-ready,
	// so the load balancer notices before connections close (default 0).
	DrainDelay time.Duration
	// TrustPriorityFrom lists the peers whose PriorityHeader is honoured
	// (nil: loopback, 127.0.0.0/8 and ::1, which is where the userspace
	// LB connects from; empty: nobody). From anyone else the header is
	// ignored and counted, and the route's class applies: a client must
	// not pick its own class.
	TrustPriorityFrom []netip.Prefix
	// AccessLog, when set, receives a sampled entry per answered request
	// (health probes aside). Log never blocks; the caller closes it after
	// Shutdown. Nil: no access log.
	AccessLog *accesslog.Writer
}

// DefaultTrustPriorityFrom is TrustPriorityFrom's default: loopback.
var DefaultTrustPriorityFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// App is one facade node: a fasthttp server, the routes, the middleware
// chain and admission control.
type App struct {
	cfg     Config
	nodeID  string
	store   Store
	log     *slog.Logger
	router  *router
	routes  []*Route
	mws     []Middleware
	adm     *admission
	metrics *metrics
	load    loadTracker
	ids     *requestid.Source
	srv     *fasthttp.Server

	bodyBudget *bodybuf.Budget // request-body bytes held, at most MaxBodyBuffer

	retryAfter []byte
	ctxPool    sync.Pool
	buildOnce  sync.Once
	built      atomic.Bool
	serving    atomic.Bool
	draining   atomic.Bool
}

// New returns an App; register routes and middleware, then Serve.
func New(cfg Config) (*App, error) {
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = 2 * time.Second
	}
	if cfg.MaxRequestBodySize <= 0 {
		cfg.MaxRequestBodySize = DefaultMaxRequestBodySize
	}
	if cfg.MaxBodyBuffer <= 0 {
		cfg.MaxBodyBuffer = DefaultMaxBodyBuffer
	}
	cfg.MaxBodyBuffer = max(cfg.MaxBodyBuffer, int64(cfg.MaxRequestBodySize))
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = 10000
	}
	if cfg.ReadTimeout <= 0 {
		cfg.ReadTimeout = 10 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = 60 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.TrustPriorityFrom == nil {
		cfg.TrustPriorityFrom = DefaultTrustPriorityFrom
	}
	a := &App{
		cfg:    cfg,
		nodeID: cfg.NodeID,
		store:  cfg.Store,
		log:    cfg.Logger,
		router: newRouter(),
		adm:    newAdmission(cfg.Admission),
		ids:    requestid.NewSource(),

		bodyBudget: bodybuf.NewBudget(cfg.MaxBodyBuffer),
	}
	a.retryAfter = strconv.AppendInt(nil, int64(a.adm.cfg.RetryAfter/time.Second), 10)
	m, err := newMetrics(cfg.Registry, a.adm, cfg.AccessLog)
	if err != nil {
		return nil, fmt.Errorf("facade: register metrics: %w", err)
	}
	a.metrics = m
	if m.bodyRefused, err = newBodyRefused(cfg.Registry); err != nil {
		return nil, fmt.Errorf("facade: register metrics: %w", err)
	}
	a.ctxPool.New = func() any { return new(Ctx) }
	a.srv = &fasthttp.Server{
		Handler:            a.serve,
		Name:               "strata-facade",
		ReadTimeout:        cfg.ReadTimeout,
		WriteTimeout:       cfg.WriteTimeout,
		IdleTimeout:        cfg.IdleTimeout,
		MaxRequestBodySize: cfg.MaxRequestBodySize,
		// Bodies are read by serve as they arrive (body.go): fasthttp's
		// own reading allocates the declared length up front, and its
		// multipart pre-parsing spools uploads to temporary files.
		StreamRequestBody:             true,
		DisablePreParseMultipartForm:  true,
		Concurrency:                   cfg.MaxConns,
		CloseOnShutdown:               true,
		DisableHeaderNamesNormalizing: false,
		NoDefaultContentType:          true,
	}
	return a, nil
}

// NodeID is the node's id.
func (a *App) NodeID() string { return a.nodeID }

// Store is the App's state tier.
func (a *App) Store() Store { return a.store }

// Use appends middleware to the chain; call it before Serve.
func (a *App) Use(mws ...Middleware) error {
	if a.built.Load() {
		return errors.New("facade: Use after the App started")
	}
	a.mws = append(a.mws, mws...)
	return nil
}

// Handle registers h for method and pattern ("/api/products/{id}").
func (a *App) Handle(method, pattern string, h Handler, opts ...RouteOption) error {
	if a.built.Load() {
		return errors.New("facade: Handle after the App started")
	}
	if h == nil {
		return fmt.Errorf("%w: nil handler for %s %s", ErrBadPattern, method, pattern)
	}
	rt := &Route{Method: method, Pattern: pattern, Priority: PriorityNormal, Timeout: a.cfg.RequestTimeout, handler: h}
	for _, o := range opts {
		o(rt)
	}
	if rt.Priority >= numPriorities {
		return fmt.Errorf("facade: route %s %s: invalid priority %d", method, pattern, rt.Priority)
	}
	if err := a.router.add(method, pattern, rt); err != nil {
		return err
	}
	rt.stats = a.metrics.forRoute(method, pattern)
	a.routes = append(a.routes, rt)
	return nil
}

// Handler freezes the routes and middleware and returns the fasthttp handler,
// for serving the App from a server of one's own (tests, benchmarks).
func (a *App) Handler() fasthttp.RequestHandler {
	a.buildOnce.Do(func() {
		for _, rt := range a.routes {
			rt.chained = chain(a.mws, rt.handler)
		}
		a.built.Store(true)
	})
	return a.serve
}

// Serve serves requests from ln until Shutdown.
func (a *App) Serve(ln net.Listener) error {
	a.Handler()
	a.serving.Store(true)
	err := a.srv.Serve(ln)
	a.serving.Store(false)
	return err
}

// Shutdown drains the node: it reports not ready, keeps serving for
// DrainDelay, stops accepting, lets in-flight requests finish (keep-alive
// connections are told Connection: close) and returns once all have ended or
// ctx is done.
func (a *App) Shutdown(ctx context.Context) error {
	a.draining.Store(true)
	if a.cfg.DrainDelay > 0 {
		t := time.NewTimer(a.cfg.DrainDelay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	if err := a.srv.ShutdownWithContext(ctx); err != nil {
		return fmt.Errorf("facade: drain: %w", err)
	}
	return nil
}

// Draining reports whether Shutdown has begun.
func (a *App) Draining() bool { return a.draining.Load() }
