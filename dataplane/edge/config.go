package edge

import (
	"errors"
	"fmt"
	"github.com/strata-dp/strata/internal/accesslog"
	"net/netip"
	"net/url"
	"time"
)

// Config is the edge's configuration; zero fields take the defaults below.
type Config struct {
	// Origin is where misses go, http://host:port (https is accepted too).
	Origin string
	// MemoryBytes bounds everything the cache stores.
	MemoryBytes int64
	// MaxObjectBytes is the largest body stored; larger responses are
	// streamed to the client and not stored.
	MaxObjectBytes int64
	// Grace lets a stale response be served while it is refreshed in the
	// background, and when the origin fails, for this long past its
	// freshness, unless the response forbids stale serving.
	Grace time.Duration
	// Keep retains stale responses this long past freshness and grace so
	// that they can be revalidated with a conditional request (or served
	// to a client's max-stale). Zero means DefaultKeep, negative none.
	Keep time.Duration
	// OriginTimeout bounds connecting to, writing to and each read from the
	// origin, and how long a coalesced request waits for its leader.
	OriginTimeout time.Duration
	// OriginMaxConns bounds the pool of connections to the origin.
	OriginMaxConns int
	// OriginRetryRatio is the retry budget: retries to the origin at most
	// this share of requests (zero means DefaultOriginRetryRatio, negative
	// no retries at all), plus OriginRetryPerSecond (zero means
	// DefaultOriginRetryPerSecond, negative none). A request is retried at
	// most once, and only when idempotent and sent on a reused connection
	// that broke before its response began.
	OriginRetryRatio     float64
	OriginRetryPerSecond float64
	// MaxConns bounds concurrent client connections. When they are all
	// taken, a new connection closes the oldest one still reading a
	// request head, else the longest idle one; when every connection is
	// busy with a request, the new one is closed at once.
	MaxConns int
	// MaxConnsPerIP bounds concurrent connections from one client address
	// (one /64 for IPv6); more are closed at once. Negative: no bound.
	MaxConnsPerIP int
	// ConnsPerIPExempt lists client networks MaxConnsPerIP does not apply
	// to (a trusted proxy in front of the edge). Loopback is not exempt
	// unless listed.
	ConnsPerIPExempt []netip.Prefix
	// IdleTimeout closes a client connection that waits this long for its
	// next request (or takes this long over writing a response).
	IdleTimeout time.Duration
	// HeaderTimeout closes a connection whose request head (request line
	// and fields) is not complete this long after its first byte, or, for
	// the first request, after accept. Capped at IdleTimeout.
	HeaderTimeout time.Duration
	// MaxHeaderBytes and MaxHeaderCount limit a client's request header;
	// larger requests get 431.
	MaxHeaderBytes int
	MaxHeaderCount int
	// MaxBodyBytes limits request bodies forwarded to the origin (413).
	MaxBodyBytes int
	// MaxBodyBuffer bounds the request-body bytes all connections hold
	// together while their requests are read and forwarded; a request
	// whose body would pass it gets 503 and a close. Memory for a body is
	// taken as its bytes arrive, never for the length a client declares.
	MaxBodyBuffer int64
	// BodyTimeout bounds receiving a whole request body, from the end of
	// its head (408 and close).
	BodyTimeout time.Duration
	// StoreSetCookie stores responses carrying Set-Cookie, as RFC 9111
	// allows. Off by default: handing one client's cookie to another is the
	// classic shared-cache leak. Such responses are never coalesced.
	StoreSetCookie bool
	// PurgeFrom lists the client networks allowed to purge, by the PURGE
	// method and through AdminHandler alike.
	PurgeFrom []netip.Prefix
	// PurgeToken, when set, also allows purges from anywhere that present
	// it as "Authorization: Bearer TOKEN". At least MinPurgeTokenLen bytes.
	PurgeToken string
	// AccessLog, when set, receives a sampled entry per answered request
	// (accesslog.Writer.Log never blocks; the caller closes it after
	// Shutdown). Nil: no access log.
	AccessLog *accesslog.Writer
}

