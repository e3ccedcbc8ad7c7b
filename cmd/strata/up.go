package main

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/strata-dp/strata/internal/config"
	"github.com/strata-dp/strata/internal/stack"
)

func init() {
	register(&command{
		name:    "up",
		summary: "run the whole stack on this host as supervised processes (on loopback, or across namespaces with XDP)",
		run:     runUp,
	})
}

func runUp(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("up", "[--config FILE] [--mode auto|xdp|userspace] [--print-config]", env)
	configPath := fs.String("config", "", "stack configuration (YAML); without it the documented defaults apply")
	mode := fs.String("mode", "", "load balancer mode (overrides the file): userspace (all on loopback), xdp (root: the stack across "+
		"network namespaces with prefix "+stack.BedPrefix+", the LB in native XDP on a veth) or auto (xdp if the host allows it, else userspace)")
	printConfig := fs.Bool("print-config", false, "print the effective configuration and exit")
	runDir := fs.String("run-dir", "", "directory for logs, the effective config and stack.json (default: a new temporary directory)")
	readyTimeout := fs.Duration("ready-timeout", 60*time.Second, "how long start-up may take, end to end")
	logFormat := fs.String("log-format", "text", "log format of strata up itself: text or json")
	logLevel := fs.String("log-level", "info", "log level of strata up itself")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	cfg, err := loadStackConfig(*configPath, *mode)
	if err != nil {
		return err
	}
	if *printConfig {
		out, err := cfg.Marshal()
		if err != nil {
			return err
		}
		_, err = env.stdout.Write(out)
		return err
	}
	log, err := newLogger(*logFormat, *logLevel, env)
	if err != nil {
		return err
	}
	bin, err := os.Executable()
	if err != nil {
		return err
	}
	err = stack.Run(ctx, stack.Options{Config: cfg, Bin: bin, RunDir: *runDir, ReadyTimeout: *readyTimeout,
		Log: log, Stdout: env.stdout})
	if errors.Is(err, stack.ErrPortInUse) || errors.Is(err, stack.ErrPreflight) {
		return usagef("%v", err)
	}
	if err == nil {
		log.Info("stack stopped")
	}
	return err
}

// loadStackConfig loads the stack configuration and applies a --mode override.
// Any problem is a usage error: it names the field and the allowed values.
func loadStackConfig(path, mode string) (*config.Stack, error) {
	cfg, err := config.Load(path)
	if err != nil {
		return nil, &usageError{msg: err.Error()}
	}
	if mode != "" {
		cfg.Mode = mode
		if err := cfg.Validate(); err != nil {
			return nil, usagef("--mode: %q is not one of userspace, xdp, auto", mode)
		}
	}
	return cfg, nil
}
