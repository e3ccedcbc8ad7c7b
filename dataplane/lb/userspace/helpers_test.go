package userspace

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
)

// freeAddr reserves an ephemeral loopback port for a VIP; gnet binds by
// address, so the port is released just before the proxy takes it.
func freeAddr(t *testing.T) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// whoamiBackend is a real HTTP server answering /whoami with its id.
func whoamiBackend(t *testing.T, id string) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, id)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// startProxy applies one service over the backends and returns its VIP.
func startProxy(t *testing.T, opts Options, backends ...netip.AddrPort) (*Proxy, netip.AddrPort) {
	t.Helper()
	p := New(opts)
	vip := freeAddr(t)
	if err := p.Apply(context.Background(), config(vip, backends...)); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		p.Shutdown(ctx)
	})
	return p, vip
}

func config(vip netip.AddrPort, backends ...netip.AddrPort) lb.Config {
	svc := lb.Service{Name: "test", VIP: vip, Proto: lb.TCP}
	for _, b := range backends {
		svc.Backends = append(svc.Backends, lb.Backend{Addr: b, Weight: 1})
	}
	return lb.Config{Services: []lb.Service{svc}}
}

// get fetches /whoami over a fresh connection.
func get(t *testing.T, vip netip.AddrPort) string {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get(fmt.Sprintf("http://%s/whoami", vip))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// signals records passive health signals.
type signals struct {
	mu  sync.Mutex
	got map[netip.AddrPort][]lb.Signal
}

func (s *signals) ObservePassive(b netip.AddrPort, sig lb.Signal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.got == nil {
		s.got = map[netip.AddrPort][]lb.Signal{}
	}
	s.got[b] = append(s.got[b], sig)
}

func (s *signals) count(b netip.AddrPort, sig lb.Signal) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, x := range s.got[b] {
		if x == sig {
			n++
		}
	}
	return n
}
