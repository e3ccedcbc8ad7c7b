package config

import (
	"errors"
	"strings"
	"testing"
)

func TestDefaultsNeedNoFile(t *testing.T) {
	s, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Edge.Listen != "127.0.0.1:8080" || s.LB.Services[0].VIP != "127.0.0.1:8000" ||
		s.Origin.Listen != "127.0.0.1:8200" || s.Control.Listen != "127.0.0.1:9090" {
		t.Fatalf("defaults differ from docs/INTERFACES.md: %+v", s)
	}
	if len(s.State.Nodes) != 3 || s.State.Nodes[2].Listen != "127.0.0.1:7003" || s.State.Nodes[0].RESP != "127.0.0.1:6381" {
		t.Fatalf("state defaults: %+v", s.State.Nodes)
	}
	if s.State.MaxMemoryPolicy != "noeviction" {
		t.Fatalf("state nodes hold sessions and carts: policy %q, want noeviction", s.State.MaxMemoryPolicy)
	}
	if len(s.Facades.Nodes) != 3 || s.Facades.Nodes[0].Listen != "127.0.0.1:8101" {
		t.Fatalf("facade defaults: %+v", s.Facades.Nodes)
	}
	lbc, err := s.LBConfig()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(lbc.Services[0].Backends); got != 3 || lbc.Services[0].Backends[0].Weight != 1 {
		t.Fatalf("default pool: %+v", lbc.Services[0].Backends)
	}
}

