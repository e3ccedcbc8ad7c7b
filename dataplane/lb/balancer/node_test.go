package balancer

import (
	"context"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/mode"
)

// freePort is a loopback address nothing listens on.
func freePort(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return netip.MustParseAddrPort(ln.Addr().String())
}

// echo serves one reply per connection: the name, then close.
func echo(t *testing.T, name string) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Write([]byte(name))
			c.Close()
		}
	}()
	return netip.MustParseAddrPort(ln.Addr().String())
}

func get(t *testing.T, vip netip.AddrPort) string {
	t.Helper()
	c, err := net.DialTimeout("tcp", vip.String(), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestNodeUserspace runs a whole node in the userspace mode: it serves at
// once, Apply goes through the checker to the proxy, and Run drains and
// returns when its context ends.
func TestNodeUserspace(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a proxy on loopback")
	}
	a, b := echo(t, "a"), echo(t, "b")
	vip := freePort(t)
	svc := lb.Service{Name: "web", VIP: vip, Proto: lb.TCP, Backends: []lb.Backend{{Addr: a, Weight: 1}}}
	cfg := DefaultConfig(lb.Config{Services: []lb.Service{svc}})
	cfg.Mode, cfg.Health.Check, cfg.Drain = mode.Userspace, "off", time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, err := New(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Register(prometheus.NewRegistry()); err != nil {
		t.Fatal(err)
	}
	if n.Mode() != mode.Userspace {
		t.Fatalf("mode %s", n.Mode())
	}
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	if got := get(t, vip); got != "a" {
		t.Fatalf("before Apply: %q, want a", got)
	}
	svc.Backends = []lb.Backend{{Addr: b, Weight: 1}}
	if err := n.Apply(ctx, lb.Config{Services: []lb.Service{svc}}); err != nil {
		t.Fatal(err)
	}
	if got := get(t, vip); got != "b" {
		t.Fatalf("after Apply: %q, want b", got)
	}
	if got := n.Applied().Services[0].Backends[0].Addr; got != b {
		t.Errorf("Applied: %v, want %v", got, b)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
}

// TestNewRefusesBadConfig: nothing starts on an invalid configuration.
func TestNewRefusesBadConfig(t *testing.T) {
	cfg := DefaultConfig(lb.Config{})
	if _, err := New(context.Background(), cfg); err == nil {
		t.Fatal("New accepted a configuration without services")
	}
}
