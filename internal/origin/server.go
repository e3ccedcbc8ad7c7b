package origin

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/valyala/fasthttp"
)

// Shape is how one route behaves: its latency and its share of 500 answers.
type Shape struct {
	Latency   Dist
	ErrorRate float64
}

// Config configures the origin.
type Config struct {
	// Default shapes every route without a shape of its own.
	Default Shape
	// Routes shapes routes by path prefix ("/svc/reviews", "/products").
	Routes map[string]Shape
	// Workers bounds how many requests are served at once (0: no bound);
	// the rest wait, as in a backend with a fixed thread pool, so capacity is
	// Workers divided by the mean latency.
	Workers int
	// Products is how many products exist, ids 1..Products (default 1000).
	Products int
	// Registry receives strata_origin_requests_total (nil: not exported).
	Registry prometheus.Registerer
}

// Server is the sample origin: a backend simulator whose routes have
// configurable latency and error rates and which counts its hits.
type Server struct {
	mu     sync.RWMutex
	def    Shape
	routes map[string]Shape

	products int
	workers  chan struct{}
	stats    *stats
	srv      *fasthttp.Server
	done     chan struct{}
	stopOnce sync.Once
}

// New returns an origin server.
func New(cfg Config) (*Server, error) {
	if cfg.Products <= 0 {
		cfg.Products = 1000
	}
	for name, sh := range cfg.Routes {
		if !strings.HasPrefix(name, "/") {
			return nil, fmt.Errorf("origin: route %q must start with /", name)
		}
		if err := validRate(sh.ErrorRate); err != nil {
			return nil, err
		}
	}
	if err := validRate(cfg.Default.ErrorRate); err != nil {
		return nil, err
	}
	s := &Server{def: cfg.Default, routes: map[string]Shape{}, products: cfg.Products, done: make(chan struct{})}
	for k, v := range cfg.Routes {
		s.routes[k] = v
	}
	if cfg.Workers > 0 {
		s.workers = make(chan struct{}, cfg.Workers)
	}
	st, err := newStats(cfg.Registry)
	if err != nil {
		return nil, err
	}
	s.stats = st
	s.srv = &fasthttp.Server{
		Handler:            s.serve,
		Name:               "strata-origin",
		ReadTimeout:        10 * time.Second,
		WriteTimeout:       10 * time.Second,
		IdleTimeout:        60 * time.Second,
		MaxRequestBodySize: 64 << 10,
		CloseOnShutdown:    true,
	}
	return s, nil
}

func validRate(r float64) error {
	if r < 0 || r > 1 || r != r {
		return fmt.Errorf("origin: error rate %v is outside 0..1", r)
	}
	return nil
}

// shape returns the shape of the longest route prefix matching path.
func (s *Server) shape(path string) Shape {
	s.mu.RLock()
	defer s.mu.RUnlock()
	best, sh := -1, s.def
	for prefix, v := range s.routes {
		if strings.HasPrefix(path, prefix) && len(prefix) > best {
			best, sh = len(prefix), v
		}
	}
	return sh
}

// SetShape changes a route's shape at run time ("" or "/" is the default).
func (s *Server) SetShape(route string, sh Shape) error {
	if err := validRate(sh.ErrorRate); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if route == "" || route == "/" {
		s.def = sh
		return nil
	}
	if !strings.HasPrefix(route, "/") {
		return fmt.Errorf("origin: route %q must start with /", route)
	}
	s.routes[route] = sh
	return nil
}

// Hits returns the hit count of a route ("/products", "/svc/pricing"...).
func (s *Server) Hits(route string) uint64 { return s.stats.get(route) }

// PeakInflight is the most requests served at once since start or the last
// DELETE /stats.
func (s *Server) PeakInflight() int64 { return s.stats.peak.Load() }

// Serve serves ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error { return s.srv.Serve(ln) }

// Shutdown ends hanging and sleeping requests at once and waits for the
// connections to close or ctx to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopOnce.Do(func() { close(s.done) })
	return s.srv.ShutdownWithContext(ctx)
}

// delay waits the route's latency, bounded by a server stop.
func (s *Server) delay(sh Shape) bool {
	d := sh.Latency.Sample()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.done:
		return false
	}
}
