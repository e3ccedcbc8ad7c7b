// Package lifecycle runs every long-lived strata role through the same
// stop sequence, so that a load balancer or an orchestrator sees one
// behaviour: serve, report ready, and on cancellation report not ready,
// drain, shut down within a bounded grace and log each step.
//
// What is dangerous: a role's Shutdown that ignores its context holds the
// process past the grace; `strata up` sends SIGKILL a few seconds after
// SIGTERM (internal/stack), so a role must not need more than DefaultGrace.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/strata-dp/strata/internal/telemetry"
)

// DefaultGrace bounds a role's Shutdown when Role.Grace is zero: the time
// in-flight work gets to finish once the role stops accepting. It stays
// under the 10 s that `strata up` promises for stopping the whole stack.
const DefaultGrace = 5 * time.Second

// Role is one long-running role of a strata process, already configured
// and bound: Run only serves it and stops it.
type Role struct {
	// Name starts the log lines: "NAME serving", "NAME draining" (unless
	// the role drains by itself, Shutdown nil), "NAME stopped"; tests and
	// operators look for them.
	Name string
	Log  *slog.Logger
	// Telemetry is the process's observability endpoint, already bound
	// with Listen (or off); Handler is what it serves (nil: its own
	// /metrics, /healthz and /readyz).
	Telemetry *telemetry.Server
	Handler   http.Handler
	// Serve serves until Shutdown is called (or, with Shutdown nil, until
	// ctx is done, draining by itself) and returns why it stopped. Nil:
	// the role serves in the background and only Shutdown stops it.
	Serve func(ctx context.Context) error
	// Shutdown stops accepting and waits for in-flight work until its
	// context ends. A drain delay (keep serving a while after /readyz
	// turned false) is the role's own, inside Shutdown or Serve.
	Shutdown func(ctx context.Context) error
	// Grace bounds Shutdown (zero: DefaultGrace).
	Grace time.Duration
	// Attrs are logged with the serving line.
	Attrs []any
}

// Run serves r until ctx is done or Serve fails, then stops it: /readyz
// turns false, Shutdown runs within the grace, the telemetry endpoint
// stops last. A Shutdown that runs out of grace is logged, not returned:
// what it left behind is gone with the process. It returns Serve's error
// when Serve failed before ctx was done, else Shutdown's.
func Run(ctx context.Context, r Role) error {
	if r.Serve == nil && r.Shutdown == nil {
		return errors.New("lifecycle: a role needs Serve, Shutdown or both")
	}
	ts := r.Telemetry
	tctx, stopTelemetry := context.WithCancel(context.WithoutCancel(ctx))
	telemetryDone := make(chan struct{})
	go func() {
		defer close(telemetryDone)
		if err := ts.Serve(tctx, r.Handler); err != nil {
			r.Log.Error(r.Name+" telemetry listener stopped", "err", err)
		}
	}()
	defer func() { stopTelemetry(); <-telemetryDone }()

	served := make(chan error, 1)
	if r.Serve != nil {
		go func() { served <- r.Serve(ctx) }()
	}
	ts.SetReady(true)
	r.Log.Info(r.Name+" serving", r.Attrs...)

	var err error
	select {
	case err = <-served:
		served <- err // Serve is done: a Serve-only role need not wait again
	case <-ctx.Done():
	}
	ts.SetReady(false)
	if r.Shutdown == nil {
		// The role drains by itself once ctx is done, and says so (the LB
		// node).
		err = <-served
	} else {
		grace := r.Grace
		if grace == 0 {
			grace = DefaultGrace
		}
		r.Log.Info(r.Name+" draining", "grace", grace)
		sctx, cancel := context.WithTimeout(context.Background(), grace)
		serr := r.Shutdown(sctx)
		cancel()
		switch {
		case errors.Is(serr, context.DeadlineExceeded):
			r.Log.Warn(r.Name+" shutdown incomplete", "grace", grace, "err", serr)
		case serr != nil && err == nil:
			err = fmt.Errorf("%s shutdown: %w", r.Name, serr)
		}
	}
	if err != nil {
		return err
	}
	r.Log.Info(r.Name + " stopped")
	return nil
}
