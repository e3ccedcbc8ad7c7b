package facade

import (
	"net"
	"testing"
)

// priorityApp is an app with one route of class normal; classOf serves it
// one request from peer with the given priority header and returns the
// class the handler saw.
type priorityApp struct {
	*App
	seen Priority
}

func newPriorityApp(t *testing.T, cfg Config) *priorityApp {
	t.Helper()
	pa := &priorityApp{App: newTestApp(t, cfg)}
	mustHandle(t, pa.App, "GET", "/c", func(c *Ctx) error {
		pa.seen = c.Priority()
		c.Write(200, "text/plain", nil)
		return nil
	})
	return pa
}

func classOf(t *testing.T, a *priorityApp, peer net.IP, header string) Priority {
	t.Helper()
	a.seen = numPriorities
	rc := requestCtxFrom(peer, "GET", "/c", map[string]string{PriorityHeader: header})
	a.Handler()(rc)
	if rc.Response.StatusCode() != 200 {
		t.Fatalf("status %d", rc.Response.StatusCode())
	}
	return a.seen
}

// TestPriorityHeaderIgnoredFromClients is finding 12: a client sending
// X-Strata-Priority: high straight to a facade got the high class.
func TestPriorityHeaderIgnoredFromClients(t *testing.T) {
	a := newPriorityApp(t, Config{})
	if got := classOf(t, a, net.IPv4(192, 0, 2, 7), "high"); got != PriorityNormal {
		t.Fatalf("header from 192.0.2.7 gave class %v, want the route's normal", got)
	}
	if got := classOf(t, a, net.ParseIP("2001:db8::7"), "high"); got != PriorityNormal {
		t.Fatalf("header from 2001:db8::7 gave class %v, want the route's normal", got)
	}
	if got := classOf(t, a, net.IPv4(127, 0, 0, 1), "high"); got != PriorityHigh {
		t.Fatalf("header from loopback (the userspace LB) gave class %v, want high", got)
	}
	if got := classOf(t, a, net.IPv6loopback, "low"); got != PriorityLow {
		t.Fatalf("header from ::1 gave class %v, want low", got)
	}
}
