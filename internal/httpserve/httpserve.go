package httpserve

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Limits bound what clients can hold of an operators' listener:
// how long a request may take to arrive and its answer to leave, how long
// an idle connection stays, how large headers may be, and how many
// connections are served at once, in all and per client address. These
// listeners answer small documents to a handful of operators, dashboards
// and scrapers, so the defaults are tight.
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
	// MaxConns bounds the connections that have sent something (0:
	// unbounded). One beyond it closes the oldest connection lingering
	// after an error answer, else the oldest still sending its first
	// request head, else the one idle the longest, and is itself closed at
	// once only when every connection is busy with a request. Four times
	// as many may have sent nothing yet; beyond, the oldest is closed.
	MaxConns int
	// MaxConnsPerIP bounds the connections of one client address (an IPv6
	// client's /64), loopback included, that are sending a head or idle
	// (0: unbounded); beyond it the address's own oldest is closed. Busy
	// connections count only toward MaxConns: on loopback the operators'
	// tools share the attacker's address.
	MaxConnsPerIP int
}

// DefaultLimits are the limits of strata control and of every role's
// --metrics listener (docs/SECURITY.md). A Prometheus scraper, the control
// plane's inventory poller, `strata up`'s probes, `strata ctl` and a
// dashboard in a browser each use one to six connections.
var DefaultLimits = Limits{
	ReadHeaderTimeout: 2 * time.Second,
	ReadTimeout:       10 * time.Second,
	WriteTimeout:      10 * time.Second,
	IdleTimeout:       60 * time.Second,
	MaxHeaderBytes:    32 << 10,
	MaxConns:          256,
	MaxConnsPerIP:     32,
}

// Serve serves h on ln within lim until ctx is done, then shuts down
// within a second. Connections shed or refused at the limits are not
// counted; ServeCounted counts them.
func Serve(ctx context.Context, ln net.Listener, h http.Handler, lim Limits) error {
	return ServeCounted(ctx, ln, h, lim, nil)
}

// ServeCounted is Serve, counting the connections shed and refused at the
// limits in reg (metrics.go). A nil reg counts nowhere.
func ServeCounted(ctx context.Context, ln net.Listener, h http.Handler, lim Limits, reg prometheus.Registerer) error {
	m, err := newMetrics(reg)
	if err != nil {
		return err
	}
	a := newAdmission(lim.MaxConns, lim.MaxConnsPerIP, m)
	srv := &http.Server{Handler: h, ReadHeaderTimeout: lim.ReadHeaderTimeout, ReadTimeout: lim.ReadTimeout,
		WriteTimeout: lim.WriteTimeout, IdleTimeout: lim.IdleTimeout, MaxHeaderBytes: lim.MaxHeaderBytes,
		ConnState: a.connState}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(newListener(ln, a)) }()
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
