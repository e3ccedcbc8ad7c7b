package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/strata-dp/strata/internal/telemetry"
)

// newFlagSet returns a flag set whose parse errors come back as usage errors
// (one line, exit 2) instead of printing the whole usage and exiting.
func newFlagSet(name, synopsis string, env *environment) *flag.FlagSet {
	fs := flag.NewFlagSet("strata "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	// The flag package calls Usage on every parse error; only --help should
	// print it, so the real printer is kept aside for parseFlags.
	fs.Usage = func() {}
	if onFlagSet != nil {
		onFlagSet(fs)
	}
	usagePrinters[fs] = func() {
		w := env.stdout
		fmt.Fprintf(w, "Usage: %s\n", strings.TrimSpace("strata "+name+" "+synopsis))
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if !hasFlags {
			return
		}
		fmt.Fprintf(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

var usagePrinters = map[*flag.FlagSet]func(){}

// onFlagSet, when set, sees every flag set a subcommand makes: strata
// completion runs each subcommand with --help to list its flags, so the
// completion script cannot fall behind the flags themselves.
var onFlagSet func(*flag.FlagSet)

// parseFlagsAnywhere parses flags before, between and after positional
// arguments (strata ctl services --json), and returns the positional
// ones. After "--" everything is positional.
func parseFlagsAnywhere(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args, true); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// parseFlags parses args and turns every flag error into a usage error.
// Positional arguments are rejected unless allowArgs is set.
func parseFlags(fs *flag.FlagSet, args []string, allowArgs bool) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			if p := usagePrinters[fs]; p != nil {
				p()
			}
			return flag.ErrHelp
		}
		return &usageError{msg: err.Error()}
	}
	if !allowArgs && fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

// stringList is a repeatable flag (--backend A --backend B) that also
// accepts comma-separated values (--backend A,B).
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

func (l *stringList) Set(v string) error {
	for _, part := range strings.Split(v, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

// newLogger builds a logger from --log-format and --log-level values, for
// subcommands that are not long-running roles.
func newLogger(format, level string, env *environment) (*slog.Logger, error) {
	tf := telemetry.Flags{LogFormat: format, LogLevel: level}
	log, err := tf.Logger(env.stderr)
	if err != nil {
		return nil, &usageError{msg: err.Error()}
	}
	return log, nil
}
