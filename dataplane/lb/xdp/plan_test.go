package xdp

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/strata-dp/strata/dataplane/lb"
)

func planBackend(addr string, w uint32) lb.Backend {
	return lb.Backend{Addr: netip.MustParseAddrPort(addr), Weight: w, MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}}
}

func TestMakePlanErrors(t *testing.T) {
	svc := func(mut func(*lb.Service)) lb.Config {
		s := lb.Service{VIP: netip.MustParseAddrPort("198.18.0.10:80"), Proto: lb.TCP,
			Backends: []lb.Backend{planBackend("198.18.1.1:80", 1)}}
		mut(&s)
		return lb.Config{Services: []lb.Service{s}}
	}
	many := lb.Config{}
	for i := 0; i <= MaxServices; i++ {
		many.Services = append(many.Services, lb.Service{
			VIP: netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, byte(i / 250), byte(i%250 + 1)}), 80), Proto: lb.TCP,
			Backends: []lb.Backend{planBackend("198.18.1.1:80", 1)}})
	}
	tests := []struct {
		name string
		cfg  lb.Config
		want error
	}{
		{"invalid config", lb.Config{}, lb.ErrNoServices},
		{"no MAC", svc(func(s *lb.Service) { s.Backends[0].MAC = nil }), ErrNoMAC},
		{"IPIP family mismatch", svc(func(s *lb.Service) {
			s.Forwarding = lb.IPIP
			s.Backends[0] = planBackend("[fd00:5354::1]:80", 1)
		}), ErrFamily},
		{"too many services", many, ErrTooMany},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := makePlan(tt.cfg, DefaultTableSize, nil, newIDAllocator())
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestPlanLayout(t *testing.T) {
	cfg := lb.Config{Services: []lb.Service{
		{VIP: netip.MustParseAddrPort("198.18.0.11:80"), Proto: lb.TCP, Scheduler: lb.RoundRobin,
			Backends: []lb.Backend{planBackend("198.18.1.2:80", 3), planBackend("198.18.1.1:80", 1)}},
		{VIP: netip.MustParseAddrPort("198.18.0.10:80"), Proto: lb.TCP,
			Backends: []lb.Backend{planBackend("198.18.2.1:80", 0)}},
	}}
	p, err := makePlan(cfg, 13, nil, newIDAllocator())
	if err != nil {
		t.Fatal(err)
	}
	// Services are ordered by key; backends by ID; slots offset by base.
	if p.services[0].svc.Key() != "tcp/198.18.0.10:80" || len(p.services[0].slots) != 0 {
		t.Errorf("first service %s with %d slots", p.services[0].svc.Key(), len(p.services[0].slots))
	}
	rr := p.services[1]
	if rr.base != 1 || rr.sched != schedWRR || len(rr.slots) != 4 {
		t.Fatalf("wrr service: base %d sched %d slots %v", rr.base, rr.sched, rr.slots)
	}
	counts := map[uint32]int{}
	for _, s := range rr.slots {
		counts[s]++
	}
	if counts[1] != 1 || counts[2] != 3 || rr.backends[1].b.Addr.String() != "198.18.1.2:80" {
		t.Errorf("slots %v for backends %v", rr.slots, rr.backends)
	}
}

func TestIDAllocator(t *testing.T) {
	a := newIDAllocator()
	gen := func(keys ...string) []uint32 {
		t.Helper()
		ids, err := a.services.assign(keys)
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	steps := []struct {
		keys []string
		want string
	}{
		{[]string{"a", "b"}, "[0 1]"},
		{[]string{"b", "c"}, "[1 2]"},        // a's 0 is freed now: not reused
		{[]string{"b", "c", "d"}, "[1 2 3]"}, // nor by the next assign
		{[]string{"a"}, "[0]"},               // then it is free again
	}
	for i, st := range steps {
		if got := fmt.Sprint(gen(st.keys...)); got != st.want {
			t.Errorf("step %d: ids %s, want %s", i, got, st.want)
		}
	}
	full := &idSpace{limit: 2, byKey: map[string]uint32{}, epochs: map[string]uint32{}}
	if _, err := full.assign([]string{"x", "y", "z"}); !errors.Is(err, ErrTooMany) {
		t.Errorf("over the limit: %v", err)
	}
}

func TestPrefixes(t *testing.T) {
	tests := []struct {
		prefix   string
		addr     string
		hostMask uint32
	}{
		{"198.18.255.0/24", "198.18.255.0", 0xff},
		{"172.16.0.0/16", "172.16.0.0", 0xffff},
		{"198.18.0.1/32", "198.18.0.1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.prefix, func(t *testing.T) {
			a, m := prefix4(netip.MustParsePrefix(tt.prefix))
			if a != be32(ipv4u32(tt.addr)) || m != be32(tt.hostMask) {
				t.Errorf("got %08x/%08x", a, m)
			}
		})
	}
	a6, m6 := prefix6(netip.MustParsePrefix("fd00:5354:ffff::/112"))
	if netip.AddrFrom16(a6).String() != "fd00:5354:ffff::" || m6 != be32(0xffff) {
		t.Errorf("v6 prefix %v mask %08x", netip.AddrFrom16(a6), m6)
	}
	if _, m := prefix6(netip.MustParsePrefix("fc00:2307::/64")); m != be32(0xffffffff) {
		t.Errorf("/64 mask %08x", m)
	}
}

func ipv4u32(s string) uint32 {
	a := netip.MustParseAddr(s).As4()
	return uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
}
