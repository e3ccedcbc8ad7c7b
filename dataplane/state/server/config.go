package server

import (
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/strata-dp/strata/dataplane/state"
)

// Defaults of Config's zero fields, and of a state node's flags.
const (
	// DefaultMemoryBytes is a node's bound on live data (strata state
	// --memory); the engine's own zero default, state.DefaultMemoryBytes,
	// is smaller, for tests.
	DefaultMemoryBytes = 256 << 20
	DefaultMaxConns    = 20000
	DefaultMaxFrame    = 4 << 20
	DefaultMaxOutbound = 32 << 20
	DefaultMaxReply    = 16 << 20
	// DefaultMaxBuffered is MaxBuffered when zero; a node derives its own
	// from its memory bound (MaxBufferedFor).
	DefaultMaxBuffered = 256 << 20
	DefaultSlowTimeout = 10 * time.Second
)

// Limits Validate holds the fields to.
const (
	MinMaxFrame    = 1 << 10
	MinMaxReply    = 64 << 10
	MaxSizeLimit   = 1 << 30 // of MaxFrame and MaxReply
	MinMaxBuffered = 1 << 20
	MaxBusyPoll    = time.Second
)

// maxTTLMillis is the longest TTL either protocol accepts, in
// milliseconds (about 142,000 years), so that now plus a TTL cannot
// overflow an int64 of unix milliseconds: the binary protocol clamps to
// it, RESP refuses more with Redis's errors.
const maxTTLMillis = 1 << 52

// ErrConfig wraps every error of Config.Validate and New's configuration
// errors, naming the field.
var ErrConfig = errors.New("server: invalid configuration")

// Config configures a Server.
type Config struct {
	Engine *state.Engine
	Logger *slog.Logger
	// Listen is the binary protocol's address; RESP, when set, RESP2's.
	Listen string
	RESP   string
	// NodeID names the node in INFO and logs.
	NodeID string
	// Secret, when non-empty, must be presented with AUTH before any
	// other command, in both protocols.
	Secret []byte
	// MaxConns bounds open connections over both listeners (default 20000).
	MaxConns int
	// MaxFrame bounds one binary frame body or RESP bulk (default 4 MiB).
	MaxFrame int
	// MaxOutbound bounds replies queued for a client that does not read
	// (default 32 MiB); past it the connection is closed.
	MaxOutbound int
	// MaxReply bounds one reply whose size the client chooses (MGET in
	// both protocols, SCAN): past it the command is refused with an error
	// naming the limit, before more than MaxReply bytes are built
	// (default 16 MiB).
	MaxReply int
	// MaxBuffered bounds the bytes held for all connections together:
	// incomplete commands being received and replies not yet sent. A
	// connection whose growth would pass it is closed (reason
	// buffer_limit). Default 256 MiB.
	MaxBuffered int64
	// IdleTimeout closes connections silent for this long (0: never).
	IdleTimeout time.Duration
	// SlowTimeout closes connections whose replies stay unsent this long
	// (default 10s).
	SlowTimeout time.Duration
	// EventLoops is the number of gnet event loops per listener (default:
	// half the CPUs, at least one). A state node usually shares its host
	// with its clients (the single-host stack, benchmarks), and loops
	// beyond that only contend with them and with each other for hot keys:
	// on 2 CPUs one loop measured better than two for throughput with 16-deep
	// pipelines and for p99 latency. Raise it on a dedicated host.
	EventLoops int
	// BusyPoll keeps an event loop polling this long after its last client
	// traffic before it sleeps (0: sleep at once). See busypoll.go: it saves
	// clients on the same host the cost of waking the server, for processor
	// time after traffic and, on a host whose CPUs are all busy, tail
	// latency; off by default.
	BusyPoll time.Duration
}

// fill replaces zero fields with their defaults and judges the result.
func (c *Config) fill() error {
	if c.Engine == nil {
		return fmt.Errorf("%w: no engine", ErrConfig)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	setDefault(&c.MaxConns, DefaultMaxConns)
	setDefault(&c.MaxFrame, DefaultMaxFrame)
	setDefault(&c.MaxOutbound, DefaultMaxOutbound)
	setDefault(&c.MaxReply, DefaultMaxReply)
	setDefault(&c.MaxBuffered, DefaultMaxBuffered)
	setDefault(&c.SlowTimeout, DefaultSlowTimeout)
	if c.EventLoops <= 0 {
		c.EventLoops = DefaultEventLoops()
	}
	if c.NodeID == "" {
		c.NodeID = "state-1"
	}
	return c.Validate()
}

// Validate reports the first field of c that is out of range, wrapping
// ErrConfig. It judges c as given, without Engine: New fills the defaults
// of zero fields first, so a zero size or count is an error only here
// (EventLoops, IdleTimeout and BusyPoll mean something at zero).
func (c *Config) Validate() error {
	switch {
	case c.Listen == "" && c.RESP == "":
		return fmt.Errorf("%w: no listen address (binary or RESP)", ErrConfig)
	case c.MaxConns < 1:
		return fmt.Errorf("%w: max conns %d must be at least 1", ErrConfig, c.MaxConns)
	case c.MaxFrame < MinMaxFrame || c.MaxFrame > MaxSizeLimit:
		return fmt.Errorf("%w: max frame %d is not a size between 1KiB and 1GiB", ErrConfig, c.MaxFrame)
	case c.MaxReply < MinMaxReply || c.MaxReply > MaxSizeLimit:
		return fmt.Errorf("%w: max reply %d is not a size between 64KiB and 1GiB", ErrConfig, c.MaxReply)
	case c.MaxOutbound < 1:
		return fmt.Errorf("%w: max outbound %d must be positive", ErrConfig, c.MaxOutbound)
	case c.MaxBuffered < MinMaxBuffered:
		return fmt.Errorf("%w: max buffered %d is not a size of at least 1MiB", ErrConfig, c.MaxBuffered)
	case c.IdleTimeout < 0:
		return fmt.Errorf("%w: idle timeout %v is negative (0: never)", ErrConfig, c.IdleTimeout)
	case c.SlowTimeout <= 0:
		return fmt.Errorf("%w: slow timeout %v must be positive", ErrConfig, c.SlowTimeout)
	case c.EventLoops < 0:
		return fmt.Errorf("%w: event loops %d must be 0 (half the CPUs) or more", ErrConfig, c.EventLoops)
	case c.BusyPoll < 0 || c.BusyPoll > MaxBusyPoll:
		return fmt.Errorf("%w: busy poll %v must be between 0 (off) and 1s", ErrConfig, c.BusyPoll)
	}
	return nil
}

// MaxBufferedFor is a node's MaxBuffered for a memory bound: a quarter of
// it, within 64 MiB and 1 GiB. Buffered bytes sit outside the memory
// bound, in gnet's buffers, which may round a write up to twice its size,
// so the node's resident set can grow by up to twice this under attack.
func MaxBufferedFor(memoryBytes int64) int64 {
	return min(max(memoryBytes/4, 64<<20), 1<<30)
}

func setDefault[T int | int64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// DefaultEventLoops is the number of event loops per listener when
// Config.EventLoops is 0: half the CPUs, at least one.
func DefaultEventLoops() int { return max(1, runtime.NumCPU()/2) }
