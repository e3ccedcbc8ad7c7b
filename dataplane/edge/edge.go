package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-dp/strata/dataplane/edge/store"
	"github.com/strata-dp/strata/internal/bodybuf"
	"github.com/valyala/fasthttp"
)

// maxBackground bounds concurrent background refreshes
// (stale-while-revalidate); more are skipped and the next request retries.
const maxBackground = 64

// Edge is the forward-cache proxy.
type Edge struct {
	cfg    Config
	log    *slog.Logger
	store  *store.Store[*object]
	origin *fasthttp.HostClient
	// originConns tracks the origin's connections, retries budgets
	// retries.
	originConns *connTracker
	retries     *retryBudget
	// originHost is the origin URL's host, the Host of requests that
	// arrive without one.
	originHost string
	// originScheme is the origin URL's scheme, which fasthttp's client
	// insists the request URIs it sends carry.
	originScheme string
	m            *metrics
	purgeAuth    purgeAuth
	now          func() int64 // unix seconds; replaced in tests
	clock        atomic.Int64 // coarse unix seconds, ticked while serving
	ticking      sync.Once
	stopTick     chan struct{}
	flights      flightGroup

	varyMu  sync.Mutex
	varyGen atomic.Uint64

	bgSem chan struct{}

	bodyBudget *bodybuf.Budget // request-body bytes held, at most MaxBodyBuffer

	mu        sync.Mutex
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
	open      int                // connections holding one of MaxConns
	perIP     map[netip.Addr]int // open connections per ipKey
	heads     connList           // connections reading a head, oldest first
	shutting  atomic.Bool
	connWG    sync.WaitGroup
	bgWG      sync.WaitGroup
}

// New builds an edge for cfg. It does not listen; call Serve.
func New(cfg Config, log *slog.Logger) (*Edge, error) {
	c, u, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var tlsConfig *tls.Config
	if u.Scheme == "https" {
		tlsConfig = &tls.Config{ServerName: u.Hostname(), ClientSessionCache: tls.NewLRUClientSessionCache(0)}
	}
	conns := newConnTracker(tlsConfig)
	e := &Edge{
		cfg:          c,
		log:          log,
		store:        store.New[*object](c.MemoryBytes),
		origin:       newOriginClient(u, c, conns),
		originConns:  conns,
		retries:      newRetryBudget(c.OriginRetryRatio, c.OriginRetryPerSecond),
		originHost:   u.Host,
		originScheme: u.Scheme,
		m:            newMetrics(),
		purgeAuth:    newPurgeAuth(c.PurgeFrom, c.PurgeToken),
		bgSem:        make(chan struct{}, maxBackground),
		listeners:    map[net.Listener]struct{}{},
		conns:        map[*conn]struct{}{},
		perIP:        map[netip.Addr]int{},
	}
	e.bodyBudget = bodybuf.NewBudget(c.MaxBodyBuffer)
	e.flights.m = map[string]*flight{}
	// The coarse clock, ticked while serving; tests replace now.
	e.clock.Store(time.Now().Unix())
	e.now = e.clock.Load
	return e, nil
}

func newOriginClient(u *url.URL, c Config, conns *connTracker) *fasthttp.HostClient {
	addr := u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			addr += ":443"
		} else {
			addr += ":80"
		}
	}
	return &fasthttp.HostClient{
		Addr:                     addr,
		IsTLS:                    u.Scheme == "https",
		MaxConns:                 c.OriginMaxConns,
		MaxConnWaitTimeout:       c.OriginTimeout,
		ReadTimeout:              c.OriginTimeout,
		WriteTimeout:             c.OriginTimeout,
		MaxIdleConnDuration:      30 * time.Second,
		NoDefaultUserAgentHeader: true,
		// One attempt: originDo decides about a retry (retry.go).
		MaxIdemponentCallAttempts: 1,
		DialTimeout:               conns.dial,
		DisablePathNormalizing:    true,
		// Relay field names as the origin spelled them (ETag, not Etag).
		DisableHeaderNamesNormalizing: true,
		StreamResponseBody:            true,
		ReadBufferSize:                c.MaxHeaderBytes,
		MaxResponseBodySize:           0, // bodies are read with our own bound
	}
}

// Serve accepts client connections on ln until Shutdown. It returns nil
// after Shutdown.
func (e *Edge) Serve(ln net.Listener) error {
	e.mu.Lock()
	if e.shutting.Load() {
		e.mu.Unlock()
		return nil
	}
	e.listeners[ln] = struct{}{}
	e.ticking.Do(func() {
		e.stopTick = make(chan struct{})
		go e.tick(e.stopTick)
	})
	e.mu.Unlock()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if e.shutting.Load() {
				return nil
			}
			// Out of file descriptors and the like: back off, keep serving.
			var te interface{ Temporary() bool }
			if errors.As(err, &te) && te.Temporary() {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				time.Sleep(backoff)
				continue
			}
			return fmt.Errorf("edge: accept: %w", err)
		}
		backoff = 0
		c := newConn(e, nc)
		e.mu.Lock()
		if e.shutting.Load() {
			e.mu.Unlock()
			_ = nc.Close()
			return nil
		}
		if !e.admitLocked(c) {
			e.mu.Unlock()
			_ = nc.Close()
			continue
		}
		e.conns[c] = struct{}{}
		e.connWG.Add(1)
		e.mu.Unlock()
		go c.serve()
	}
}

func (e *Edge) forget(c *conn) {
	e.mu.Lock()
	delete(e.conns, c)
	e.releaseLocked(c)
	e.mu.Unlock()
	e.connWG.Done()
}

// tick keeps the coarse clock within 100ms of the wall clock: reading it
// costs an atomic load where time.Now costs a vDSO call, on every request.
func (e *Edge) tick(stop chan struct{}) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case now := <-t.C:
			e.clock.Store(now.Unix())
		}
	}
}

// Shutdown stops accepting, lets requests in flight finish, closes idle
// connections and waits for background refreshes. When ctx ends first, the
// remaining connections are closed and ctx's error returned.
func (e *Edge) Shutdown(ctx context.Context) error {
	e.mu.Lock()
	e.shutting.Store(true)
	if e.stopTick != nil {
		close(e.stopTick)
		e.stopTick = nil
	}
	for ln := range e.listeners {
		_ = ln.Close()
	}
	for c := range e.conns {
		c.wakeIfIdle()
	}
	e.mu.Unlock()
	done := make(chan struct{})
	go func() {
		e.connWG.Wait()
		e.bgWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		e.origin.CloseIdleConnections()
		return nil
	case <-ctx.Done():
		e.mu.Lock()
		for c := range e.conns {
			_ = c.nc.Close()
		}
		e.mu.Unlock()
		return ctx.Err()
	}
}
