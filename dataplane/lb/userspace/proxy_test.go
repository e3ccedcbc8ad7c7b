package userspace

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/lb"
)

func TestProxySpreadsFlowsOverBackends(t *testing.T) {
	ids := []string{"b1", "b2", "b3", "b4"}
	var backends []netip.AddrPort
	for _, id := range ids {
		backends = append(backends, whoamiBackend(t, id))
	}
	_, vip := startProxy(t, Options{}, backends...)
	seen := map[string]int{}
	for i := 0; i < 200; i++ {
		seen[get(t, vip)]++
	}
	for _, id := range ids {
		if seen[id] == 0 {
			t.Errorf("backend %s got no flows: %v", id, seen)
		}
	}
}

func TestProxyKeepsAConnectionOnItsBackendAcrossApply(t *testing.T) {
	a, b := whoamiBackend(t, "a"), whoamiBackend(t, "b")
	p, vip := startProxy(t, Options{}, a, b)
	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	fetch := func() string {
		t.Helper()
		resp, err := c.Get(fmt.Sprintf("http://%s/whoami", vip))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	first := fetch()
	other := b
	if first == "b" {
		other = a
	}
	// The new generation holds only the other backend; the open
	// connection must stay where it is.
	if err := p.Apply(context.Background(), config(vip, other)); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		if got := fetch(); got != first {
			t.Fatalf("request %d on the kept connection went to %q, want %q", i, got, first)
		}
	}
	tr.CloseIdleConnections()
	want := "a"
	if other == b {
		want = "b"
	}
	if got := get(t, vip); got != want {
		t.Fatalf("new connection after Apply went to %q, want %q", got, want)
	}
}

func TestProxyHalfClose(t *testing.T) {
	// The backend reads the whole request up to the client's FIN and only
	// then answers: the response must still reach the client.
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
			go func() {
				defer c.Close()
				data, _ := io.ReadAll(c)
				c.Write(bytes.ToUpper(data))
			}()
		}
	}()
	_, vip := startProxy(t, Options{}, ln.Addr().(*net.TCPAddr).AddrPort())
	for _, size := range []int{5, 200 << 10} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			c, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(vip))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			msg := bytes.Repeat([]byte("hello"), size/5)
			if _, err := c.Write(msg); err != nil {
				t.Fatal(err)
			}
			if err := c.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, bytes.ToUpper(msg)) {
				t.Fatalf("got %d bytes, want %d upper-cased", len(got), len(msg))
			}
		})
	}
}

func TestProxyBackpressureLargeTransfer(t *testing.T) {
	// A backend streams 16 MiB and closes, to a client that reads slowly at
	// first: the proxy stops reading the backend, and every byte arrives in
	// order.
	payload := make([]byte, 16<<20)
	rand.Read(payload)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		c.Write(payload)
	}()
	p, vip := startProxy(t, Options{MaxBuffered: 256 << 10}, ln.Addr().(*net.TCPAddr).AddrPort())
	c, err := net.Dial("tcp", vip.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	time.Sleep(300 * time.Millisecond) // let the proxy's queue build up
	got, err := io.ReadAll(bufio.NewReader(c))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, payload) {
		t.Fatalf("got %d bytes, want %d identical", len(got), len(payload))
	}
	// The backend's FIN may still find bytes queued toward the client, and
	// then the session leaves the loop for the pipe; either way it paused.
	checkPaused(t, p)
}

