package stack

import (
	"slices"
	"testing"

	"github.com/strata-dp/strata/internal/config"
)

// flagValue is the value after the last --name in args.
func flagValue(args []string, name string) (string, bool) {
	v, ok := "", false
	for i := 0; i+1 < len(args); i++ {
		if args[i] == name {
			v, ok = args[i+1], true
		}
	}
	return v, ok
}

// Every state node requires the run's secret and every facade sends it, on
// loopback and across the xdp bed's 198.18.0.x addresses alike; none is
// started with the opt-out. The control plane gets the token file exactly
// when it listens beyond loopback.
func TestChildrenAuthenticateToTheStateTier(t *testing.T) {
	files := runFiles{config: "/run/x/stack.yaml", stateSecret: "/run/x/state.secret", controlToken: "/run/x/control.token"}
	load := func(yaml string) *config.Stack {
		t.Helper()
		c, err := config.Parse([]byte(yaml))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	bed, err := planBed(load("host: 127.0.0.9\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name         string
		cs           []child
		controlToken bool
	}{
		{"userspace", children(load("host: 127.0.0.9\n"), files), false},
		{"xdp bed", placeChildren(children(bed.cfg, files), bed.cfg), false},
		{"beyond loopback", children(load("host: 192.0.2.7\n"), files), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var states, facades int
			for _, c := range tt.cs {
				if slices.Contains(c.args, "--insecure-no-auth") {
					t.Errorf("%s runs with --insecure-no-auth: %v", c.name, c.args)
				}
				switch c.tier {
				case tierState:
					states++
					if v, _ := flagValue(c.args, "--auth-secret-file"); v != files.stateSecret {
						t.Errorf("%s: --auth-secret-file %q, want %q (args %v)", c.name, v, files.stateSecret, c.args)
					}
				case tierFacade:
					facades++
					if v, _ := flagValue(c.args, "--state-secret-file"); v != files.stateSecret {
						t.Errorf("%s: --state-secret-file %q, want %q (args %v)", c.name, v, files.stateSecret, c.args)
					}
				case tierControl:
					v, ok := flagValue(c.args, "--token-file")
					if ok != tt.controlToken || ok && v != files.controlToken {
						t.Errorf("control: --token-file %q (given: %v), want given: %v", v, ok, tt.controlToken)
					}
				}
			}
			if states != config.DefaultStateNodes || facades != config.DefaultFacades {
				t.Fatalf("%d state nodes and %d facades", states, facades)
			}
		})
	}
}
