package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

func init() {
	register(&command{
		name:    "completion",
		summary: "print a shell completion script: strata completion bash|zsh",
		run:     runCompletion,
	})
}

// completionWords are the positional words of subcommands that take them.
var completionWords = map[string][]string{
	"ctl":        ctlViews,
	"completion": {"bash", "zsh"},
	"testbed":    {"up", "down", "backend"},
}

func runCompletion(_ context.Context, args []string, env *environment) error {
	fs := newFlagSet("completion", "bash|zsh", env)
	pos, err := parseFlagsAnywhere(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || (pos[0] != "bash" && pos[0] != "zsh") {
		return usagef("want bash or zsh (e.g. source <(strata completion bash))")
	}
	script := bashCompletion(commandWords())
	if pos[0] == "zsh" {
		// zsh runs bash completion functions through bashcompinit.
		script = "autoload -U +X compinit && compinit\nautoload -U +X bashcompinit && bashcompinit\n" + script
	}
	_, err = io.WriteString(env.stdout, script)
	return err
}

// commandWords lists, for every subcommand, its positional words and its
// flags. The flags come from the subcommands themselves: each runs with
// --help (which parses nothing else and starts nothing) while onFlagSet
// collects the flag sets it makes.
func commandWords() map[string][]string {
	out := map[string][]string{}
	quiet := &environment{stdout: io.Discard, stderr: io.Discard}
	for name, c := range commands {
		if name == "completion" {
			out[name] = completionWords[name]
			continue
		}
		seen := map[string]bool{}
		// Flags are defined after the set is made: they are read once the
		// subcommand has returned.
		onFlagSet = func(fs *flag.FlagSet) { sets = append(sets, fs) }
		sets = nil
		invocations := [][]string{{"--help"}}
		if name == "testbed" {
			invocations = [][]string{{"up", "--help"}, {"down", "--help"}, {"backend", "--help"}}
		}
		for _, args := range invocations {
			_ = c.run(context.Background(), args, quiet) // only the flag sets are wanted; --help returns flag.ErrHelp
		}
		onFlagSet = nil
		words := append([]string(nil), completionWords[name]...)
		for _, fs := range sets {
			fs.VisitAll(func(f *flag.Flag) {
				if !seen[f.Name] {
					seen[f.Name] = true
					words = append(words, "--"+f.Name)
				}
			})
			delete(usagePrinters, fs)
		}
		sort.Strings(words)
		out[name] = words
	}
	return out
}

// sets collects the flag sets of one subcommand for commandWords.
var sets []*flag.FlagSet

// bashCompletion is a bash completion function for strata: the
// subcommands first, then the chosen subcommand's words and flags.
func bashCompletion(words map[string][]string) string {
	names := make([]string, 0, len(words))
	for n := range words {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	b.WriteString("# strata shell completion: source <(strata completion bash)\n")
	b.WriteString("_strata() {\n")
	b.WriteString("  local cur=\"${COMP_WORDS[COMP_CWORD]}\" words\n")
	b.WriteString("  if [ \"$COMP_CWORD\" -eq 1 ]; then\n")
	fmt.Fprintf(&b, "    COMPREPLY=($(compgen -W %q -- \"$cur\"))\n", strings.Join(names, " "))
	b.WriteString("    return\n  fi\n")
	b.WriteString("  case \"${COMP_WORDS[1]}\" in\n")
	for _, n := range names {
		fmt.Fprintf(&b, "    %s) words=%q ;;\n", n, strings.Join(words[n], " "))
	}
	b.WriteString("    *) words=\"\" ;;\n  esac\n")
	b.WriteString("  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n")
	b.WriteString("}\ncomplete -o default -F _strata strata\n")
	return b.String()
}
