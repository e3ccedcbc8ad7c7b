package boundtest_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/internal/boundtest"
)

// TestControlPlaneUnderHostileClients runs a real `strata control` (no
// token, on loopback: the hostile clients reach every handler) for 8 s
// against, all at once:
//
//   - 300 header stallers: 1000 KiB of one header line, then silence, the
//     way a client would hold memory in a server that buffers headers up
//     to net/http's default 1 MiB until its header timeout;
//   - 50 slowloris clients, one header byte a second;
//   - 10 huge bodies: POST with Content-Length 10 GiB, written flat out;
//   - 100 connections that connect and send nothing;
//   - 30 slow readers that pipeline 200 requests for /api/v1/components,
//     /api/v1/state, /api/v1/services and /metrics and never read;
//   - 300 unfinished heads: a request line and nothing more, each
//     connection reopened 100 ms after the server closes it (the red-team's
//     N3, which kept the 256 slots of a listener that waited for a free
//     one taken: 5 probes through in 20 s);
//
// while a good client, on a keep-alive connection it opened before the
// attack, GETs /healthz and /api/v1/components every 20 ms, and another
// GETs /api/v1/services and /healthz every 20 ms on a new connection each
// time, the way the red-team's probes, `strata up` and one-off `strata
// ctl` calls do.
//
// Bounds (docs/OPERATIONS.md, Control plane): peak RSS during the attack
// under 200 MiB; the keep-alive client's p99 under 500 ms, no failed call,
// at least 200 calls; the client on new connections at least 25 calls, at
// most 1 failed, p90 under 1 s; and once the attack stops, a new
// connection is served.
// What keeps them: httpserve.DefaultLimits (32 KiB of headers, 256
// connections and 32 per address, loopback included, shedding the oldest
// connection still sending its head, read-header 2 s, read 10 s, write
// 10 s, idle 60 s). Against the code before those limits (net/http
// defaults, ReadHeaderTimeout only) the stallers alone held over 300 MiB;
// against a listener that waited for a free slot at 256 connections, the
// good client on new connections failed nearly every call.
func TestControlPlaneUnderHostileClients(t *testing.T) {
	addr := boundtest.FreeAddr(t)
	cfg := filepath.Join(t.TempDir(), "stack.yaml")
	// A stack on a loopback host nothing listens on: the control plane's
	// probes fail fast and cost nothing.
	if err := os.WriteFile(cfg, []byte("host: 127.0.0.73\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := boundtest.Start(t, "control", "--listen", addr, "--config", cfg, "--log-level", "warn")
	p.WaitTCP(t, addr, 20*time.Second)

	good := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}}
	paths := []string{"/healthz", "/api/v1/components"}
	get := func(ctx context.Context, path string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return err
		}
		resp, err := good.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return nil
	}
	for _, path := range paths {
		if err := get(context.Background(), path); err != nil {
			t.Fatal(err)
		}
	}
	fresh := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	freshPaths := []string{"/api/v1/services", "/healthz"}
	freshGet := func(ctx context.Context, path string) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
		if err != nil {
			return err
		}
		resp, err := fresh.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s", path, resp.Status)
		}
		return nil
	}
	time.Sleep(500 * time.Millisecond)
	p.ResetPeak()

	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	dial := func(ctx context.Context) net.Conn {
		d := net.Dialer{Timeout: time.Second}
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			boundtest.Pause(ctx, 50*time.Millisecond)
			return nil
		}
		context.AfterFunc(ctx, func() { c.Close() })
		return c
	}
	bigLine := append([]byte("GET /api/v1/components HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Pad: "), bytes.Repeat([]byte("a"), 1000<<10)...)
	attacks := []struct {
		n      int
		attack func(ctx context.Context, i int)
	}{
		{300, func(ctx context.Context, _ int) { // header stallers
			for ctx.Err() == nil {
				if c := dial(ctx); c != nil {
					c.Write(bigLine)
					io.Copy(io.Discard, c) // until the server gives up on it
					c.Close()
				}
				boundtest.Pause(ctx, 100*time.Millisecond)
			}
		}},
		{50, func(ctx context.Context, _ int) { // slowloris
			for ctx.Err() == nil {
				c := dial(ctx)
				if c == nil {
					continue
				}
				_, err := io.WriteString(c, "GET /api/v1/state HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
				for err == nil && ctx.Err() == nil {
					boundtest.Pause(ctx, time.Second)
					_, err = c.Write([]byte("a"))
				}
				c.Close()
			}
		}},
		{10, func(ctx context.Context, _ int) { // huge bodies
			chunk := bytes.Repeat([]byte("b"), 64<<10)
			for ctx.Err() == nil {
				c := dial(ctx)
				if c == nil {
					continue
				}
				_, err := io.WriteString(c, "POST /api/v1/components HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10737418240\r\n\r\n")
				for err == nil && ctx.Err() == nil {
					_, err = c.Write(chunk)
				}
				c.Close()
				boundtest.Pause(ctx, 50*time.Millisecond)
			}
		}},
		{100, func(ctx context.Context, _ int) { // connect and say nothing
			for ctx.Err() == nil {
				if c := dial(ctx); c != nil {
					io.Copy(io.Discard, c)
					c.Close()
				}
			}
		}},
		{30, func(ctx context.Context, i int) { // slow readers
			var reqs strings.Builder
			for j := range 200 {
				path := []string{"/api/v1/components", "/api/v1/state", "/api/v1/services", "/metrics"}[(i+j)%4]
				fmt.Fprintf(&reqs, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path)
			}
			for ctx.Err() == nil {
				c := dial(ctx)
				if c == nil {
					continue
				}
				c.(*net.TCPConn).SetReadBuffer(4 << 10)
				io.WriteString(c, reqs.String())
				<-ctx.Done() // never read
				c.Close()
			}
		}},
		{300, func(ctx context.Context, _ int) { // unfinished heads
			for ctx.Err() == nil {
				if c := dial(ctx); c != nil {
					if _, err := io.WriteString(c, "GET / HTTP/1.1\r\n"); err == nil {
						io.Copy(io.Discard, c) // until the server closes it
					}
					c.Close()
				}
				boundtest.Pause(ctx, 100*time.Millisecond)
			}
		}},
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg = make(chan struct{}, len(attacks))
		for _, a := range attacks {
			go func() { boundtest.Hold(ctx, a.n, a.attack); wg <- struct{}{} }()
		}
		for range attacks {
			<-wg
		}
	}()
	freshLat := make(chan *boundtest.Latencies, 1)
	go func() {
		n := 0
		freshLat <- boundtest.Good(ctx, 20*time.Millisecond, func(ctx context.Context) error {
			n++
			return freshGet(ctx, freshPaths[n%len(freshPaths)])
		})
	}()
	n := 0
	lat := boundtest.Good(ctx, 20*time.Millisecond, func(ctx context.Context) error {
		n++
		return get(ctx, paths[n%len(paths)])
	})
	<-done
	boundtest.Check(t, "control, keep-alive client", p, lat, boundtest.Bound{MaxRSS: 200 << 20, MaxP99: 500 * time.Millisecond, MinCalls: 200})
	// A new connection waits its turn in the kernel's accept queue behind
	// the attack's, which the listener works through instead of leaving
	// there, on two CPUs it shares with the attack: 40 to 130 calls in
	// 8 s, p99 under 500 ms. Locked out, the client made 4 calls, 3 of
	// which failed.
	fl := <-freshLat
	boundtest.Check(t, "control, a new connection per call", p, fl, boundtest.Bound{MaxErrors: 1, MinCalls: 25})
	if p90 := fl.Quantile(0.9); p90 > time.Second {
		t.Errorf("control, a new connection per call: p90 %v, budget 1s", p90)
	}

	// The attack's connections are gone; a new client gets in.
	after := &http.Client{Timeout: 10 * time.Second}
	resp, err := after.Get("http://" + addr + "/api/v1/components")
	if err != nil {
		t.Fatalf("a new connection after the attack: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("a new connection after the attack: %s", resp.Status)
	}
}
