package main

import (
	"context"
	"flag"
	"fmt"
	"net"

	"github.com/strata-dp/strata/dataplane/lb/xdp"
	"github.com/strata-dp/strata/internal/testbed"
)

func init() {
	register(&command{
		name:    "testbed",
		summary: "the network-namespace test bed: up, down (root)",
		run:     runTestbed,
	})
}

func runTestbed(ctx context.Context, args []string, env *environment) error {
	if len(args) == 0 {
		return usagef("want one of: up, down")
	}
	switch args[0] {
	case "backend":
		return runTestbedBackend(ctx, args[1:], env)
	case "-h", "-help", "--help", "help":
		_ = runTestbedBed(ctx, []string{"up", "--help"}, env)
		fmt.Fprintln(env.stdout)
		_ = runTestbedBed(ctx, []string{"down", "--help"}, env)
		return flag.ErrHelp
	}
	return runTestbedBed(ctx, args, env)
}

// runTestbedBackend is the hidden stand-in backend: a real process serving
// GET /whoami with its id, used until strata facade runs in the bed.
func runTestbedBackend(ctx context.Context, args []string, env *environment) error {
	fs := newFlagSet("testbed backend", "--listen ADDR --id ID [--decap IFACE]", env)
	listen := fs.String("listen", "127.0.0.1:0", "address to serve on")
	id := fs.String("id", "", "id answered by GET /whoami")
	decap := fs.String("decap", "", "attach the tc IPIP decap program to this interface while serving (root)")
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	if *id == "" {
		return usagef("--id is required")
	}
	if *decap != "" {
		d, err := xdp.AttachDecap(*decap)
		if err != nil {
			return err
		}
		defer func() { _ = d.Close() }()
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	// Scripts and tests learn an ephemeral port from this line.
	fmt.Fprintf(env.stdout, "LISTEN=%s\n", ln.Addr())
	return testbed.ServeBackend(ctx, ln, *id)
}
