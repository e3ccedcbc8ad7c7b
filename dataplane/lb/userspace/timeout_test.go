package userspace

import (
	"io"
	"net"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/lb"
)

// blackhole returns a loopback address whose SYNs go unanswered: a socket
// listening with a backlog of zero whose one queue slot is taken by a
// connection nobody accepts, so the kernel drops further SYNs.
func blackhole(t *testing.T) netip.AddrPort {
	t.Helper()
	addr, _ := blackholeFd(t)
	return addr
}

// blackholeFd is blackhole that also returns the listening socket.
func blackholeFd(t *testing.T) (netip.AddrPort, int) {
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
			return addr, fd
		}
		t.Cleanup(func() { c.Close() })
	}
	t.Skip("kernel kept accepting SYNs on a full backlog; cannot build a blackhole")
	return addr, fd
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
	if sig.count(dead, lb.SignalConnectTimeout) == 0 {
		t.Error("no connect-timeout signal for the unanswering backend")
	}
}

// TestProxySlowConnectCompletesOffTheLoop covers a backend connect that is
// still in progress when connect(2) returns: the blackhole's queue slot is
// freed, the kernel's SYN retransmission (about 1 s later) is answered, and
// the session carries on from the loop.
func TestProxySlowConnectCompletesOffTheLoop(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a SYN retransmission (about 1 s)")
	}
	dead, lfd := blackholeFd(t)
	// Wakes the accept loop below before the blackhole's cleanup closes lfd.
	t.Cleanup(func() { syscall.Shutdown(lfd, syscall.SHUT_RDWR) })
	p, vip := startProxy(t, Options{ConnectTimeout: 4 * time.Second}, dead)
	c, err := net.Dial("tcp", vip.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(6 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	m := p.snapshot()[0].m
	for deadline := time.Now().Add(3 * time.Second); m.connectsWaited.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the connect finished inside connect(2); the slow path was not exercised")
		}
	}
	go func() {
		// Free the slot, then answer whatever arrives next.
		for {
			nfd, _, err := syscall.Accept(lfd)
			if err != nil {
				return
			}
			go func() {
				defer syscall.Close(nfd)
				buf := make([]byte, 16)
				if n, _ := syscall.Read(nfd, buf); n > 0 {
					syscall.Write(nfd, []byte("pong"))
				}
			}()
		}
	}()
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "pong" {
		t.Fatalf("got %q, %v", buf, err)
	}
}

// TestProxyReportsUnansweredSessions: a backend that accepts, reads and
// never answers is reported (lb.SignalNoResponse) once per session; one that
// answers reports lb.SignalResponded and never lb.SignalNoResponse.
func TestProxyReportsUnansweredSessions(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	silent := ln.Addr().(*net.TCPAddr).AddrPort()
	var sig signals
	_, vip := startProxy(t, Options{Observer: &sig, FirstByteTimeout: 50 * time.Millisecond}, silent)
	c, err := net.Dial("tcp", vip.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	deadline := time.Now().Add(5 * time.Second)
	for sig.count(silent, lb.SignalNoResponse) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := sig.count(silent, lb.SignalNoResponse); n != 1 {
		t.Fatalf("%d lb.SignalNoResponse for a backend that never answers, want 1", n)
	}

	var sig2 signals
	answering := whoamiBackend(t, "a")
	_, vip2 := startProxy(t, Options{Observer: &sig2, FirstByteTimeout: 50 * time.Millisecond}, answering)
	if got := get(t, vip2); got != "a" {
		t.Fatalf("got %q", got)
	}
	time.Sleep(150 * time.Millisecond) // three timeouts' worth: nothing may be reported
	if n := sig2.count(answering, lb.SignalNoResponse); n != 0 {
		t.Fatalf("%d lb.SignalNoResponse for a backend that answered", n)
	}
	if n := sig2.count(answering, lb.SignalResponded); n != 1 {
		t.Fatalf("%d lb.SignalResponded, want 1", n)
	}
}
