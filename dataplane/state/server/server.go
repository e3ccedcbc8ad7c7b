package server

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/logging"
	"golang.org/x/sys/unix"

	"github.com/strata-dp/strata/dataplane/state"
	"github.com/strata-dp/strata/internal/gnetlog"
)

type protocol uint8

const (
	protoBinary protocol = iota
	protoRESP
)

func (p protocol) String() string {
	if p == protoRESP {
		return "resp"
	}
	return "binary"
}

// Server serves one engine over the binary protocol and RESP2.
type Server struct {
	cfg     Config
	eng     *state.Engine
	started time.Time
	nowMs   atomic.Int64 // coarse clock for idle accounting, set by the tickers

	conns     atomic.Int64
	accepted  atomic.Uint64
	rejected  atomic.Uint64
	protoErrs atomic.Uint64
	slowKills atomic.Uint64
	idleKills atomic.Uint64
	busyTurns atomic.Uint64

	buffered    atomic.Int64  // bytes held for all connections (buffer.go)
	pledged     atomic.Int64  // of them, held by shed connections not yet closed (shed.go)
	bufferKills atomic.Uint64 // connections closed at a buffer bound
	authFails   atomic.Uint64 // wrong secrets
	authKills   atomic.Uint64 // connections closed after maxAuthFailures
	authGuard   authGuard     // per-address failure budget and log (auth.go)

	authThrottled atomic.Uint64 // AUTHs refused over an address's budget

	stats     statsSet
	listeners []*listener

	replyTooLarge []byte   // binary MGET's error text
	secretDigest  [32]byte // SHA-256 of cfg.Secret
	nextID        atomic.Uint64
}

// listener is one gnet engine serving one protocol.
type listener struct {
	gnet.BuiltinEventEngine
	s      *Server
	proto  protocol
	addr   string
	bound  string
	eng    gnet.Engine
	booted chan struct{}
	done   chan error

	mu       sync.Mutex
	sessions map[*session]struct{}
	paused   map[*session]struct{}       // waiting for their client to read
	swept    int64                       // unix ms of the last sweep (ticker only)
	spinners map[gnet.EventLoop]*spinner // busy polling, per loop (nil: failed)
}

// New validates cfg and returns a server that is not yet listening.
func New(cfg Config) (*Server, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, eng: cfg.Engine, started: time.Now()}
	s.secretDigest = sha256.Sum256(cfg.Secret)
	s.replyTooLarge = fmt.Appendf(nil, "reply larger than the limit of %d bytes (max-reply)", cfg.MaxReply)
	s.nowMs.Store(time.Now().UnixMilli())
	for _, p := range []struct {
		addr  string
		proto protocol
	}{{cfg.Listen, protoBinary}, {cfg.RESP, protoRESP}} {
		if p.addr == "" {
			continue
		}
		s.listeners = append(s.listeners, &listener{
			s: s, proto: p.proto, addr: p.addr,
			booted: make(chan struct{}), done: make(chan error, 1),
			sessions: map[*session]struct{}{},
			paused:   map[*session]struct{}{},
			spinners: map[gnet.EventLoop]*spinner{},
		})
	}
	return s, nil
}