// Defaults.
const (
	DefaultMemoryBytes    = 256 << 20
	DefaultMaxObjectBytes = 8 << 20
	DefaultKeep           = 10 * time.Minute
	DefaultOriginTimeout  = 10 * time.Second
	DefaultOriginMaxConns = 512
	DefaultMaxConns       = 10000
	DefaultMaxConnsPerIP  = 256
	DefaultIdleTimeout    = 60 * time.Second
	DefaultHeaderTimeout  = 10 * time.Second
	DefaultMaxHeaderBytes = 16 << 10
	DefaultMaxHeaderCount = 100
	DefaultMaxBodyBytes   = 8 << 20
	DefaultMaxBodyBuffer  = 256 << 20
	DefaultBodyTimeout    = 30 * time.Second
	MinPurgeTokenLen      = 16
	// MinMemoryBytes is the smallest MemoryBytes accepted.
	MinMemoryBytes = 1 << 20

	DefaultOriginRetryRatio     = 0.1
	DefaultOriginRetryPerSecond = 1.0
)

// Errors returned by New and the purge API.
var (
	ErrConfig   = errors.New("edge: invalid configuration")
	ErrPurgeURL = errors.New("edge: purge needs an absolute http URL")
)

func (c *Config) withDefaults() (Config, *url.URL, error) {
	out := *c
	u, err := url.Parse(c.Origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return out, nil, fmt.Errorf("%w: origin %q is not an http:// or https:// URL", ErrConfig, c.Origin)
	}
	setDefault(&out.MemoryBytes, DefaultMemoryBytes)
	setDefault(&out.MaxObjectBytes, DefaultMaxObjectBytes)
	setDefault(&out.OriginTimeout, DefaultOriginTimeout)
	setDefault(&out.OriginMaxConns, DefaultOriginMaxConns)
	setDefault(&out.MaxConns, DefaultMaxConns)
	setDefault(&out.IdleTimeout, DefaultIdleTimeout)
	setDefault(&out.HeaderTimeout, DefaultHeaderTimeout)
	out.HeaderTimeout = min(out.HeaderTimeout, out.IdleTimeout)
	switch {
	case out.MaxConnsPerIP == 0:
		out.MaxConnsPerIP = DefaultMaxConnsPerIP
	case out.MaxConnsPerIP < 0:
		out.MaxConnsPerIP = 0
	}
	setDefault(&out.MaxHeaderBytes, DefaultMaxHeaderBytes)
	setDefault(&out.MaxHeaderCount, DefaultMaxHeaderCount)
	setDefault(&out.MaxBodyBytes, DefaultMaxBodyBytes)
	setDefault(&out.MaxBodyBuffer, DefaultMaxBodyBuffer)
	setDefault(&out.BodyTimeout, DefaultBodyTimeout)
	switch {
	case out.OriginRetryRatio == 0:
		out.OriginRetryRatio = DefaultOriginRetryRatio
	case out.OriginRetryRatio > 1:
		return out, nil, fmt.Errorf("%w: origin retry ratio %v is above 1", ErrConfig, out.OriginRetryRatio)
	}
	switch {
	case out.OriginRetryPerSecond == 0:
		out.OriginRetryPerSecond = DefaultOriginRetryPerSecond
	case out.OriginRetryPerSecond < 0:
		out.OriginRetryPerSecond = 0
	}
	switch {
	case out.Keep == 0:
		out.Keep = DefaultKeep
	case out.Keep < 0:
		out.Keep = 0
	}
	if out.PurgeFrom == nil {
		out.PurgeFrom = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
	switch {
	case out.MemoryBytes < MinMemoryBytes:
		return out, nil, fmt.Errorf("%w: memory %d is below 1 MiB", ErrConfig, out.MemoryBytes)
	case out.MaxObjectBytes > out.MemoryBytes/4:
		// One object may not crowd out the rest of the cache.
		out.MaxObjectBytes = out.MemoryBytes / 4
	case out.Grace < 0:
		return out, nil, fmt.Errorf("%w: grace must not be negative", ErrConfig)
	case out.MaxBodyBuffer < int64(out.MaxBodyBytes):
		return out, nil, fmt.Errorf("%w: max body buffer %d is below the largest request body %d", ErrConfig, out.MaxBodyBuffer, out.MaxBodyBytes)
	case out.MaxHeaderBytes < 1024:
		return out, nil, fmt.Errorf("%w: max header bytes %d is below 1024", ErrConfig, out.MaxHeaderBytes)
	case out.PurgeToken != "" && len(out.PurgeToken) < MinPurgeTokenLen:
		return out, nil, fmt.Errorf("%w: purge token shorter than %d bytes", ErrConfig, MinPurgeTokenLen)
	}
	return out, u, nil
}

func setDefault[T int | int64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}