func TestProxyLimitsAndTimeouts(t *testing.T) {
	backend := whoamiBackend(t, "x")
	tests := []struct {
		name string
		opts Options
		run  func(t *testing.T, p *Proxy, vip netip.AddrPort)
	}{
		{"connection limit", Options{MaxConns: 2}, func(t *testing.T, p *Proxy, vip netip.AddrPort) {
			var held []net.Conn
			defer func() {
				for _, c := range held {
					c.Close()
				}
			}()
			for i := 0; i < 2; i++ {
				c, err := net.Dial("tcp", vip.String())
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, c)
			}
			waitActive(t, p, 2)
			c, err := net.Dial("tcp", vip.String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			if _, err := c.Read(make([]byte, 1)); err == nil {
				t.Fatal("third connection over a limit of 2 was served")
			}
		}},
		{"idle timeout", Options{IdleTimeout: 300 * time.Millisecond}, func(t *testing.T, p *Proxy, vip netip.AddrPort) {
			c, err := net.Dial("tcp", vip.String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			start := time.Now()
			if _, err := c.Read(make([]byte, 1)); err == nil {
				t.Fatal("idle connection got data")
			}
			if time.Since(start) > 4*time.Second {
				t.Fatal("idle connection was not closed by the proxy")
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, vip := startProxy(t, tc.opts, backend)
			tc.run(t, p, vip)
		})
	}
}

func waitActive(t *testing.T, p *Proxy, n int64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for p.Active() < n {
		if time.Now().After(deadline) {
			t.Fatalf("active connections %d, want %d", p.Active(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestProxyRetriesRefusedBackend(t *testing.T) {
	// Port 1 is privileged and unused: the kernel refuses the SYN. An
	// ephemeral port could be handed out again as the VIP itself.
	dead := netip.MustParseAddrPort("127.0.0.1:1")
	live := whoamiBackend(t, "live")
	sig := &signals{}
	_, vip := startProxy(t, Options{Observer: sig}, dead, live)
	for i := 0; i < 50; i++ {
		if got := get(t, vip); got != "live" {
			t.Fatalf("request %d answered by %q", i, got)
		}
	}
	if sig.count(dead, lb.SignalRefused) == 0 {
		t.Error("no passive refused signal for the dead backend")
	}
	if sig.count(live, lb.SignalConnectOK) == 0 {
		t.Error("no connect-ok signal for the live backend")
	}
}

// TestProxyHalfCloseStaysOnLoop covers the half-close fast path both ways:
// a backend that answers and closes (HTTP Connection: close), and a
// backend that shuts its write side and keeps reading.
func TestProxyHalfCloseStaysOnLoop(t *testing.T) {
	t.Run("backend answers and closes", func(t *testing.T) {
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
				go func() {
					buf := make([]byte, 64)
					c.Read(buf)
					c.Write([]byte("bye"))
					c.Close()
				}()
			}
		}()
		p, vip := startProxy(t, Options{}, ln.Addr().(*net.TCPAddr).AddrPort())
		for i := 0; i < 50; i++ {
			c, err := net.Dial("tcp", vip.String())
			if err != nil {
				t.Fatal(err)
			}
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Write([]byte("hi"))
			got, err := io.ReadAll(c)
			c.Close()
			if err != nil || string(got) != "bye" {
				t.Fatalf("connection %d: got %q, %v", i, got, err)
			}
		}
		if n := p.snapshot()[0].m.migrated.Load(); n != 0 {
			t.Errorf("%d of 50 answer-and-close sessions left the event loop", n)
		}
		waitActive(t, p, 0)
	})
	t.Run("backend shuts write and keeps reading", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		got := make(chan string, 1)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			c.Write([]byte("hello"))
			c.(*net.TCPConn).CloseWrite()
			b, _ := io.ReadAll(c)
			got <- string(b)
		}()
		_, vip := startProxy(t, Options{}, ln.Addr().(*net.TCPAddr).AddrPort())
		c, err := net.DialTCP("tcp", nil, net.TCPAddrFromAddrPort(vip))
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		greeting, err := io.ReadAll(c) // up to the backend's FIN
		if err != nil || string(greeting) != "hello" {
			t.Fatalf("greeting %q, %v", greeting, err)
		}
		c.Write([]byte("after the backend's FIN"))
		c.CloseWrite()
		select {
		case b := <-got:
			if b != "after the backend's FIN" {
				t.Fatalf("backend read %q", b)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("backend never saw the client's data and FIN")
		}
	})
}
