package health

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/lb"
)

// backend is a real HTTP server that can be stopped and restarted on the
// same port.
type backend struct {
	t    *testing.T
	addr netip.AddrPort
	srv  *http.Server
}

func startBackend(t *testing.T, addr string) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	b := &backend{t: t, addr: ln.Addr().(*net.TCPAddr).AddrPort()}
	b.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fail" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})}
	go b.srv.Serve(ln)
	t.Cleanup(func() { b.srv.Close() })
	return b
}

func (b *backend) stop() { b.srv.Close() }

func (b *backend) restart() *backend { return startBackend(b.t, b.addr.String()) }

func setup(t *testing.T, n int, opts Options) ([]*backend, *Checker) {
	t.Helper()
	var bs []*backend
	svc := lb.Service{Name: "h", Proto: lb.TCP}
	for i := 0; i < n; i++ {
		b := startBackend(t, "127.0.0.1:0")
		bs = append(bs, b)
		svc.Backends = append(svc.Backends, lb.Backend{Addr: b.addr, Weight: 10})
	}
	svc.VIP = netip.MustParseAddrPort("127.0.0.1:3")
	ctx, cancel := context.WithCancel(context.Background())
	c := New(validating{}, opts)
	if err := c.SetConfig(ctx, lb.Config{Services: []lb.Service{svc}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	return bs, c
}

// validating is a data path that accepts what a data path would: the
// checker's verdicts are read back through Checker.Applied. A whole node
// (checker and proxy) is tested in package balancer.
type validating struct{}

func (validating) Apply(_ context.Context, cfg lb.Config) error { return cfg.Validate() }

func weight(c *Checker, addr netip.AddrPort) uint32 {
	for _, s := range c.Applied().Services {
		for _, b := range s.Backends {
			if b.Addr == addr {
				return b.Weight
			}
		}
	}
	return 1 << 31
}

func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

func TestCheckerEjectsAndSlowStarts(t *testing.T) {
	for _, kind := range []Options{
		{Kind: TCP, SlowStart: time.Second},
		{Kind: HTTP, Path: "/whoami", SlowStart: time.Second},
	} {
		t.Run(string(kind.Kind), func(t *testing.T) {
			bs, c := setup(t, 4, kind)
			dead := bs[1]
			dead.stop()
			// The brief's bound is 1 s; allow scheduling noise on a
			// loaded machine but report the measured time.
			took := waitFor(t, 3*time.Second, "dead backend ejected", func() bool { return weight(c, dead.addr) == 0 })
			t.Logf("ejected after %v", took)
			for _, b := range []*backend{bs[0], bs[2], bs[3]} {
				if w := weight(c, b.addr); w != 10 {
					t.Errorf("healthy %v has weight %d", b.addr, w)
				}
			}
			dead.restart()
			waitFor(t, 3*time.Second, "returning backend back in", func() bool { return weight(c, dead.addr) > 0 })
			if w := weight(c, dead.addr); w >= 10 {
				t.Errorf("returning backend came back at full weight %d, want slow start", w)
			}
			waitFor(t, 4*time.Second, "slow start completes", func() bool { return weight(c, dead.addr) == 10 })
		})
	}
}

func TestCheckerHTTPStatusFails(t *testing.T) {
	bs, c := setup(t, 2, Options{Kind: HTTP, Path: "/fail"})
	waitFor(t, 3*time.Second, "503 backend ejected", func() bool {
		return weight(c, bs[0].addr) == 0 || weight(c, bs[1].addr) == 0
	})
}

func TestCheckerMaxEjectedShare(t *testing.T) {
	bs, c := setup(t, 4, Options{Kind: TCP, MaxEjectedShare: 0.5})
	for _, b := range bs[:3] {
		b.stop()
	}
	waitFor(t, 3*time.Second, "two ejected", func() bool {
		n := 0
		for _, b := range bs {
			if weight(c, b.addr) == 0 {
				n++
			}
		}
		return n == 2
	})
	time.Sleep(500 * time.Millisecond)
	n := 0
	for _, b := range bs {
		if weight(c, b.addr) == 0 {
			n++
		}
	}
	if n != 2 {
		t.Fatalf("%d of 4 backends ejected, budget is 2", n)
	}
}

func TestParseSpec(t *testing.T) {
	tests := []struct {
		in       string
		kind     Kind
		path     string
		wantFail bool
	}{
		{"tcp", TCP, "", false},
		{"off", Off, "", false},
		{"http:/healthz", HTTP, "/healthz", false},
		{"http", HTTP, "/", false},
		{"udp", "", "", true},
		{"http:nopath", "", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			k, p, err := ParseSpec(tc.in)
			if (err != nil) != tc.wantFail || k != tc.kind || p != tc.path {
				t.Fatalf("ParseSpec(%q) = %q, %q, %v", tc.in, k, p, err)
			}
		})
	}
}

func TestPassiveSignalsEject(t *testing.T) {
	bs, c := setup(t, 4, Options{Kind: Off})
	for i := 0; i < 2; i++ {
		c.ObservePassive(bs[0].addr, lb.SignalReset)
	}
	waitFor(t, time.Second, "passive failures eject", func() bool { return weight(c, bs[0].addr) == 0 })
}
