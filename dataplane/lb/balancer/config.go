package balancer

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/health"
	"github.com/strata-dp/strata/dataplane/lb/mode"
	"github.com/strata-dp/strata/dataplane/lb/userspace"
)

// Config is one LB node. Unlike the options of the packages below it, its
// fields are taken as given, zero included (a zero SlowStart is no slow
// start): New judges the values in effect, and the flags of `strata lb`
// start from the defaults of the packages that own them (DefaultConfig).
type Config struct {
	// Services is what the node serves.
	Services lb.Config
	// Mode is the requested mode: mode.Auto takes the best the host allows
	// (mode.Resolve).
	Mode   mode.Mode
	Health Health
	// Proxy configures the userspace mode.
	Proxy Proxy
	// XDP configures the xdp modes.
	XDP XDP
	// Drain is how long Run lets open connections finish after its context
	// ends.
	Drain time.Duration
	// Logger logs lifecycle events; nil discards.
	Logger *slog.Logger
}

// Health is the health policy (package health).
type Health struct {
	// Check is the active check: "tcp", "http:/PATH" or "off".
	Check             string
	Interval, Timeout time.Duration
	// Rise successes bring a backend back, Fall failures eject it.
	Rise, Fall int
	// SlowStart ramps a returning backend's weight; 0 is off.
	SlowStart time.Duration
	// MaxEjected is the largest share of a service's backends ejected at
	// once, in (0, 1].
	MaxEjected float64
	// Outliers is how many consecutive unanswered sessions eject a backend
	// (userspace mode); 0 is off.
	Outliers        int
	OutlierEjection time.Duration
}

// Proxy configures the userspace mode (package userspace).
type Proxy struct {
	ConnectTimeout, IdleTimeout time.Duration
	// FirstByteTimeout is how long a backend may stay silent after a
	// client's first bytes before the session counts against it; 0 is off.
	FirstByteTimeout time.Duration
	// MaxConns bounds concurrent client connections per service.
	MaxConns int
	// MaxBuffered bounds the bytes queued toward one side of a session.
	MaxBuffered int
	// Loops is the number of event loops per service; 0 is GOMAXPROCS.
	Loops int
}

// XDP configures the xdp modes (package xdp).
type XDP struct {
	// Iface is the interface the program attaches to; the xdp modes need
	// it, mode.Auto probes it.
	Iface string
	// PinDir holds the pinned maps (xdp.DefaultPinDir when empty).
	PinDir string
	// Unpin removes the pinned maps on shutdown, dropping tracked flows.
	Unpin bool
}

// Defaults of a node that are its own; the rest are the defaults of
// packages health and userspace.
const DefaultDrain = 5 * time.Second

// DefaultConfig is a node with every default, serving services in mode.Auto.
func DefaultConfig(services lb.Config) Config {
	return Config{
		Services: services,
		Mode:     mode.Auto,
		Health: Health{
			Check: string(health.DefaultKind), Interval: health.DefaultInterval, Timeout: health.DefaultTimeout,
			Rise: health.DefaultRise, Fall: health.DefaultFall, SlowStart: health.DefaultSlowStart,
			MaxEjected: health.DefaultMaxEjectedShare, Outliers: health.DefaultOutliers,
			OutlierEjection: health.DefaultOutlierEjection,
		},
		Proxy: Proxy{
			ConnectTimeout: userspace.DefaultConnectTimeout, IdleTimeout: userspace.DefaultIdleTimeout,
			FirstByteTimeout: userspace.DefaultFirstByteTimeout, MaxConns: userspace.DefaultMaxConns,
			MaxBuffered: userspace.DefaultMaxBuffered,
		},
		Drain: DefaultDrain,
	}
}

// Validate checks the whole node configuration. Every error wraps
// lb.ErrConfig and names its field.
func (c Config) Validate() error {
	if err := c.Services.Validate(); err != nil {
		return err
	}
	bad := func(field string, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", lb.ErrConfig, field, fmt.Sprintf(format, args...))
	}
	switch c.Mode {
	case mode.Auto, mode.Userspace:
	case mode.XDPNative, mode.XDPGeneric:
		if c.XDP.Iface == "" {
			return bad("XDP.Iface", "required for mode %s", c.Mode)
		}
	default:
		return bad("Mode", "%q is not one of auto, userspace, xdp-native, xdp-generic", c.Mode)
	}
	if _, _, err := health.ParseSpec(c.Health.Check); err != nil {
		return bad("Health.Check", "%v", err)
	}
	h, p := c.Health, c.Proxy
	switch {
	case h.Interval <= 0 || h.Timeout <= 0:
		return bad("Health.Interval, Health.Timeout", "must be positive")
	case h.MaxEjected <= 0 || h.MaxEjected > 1:
		return bad("Health.MaxEjected", "%v is not in (0, 1]", h.MaxEjected)
	case h.Rise < 1 || h.Fall < 1:
		return bad("Health.Rise, Health.Fall", "must be at least 1")
	case h.SlowStart < 0:
		return bad("Health.SlowStart", "must not be negative")
	case h.Outliers < 0 || h.OutlierEjection <= 0:
		return bad("Health.Outliers, Health.OutlierEjection", "outliers must be at least 0, the ejection positive")
	case p.MaxConns < 1:
		return bad("Proxy.MaxConns", "must be at least 1")
	case p.MaxBuffered < userspace.MinMaxBuffered || p.MaxBuffered > userspace.MaxMaxBuffered:
		return bad("Proxy.MaxBuffered", "%d is not in 4KiB..64MiB", p.MaxBuffered)
	case p.FirstByteTimeout < 0:
		return bad("Proxy.FirstByteTimeout", "must not be negative")
	case p.Loops < 0 || p.Loops > userspace.MaxLoops:
		return bad("Proxy.Loops", "%d is not in 0..%d", p.Loops, userspace.MaxLoops)
	case p.ConnectTimeout <= 0 || p.IdleTimeout <= 0:
		return bad("Proxy.ConnectTimeout, Proxy.IdleTimeout", "must be positive")
	case c.Drain < 0:
		return bad("Drain", "must not be negative")
	}
	return nil
}

// options maps the policy onto health.Options, where zero means the
// default and negative off.
func (h Health) options(log *slog.Logger) health.Options {
	kind, path, _ := health.ParseSpec(h.Check) // Validate parsed it
	return health.Options{
		Kind: kind, Path: path, Interval: h.Interval, Timeout: h.Timeout,
		Rise: h.Rise, Fall: h.Fall, SlowStart: offIfZero(h.SlowStart), MaxEjectedShare: h.MaxEjected,
		Outliers: offIfZero(h.Outliers), OutlierEjection: h.OutlierEjection, Logger: log,
	}
}

// options maps the proxy settings onto userspace.Options.
func (p Proxy) options(obs lb.Observer, log *slog.Logger) userspace.Options {
	return userspace.Options{
		ConnectTimeout: p.ConnectTimeout, IdleTimeout: p.IdleTimeout, MaxConns: p.MaxConns, Loops: p.Loops,
		MaxBuffered: p.MaxBuffered, FirstByteTimeout: offIfZero(p.FirstByteTimeout),
		Observer: obs, Logger: log,
	}
}

// offIfZero turns "0 is off" into the packages' "negative is off, zero is
// the default".
func offIfZero[T int | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}
