package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/strata-dp/strata/internal/testbed"
)

// runTestbedBed handles `strata testbed up|down`.
func runTestbedBed(ctx context.Context, args []string, env *environment) error {
	switch args[0] {
	case "up":
		fs := newFlagSet("testbed up", "[--mode userspace] [--backends N] [--prefix P]", env)
		var o testbed.Options
		fs.StringVar(&o.Mode, "mode", "userspace", "LB mode inside the bed: userspace (xdp needs the XDP data path in this build)")
		fs.IntVar(&o.Backends, "backends", 4, fmt.Sprintf("backend namespaces (1..%d)", testbed.MaxBackends))
		fs.StringVar(&o.Prefix, "prefix", "stb", "prefix of every namespace name (1..8 of [a-z0-9])")
		if err := parseFlags(fs, args[1:], false); err != nil {
			return err
		}
		if o.Mode != "userspace" {
			return usagef("--mode: %q is not available in this build (allowed: userspace)", o.Mode)
		}
		if o.Backends < 1 || o.Backends > testbed.MaxBackends {
			return usagef("--backends: %d is not in 1..%d", o.Backends, testbed.MaxBackends)
		}
		upCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		bed, err := testbed.Up(upCtx, o)
		if err != nil {
			return err
		}
		fmt.Fprintf(env.stdout, "VIP=%s\nCLIENT_NS=%s\nLB_NS=%s\nSTATE_DIR=%s\n", bed.VIP, bed.ClientNS, bed.LBNS, bed.Opts.StateDir)
		return nil
	case "down":
		fs := newFlagSet("testbed down", "[--prefix P]", env)
		prefix := fs.String("prefix", "stb", "prefix given to testbed up")
		if err := parseFlags(fs, args[1:], false); err != nil {
			return err
		}
		if os.Geteuid() != 0 {
			return fmt.Errorf("testbed down: needs root")
		}
		return testbed.Down(*prefix, "")
	}
	return usagef("unknown testbed action %q (want up or down)", args[0])
}
