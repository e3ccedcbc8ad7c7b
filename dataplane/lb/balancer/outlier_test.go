package balancer

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/mode"
)

// hangingBackend accepts connections, reads what they send and never
// answers: every TCP check passes.
func hangingBackend(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			go io.Copy(io.Discard, c)
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// httpBackend answers every request with 200.
func httpBackend(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

func appliedWeight(n *Node, addr netip.AddrPort) uint32 {
	for _, s := range n.Applied().Services {
		for _, b := range s.Backends {
			if b.Addr == addr {
				return b.Weight
			}
		}
	}
	return 1 << 31
}

// TestCheckerEjectsBackendThatAcceptsAndHangs runs a userspace node with the
// proxy's defaults and the default TCP check in front of a good backend and
// one that accepts and never answers. Requests through the VIP must get the
// hanging backend ejected (the proxy's passive signals reach the checker),
// after which every request succeeds.
func TestCheckerEjectsBackendThatAcceptsAndHangs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a proxy on loopback")
	}
	good := httpBackend(t)
	hanging := hangingBackend(t)
	vip := freePort(t)
	svc := lb.Service{Name: "h", Proto: lb.TCP, VIP: vip, Backends: []lb.Backend{
		{Addr: good, Weight: 10}, {Addr: hanging, Weight: 10}}}
	cfg := DefaultConfig(lb.Config{Services: []lb.Service{svc}})
	cfg.Mode, cfg.Drain = mode.Userspace, time.Second
	ctx, cancel := context.WithCancel(context.Background())
	n, err := New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { n.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})

	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	request := func() error {
		resp, err := client.Get(fmt.Sprintf("http://%s/", vip))
		if err != nil {
			return err
		}
		resp.Body.Close()
		return nil
	}
	// Clients as in the finding: a few at a time, giving up after 2 s.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				request() //nolint:errcheck // failures are what this traffic is for
			}
		}()
	}
	deadline := time.Now().Add(15 * time.Second)
	for appliedWeight(n, hanging) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("hanging backend ejected: not within 15s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	for i := range 20 {
		if err := request(); err != nil {
			t.Fatalf("request %d after the ejection: %v", i, err)
		}
	}
}
