package userspace

import (
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"
)

// blackhole returns a loopback address whose SYNs go unanswered: a socket
// listening with a backlog of zero whose one queue slot is taken by a
// connection nobody accepts, so the kernel drops further SYNs.
func blackhole(t *testing.T) netip.AddrPort {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(sa.(*syscall.SockaddrInet4).Port))
	// Fill the accept queue until a connect no longer completes.
	for i := 0; i < 8; i++ {
		c, err := net.DialTimeout("tcp", addr.String(), 200*time.Millisecond)
		if err != nil {
			return addr
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("kernel kept accepting SYNs on a full backlog; cannot build a blackhole")
	return addr
}

func TestProxyConnectTimeoutMovesOn(t *testing.T) {
	dead := blackhole(t)
	live := whoamiBackend(t, "live")
	sig := &signals{}
	_, vip := startProxy(t, Options{ConnectTimeout: 150 * time.Millisecond, Observer: sig}, dead, live)
	for i := 0; i < 10; i++ {
		if got := get(t, vip); got != "live" {
			t.Fatalf("request %d answered by %q", i, got)
		}
	}
	if sig.count(dead, SignalConnectTimeout) == 0 {
		t.Error("no connect-timeout signal for the unanswering backend")
	}
}
