// Package telemetry gives every Strata process the same observability
// surface: log/slog configured from --log-format and --log-level, and an HTTP
// listener (--metrics ADDR) serving Prometheus /metrics, /healthz and /readyz.
//
// Per-request and per-packet paths must never log; they count into metrics.
package telemetry

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/strata-dp/strata/internal/httpserve"
)

// Flags are the observability flags shared by every long-running subcommand.
type Flags struct {
	LogFormat   string
	LogLevel    string
	MetricsAddr string
}

// Bind registers --log-format, --log-level and --metrics on fs.
func (f *Flags) Bind(fs *flag.FlagSet, defaultMetrics string) {
	fs.StringVar(&f.LogFormat, "log-format", "text", "log format: text or json")
	fs.StringVar(&f.LogLevel, "log-level", "info", "log level: debug, info, warn or error")
	fs.StringVar(&f.MetricsAddr, "metrics", defaultMetrics, "serve /metrics, /healthz and /readyz on this address (empty: off)")
}

// Logger builds the process logger, writing to w.
func (f *Flags) Logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	switch strings.ToLower(f.LogLevel) {
	case "debug":
		level = slog.LevelDebug
	case "info", "":
		level = slog.LevelInfo
	case "warn", "warning":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, fmt.Errorf("--log-level: %q is not one of debug, info, warn, error", f.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch strings.ToLower(f.LogFormat) {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format: %q is not one of text, json", f.LogFormat)
	}
}

// Server is a process's observability endpoint.
type Server struct {
	Registry *prometheus.Registry
	ready    atomic.Bool
	healthy  atomic.Bool
	ln       net.Listener
}

// NewServer returns a server with a fresh registry holding the Go and process
// collectors. The process starts healthy and not ready.
func NewServer() *Server {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s := &Server{Registry: reg}
	s.healthy.Store(true)
	return s
}

// SetReady flips /readyz: true once the process serves traffic, false while
// it drains.
func (s *Server) SetReady(v bool) { s.ready.Store(v) }

// SetHealthy flips /healthz.
func (s *Server) SetHealthy(v bool) { s.healthy.Store(v) }

// Ready reports what /readyz answers.
func (s *Server) Ready() bool { return s.ready.Load() }

// Handler returns the mux with /metrics, /healthz and /readyz; roles that own
// an HTTP listener of their own may mount more routes next to these.
func (s *Server) Handler() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		writeProbe(w, s.healthy.Load())
	})
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		writeProbe(w, s.ready.Load())
	})
	return mux
}

func writeProbe(w http.ResponseWriter, ok bool) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, "not ready\n")
		return
	}
	_, _ = io.WriteString(w, "ok\n")
}

// Listen binds addr now, so that a port already in use fails start-up before
// anything else runs. An empty addr disables the endpoint.
func (s *Server) Listen(addr string) error {
	if addr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listener: %w", err)
	}
	s.ln = ln
	return nil
}

// Addr is the bound address, or "" when the endpoint is off.
func (s *Server) Addr() string {
	if s.ln == nil {
		return ""
	}
	return s.ln.Addr().String()
}

// Serve serves until ctx is done, then shuts down within a second, within
// httpserve.DefaultLimits, counting what they shed and refuse in Registry:
// a scraper or prober that stalls holds one bounded slot, never the
// process, and clients that never finish a request give theirs up to new
// ones.
func (s *Server) Serve(ctx context.Context, mux http.Handler) error {
	if s.ln == nil {
		<-ctx.Done()
		return nil
	}
	if mux == nil {
		mux = s.Handler()
	}
	return httpserve.ServeCounted(ctx, s.ln, mux, httpserve.DefaultLimits, s.Registry)
}