func TestHostMovesEveryDefault(t *testing.T) {
	s, err := Parse([]byte("host: 127.0.0.9\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := s.Marshal()
	if strings.Contains(string(out), "127.0.0.1") {
		t.Fatalf("a default still binds 127.0.0.1:\n%s", out)
	}
}

func TestPrintedConfigParsesBack(t *testing.T) {
	s, err := Parse([]byte("facades:\n  nodes: [{}, {}]\nlb:\n  services:\n    - vip: 127.0.0.1:8000\n      backends:\n        - {addr: 127.0.0.1:8101, weight: 0}\n        - {addr: 127.0.0.1:8102}\n"))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse(out)
	if err != nil {
		t.Fatalf("printed config does not parse back: %v\n%s", err, out)
	}
	lbc, _ := again.LBConfig()
	if w := lbc.Services[0].Backends; w[0].Weight != 0 || w[1].Weight != 1 {
		t.Fatalf("weights after round trip: %+v", w)
	}
}

// Every class of bad configuration is told in the file's terms: the YAML
// path, the line where the file gave it, and what the field accepts; never
// a Go type name.
func TestInvalidConfigNamesThePath(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // substrings of the one-line error
	}{
		{"unknown top-level field", "mode: xdp\nedgee: {}\n",
			[]string{"edgee (line 2): unknown field; known fields: host, mode, log, edge, lb,"}},
		{"unknown nested field", "edge:\n  listen: 127.0.0.1:8080\n  memroy: 1GiB\n",
			[]string{"edge.memroy (line 3): unknown field; known fields: listen, metrics, memory"}},
		{"unknown field in a list item", "lb:\n  services:\n    - vip: 127.0.0.1:8000\n      backend: []\n",
			[]string{"lb.services[0].backend (line 4): unknown field", "backends"}},
		{"bad size", "edge:\n  memory: lots\n",
			[]string{`edge.memory (line 2): "lots" is not a size: want bytes or a number with KiB/MiB/GiB`}},
		{"size too small", "state: {memory: 1KiB}\n", []string{"state.memory (line 1)", "at least 1MiB"}},
		{"bad duration", "lb:\n  health:\n    interval: fast\n",
			[]string{`lb.health.interval (line 3): "fast" is not a duration`, "250ms"}},
		{"bad enum", "log:\n  level: loud\n", []string{`log.level (line 2): "loud" is invalid`, "debug, info, warn, error"}},
		{"bad mode", "mode: turbo\n", []string{"mode (line 1)", "userspace, xdp, auto"}},
		{"bad enum in a list item", "lb:\n  services:\n    - vip: 127.0.0.1:8000\n      scheduler: random\n      backends: [{addr: 127.0.0.1:1}]\n",
			[]string{"lb.services[0].scheduler (line 4)", "maglev, wrr"}},
		{"out-of-range number", "lb:\n  services:\n    - vip: 127.0.0.1:8000\n      backends:\n        - {addr: 127.0.0.1:1, weight: 70000}\n",
			[]string{"lb.services[0].backends[0].weight (line 5)", "0..65536"}},
		{"number beyond its type", "lb:\n  services:\n    - vip: 127.0.0.1:8000\n      backends:\n        - {addr: 127.0.0.1:1, weight: 5000000000}\n",
			[]string{"lb.services[0].backends[0].weight (line 5): 5000000000 is out of range; allowed: 0..4294967295"}},
		{"share out of range", "lb:\n  health:\n    max_ejected: 2\n", []string{"lb.health.max_ejected (line 3)", "(0, 1]"}},
		{"rise below one", "lb:\n  health:\n    rise: -1\n", []string{"lb.health.rise (line 3)", ">= 1"}},
		{"access log share out of range", "facades:\n  access_log: true\n  access_log_sample: 1.5\n",
			[]string{"facades.access_log_sample (line 3)", "(0, 1]"}},
		{"error rate", "origin: {error_rate: 1.5}\n", []string{"origin.error_rate (line 1)", "0..1"}},
		{"port out of range", "edge: {listen: '127.0.0.1:70000'}\n", []string{"edge.listen (line 1)", "port in 1..65535"}},
		{"bad host", "host: localhost\n", []string{"host (line 1)", "an IP address"}},
		{"duplicate listener", "edge:\n  memory: 1GiB\norigin:\n  listen: 127.0.0.1:8080\n",
			[]string{"origin.listen (line 4)", "edge.listen"}},
		{"yaml syntax error", "edge:\n  listen: 127.0.0.1:8080\n memory: 1GiB\n", []string{"YAML syntax (line 2): did not find expected key"}},
		{"yaml syntax error on line 1", "edge: [\n", []string{"YAML syntax (line 1)"}},
		{"unclosed quote", "edge:\n  listen: '127.0.0.1\n", []string{"YAML syntax (line 2)", "end of stream"}},
		{"wrong type: string for int", "facades:\n  max_inflight: many\n",
			[]string{`facades.max_inflight (line 2): "many" is not an integer`}},
		{"wrong type: string for bool", "edge:\n  store_set_cookie: sometimes\n",
			[]string{`edge.store_set_cookie (line 2): "sometimes" is not a boolean`}},
		{"wrong type: map for string", "edge:\n  listen: {host: x}\n", []string{"edge.listen (line 2): want a string, got a mapping"}},
		{"duplicate key", "edge:\n  memory: 1GiB\n  memory: 2GiB\n", []string{"edge.memory (line 3): given twice (first at line 2)"}},
		{"list where a map is expected", "edge:\n  - listen: 127.0.0.1:1\n", []string{"edge (line 2): want a mapping (key: value), got a list"}},
		{"map where a list is expected", "facades:\n  nodes: {id: x}\n", []string{"facades.nodes (line 2): want a list, got a mapping"}},
		{"scalar where a map is expected", "lb: fast\n", []string{`lb (line 1): want a mapping (key: value), got the value "fast"`}},
		{"top level is a list", "- mode: xdp\n", []string{"(top level) (line 1): want a mapping"}},
		{"two documents", "mode: xdp\n---\nmode: auto\n", []string{"one YAML document"}},
		{"no backends on a second service", "lb:\n  services:\n    - {vip: 127.0.0.1:8000}\n    - {vip: 127.0.0.1:8001}\n",
			[]string{"lb.services[1].backends (line 4)", "at least one backend"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse accepted %q", tt.yaml)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			if strings.Contains(msg, "config.") || strings.Contains(msg, "!!") {
				t.Errorf("error names a Go or YAML type: %q", msg)
			}
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Errorf("error %q is not a *FieldError", msg)
			}
		})
	}
}

func TestFieldErrorIsTyped(t *testing.T) {
	_, err := Parse([]byte("mode: turbo\n"))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "mode" || !strings.Contains(fe.Allowed, "auto") {
		t.Fatalf("want a FieldError for mode listing the allowed values, got %v", err)
	}
}
