// Command strata runs every role of the Strata data plane: the whole stack on
// one host (strata up) or one role per process (edge, lb, facade, state,
// control), plus the admin client, the bench suite and the test bed.
//
// main is thin by design: each subcommand lives in its own file, registers
// itself in init, parses its own flags and then calls into its role package.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand of the strata binary.
type command struct {
	name    string
	summary string
	// run parses args (the arguments after the subcommand name) and runs the
	// role until ctx is cancelled or the work is done.
	run func(ctx context.Context, args []string, env *environment) error
}

// environment is what a subcommand may touch of the outside world, so tests
// can run subcommands in-process with their own streams.
type environment struct {
	stdout io.Writer
	stderr io.Writer
}

var commands = map[string]*command{}

func register(c *command) {
	if _, dup := commands[c.name]; dup {
		panic("strata: subcommand registered twice: " + c.name)
	}
	commands[c.name] = c
}

// usageError marks a mistake in how strata was invoked (unknown subcommand or
// flag, invalid configuration); it exits with status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := runMain(ctx, os.Args[1:], &environment{stdout: os.Stdout, stderr: os.Stderr})
	stop()
	os.Exit(code)
}

// runMain dispatches to a subcommand and maps its error to an exit status:
// 0 success, 2 usage or configuration error, 1 anything else.
func runMain(ctx context.Context, args []string, env *environment) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printUsage(env.stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(env.stderr, "strata: unknown subcommand %q (run 'strata --help' for the list)\n", args[0])
		return 2
	}
	err := cmd.run(ctx, args[1:], env)
	var ue *usageError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(env.stderr, "strata %s: %v\n", cmd.name, err)
		return 2
	default:
		fmt.Fprintf(env.stderr, "strata %s: %v\n", cmd.name, err)
		return 1
	}
}

func printUsage(w io.Writer) {
	fmt.Fprintln(w, "Usage: strata <subcommand> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Strata runs a forward-cache edge, an XDP or userspace load balancer,")
	fmt.Fprintln(w, "stateless facade nodes and a replicated state cache as one data plane.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Subcommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'strata <subcommand> --help' for the flags of one subcommand.")
}
