package edge_test

import (
	"errors"
	"io"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/strata-dp/strata/dataplane/edge"
)

// The connection limits against slowloris and connection floods. Timeouts
// here are short so that the tests are quick; the assertions are about
// what happens (a close, an answer), never about how long it took.

func registry(t *testing.T, b *bed) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	if err := b.edge.Register(reg); err != nil {
		t.Fatal(err)
	}
	return reg
}

// waitConns waits until the edge serves n connections, so that tests know
// the order in which it admitted them.
func waitConns(t *testing.T, b *bed, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for b.edge.OpenConns() != n {
		if time.Now().After(deadline) {
			t.Fatalf("edge serves %d connections, want %d", b.edge.OpenConns(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// closedByEdge reports whether the edge closed c (after any bytes it sent);
// a connection still open reads nothing within a short wait.
func closedByEdge(c *clientConn) bool {
	c.nc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := io.Copy(io.Discard, c.br)
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

const getA = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"

func TestHeaderTimeoutClosesSlowHeads(t *testing.T) {
	b := newBed(t, edge.Config{IdleTimeout: time.Hour, HeaderTimeout: 300 * time.Millisecond},
		fixed(200, "a", "Cache-Control: max-age=60"))
	reg := registry(t, b)

	partial := dialEdge(t, b.addr)
	partial.send("GET /a HTTP/1.1\r\nHo")
	if resp, _ := partial.response("GET"); resp.StatusCode != http.StatusRequestTimeout || !resp.Close {
		t.Fatalf("partial head: %d, close %v; want 408 and a close", resp.StatusCode, resp.Close)
	}

	// One byte every 50 ms: progress does not extend the deadline.
	trickle := dialEdge(t, b.addr)
	go func() {
		for _, ch := range []byte("GET /a HTTP/1.1\r\nX-Long: " + strings.Repeat("y", 200)) {
			if _, err := trickle.nc.Write([]byte{ch}); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	if resp, _ := trickle.response("GET"); resp.StatusCode != http.StatusRequestTimeout {
		t.Fatalf("trickled head: %d, want 408", resp.StatusCode)
	}

	silent := dialEdge(t, b.addr) // never sends its first request
	silent.nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := silent.br.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("silent connection: read %d, %v; want a close", n, err)
	}

	// Waiting between requests is bounded by the idle timeout, not this.
	ka := dialEdge(t, b.addr)
	ka.send(getA)
	ka.response("GET")
	time.Sleep(time.Second)
	ka.send(getA)
	if resp, _ := ka.response("GET"); resp.StatusCode != 200 {
		t.Fatalf("keep-alive request after a pause: %d", resp.StatusCode)
	}
	if got := gatherValue(t, reg, "strata_edge_header_timeouts_total"); got != 3 {
		t.Fatalf("header_timeouts_total = %v, want 3", got)
	}
}

func TestMaxConnsPerIP(t *testing.T) {
	b := newBed(t, edge.Config{MaxConnsPerIP: 2}, fixed(200, "a", "Cache-Control: max-age=60"))
	reg := registry(t, b)
	for range 2 {
		c := dialEdge(t, b.addr)
		c.send(getA)
		c.response("GET")
	}
	if out := b.raw(getA); out != "" {
		t.Fatalf("third connection from 127.0.0.1 was served: %q", out)
	}
	if got := gatherValue(t, reg, "strata_edge_rejected_per_ip_total"); got != 1 {
		t.Fatalf("rejected_per_ip_total = %v, want 1", got)
	}

	exempt := newBed(t, edge.Config{MaxConnsPerIP: 2, ConnsPerIPExempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		fixed(200, "a", "Cache-Control: max-age=60"))
	for range 2 {
		c := dialEdge(t, exempt.addr)
		c.send(getA)
		c.response("GET")
	}
	if out := exempt.raw(getA); !strings.HasPrefix(out, "HTTP/1.1 200") {
		t.Fatalf("exempt network: third connection got %q", out)
	}
}

func TestFullEdgeShedsOldestIncompleteHead(t *testing.T) {
	b := newBed(t, edge.Config{MaxConns: 3, IdleTimeout: time.Hour}, fixed(200, "a", "Cache-Control: max-age=60"))
	reg := registry(t, b)
	var slow []*clientConn
	for i := range 3 {
		c := dialEdge(t, b.addr)
		c.send("GET /a HTTP/1.1\r\n")
		waitConns(t, b, i+1)
		slow = append(slow, c)
	}
	if out := b.raw(getA); !strings.HasPrefix(out, "HTTP/1.1 200") {
		t.Fatalf("new connection at the limit got %q, want it served", out)
	}
	if !closedByEdge(slow[0]) {
		t.Fatal("the oldest incomplete connection is still open")
	}
	for i, c := range slow[1:] {
		c.send("Host: x\r\n\r\n")
		if resp, _ := c.response("GET"); resp.StatusCode != 200 {
			t.Fatalf("younger incomplete connection %d: %d", i+1, resp.StatusCode)
		}
	}
	if got := gatherValue(t, reg, "strata_edge_shed_incomplete_total"); got != 1 {
		t.Fatalf("shed_incomplete_total = %v, want 1", got)
	}
}

func TestFullEdgeShedsLongestIdle(t *testing.T) {
	b := newBed(t, edge.Config{MaxConns: 2, IdleTimeout: time.Hour}, fixed(200, "a", "Cache-Control: max-age=60"))
	reg := registry(t, b)
	var idle []*clientConn
	for range 2 {
		c := dialEdge(t, b.addr)
		c.send(getA)
		c.response("GET")
		b.advance(1) // idle since different seconds
		idle = append(idle, c)
	}
	// The edge marks a connection idle just after its answer is sent.
	deadline := time.Now().Add(5 * time.Second)
	for b.edge.IdleConns() != 2 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if out := b.raw(getA); !strings.HasPrefix(out, "HTTP/1.1 200") {
		t.Fatalf("new connection at the limit got %q, want it served", out)
	}
	if !closedByEdge(idle[0]) {
		t.Fatal("the longest idle connection is still open")
	}
	idle[1].send(getA)
	if resp, _ := idle[1].response("GET"); resp.StatusCode != 200 {
		t.Fatalf("the other idle connection: %d", resp.StatusCode)
	}
	if got := gatherValue(t, reg, "strata_edge_shed_idle_total"); got != 1 {
		t.Fatalf("shed_idle_total = %v, want 1", got)
	}
}

func TestFullEdgeRefusesWhenAllBusy(t *testing.T) {
	release := make(chan struct{})
	b := newBed(t, edge.Config{MaxConns: 1, OriginTimeout: time.Minute}, func(int, *http.Request) reply {
		<-release
		return reply{body: "a"}
	})
	reg := registry(t, b)
	busy := dialEdge(t, b.addr)
	busy.send(getA)
	deadline := time.Now().Add(5 * time.Second)
	for b.hits.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	out := b.raw(getA)
	close(release)
	if out != "" {
		t.Fatalf("connection beyond the limit, all busy, was served: %q", out)
	}
	if resp, _ := busy.response("GET"); resp.StatusCode != 200 {
		t.Fatalf("busy connection: %d", resp.StatusCode)
	}
	if got := gatherValue(t, reg, "strata_edge_rejected_connections_total"); got != 1 {
		t.Fatalf("rejected_connections_total = %v, want 1", got)
	}
}
