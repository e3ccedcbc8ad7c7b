package main

import (
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const architectureDoc = "../../docs/ARCHITECTURE.md"

var importsBlock = regexp.MustCompile("(?s)<!-- imports -->\n```text\n(.*?)```\n<!-- /imports -->")

// TestArchitectureShowsTheImports: the dependency picture in
// docs/ARCHITECTURE.md is the module's own imports of production code, as
// `go list` reports them, so it cannot drift from the code (the depguard
// rules in .golangci.yml say which of these may never appear). Refresh it
// with
//
//	UPDATE_GOLDEN=1 go test -run TestArchitectureShowsTheImports ./cmd/strata
func TestArchitectureShowsTheImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const module = "github.com/strata-dp/strata/"
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}} {{join .Imports \" \"}}", module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var b strings.Builder
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		var deps []string
		for _, d := range f[1:] {
			if s, ok := strings.CutPrefix(d, module); ok {
				deps = append(deps, s)
			}
		}
		if len(deps) == 0 {
			continue
		}
		slices.Sort(deps)
		b.WriteString(strings.TrimPrefix(f[0], module) + " ► " + strings.Join(deps, ", ") + "\n")
	}
	want := b.String()
	doc, err := os.ReadFile(architectureDoc)
	if err != nil {
		t.Fatal(err)
	}
	m := importsBlock.FindSubmatchIndex(doc)
	if m == nil {
		t.Fatalf("%s has no <!-- imports --> block", architectureDoc)
	}
	if string(doc[m[2]:m[3]]) == want {
		return
	}
	if os.Getenv("UPDATE_GOLDEN") != "" {
		updated := string(doc[:m[2]]) + want + string(doc[m[3]:])
		if err := os.WriteFile(architectureDoc, []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's dependency picture differs from the imports:\n%s\nrefresh it with\n\tUPDATE_GOLDEN=1 go test -run TestArchitectureShowsTheImports ./cmd/strata",
		architectureDoc, want)
}
