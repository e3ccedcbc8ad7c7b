package boundtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// The load balancer's resource bound (docs/LB-USERSPACE.md): a real
// `strata lb --mode userspace` in front of an in-test HTTP backend, attacked
// for lbAttack by
//
//   - lbSlowReaders clients that ask for a large response (lbBody) and read
//     nothing,
//   - lbUploaders clients that upload as fast as they can (up to lbBody
//     each) to a handler that never reads the body,
//   - lbIdle connections that send half a request and hold it,
//
// while a good client asks for a small response over a new connection
// every 20 ms. Bounds: peak RSS at most lbMaxRSS (about 20 MiB at rest;
// without backpressure the proxy holds everything the backend and the
// uploaders push, 600+ MiB here within a second or two, which is why the
// attack stops early once RSS passes twice the bound), the good client's
// p99 at most lbMaxP99 with no failed call. The kernel's socket buffers
// hold a few MiB per stalled connection; they are not the process's RSS.
const (
	lbAttack      = 6 * time.Second
	lbSlowReaders = 6
	lbUploaders   = 6
	lbIdle        = 200
	lbBody        = 64 << 20
	lbMaxRSS      = 300 << 20
	lbMaxP99      = 500 * time.Millisecond
)

// lbBackend serves /small, a large /big and an /upload that never reads.
func lbBackend(t *testing.T) string {
	t.Helper()
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = 'x'
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/small", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", fmt.Sprint(lbBody))
		for sent := 0; sent < lbBody; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/upload", func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestLBUserspaceUnderHostileClients(t *testing.T) {
	backend := lbBackend(t)
	vip, metrics := FreeAddr(t), FreeAddr(t)
	p := Start(t, "lb", "--mode", "userspace", "--vip", vip, "--backend", backend,
		"--metrics", metrics, "--log-level", "warn")
	p.WaitTCP(t, vip, 10*time.Second)

	good := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	small := func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+vip+"/small", nil)
		resp, err := good.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && string(b) != "ok" {
			err = fmt.Errorf("got %q", b)
		}
		return err
	}
	for range 10 {
		if err := small(context.Background()); err != nil {
			t.Fatalf("warm-up request: %v", err)
		}
	}
	p.ResetPeak()

	ctx, cancel := context.WithTimeout(context.Background(), lbAttack)
	defer cancel()
	// Stop early if the process runs away: the verdict is the same, and the
	// machine is shared.
	go func() {
		for ctx.Err() == nil {
			if p.RSS() > 2*lbMaxRSS {
				cancel()
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	var attacks atomic.Int64
	dial := func(ctx context.Context) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", vip)
		if err == nil {
			attacks.Add(1)
			go func() { <-ctx.Done(); c.Close() }()
		}
		return c, err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		Hold(ctx, lbSlowReaders+lbUploaders+lbIdle, func(ctx context.Context, i int) {
			c, err := dial(ctx)
			if err != nil {
				return
			}
			switch {
			case i < lbSlowReaders:
				c.(*net.TCPConn).SetReadBuffer(4 << 10)
				io.WriteString(c, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
			case i < lbSlowReaders+lbUploaders:
				fmt.Fprintf(c, "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", lbBody)
				buf := []byte(strings.Repeat("u", 64<<10))
				for sent := 0; sent < lbBody && ctx.Err() == nil; sent += len(buf) {
					if _, err := c.Write(buf); err != nil {
						return
					}
				}
			default:
				io.WriteString(c, "GET /small HTTP/1.1\r\nHost: x\r\n")
			}
			<-ctx.Done()
		})
	}()
	lat := Good(ctx, 20*time.Millisecond, small)
	<-done
	if n := attacks.Load(); n < lbSlowReaders+lbUploaders+lbIdle/2 {
		t.Errorf("only %d hostile connections got through", n)
	}
	Check(t, "lb userspace", p, lat, Bound{MaxRSS: lbMaxRSS, MaxP99: lbMaxP99, MinCalls: 50})
	if err := small(context.Background()); err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("after the attack: %v", err)
	}
}