// Start binds the listeners and starts the event loops; it returns once
// both accept connections, or with the first error.
func (s *Server) Start() error {
	for _, l := range s.listeners {
		opts := []gnet.Option{
			gnet.WithMulticore(true),
			gnet.WithTicker(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithReuseAddr(true),
			gnet.WithLogger(gnetlog.New(s.cfg.Logger)),
			gnet.WithLogLevel(logging.WarnLevel),
		}
		opts = append(opts, gnet.WithNumEventLoop(s.cfg.EventLoops))
		go func() { l.done <- gnet.Run(l, "tcp://"+l.addr, opts...) }()
		select {
		case <-l.booted:
		case err := <-l.done:
			if serr := s.Shutdown(context.Background()); serr != nil {
				s.cfg.Logger.Error("server: stop after a failed start", "err", serr)
			}
			if err == nil {
				err = errors.New("engine stopped during start-up")
			}
			return fmt.Errorf("server: %s listener %s: %w", l.proto, l.addr, err)
		}
	}
	return nil
}

// Addr is the bound address of the binary listener ("" when off).
func (s *Server) Addr() string { return s.boundAddr(protoBinary) }

// RESPAddr is the bound address of the RESP listener ("" when off).
func (s *Server) RESPAddr() string { return s.boundAddr(protoRESP) }

func (s *Server) boundAddr(p protocol) string {
	for _, l := range s.listeners {
		if l.proto == p {
			return l.bound
		}
	}
	return ""
}

// Shutdown stops accepting, closes every connection after flushing what it
// can, and waits for the event loops until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	// Listeners stop in parallel: gnet polls for the end of each engine.
	errs := make([]error, len(s.listeners))
	var wg sync.WaitGroup
	for i, l := range s.listeners {
		select {
		case <-l.booted:
		default:
			continue
		}
		wg.Go(func() {
			if err := l.eng.Stop(ctx); err != nil {
				errs[i] = fmt.Errorf("server: stop %s: %w", l.proto, err)
				return
			}
			select {
			case err := <-l.done:
				if err != nil {
					errs[i] = fmt.Errorf("server: %s engine: %w", l.proto, err)
				}
			case <-ctx.Done():
				errs[i] = ctx.Err()
			}
		})
	}
	wg.Wait()
	for _, l := range s.listeners {
		l.mu.Lock()
		for _, sp := range l.spinners {
			if sp != nil {
				sp.close()
			}
		}
		l.mu.Unlock()
	}
	return errors.Join(errs...)
}

// OnBoot learns the bound address (the configured one may have port 0).
func (l *listener) OnBoot(eng gnet.Engine) gnet.Action {
	l.eng = eng
	l.bound = l.addr
	if fd, err := eng.Dup(); err == nil {
		if sa, err := unix.Getsockname(fd); err == nil {
			l.bound = sockaddrString(sa, l.addr)
		}
		_ = unix.Close(fd)
	}
	close(l.booted)
	return gnet.None
}

func sockaddrString(sa unix.Sockaddr, fallback string) string {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	case *unix.SockaddrInet6:
		return net.JoinHostPort(net.IP(a.Addr[:]).String(), strconv.Itoa(a.Port))
	}
	return fallback
}

// Ticks: every sweepInterval the ticker checks every connection's
// timeouts; every pausedInterval it wakes the connections paused until
// their client reads (session.go), since gnet does not say when a
// connection's unsent replies drained.
const (
	sweepInterval  = 250 * time.Millisecond
	pausedInterval = 10 * time.Millisecond
)

// OnTick keeps the coarse clock, enforces the idle and slow-client
// timeouts for this listener's connections and wakes paused ones.
func (l *listener) OnTick() (time.Duration, gnet.Action) {
	s := l.s
	now := time.Now().UnixMilli()
	s.nowMs.Store(now)
	l.mu.Lock()
	defer l.mu.Unlock()
	for ss := range l.paused {
		_ = ss.conn.Wake(nil)
	}
	if now-l.swept >= sweepInterval.Milliseconds() {
		l.swept = now
		l.sweep(now)
		s.authGuard.flush(s.cfg.Logger, time.UnixMilli(now))
	}
	if len(l.paused) > 0 {
		return pausedInterval, gnet.None
	}
	return sweepInterval, gnet.None
}

func (l *listener) sweep(now int64) {
	s := l.s
	idle := s.cfg.IdleTimeout.Milliseconds()
	slow := s.cfg.SlowTimeout.Milliseconds()
	for ss := range l.sessions {
		if idle > 0 && now-ss.lastActive.Load() > idle {
			s.idleKills.Add(1)
			_ = ss.conn.Close()
			continue
		}
		// A connection with unsent replies is woken: its handler then
		// counts them again (gnet drains them without telling it) and
		// checks, on its own loop, whether it drained or must go.
		since := ss.blockedSince.Load()
		if ss.heldOut.Load() != 0 || (since != 0 && now-since > slow) {
			_ = ss.conn.Wake(nil)
		}
	}
}

// pause and resume keep the set of connections that wait for their
// client to read; only their event loop calls them.
func (l *listener) pause(ss *session) {
	if !ss.paused {
		ss.paused = true
		l.mu.Lock()
		l.paused[ss] = struct{}{}
		l.mu.Unlock()
	}
}

func (l *listener) resume(ss *session) {
	if ss.paused {
		ss.paused = false
		l.mu.Lock()
		delete(l.paused, ss)
		l.mu.Unlock()
	}
}

// Conns is the number of open connections.
func (s *Server) Conns() int64 { return s.conns.Load() }
