package httpserve

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// serveLimited serves a trivial handler within lim on a loopback port.
func serveLimited(t *testing.T, lim Limits) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ln, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }), lim)
	}()
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

func TestServeBoundsConnections(t *testing.T) {
	addr := serveLimited(t, Limits{MaxConns: 2, ReadHeaderTimeout: time.Minute})
	var held []net.Conn
	for range 2 {
		c, r := rawGet(t, addr, "")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if line, err := r.ReadString('\n'); err != nil || !strings.Contains(line, "200") {
			t.Fatalf("held connection: %q %v", line, err)
		}
		held = append(held, c)
	}
	third, r := rawGet(t, addr, "")
	third.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if line, err := r.ReadString('\n'); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("a third connection was served over MaxConns 2: %q %v", line, err)
	}
	held[0].Close()
	third.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := r.ReadString('\n'); err != nil || !strings.Contains(line, "200") {
		t.Fatalf("the third connection after a slot freed: %q %v", line, err)
	}
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
	if l.ReadHeaderTimeout <= 0 || l.ReadTimeout <= 0 || l.WriteTimeout <= 0 || l.IdleTimeout <= 0 || l.MaxHeaderBytes <= 0 || l.MaxConns <= 0 {
		t.Fatalf("a default limit is off: %+v", l)
	}
}
