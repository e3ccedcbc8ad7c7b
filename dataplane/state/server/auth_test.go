package server

import (
	"bufio"
	"fmt"
	"github.com/strata-dp/strata/internal/syncbuf"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/state/wire"
)

const wrongPass = "-WRONGPASS invalid username-password pair or user is disabled."

// dialFrom connects to addr from the local address src (any 127.0.0.0/8
// address is local on Linux).
func dialFrom(t *testing.T, src, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 2 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// guess sends AUTH with each secret on a new connection from src and
// returns the replies it got before the server closed it.
func guess(t *testing.T, src, addr string, secrets ...string) []string {
	t.Helper()
	nc := dialFrom(t, src, addr)
	var b strings.Builder
	for _, s := range secrets {
		b.WriteString(mb("AUTH", s))
	}
	io.WriteString(nc, b.String())
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(nc)
	var got []string
	for range secrets {
		r, err := readReply(br)
		if err != nil {
			break
		}
		got = append(got, r)
	}
	return got
}

// TestAuthGuessingThrottledPerAddress is red-team finding N5: closing a
// connection after three wrong secrets did not slow a guesser that
// reconnects (16,600 guesses/s from one address), and the failures were
// logged only when another came more than 10 s later. Each address now has
// a budget of authBurst failures refilled by one per second; beyond it AUTH
// is refused without comparing, the right secret included, and the
// connection closed, while other addresses are served; the failures are
// logged within the interval even when the guesser stops.
func TestAuthGuessingThrottledPerAddress(t *testing.T) {
	var logs syncbuf.Buffer
	s := startServer(t, Config{Secret: []byte("pw"), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	const logEvery = time.Second
	s.authGuard.mu.Lock()
	// No refill while guessing, so that the count is exact however slow
	// the machine; the real refill for the last step.
	s.authGuard.burst, s.authGuard.refill, s.authGuard.logEvery, s.authGuard.size = authBurst, time.Hour, logEvery, authPeers
	s.authGuard.mu.Unlock()
	const attacker = "127.0.0.1"
	throttled := "-ERR " + throttledText

	wrong, refused := 0, 0
	for i := range 20 { // 60 guesses, three per connection
		for _, r := range guess(t, attacker, s.RESPAddr(), fmt.Sprint("a", i), "b", "c") {
			switch r {
			case wrongPass:
				wrong++
			case throttled:
				refused++
			default:
				t.Fatalf("reply %q", r)
			}
		}
	}
	if wrong != authBurst || refused == 0 {
		t.Fatalf("60 guesses from one address: %d compared and wrong, %d refused; want %d wrong, then refusals",
			wrong, refused, authBurst)
	}
	lastFailure := time.Now()
	// The right secret is refused too: the guesser must not learn it is right.
	if got := guess(t, attacker, s.RESPAddr(), "pw", "pw"); len(got) != 1 || got[0] != throttled {
		t.Fatalf("right secret from a throttled address: %q, want one refusal and close", got)
	}
	nc := dialFrom(t, attacker, s.Addr())
	nc.Write(wire.AppendAuth(nil, 1, []byte("pw")))
	f, _, err := wire.Decode(expectClosed(t, nc), 1<<20)
	if err != nil || f.Status != wire.StatusBusy || string(f.Value) != throttledText {
		t.Fatalf("binary AUTH from a throttled address: %+v %q %v", f.Header, f.Value, err)
	}
	// Another address is not throttled.
	if got := guess(t, "127.0.0.2", s.RESPAddr(), "pw"); len(got) != 1 || got[0] != "+OK" {
		t.Fatalf("right secret from another address: %q", got)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(s.Collector())
	m := gathered(t, reg)
	if m["strata_state_auth_failures_total"] != authBurst || m["strata_state_auth_throttled_total"] < 2 {
		t.Errorf("failures %v, throttled %v", m["strata_state_auth_failures_total"], m["strata_state_auth_throttled_total"])
	}

	// The first failure was logged at once; the rest within the interval,
	// with no failure after them.
	deadline := lastFailure.Add(logEvery + time.Second)
	for strings.Count(logs.String(), "authentication failed") < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	lines := strings.Count(logs.String(), "authentication failed")
	if lines < 2 || !strings.Contains(logs.String(), fmt.Sprintf("failures_since_last_log=%d", authBurst-1)) {
		t.Fatalf("%d lines within %v of the last failure, want the first and one with the other %d:\n%s",
			lines, logEvery, authBurst-1, logs.String())
	}

	// Once the budget refills, the right secret works from that address.
	s.authGuard.mu.Lock()
	s.authGuard.refill = authRefill
	s.authGuard.mu.Unlock()
	time.Sleep(authRefill + 100*time.Millisecond)
	if got := guess(t, attacker, s.RESPAddr(), "pw"); len(got) != 1 || got[0] != "+OK" {
		t.Fatalf("right secret after the budget refilled: %q", got)
	}
}

// TestAuthGuardTableBounded: the table of addresses stays at its size, the
// least recent address is the one forgotten, and its unlogged failures are
// logged when it is.
func TestAuthGuardTableBounded(t *testing.T) {
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	g := &authGuard{burst: 2, refill: time.Hour, logEvery: time.Hour, size: 3}
	now := time.Now()
	addr := func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}) }
	for i := range 3 {
		g.failed(log, addr(i), protoRESP, now)
		g.failed(log, addr(i), protoRESP, now) // kept for the next line
	}
	if g.allow(log, addr(0), now) { // 10.0.0.0 is now the most recent
		t.Fatal("an address that spent its budget may try again")
	}
	g.failed(log, addr(9), protoRESP, now) // forgets 10.0.0.1, the least recent
	if len(g.byAddr) != 3 || len(g.peers) != 3 {
		t.Fatalf("table holds %d addresses, size 3", len(g.byAddr))
	}
	if _, ok := g.byAddr[addr(1)]; ok {
		t.Fatal("10.0.0.1, the least recent, was kept")
	}
	if !strings.Contains(logs.String(), "peer=10.0.0.1 protocol=resp failures_since_last_log=1") {
		t.Fatalf("the forgotten address's pending failure was not logged:\n%s", logs.String())
	}
	if g.allow(log, addr(0), now) {
		t.Fatal("10.0.0.0 was forgotten instead")
	}
	if peerKey("[2001:db8:1:2:3:4:5:6]:999") != peerKey("[2001:db8:1:2:ffff::1]:1") {
		t.Fatal("IPv6 addresses of one /64 are charged apart")
	}
}
