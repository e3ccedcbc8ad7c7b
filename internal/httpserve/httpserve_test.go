package httpserve

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// serveLimited serves a trivial handler within lim on a loopback port.
func serveLimited(t *testing.T, lim Limits) string {
	t.Helper()
	return serve(t, lim, nil, okHandler)
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok") })

// serve serves h within lim on a loopback port, counting in reg.
func serve(t *testing.T, lim Limits, reg prometheus.Registerer, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- ServeCounted(ctx, ln, h, lim, reg) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

func rawGet(t *testing.T, addr string, extra string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\n"+extra+"\r\n")
	return c, bufio.NewReader(c)
}

func TestServeBoundsHeaders(t *testing.T) {
	addr := serveLimited(t, Limits{MaxHeaderBytes: 4 << 10})
	_, r := rawGet(t, addr, "X-Big: "+strings.Repeat("a", 64<<10)+"\r\n")
	if line, err := r.ReadString('\n'); err != nil || !strings.Contains(line, "431") {
		t.Fatalf("64 KiB header: %q %v, want 431", line, err)
	}
}

func TestDefaultLimitsAreSet(t *testing.T) {
	l := DefaultLimits
	if l.ReadHeaderTimeout <= 0 || l.ReadTimeout <= 0 || l.WriteTimeout <= 0 || l.IdleTimeout <= 0 || l.MaxHeaderBytes <= 0 || l.MaxConns <= 0 ||
		l.MaxConnsPerIP <= 0 || l.MaxConnsPerIP >= l.MaxConns {
		t.Fatalf("a default limit is off: %+v", l)
	}
}
