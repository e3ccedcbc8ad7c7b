package main

import (
	"context"
	"errors"
	"net/http"

	"github.com/strata-dp/strata/control"
	"github.com/strata-dp/strata/internal/telemetry"
)

func init() {
	register(&command{
		name:    "control",
		summary: "run the control plane (admin API, dashboard, metrics)",
		run:     runControl,
	})
}

func runControl(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("control", "--listen ADDR [--config FILE]", env)
	listen := fs.String("listen", "127.0.0.1:9090", "serve the admin API, the dashboard, /metrics, /healthz and /readyz here")
	configPath := fs.String("config", "", "the stack configuration the control plane manages (default: the built-in defaults)")
	var tf telemetry.Flags
	tf.Bind(fs, "")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	cfg, err := loadStackConfig(*configPath, "")
	if err != nil {
		return err
	}
	log, err := tf.Logger(env.stderr)
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	ts := telemetry.NewServer()
	if err := ts.Listen(*listen); err != nil {
		return err
	}
	if tf.MetricsAddr != "" && tf.MetricsAddr != *listen {
		return usagef("--metrics: the control plane serves /metrics on --listen; leave --metrics empty")
	}
	plane := control.New(cfg, log, ts.Registry)
	mux := ts.Handler()
	plane.Mount(mux)
	go plane.Run(ctx)
	ts.SetReady(true)
	log.Info("control plane serving", "listen", ts.Addr())
	if err := ts.Serve(ctx, mux); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
