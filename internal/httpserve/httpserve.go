// Package httpserve serves the operators' HTTP listeners (the control
// plane's admin API and every role's /metrics, /healthz and /readyz) within
// limits on time, header size and connections, so that a slow or hostile
// client holds at most one bounded slot and never the process's memory.
// The user-traffic listeners (edge, facades) have their own, in their roles.
package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"
)

// Limits bound what clients can hold of an operators' listener:
// how long a request may take to arrive and its answer to leave, how long
// an idle connection stays, how large headers may be, and how many
// connections are served at once. These listeners answer small documents
// to a handful of operators, dashboards and scrapers, so the defaults are
// tight.
type Limits struct {
	// ReadHeaderTimeout closes a connection whose request headers have not
	// arrived in time (slowloris).
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds writing an answer to a client that reads slowly.
	WriteTimeout time.Duration
	// IdleTimeout closes a keep-alive connection that sends nothing.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds request headers (431 beyond). Bodies need no
	// bound of their own: no route reads one, and net/http discards at
	// most 256 KiB of an unread body before it closes the connection.
	MaxHeaderBytes int
	// MaxConns bounds open connections. Beyond it the listener stops
	// accepting until one closes: the next connections wait in the
	// kernel's accept queue, costing the process nothing, and the timeouts
	// above make every held slot free itself.
	MaxConns int
}

// DefaultLimits are the limits of strata control and of every role's
// --metrics listener (docs/SECURITY.md).
var DefaultLimits = Limits{
	ReadHeaderTimeout: 5 * time.Second,
	ReadTimeout:       10 * time.Second,
	WriteTimeout:      10 * time.Second,
	IdleTimeout:       60 * time.Second,
	MaxHeaderBytes:    32 << 10,
	MaxConns:          256,
}

// Serve serves h on ln within lim until ctx is done, then shuts down
// within a second.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, lim Limits) error {
	if lim.MaxConns > 0 {
		ln = newLimitListener(ln, lim.MaxConns)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: lim.ReadHeaderTimeout, ReadTimeout: lim.ReadTimeout,
		WriteTimeout: lim.WriteTimeout, IdleTimeout: lim.IdleTimeout, MaxHeaderBytes: lim.MaxHeaderBytes}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutCtx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		err := srv.Shutdown(shutCtx)
		if errors.Is(err, context.DeadlineExceeded) {
			err = srv.Close()
		}
		return err
	}
}

// limitListener accepts while fewer than cap(slots) of its connections
// are open (golang.org/x/net/netutil.LimitListener, without the module).
type limitListener struct {
	net.Listener
	slots     chan struct{}
	done      chan struct{}
	closeOnce sync.Once
}

func newLimitListener(ln net.Listener, n int) *limitListener {
	return &limitListener{Listener: ln, slots: make(chan struct{}, n), done: make(chan struct{})}
}

func (l *limitListener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.done:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	return &limitConn{Conn: c, release: func() { <-l.slots }}, nil
}

func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// limitConn gives its slot back once, on the first Close.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
