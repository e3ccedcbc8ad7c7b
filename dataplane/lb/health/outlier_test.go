package health

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/lb"
)

// TestOutlierEjectionGrows: consecutive unanswered sessions eject a backend
// whose checks pass; it stays out for the ejection time whatever its checks
// say, comes back through them, and a second ejection lasts longer.
func TestOutlierEjectionGrows(t *testing.T) {
	a, b := netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2")
	c := New(nil, Options{Kind: Off, Outliers: 3, OutlierEjection: time.Minute})
	svc := lb.Service{Name: "o", Proto: lb.TCP, VIP: netip.MustParseAddrPort("127.0.0.1:3"),
		Backends: []lb.Backend{{Addr: a, Weight: 1}, {Addr: b, Weight: 1}}}
	if err := c.SetConfig(context.Background(), lb.Config{Services: []lb.Service{svc}}); err != nil {
		t.Fatal(err)
	}
	up := func() bool { return c.Statuses()[0].Up }
	silent := func(n int) {
		c.ObservePassive(b, lb.SignalResponded) // the pool answers others
		for range n {
			c.ObservePassive(a, lb.SignalNoResponse)
		}
	}
	silent(2)
	c.ObservePassive(a, lb.SignalResponded) // an answer clears the streak
	answeredAgo(c, a, time.Hour)
	silent(2)
	if !up() {
		t.Fatal("ejected after 2 consecutive unanswered sessions, want 3")
	}
	silent(1)
	if up() {
		t.Fatal("not ejected after 3 consecutive unanswered sessions")
	}
	first := c.states[a].ejectedFor
	for range 5 {
		c.record(a, true) // its TCP checks pass
	}
	if up() {
		t.Fatal("passing checks brought an outlier back within its ejection time")
	}
	c.mu.Lock()
	c.states[a].until = time.Now() // the ejection time is over
	c.mu.Unlock()
	c.record(a, true)
	c.record(a, true)
	if !up() {
		t.Fatal("passing checks did not bring the backend back after its ejection time")
	}
	silent(3)
	if up() {
		t.Fatal("not ejected again")
	}
	if second := c.states[a].ejectedFor; second <= first {
		t.Fatalf("second ejection lasts %v, first %v: want it longer", second, first)
	}
	if got := c.outlierEjections.Load(); got != 2 {
		t.Fatalf("%d outlier ejections counted, want 2", got)
	}
}

// answeredAgo pretends addr last answered d ago.
func answeredAgo(c *Checker, addr netip.AddrPort, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.states[addr].lastAnswer = time.Now().Add(-d)
}

// TestOutlierNeedsAnOutlier: unanswered sessions are also what a client
// sending half a request leaves behind, so they eject only a backend that
// answers nobody while the rest of its pool answers.
func TestOutlierNeedsAnOutlier(t *testing.T) {
	a, b := netip.MustParseAddrPort("127.0.0.1:1"), netip.MustParseAddrPort("127.0.0.1:2")
	tests := []struct {
		name     string
		backends []netip.AddrPort
		answered []netip.AddrPort // backends that answered someone just now
		want     bool             // a ejected
	}{
		{"a hangs, b answers", []netip.AddrPort{a, b}, []netip.AddrPort{b}, true},
		{"a also answers others", []netip.AddrPort{a, b}, []netip.AddrPort{a, b}, false},
		{"nobody answers (half requests spread over the pool)", []netip.AddrPort{a, b}, nil, false},
		{"a pool of one", []netip.AddrPort{a}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := New(nil, Options{Kind: Off, Outliers: 3})
			svc := lb.Service{Name: "o", Proto: lb.TCP, VIP: netip.MustParseAddrPort("127.0.0.1:3")}
			for _, x := range tt.backends {
				svc.Backends = append(svc.Backends, lb.Backend{Addr: x, Weight: 1})
			}
			if err := c.SetConfig(context.Background(), lb.Config{Services: []lb.Service{svc}}); err != nil {
				t.Fatal(err)
			}
			for _, x := range tt.answered {
				c.ObservePassive(x, lb.SignalResponded)
			}
			for range 10 {
				c.ObservePassive(a, lb.SignalNoResponse)
			}
			if got := !c.Statuses()[0].Up; got != tt.want {
				t.Fatalf("a ejected = %v, want %v", got, tt.want)
			}
		})
	}
}
