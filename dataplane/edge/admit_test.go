package edge

import (
	"net/netip"
	"testing"
	"time"
)

func TestIPKeyCountsIPv6PerPrefix(t *testing.T) {
	tests := []struct{ in, want string }{
		{"192.0.2.7", "192.0.2.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"},
		{"2001:db8:1:2:ffff::1", "2001:db8:1:2::"},
		{"::1", "::"},
	}
	for _, tt := range tests {
		if got := ipKey(netip.MustParseAddr(tt.in)); got != netip.MustParseAddr(tt.want) {
			t.Errorf("ipKey(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := ipKey(netip.Addr{}); got.IsValid() {
		t.Errorf("ipKey of no address = %s", got)
	}
}

func TestConnListKeepsPushOrder(t *testing.T) {
	var l connList
	cs := []*conn{{}, {}, {}, {}}
	for _, c := range cs {
		l.push(c)
	}
	l.remove(cs[0])
	l.remove(cs[2])
	l.remove(cs[2]) // not listed any more: no effect
	l.push(cs[0])
	var got []*conn
	for c := l.head; c != nil; c = c.listNext {
		got = append(got, c)
	}
	want := []*conn{cs[1], cs[3], cs[0]}
	if len(got) != len(want) || l.tail != cs[0] {
		t.Fatalf("list has %d entries, tail %p; want 3, tail %p", len(got), l.tail, cs[0])
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("entry %d is %p, want %p", i, got[i], want[i])
		}
	}
}

func TestConnectionLimitDefaults(t *testing.T) {
	tests := []struct {
		name        string
		in          Config
		perIP       int
		headTimeout time.Duration
	}{
		{"defaults", Config{}, DefaultMaxConnsPerIP, DefaultHeaderTimeout},
		{"no per-address limit", Config{MaxConnsPerIP: -1}, 0, DefaultHeaderTimeout},
		{"header timeout capped at idle", Config{IdleTimeout: 3 * time.Second}, DefaultMaxConnsPerIP, 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Origin = "http://127.0.0.1:1"
			c, _, err := tt.in.withDefaults()
			if err != nil {
				t.Fatal(err)
			}
			if c.MaxConnsPerIP != tt.perIP || c.HeaderTimeout != tt.headTimeout {
				t.Fatalf("MaxConnsPerIP %d, HeaderTimeout %v; want %d, %v", c.MaxConnsPerIP, c.HeaderTimeout, tt.perIP, tt.headTimeout)
			}
		})
	}
}
