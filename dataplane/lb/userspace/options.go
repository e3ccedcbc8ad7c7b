package userspace

import (
	"log/slog"
	"time"

	"github.com/strata-dp/strata/dataplane/lb"
)

// Options bound what one proxy may consume. Zero values take the defaults.
type Options struct {
	// ConnectTimeout bounds a backend connect; on expiry the next backend
	// for the flow is tried (default 1 s).
	ConnectTimeout time.Duration
	// IdleTimeout closes a session that carried no bytes for this long
	// (default 5 min).
	IdleTimeout time.Duration
	// FirstByteTimeout is how long a backend may stay silent after the
	// client's first bytes before the session reports lb.SignalNoResponse
	// (default 1 s; negative disables). The session itself stays open.
	FirstByteTimeout time.Duration
	// MaxConns bounds concurrent client connections per service; more are
	// closed at accept (default 50,000).
	MaxConns int
	// MaxBuffered bounds the bytes queued in the proxy toward one side of a
	// session: past it the other side is no longer read until the queue
	// has drained to half (default 256 KiB; see backpressure.go). Bytes a
	// client sends while its backend is being dialled are bounded by it too.
	MaxBuffered int
	// Loops is the number of gnet event loops per service (default
	// GOMAXPROCS as the process started; the proxy itself raises GOMAXPROCS
	// to one more than its loops, see procs.go).
	Loops int
	// Observer receives passive health signals; nil ignores them.
	Observer lb.Observer
	// Logger logs lifecycle events, never per connection.
	Logger *slog.Logger
}

// Defaults of Options; the flags of `strata lb` start from them too.
const (
	DefaultConnectTimeout   = time.Second
	DefaultIdleTimeout      = 5 * time.Minute
	DefaultFirstByteTimeout = time.Second
	DefaultMaxConns         = 50_000
	DefaultMaxBuffered      = 256 << 10
)

// Bounds of Options that a caller is refused beyond (package balancer
// validates them): MaxBuffered within [MinMaxBuffered, MaxMaxBuffered],
// Loops at most MaxLoops.
const (
	MinMaxBuffered = 4 << 10
	MaxMaxBuffered = 64 << 20
	MaxLoops       = 1024
)

func (o Options) withDefaults() Options {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.IdleTimeout <= 0 {
		o.IdleTimeout = DefaultIdleTimeout
	}
	if o.FirstByteTimeout == 0 {
		o.FirstByteTimeout = DefaultFirstByteTimeout
	}
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
	}
	if o.MaxBuffered <= 0 {
		o.MaxBuffered = DefaultMaxBuffered
	}
	if o.Loops <= 0 {
		o.Loops = startProcs
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
