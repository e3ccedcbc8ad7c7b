// Package sample is the sample facade application that strata up runs: a
// product page cached aside in the state tier, a catalog merged from several
// origin services, a cart kept in a session, and /whoami. It shows each part
// of the facade framework in a few lines and is what the end-to-end tests
// and benchmarks drive (routes in docs/INTERFACES.md).
package sample

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/strata-dp/strata/facade"
	"github.com/valyala/fasthttp"
)

// Config configures the sample application. Zero values take the defaults.
type Config struct {
	// Origin is the base URL of the sample origin (http://127.0.0.1:8200).
	Origin string
	// ProductTTL is how long a product stays in the state tier (default 60s).
	ProductTTL time.Duration
	// ProductMaxAge is the max-age the edge may cache a product for
	// (default 30s).
	ProductMaxAge time.Duration
	// RequiredTimeout and OptionalTimeout bound the catalog's required and
	// optional calls (defaults 400ms and 150ms).
	RequiredTimeout, OptionalTimeout time.Duration
	// Session shapes the cart's session.
	Session facade.SessionConfig
	// Registry receives the helpers' metrics (nil: not exported).
	Registry prometheus.Registerer
}

// app holds the helpers the handlers share.
type app struct {
	cfg      Config
	origin   string
	client   *fasthttp.Client
	cache    *facade.Cache
	fanout   *facade.FanOut
	sessions *facade.Sessions
	maxAge   string
}

// Register adds the sample routes to a: GET /api/products/{id},
// GET /api/catalog, GET and POST /api/cart, GET /whoami.
func Register(a *facade.App, cfg Config) error {
	if cfg.Origin == "" {
		return errors.New("sample: no origin URL")
	}
	if !strings.HasPrefix(cfg.Origin, "http://") {
		return fmt.Errorf("sample: origin %q: want http://HOST:PORT", cfg.Origin)
	}
	if cfg.ProductTTL <= 0 {
		cfg.ProductTTL = 60 * time.Second
	}
	if cfg.ProductMaxAge <= 0 {
		cfg.ProductMaxAge = 30 * time.Second
	}
	if cfg.RequiredTimeout <= 0 {
		cfg.RequiredTimeout = 400 * time.Millisecond
	}
	if cfg.OptionalTimeout <= 0 {
		cfg.OptionalTimeout = 150 * time.Millisecond
	}
	s := &app{
		cfg:    cfg,
		origin: strings.TrimRight(cfg.Origin, "/"),
		client: &fasthttp.Client{
			Name:                      "strata-facade",
			MaxConnsPerHost:           512,
			MaxIdemponentCallAttempts: 1,
			MaxResponseBodySize:       1 << 20,
			MaxConnWaitTimeout:        time.Second,
		},
		maxAge: fmt.Sprintf("public, max-age=%d", int(cfg.ProductMaxAge/time.Second)),
	}
	var err error
	if s.cache, err = facade.NewCache(a.Store(), a.NodeID(), facade.CacheConfig{Registry: cfg.Registry}); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	if s.fanout, err = facade.NewFanOut(facade.FanOutConfig{Client: s.client, Registry: cfg.Registry}); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	if s.sessions, err = facade.NewSessions(a.Store(), cfg.Session); err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	idem, err := facade.NewIdempotency(a.Store(), facade.IdempotencyConfig{})
	if err != nil {
		return fmt.Errorf("sample: %w", err)
	}
	// Route rules for requests the edge did not classify: the cart is what
	// a shopper is about to pay for, the catalog is the most expensive page
	// to build and the easiest to do without for a moment.
	high, low := facade.WithPriority(facade.PriorityHigh), facade.WithPriority(facade.PriorityLow)
	return errors.Join(
		a.Handle("GET", "/api/products/{id}", s.product),
		a.Handle("GET", "/api/catalog", s.catalog, low),
		a.Handle("GET", "/api/cart", s.getCart, high),
		a.Handle("POST", "/api/cart", idem.Wrap(s.postCart), high),
		a.Handle("GET", "/whoami", s.whoami, high),
	)
}

func (s *app) whoami(c *facade.Ctx) error {
	c.SetCacheControl("no-store")
	c.SetHeader("X-Strata-Node", c.NodeID())
	return c.JSON(fasthttp.StatusOK, struct {
		Node string `json:"node"`
	}{c.NodeID()})
}
