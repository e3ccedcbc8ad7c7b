package config

import (
	"slices"
	"strings"
	"testing"
)

func printed(t *testing.T, yaml string) string {
	t.Helper()
	s, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func poolOf(t *testing.T, yaml string) []string {
	t.Helper()
	s, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("edited --print-config does not load: %v\n%s", err, yaml)
	}
	lbc, err := s.LBConfig()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, b := range lbc.Services[0].Backends {
		out = append(out, b.Addr.String())
	}
	return out
}

// The scenario of the operability issue: print the configuration, add
// facade-4, load it. The pool used to be printed as three fixed backends,
// so facade-4 started and never got traffic; now the pool is derived and
// takes it, with or without its addresses written out.
func TestPrintedConfigAddAFacadeJoinsThePool(t *testing.T) {
	out := printed(t, "")
	anchor := "      id: facade-3\n"
	if !strings.Contains(out, anchor) {
		t.Fatalf("printed config has no facade-3 entry:\n%s", out)
	}
	for name, add := range map[string]string{
		"id only":        "    - id: facade-4\n",
		"addresses too":  "    - id: facade-4\n      listen: 127.0.0.1:8104\n      metrics: 127.0.0.1:9204\n",
		"an empty entry": "    - {}\n",
	} {
		t.Run(name, func(t *testing.T) {
			edited := strings.Replace(out, anchor, anchor+add, 1)
			if pool := poolOf(t, edited); !slices.Contains(pool, "127.0.0.1:8104") || len(pool) != 4 {
				t.Fatalf("pool %v does not take facade-4 at 127.0.0.1:8104", pool)
			}
		})
	}
}

// Changing host in a printed configuration moves every address that
// derives from it, as it does in the file the print came from.
func TestPrintedConfigFollowsHost(t *testing.T) {
	out := printed(t, "")
	edited := strings.Replace(out, "host: 127.0.0.1\n", "host: 127.0.0.2\n", 1)
	again := printed(t, edited)
	if strings.Contains(strings.ReplaceAll(again, "127.0.0.2", ""), "127.0.0.1") {
		t.Fatalf("an address stayed on 127.0.0.1 after host changed:\n%s", again)
	}
}

// A derived value written out is fixed: it is printed as a value, and an
// explicit pool stays as it is when facades are added.
func TestWrittenOutValuesStayFixed(t *testing.T) {
	yaml := "edge: {listen: 127.0.0.1:8080}\nlb:\n  services:\n    - backends: [{addr: 127.0.0.1:8101}]\n"
	out := printed(t, yaml)
	if !strings.Contains(out, "\n  listen: 127.0.0.1:8080\n") || !strings.Contains(out, "- addr: 127.0.0.1:8101") {
		t.Fatalf("written-out values printed as derived:\n%s", out)
	}
	if pool := poolOf(t, out); len(pool) != 1 {
		t.Fatalf("explicit pool %v", pool)
	}
	s, _ := Parse([]byte(yaml))
	if got := s.UnpooledFacades(); !slices.Equal(got, []string{"facade-2", "facade-3"}) {
		t.Fatalf("UnpooledFacades = %v", got)
	}
}

// A commented derived line, uncommented, is valid YAML with the same value.
func TestUncommentedDerivedLinesLoad(t *testing.T) {
	out := printed(t, "")
	var b strings.Builder
	for _, line := range strings.Split(out, "\n") {
		trimmed := strings.TrimLeft(line, " -")
		if strings.HasPrefix(trimmed, "# ") && strings.Contains(trimmed, "# from ") {
			line = strings.Replace(line, "# ", "", 1)
		}
		b.WriteString(line + "\n")
	}
	if pool := poolOf(t, b.String()); len(pool) != 3 {
		t.Fatalf("uncommented pool %v", pool)
	}
}
