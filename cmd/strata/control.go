package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/strata-dp/strata/control"
	"github.com/strata-dp/strata/internal/config"
	"github.com/strata-dp/strata/internal/httpserve"
	"github.com/strata-dp/strata/internal/secret"
	"github.com/strata-dp/strata/internal/telemetry"
)

func init() {
	register(&command{
		name:    "control",
		summary: "run the control plane (admin API, dashboard, metrics)",
		run:     runControl,
	})
}

// minTokenLen keeps guessable tokens out: `openssl rand -hex 32` gives 64.
const minTokenLen = 16

func runControl(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("control", "--listen ADDR [--config FILE] [--token-file FILE] [--allowed-host NAME ...]", env)
	listen := fs.String("listen", "127.0.0.1:9090", "serve the admin API, the dashboard, /metrics, /healthz and /readyz here; "+
		"beyond loopback only with --token-file")
	configPath := fs.String("config", "", "the stack configuration the control plane manages (default: the built-in defaults)")
	tokenFile := fs.String("token-file", "", "file holding a bearer token (at least 16 characters) that every route but /healthz, /readyz "+
		"and the dashboard page requires as Authorization: Bearer TOKEN (default: none, allowed on loopback only)")
	var allowedHosts stringList
	fs.Var(&allowedHosts, "allowed-host", "a Host name requests may carry besides localhost, loopback addresses and the listen address "+
		"(DNS-rebinding defence: any other Host gets 403); repeatable or comma-separated")
	stackState := fs.String("stack-state", "", "strata up's stack.json (its run directory): show each process's restarts and last exit (strata up sets it)")
	lim := httpserve.DefaultLimits
	maxConns := fs.Int("max-conns", lim.MaxConns, fmt.Sprintf("most connections served at once; more wait to be accepted "+
		"(fixed limits besides: headers %d KiB, read-header timeout %v, read %v, write %v, idle %v)",
		lim.MaxHeaderBytes>>10, lim.ReadHeaderTimeout, lim.ReadTimeout, lim.WriteTimeout, lim.IdleTimeout))
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
	if tf.MetricsAddr != "" && tf.MetricsAddr != *listen {
		return usagef("--metrics: the control plane serves /metrics on --listen; leave --metrics empty")
	}
	if *maxConns < 1 {
		return usagef("--max-conns: %d must be at least 1", *maxConns)
	}
	var token []byte
	if *tokenFile != "" {
		if token, err = secret.Read(*tokenFile); err != nil {
			return usagef("--token-file: %v", err)
		}
		if len(token) < minTokenLen {
			return usagef("--token-file: the token in %s has %d characters, want at least %d (e.g. openssl rand -hex 32)",
				*tokenFile, len(token), minTokenLen)
		}
	} else if !config.LoopbackAddr(*listen) {
		return usagef("--token-file: --listen %s is not a loopback address; the control plane refuses to serve it without a token "+
			"(give --token-file FILE)", *listen)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	ts := telemetry.NewServer()
	plane := control.New(cfg, log, ts.Registry)
	plane.WatchSupervisor(*stackState)
	mux := ts.Handler()
	plane.Mount(mux)
	access := control.NewAccess(ln.Addr().String(), allowedHosts, token)
	go plane.Run(ctx)
	ts.SetReady(true)
	lim.MaxConns = *maxConns
	log.Info("control plane serving", "listen", ln.Addr().String(), "token", len(token) > 0, "allowed_hosts", []string(allowedHosts))
	if err := httpserve.Serve(ctx, ln, access.Wrap(mux), lim); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
