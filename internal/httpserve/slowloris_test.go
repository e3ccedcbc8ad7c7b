package httpserve

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// TestGoodClientServedUnderSlowloris fills the listener with connections
// that send the first line of a request head and nothing more (the
// red-team's N3: ten threads keeping ~256 of them open locked out the
// control plane and every --metrics listener), reopening each one the
// server closes, and checks that a good client opening a new connection
// for every request is served within a second, again and again. The
// header timeout is a minute: only shedding can make room.
func TestGoodClientServedUnderSlowloris(t *testing.T) {
	lim := DefaultLimits
	lim.ReadHeaderTimeout = time.Minute
	tests := []struct {
		name string
		// from are the attacker's source addresses; each holds perAddr
		// head-incomplete connections.
		from    []string
		perAddr int
		// good is the good client's source address.
		good string
	}{
		{"one address, as the good client", []string{"127.0.0.1"}, 300, "127.0.0.1"},
		{"one address, good client elsewhere", []string{"127.0.0.1"}, 300, "127.0.0.200"},
		{"ten addresses", loopbacks(1, 10), 40, "127.0.0.1"},
		{"ten addresses, good client elsewhere", loopbacks(1, 10), 40, "127.0.0.200"},
		{"a hundred addresses", loopbacks(1, 100), 4, "127.0.0.200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			addr := serve(t, lim, reg, okHandler)
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			t.Cleanup(func() { cancel(); wg.Wait() })
			var dialed atomic.Int64
			for _, from := range tt.from {
				for range tt.perAddr {
					wg.Go(func() { holdHead(ctx, addr, from, &dialed) })
				}
			}
			want := int64(len(tt.from) * tt.perAddr)
			for deadline := time.Now().Add(10 * time.Second); dialed.Load() < want; time.Sleep(10 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the attack opened %d of %d connections in 10 s", dialed.Load(), want)
				}
			}
			for i := range 20 {
				start := time.Now()
				if err := freshGet(addr, tt.good, time.Second); err != nil {
					t.Fatalf("good request %d, %d attack connections opened so far: %v\n%s", i, dialed.Load(), err, counters(t, reg))
				}
				if d := time.Since(start); d > time.Second {
					t.Fatalf("good request %d took %v", i, d)
				}
			}
		})
	}
}

// loopbacks returns 127.0.0.first to 127.0.0.last.
func loopbacks(first, last int) []string {
	var out []string
	for i := first; i <= last; i++ {
		out = append(out, fmt.Sprintf("127.0.0.%d", i))
	}
	return out
}

// holdHead keeps one connection from the address from that has sent only a
// request line, opening a new one each time the server closes it, until ctx
// is done. It counts every connection it opens in dialed.
func holdHead(ctx context.Context, addr, from string, dialed *atomic.Int64) {
	d := net.Dialer{Timeout: time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	for ctx.Err() == nil {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(20 * time.Millisecond):
			}
			continue
		}
		dialed.Add(1)
		stop := context.AfterFunc(ctx, func() { _ = c.Close() })
		if _, err := io.WriteString(c, "GET / HTTP/1.1\r\n"); err == nil {
			_, _ = io.Copy(io.Discard, c) // until the server closes it
		}
		stop()
		_ = c.Close()
	}
}

// freshGet GETs / on a connection of its own from the address from,
// writing the request as soon as it is connected, the way the red-team's
// probe, curl and Prometheus do.
func freshGet(addr, from string, timeout time.Duration) error {
	d := net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /: %s", resp.Status)
	}
	return nil
}

// counters shows the listener's metrics in reg.
func counters(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue()
			fmt.Fprintf(&b, "%s %v\n", mf.GetName(), v)
		}
	}
	return b.String()
}
