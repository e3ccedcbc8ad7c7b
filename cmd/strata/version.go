package main

import (
	"context"
	"fmt"
	"runtime"
)

// Set by the Makefile with -ldflags -X.
var (
	version = "dev"
	commit  = "unknown"
)

func init() {
	register(&command{
		name:    "version",
		summary: "print the version, the commit and the LB modes this host supports",
		run:     runVersion,
	})
}

func runVersion(_ context.Context, args []string, env *environment) error {
	fs := newFlagSet("version", "", env)
	if err := parseFlags(fs, args, false); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "strata %s (commit %s, %s, %s/%s)\n", version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	for _, line := range lbModeReport() {
		fmt.Fprintln(env.stdout, line)
	}
	return nil
}
