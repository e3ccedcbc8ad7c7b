package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/strata-dp/strata/internal/testbed"
)

// runTestbedBed handles `strata testbed up|down`.
func runTestbedBed(ctx context.Context, args []string, env *environment) error {
	switch args[0] {
	case "up":
		fs := newFlagSet("testbed up", "[--mode xdp|userspace|nft] [--forwarding l2|ipip] [--nft numgen|jhash] [--facade] [--backend-cmd CMD] [--backends N] [--prefix P]", env)
		var o testbed.Options
		fs.StringVar(&o.Mode, "mode", "userspace", "what balances in the bed: xdp (native XDP, L2 direct server return), userspace (gnet proxy) or nft (nftables DNAT, for comparison)")
		fs.StringVar(&o.NftAlgo, "nft", "numgen", "with --mode nft: numgen or jhash")
		fs.StringVar(&o.Forwarding, "forwarding", "l2", "with --mode xdp: l2 (MAC rewrite) or ipip (encapsulate; backends decapsulate in tc)")
		backendCmd := fs.String("backend-cmd", "", "command run as each backend, split on spaces, {listen}, {id} and (with --facade) {state-secret-file} substituted (default: the built-in /whoami server)")
		fs.BoolVar(&o.Facade, "facade", false, "run the real tiers: strata facade as backends, a state node and the sample origin in the state namespace")
		fs.IntVar(&o.Backends, "backends", 4, fmt.Sprintf("backend namespaces (1..%d)", testbed.MaxBackends))
		fs.StringVar(&o.Prefix, "prefix", "stb", "prefix of every namespace name (1..8 of [a-z0-9])")
		if err := parseFlags(fs, args[1:], false); err != nil {
			return err
		}
		switch o.Mode {
		case "xdp", "userspace", "nft":
		default:
			return usagef("--mode: %q is not one of xdp, userspace, nft", o.Mode)
		}
		if o.Forwarding != "l2" && (o.Forwarding != "ipip" || o.Mode != "xdp") {
			return usagef("--forwarding: %q is not one of l2, ipip (ipip with --mode xdp)", o.Forwarding)
		}
		switch o.NftAlgo {
		case "numgen", "jhash":
		default:
			return usagef("--nft: %q is not one of numgen, jhash", o.NftAlgo)
		}
		if o.Backends < 1 || o.Backends > testbed.MaxBackends {
			return usagef("--backends: %d is not in 1..%d", o.Backends, testbed.MaxBackends)
		}
		if *backendCmd != "" {
			o.BackendCmd = strings.Fields(*backendCmd)
			if !strings.Contains(*backendCmd, "{listen}") {
				return usagef("--backend-cmd: %q must contain {listen}", *backendCmd)
			}
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
