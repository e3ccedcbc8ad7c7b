package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"

	"github.com/strata-dp/strata/control"
	"github.com/strata-dp/strata/internal/config"
	"github.com/strata-dp/strata/internal/httpserve"
	"github.com/strata-dp/strata/internal/lifecycle"
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

// controlFlags are the control plane's flags.
type controlFlags struct {
	listen, config, tokenFile string
	stackState                string
	allowedHosts              stringList
	maxConns, maxConnsPerIP   int
}

func (f *controlFlags) bind(fs *flag.FlagSet) {
	lim := httpserve.DefaultLimits
	fs.StringVar(&f.listen, "listen", "127.0.0.1:9090", "serve the admin API, the dashboard, /metrics, /healthz and /readyz here; "+
		"beyond loopback only with --token-file")
	fs.StringVar(&f.config, "config", "", "the stack configuration the control plane manages (default: the built-in defaults)")
	fs.StringVar(&f.tokenFile, "token-file", "", "file holding a bearer token (at least 16 characters) that every route but /healthz, /readyz "+
		"and the dashboard page requires as Authorization: Bearer TOKEN (default: none, allowed on loopback only)")
	fs.Var(&f.allowedHosts, "allowed-host", "a Host name requests may carry besides localhost, loopback addresses and the listen address "+
		"(DNS-rebinding defence: any other Host gets 403); repeatable or comma-separated")
	fs.StringVar(&f.stackState, "stack-state", "", "strata up's stack.json (its run directory): show each process's restarts and last exit (strata up sets it)")
	fs.IntVar(&f.maxConns, "max-conns", lim.MaxConns, fmt.Sprintf("most connections served at once; a new one closes the oldest "+
		"still sending its request head, else the longest idle, and is refused only when all are busy "+
		"(fixed limits besides: headers %d KiB, read-header timeout %v, read %v, write %v, idle %v)",
		lim.MaxHeaderBytes>>10, lim.ReadHeaderTimeout, lim.ReadTimeout, lim.WriteTimeout, lim.IdleTimeout))
	fs.IntVar(&f.maxConnsPerIP, "max-conns-per-ip", lim.MaxConnsPerIP, "most connections of one client address (IPv6: per /64), "+
		"loopback included; beyond it the same shedding among that address's connections (0: no per-address limit)")
}

// token reads --token-file, which a non-loopback --listen requires.
func (f *controlFlags) token() ([]byte, error) {
	if f.tokenFile == "" {
		if !config.LoopbackAddr(f.listen) {
			return nil, usagef("--token-file: --listen %s is not a loopback address; the control plane refuses to serve it without a token "+
				"(give --token-file FILE)", f.listen)
		}
		return nil, nil
	}
	token, err := secret.Read(f.tokenFile)
	if err != nil {
		return nil, usagef("--token-file: %v", err)
	}
	if len(token) < minTokenLen {
		return nil, usagef("--token-file: the token in %s has %d characters, want at least %d (e.g. openssl rand -hex 32)",
			f.tokenFile, len(token), minTokenLen)
	}
	return token, nil
}

func runControl(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("control", "--listen ADDR [--config FILE] [--token-file FILE] [--allowed-host NAME ...]", env)
	var f controlFlags
	f.bind(fs)
	var tf telemetry.Flags
	tf.Bind(fs, "")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	cfg, err := loadStackConfig(f.config, "")
	if err != nil {
		return err
	}
	log, err := tf.Logger(env.stderr)
	if err != nil {
		return &usageError{msg: err.Error()}
	}
	if tf.MetricsAddr != "" && tf.MetricsAddr != f.listen {
		return usagef("--metrics: the control plane serves /metrics on --listen; leave --metrics empty")
	}
	if f.maxConns < 1 {
		return usagef("--max-conns: %d must be at least 1", f.maxConns)
	}
	if f.maxConnsPerIP < 0 {
		return usagef("--max-conns-per-ip: %d must be at least 0 (0: no per-address limit)", f.maxConnsPerIP)
	}
	token, err := f.token()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", f.listen, err)
	}
	ts := telemetry.NewServer()
	plane := control.New(cfg, log, ts.Registry)
	plane.WatchSupervisor(f.stackState)
	mux := ts.Handler()
	plane.Mount(mux)
	access := control.NewAccess(ln.Addr().String(), f.allowedHosts, token)
	go plane.Run(ctx)
	lim := httpserve.DefaultLimits
	lim.MaxConns, lim.MaxConnsPerIP = f.maxConns, f.maxConnsPerIP
	// The control plane serves /metrics on --listen, so ts has no listener
	// of its own; httpserve shuts the listener down when ctx ends.
	return lifecycle.Run(ctx, lifecycle.Role{
		Name: "control plane", Log: log, Telemetry: ts,
		Serve: func(ctx context.Context) error {
			if err := httpserve.ServeCounted(ctx, ln, access.Wrap(mux), lim, ts.Registry); !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
		Attrs: []any{"listen", ln.Addr().String(), "token", len(token) > 0, "allowed_hosts", []string(f.allowedHosts)},
	})
}
