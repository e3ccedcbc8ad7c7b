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

func TestInvalidConfigNamesTheField(t *testing.T) {
	tests := []struct {
		name, yaml, field string
	}{
		{"unknown top-level field", "edgee: {}\n", "edgee"},
		{"unknown nested field", "edge:\n  lissen: 127.0.0.1:1\n", "lissen"},
		{"bad mode", "mode: turbo\n", "mode"},
		{"bad log level", "log: {level: loud}\n", "log.level"},
		{"bad log format", "log: {format: xml}\n", "log.format"},
		{"bad host", "host: localhost\n", "host"},
		{"bad listen", "edge: {listen: 'nohost'}\n", "edge.listen"},
		{"port out of range", "edge: {listen: '127.0.0.1:70000'}\n", "edge.listen"},
		{"duplicate listener", "origin: {listen: '127.0.0.1:8080'}\n", "origin.listen"},
		{"bad memory", "edge: {memory: lots}\n", "lots"},
		{"tiny memory", "state: {memory: 1KiB}\n", "state.memory"},
		{"bad memory policy", "state: {maxmemory_policy: allkeys-random}\n", "state.maxmemory_policy"},
		{"bad scheduler", "lb:\n  services:\n    - {vip: 127.0.0.1:8000, scheduler: random, backends: [{addr: 127.0.0.1:1}]}\n", "scheduler"},
		{"bad proto", "lb:\n  services:\n    - {vip: 127.0.0.1:8000, proto: sctp, backends: [{addr: 127.0.0.1:1}]}\n", "proto"},
		{"bad backend", "lb:\n  services:\n    - {vip: 127.0.0.1:8000, backends: [{addr: nowhere}]}\n", "backends[0].addr"},
		{"weight too big", "lb:\n  services:\n    - {vip: 127.0.0.1:8000, backends: [{addr: 127.0.0.1:1, weight: 70000}]}\n", "weight"},
		{"no backends on a second service", "lb:\n  services:\n    - {vip: 127.0.0.1:8000}\n    - {vip: 127.0.0.1:8001}\n", "backends"},
		{"bad health check", "lb: {health: {check: ping}}\n", "lb.health.check"},
		{"bad max ejected", "lb: {health: {max_ejected: 2}}\n", "max_ejected"},
		{"error rate", "origin: {error_rate: 1.5}\n", "origin.error_rate"},
		{"malformed yaml", "edge: [\n", "yaml"},
		{"two documents", "mode: xdp\n---\nmode: auto\n", "one YAML document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			if err == nil {
				t.Fatalf("Parse accepted %q", tt.yaml)
			}
			if !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("error %q does not name %q", err, tt.field)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
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
