package server

import (
	"errors"
	"log/slog"
	"runtime"
	"time"

	"github.com/strata-dp/strata/dataplane/state"
)

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

func (c *Config) fill() error {
	if c.Engine == nil {
		return errors.New("server: no engine")
	}
	if c.Listen == "" && c.RESP == "" {
		return errors.New("server: no listen address")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxConns <= 0 {
		c.MaxConns = 20000
	}
	if c.MaxFrame <= 0 {
		c.MaxFrame = 4 << 20
	}
	if c.MaxOutbound <= 0 {
		c.MaxOutbound = 32 << 20
	}
	if c.MaxReply <= 0 {
		c.MaxReply = 16 << 20
	}
	if c.MaxBuffered <= 0 {
		c.MaxBuffered = 256 << 20
	}
	if c.SlowTimeout <= 0 {
		c.SlowTimeout = 10 * time.Second
	}
	if c.EventLoops <= 0 {
		c.EventLoops = DefaultEventLoops()
	}
	if c.BusyPoll < 0 {
		return errors.New("server: negative busy-poll budget")
	}
	if c.NodeID == "" {
		c.NodeID = "state-1"
	}
	return nil
}

// DefaultEventLoops is the number of event loops per listener when
// Config.EventLoops is 0: half the CPUs, at least one.
func DefaultEventLoops() int { return max(1, runtime.NumCPU()/2) }
