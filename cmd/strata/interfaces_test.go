package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// interfacesDoc is the project's contract; its flag lists are the binary's
// own --help output, between <!-- help: strata ARGS --> and <!-- /help -->.
const interfacesDoc = "../../docs/INTERFACES.md"

var helpBlock = regexp.MustCompile("(?s)<!-- help: strata ([^>]*?) -->\n```text\n(.*?)```\n<!-- /help -->")

// TestInterfacesDocShowsEveryFlag: docs/INTERFACES.md shows the --help of
// every subcommand exactly as the binary prints it, so a flag added,
// renamed or given another default shows up in the contract. After
// changing flags, refresh the doc with
//
//	UPDATE_GOLDEN=1 go test -run TestInterfacesDocShowsEveryFlag ./cmd/strata
func TestInterfacesDocShowsEveryFlag(t *testing.T) {
	doc, err := os.ReadFile(interfacesDoc)
	if err != nil {
		t.Fatal(err)
	}
	shown := map[string]bool{}
	var stale []string
	out := helpBlock.ReplaceAllStringFunc(string(doc), func(block string) string {
		m := helpBlock.FindStringSubmatch(block)
		args := strings.Fields(m[1])
		shown[args[0]] = true
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 {
			t.Errorf("strata %s: exit %d: %s", m[1], code, stderr)
			return block
		}
		if stdout != m[2] {
			stale = append(stale, "strata "+m[1])
		}
		return "<!-- help: strata " + m[1] + " -->\n```text\n" + stdout + "```\n<!-- /help -->"
	})
	for name := range commands {
		if !shown[name] {
			t.Errorf("%s shows no <!-- help: strata %s --help --> block", interfacesDoc, name)
		}
	}
	if len(stale) == 0 {
		return
	}
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(interfacesDoc, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("updated %s: %s", interfacesDoc, strings.Join(stale, ", "))
		return
	}
	t.Errorf("%s is out of date for %s; refresh it with\n\tUPDATE_GOLDEN=1 go test -run TestInterfacesDocShowsEveryFlag ./cmd/strata",
		interfacesDoc, strings.Join(stale, ", "))
}
