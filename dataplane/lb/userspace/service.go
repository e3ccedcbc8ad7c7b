package userspace

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/panjf2000/gnet/v2"
	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/internal/gnetlog"
)

// service is one virtual service: a gnet engine listening on the VIP and the
// current generation of its scheduling table.
type service struct {
	key   string
	opts  Options
	table atomic.Pointer[table]
	m     *serviceMetrics

	// ctx is cancelled when the service stops; it ends the sweeper. It is the
	// service's lifetime, not a request's, which is why it is stored.
	ctx    context.Context
	cancel context.CancelFunc

	active   atomic.Int64
	draining atomic.Bool

	mu         sync.Mutex
	sessions   map[*session]struct{}
	backends   map[netip.AddrPort]*backendStats // backendstats.go
	stallLists map[gnet.EventLoop]*stallList

	boot    chan gnet.Engine
	eng     gnet.Engine
	runErr  chan error
	stopped chan struct{}
}

func startService(t *table, opts Options) (*service, error) {
	ctx, cancel := context.WithCancel(context.Background())
	s := &service{
		key:        t.svc.Key(),
		opts:       opts,
		m:          newServiceMetrics(),
		ctx:        ctx,
		cancel:     cancel,
		sessions:   map[*session]struct{}{},
		backends:   map[netip.AddrPort]*backendStats{},
		stallLists: map[gnet.EventLoop]*stallList{},
		boot:       make(chan gnet.Engine, 1),
		runErr:     make(chan error, 1),
		stopped:    make(chan struct{}),
	}
	s.bindStats(t)
	s.table.Store(t)
	addr := "tcp://" + t.svc.VIP.String()
	go func() {
		err := gnet.Run(&handler{svc: s}, addr,
			gnet.WithMulticore(true),
			gnet.WithNumEventLoop(opts.Loops),
			gnet.WithReuseAddr(true),
			// One listening socket per loop: each loop accepts its own
			// connections, instead of a separate acceptor thread handing
			// every new connection across loops.
			gnet.WithReusePort(true),
			gnet.WithTCPNoDelay(gnet.TCPNoDelay),
			gnet.WithLogger(gnetlog.New(opts.Logger)),
		)
		s.runErr <- err
		close(s.stopped)
	}()
	select {
	case s.eng = <-s.boot:
	case err := <-s.runErr:
		cancel()
		return nil, fmt.Errorf("userspace: listen %s: %w", t.svc.VIP, err)
	}
	go s.sweep()
	return s, nil
}

func (s *service) booted(eng gnet.Engine) { s.boot <- eng }

func (s *service) observe(addr netip.AddrPort, sig lb.Signal) {
	if s.opts.Observer != nil {
		s.opts.Observer.ObservePassive(addr, sig)
	}
}

func (s *service) track(sess *session) {
	s.mu.Lock()
	s.sessions[sess] = struct{}{}
	s.mu.Unlock()
}

func (s *service) untrack(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

// sweep closes sessions idle longer than IdleTimeout and reports those
// whose backend is overdue with its first byte. Migrated sessions carry
// their own idle deadlines.
func (s *service) sweep() {
	every := min(s.opts.IdleTimeout/4, time.Second)
	if fb := s.opts.FirstByteTimeout; fb > 0 {
		every = min(every, max(fb/2, 10*time.Millisecond))
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var idle, silent []*session
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-tick.C:
		}
		now := time.Now()
		cutoff := now.Add(-s.opts.IdleTimeout).UnixNano()
		idle, silent = idle[:0], silent[:0]
		s.mu.Lock()
		for sess := range s.sessions {
			if sess.stopped.Load() == nil && sess.last.Load() < cutoff {
				idle = append(idle, sess)
			}
			if sess.firstUp.Load() != 0 && sess.reply.Load() == replyWaiting {
				silent = append(silent, sess)
			}
		}
		s.mu.Unlock()
		for _, sess := range silent {
			sess.judgeFirstByte(now)
		}
		for _, sess := range idle {
			s.m.idleClosed.Add(1)
			s.closeIdle(sess)
		}
		clear(idle)
		clear(silent)
	}
}

// closeIdle closes whichever sides of a session are still on its loop
// (after a half-close only one is).
func (s *service) closeIdle(sess *session) {
	loop := sess.client.EventLoop()
	loop.Execute(context.Background(), gnet.RunnableFunc(func(context.Context) error { //nolint:errcheck // engine stop closes all
		if sess.migrated || sess.ended.Load() {
			return nil
		}
		sess.closing = true
		if sess.clientOpen {
			return loop.Close(sess.client)
		}
		if sess.backendOpen {
			return loop.Close(sess.backend)
		}
		return nil
	}))
}

// stop drains the service until ctx is done, then closes everything.
func (s *service) stop(ctx context.Context) error {
	s.draining.Store(true)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
wait:
	for s.active.Load() > 0 {
		select {
		case <-ctx.Done():
			break wait
		case <-tick.C:
		}
	}
	s.cancel()
	s.mu.Lock()
	for sess := range s.sessions {
		if stop := sess.stopped.Load(); stop != nil {
			(*stop)()
		}
	}
	s.mu.Unlock()
	stopCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.eng.Stop(stopCtx)
	<-s.stopped
	return err
}

// apply swaps in a new generation; existing sessions keep their backend
// connections, new ones use the new table.
func (s *service) apply(t *table) {
	s.bindStats(t)
	s.table.Store(t)
}

func (s *service) vip() netip.AddrPort { return s.table.Load().svc.VIP }
