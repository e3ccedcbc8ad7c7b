package stack

import (
	"errors"
	"strings"
	"testing"

	"github.com/strata-dp/strata/internal/config"
)

func TestPlanBed(t *testing.T) {
	tests := []struct {
		name, yaml string
		unfit      string // a word the error names; empty: the plan works
	}{
		{"defaults", "host: 127.0.0.9\n", ""},
		{"two services over the facades",
			"lb:\n  services:\n    - {vip: 127.0.0.1:8000}\n    - {vip: 127.0.0.1:8001, backends: [{addr: 127.0.0.1:8102, weight: 2}]}\n", ""},
		{"a backend that is no facade",
			"lb:\n  services:\n    - {vip: 127.0.0.1:8000, backends: [{addr: 127.0.0.1:9999}]}\n", "backends[0]"},
		{"ipip forwarding", "lb:\n  services:\n    - {vip: 127.0.0.1:8000, forwarding: ipip}\n", "forwarding"},
		{"udp", "lb:\n  services:\n    - {vip: 127.0.0.1:8000, proto: udp}\n", "proto"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in, err := config.Parse([]byte(tc.yaml))
			if err != nil {
				t.Fatal(err)
			}
			p, err := planBed(in)
			if tc.unfit != "" {
				if !errors.Is(err, ErrXDPUnfit) || !strings.Contains(err.Error(), tc.unfit) {
					t.Fatalf("planBed = %v, want ErrXDPUnfit naming %q", err, tc.unfit)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c := p.cfg
			if in.Mode != "userspace" || in.LB.Services[0].VIP == c.LB.Services[0].VIP {
				t.Fatal("planBed changed its input")
			}
			if c.Mode != "xdp" || c.LB.Iface != "eth0" || c.LB.Metrics != "198.18.0.2:9181" {
				t.Fatalf("lb: mode %s iface %s metrics %s", c.Mode, c.LB.Iface, c.LB.Metrics)
			}
			if c.Edge.Listen != in.Edge.Listen || c.Control.Listen != in.Control.Listen {
				t.Fatalf("edge/control moved: %s %s", c.Edge.Listen, c.Control.Listen)
			}
			if c.State.Nodes[1].Listen != "198.18.0.20:7002" || c.Origin.Listen != "198.18.0.20:8200" {
				t.Fatalf("state/origin: %s %s", c.State.Nodes[1].Listen, c.Origin.Listen)
			}
			if c.Facades.Nodes[2].Listen != "198.18.0.103:80" || c.Facades.Nodes[2].Metrics != "198.18.0.103:9203" {
				t.Fatalf("facade-3: %+v", c.Facades.Nodes[2])
			}
			for i, svc := range c.LB.Services {
				if svc.VIP != p.vips[i].String()+":80" || !strings.HasPrefix(svc.VIP, "198.18.1.") {
					t.Fatalf("service %d VIP %s (vips %v)", i, svc.VIP, p.vips)
				}
				for _, b := range svc.Backends {
					if !strings.HasPrefix(b.Addr, "198.18.0.10") {
						t.Fatalf("service %d backend %s", i, b.Addr)
					}
				}
			}
			cs := placeChildren(children(c, runFiles{config: "stack.yaml"}), c)
			for _, ch := range cs {
				root := ch.tier == tierEdge || ch.tier == tierControl
				if root != (ch.ns == "") || (!root && len(ch.listens) > 0) {
					t.Fatalf("%s: ns %q listens %v", ch.name, ch.ns, ch.listens)
				}
				if ch.tier == tierFacade && (!strings.Contains(strings.Join(ch.args, " "), "--listen 0.0.0.0:80") ||
					!strings.Contains(strings.Join(ch.args, " "), "--trust-priority-from 198.18.0.1/32")) {
					t.Fatalf("%s args %v", ch.name, ch.args)
				}
			}
		})
	}
}
