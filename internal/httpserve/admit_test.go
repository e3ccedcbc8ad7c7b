package httpserve

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// held is what a connection held open before the new one does, and the
// connections gauge state it is counted in once it does it.
type held struct {
	from string
	kind string // silent, head, idle, active or closing (431, lingering)
}

// TestLimitsShed holds connections in every state at a bound, then opens
// one more: it is served by closing the oldest connection still sending
// its head (nothing at all, first: silent), else the longest idle, and is
// refused when every connection at the bound is busy; one lingering after
// its last answer goes first of all.
func TestLimitsShed(t *testing.T) {
	perIP := Limits{MaxConns: 100, MaxConnsPerIP: 2}
	tests := []struct {
		name       string
		lim        Limits
		held       []held
		newFrom    string
		wantServed bool
		wantClosed []int // of held
		// shed silent, shed incomplete, shed idle, shed closing, rejected
		wantCounts [5]float64
	}{
		{"silent, oldest first", Limits{MaxConns: 2}, slices.Repeat([]held{{"127.0.0.1", "silent"}}, silentPerConn*2),
			"127.0.0.1", true, []int{0}, [5]float64{1, 0, 0, 0, 0}},
		{"heads, oldest first", Limits{MaxConns: 2}, []held{{"127.0.0.1", "head"}, {"127.0.0.1", "head"}},
			"127.0.0.1", true, []int{0}, [5]float64{0, 1, 0, 0, 0}},
		{"idle, longest first", Limits{MaxConns: 2}, []held{{"127.0.0.1", "idle"}, {"127.0.0.1", "idle"}},
			"127.0.0.1", true, []int{0}, [5]float64{0, 0, 1, 0, 0}},
		{"a head before an idle one", Limits{MaxConns: 2}, []held{{"127.0.0.1", "idle"}, {"127.0.0.1", "head"}},
			"127.0.0.1", true, []int{1}, [5]float64{0, 1, 0, 0, 0}},
		{"one lingering after an error answer before a head", Limits{MaxConns: 2, MaxHeaderBytes: 1 << 10},
			[]held{{"127.0.0.1", "head"}, {"127.0.0.1", "closing"}}, "127.0.0.1", true, []int{1}, [5]float64{0, 0, 0, 1, 0}},
		{"refused when all are busy", Limits{MaxConns: 2}, []held{{"127.0.0.1", "active"}, {"127.0.0.1", "active"}},
			"127.0.0.2", false, nil, [5]float64{0, 0, 0, 0, 1}},
		{"busy ones are kept, a head is shed", Limits{MaxConns: 2}, []held{{"127.0.0.1", "head"}, {"127.0.0.1", "active"}},
			"127.0.0.1", true, []int{0}, [5]float64{0, 1, 0, 0, 0}},
		{"per address: its own oldest head", perIP, []held{{"127.0.0.1", "head"}, {"127.0.0.1", "head"}},
			"127.0.0.1", true, []int{0}, [5]float64{0, 1, 0, 0, 0}},
		{"per address: its own longest idle, once the new one's request is done", perIP, []held{{"127.0.0.1", "idle"}, {"127.0.0.1", "idle"}},
			"127.0.0.1", true, []int{0}, [5]float64{0, 0, 1, 0, 0}},
		{"per address: another address is untouched", perIP, []held{{"127.0.0.1", "head"}, {"127.0.0.1", "head"}},
			"127.0.0.2", true, nil, [5]float64{0, 0, 0, 0, 0}},
		{"per address: busy ones do not count", perIP, []held{{"127.0.0.1", "active"}, {"127.0.0.1", "active"}, {"127.0.0.1", "head"}},
			"127.0.0.1", true, nil, [5]float64{0, 0, 0, 0, 0}},
		{"per address: a busy one does not shield a head", perIP, []held{{"127.0.0.1", "head"}, {"127.0.0.1", "active"}, {"127.0.0.1", "head"}},
			"127.0.0.1", true, []int{0}, [5]float64{0, 1, 0, 0, 0}},
		{"per address: another address served when one is busy", perIP, []held{{"127.0.0.1", "active"}, {"127.0.0.1", "active"}},
			"127.0.0.2", true, nil, [5]float64{0, 0, 0, 0, 0}},
		{"per address: another address's head is not shed", perIP, []held{{"127.0.0.2", "head"}, {"127.0.0.1", "head"}, {"127.0.0.1", "head"}},
			"127.0.0.1", true, []int{1}, [5]float64{0, 1, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.lim.ReadHeaderTimeout = time.Minute
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/block" {
					<-release
				}
				_, _ = io.WriteString(w, "ok")
			})
			reg := prometheus.NewRegistry()
			addr := serve(t, tt.lim, reg, h)
			var conns []net.Conn
			want := map[string]float64{}
			for _, hc := range tt.held {
				conns = append(conns, holdConn(t, addr, hc))
				want[hc.kind]++
				waitGauge(t, reg, hc.kind, want[hc.kind])
			}

			line, err := requestFrom(t, addr, tt.newFrom)
			if served := err == nil && strings.Contains(line, " 200 "); served != tt.wantServed {
				t.Errorf("new connection from %s: %q %v, want served %v", tt.newFrom, line, err, tt.wantServed)
			}
			for i, c := range conns {
				closed := isClosed(c)
				if want := slices.Contains(tt.wantClosed, i); closed != want {
					t.Errorf("held connection %d (%s): closed %v, want %v", i, tt.held[i].kind, closed, want)
				}
			}
			got := [5]float64{
				counterValue(t, reg, "strata_httpserve_shed_silent_total"),
				counterValue(t, reg, "strata_httpserve_shed_incomplete_total"),
				counterValue(t, reg, "strata_httpserve_shed_idle_total"),
				counterValue(t, reg, "strata_httpserve_shed_closing_total"),
				counterValue(t, reg, "strata_httpserve_rejected_connections_total"),
			}
			if got != tt.wantCounts {
				t.Errorf("shed silent, shed incomplete, shed idle, shed closing, rejected = %v, want %v", got, tt.wantCounts)
			}
		})
	}
}

// holdConn opens a connection from hc.from and puts it in hc.kind.
func holdConn(t *testing.T, addr string, hc held) net.Conn {
	t.Helper()
	c := dialFrom(t, addr, hc.from)
	var err error
	switch hc.kind {
	case "silent":
	case "head":
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\n")
	case "idle":
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
		if err == nil {
			_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
			var resp *http.Response
			if resp, err = http.ReadResponse(bufio.NewReader(c), nil); err == nil {
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}
	case "active":
		_, err = io.WriteString(c, "GET /block HTTP/1.1\r\nHost: localhost\r\n\r\n")
	case "closing":
		_, err = io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: "+strings.Repeat("a", 8<<10)+"\r\n\r\n")
	}
	if err != nil {
		t.Fatalf("hold a %s connection: %v", hc.kind, err)
	}
	return c
}

func dialFrom(t *testing.T, addr, from string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// requestFrom GETs / on a new connection from the address from and returns
// the status line.
func requestFrom(t *testing.T, addr, from string) (string, error) {
	t.Helper()
	c := dialFrom(t, addr, from)
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"); err != nil {
		return "", err
	}
	_ = c.SetReadDeadline(time.Now().Add(2 * time.Second))
	return bufio.NewReader(c).ReadString('\n')
}

// isClosed reports whether the server closed c: a read ends at once, where
// an open connection's waits out a short deadline. Held connections have
// nothing left to read.
func isClosed(c net.Conn) bool {
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	_, err := c.Read(make([]byte, 1))
	return !errors.Is(err, os.ErrDeadlineExceeded)
}

// waitGauge waits for the connections gauge of state to reach want.
func waitGauge(t *testing.T, reg *prometheus.Registry, state string, want float64) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		got := gaugeValue(t, reg, state)
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("strata_httpserve_connections{state=%q} = %v, want %v", state, got, want)
		}
	}
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, state string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "strata_httpserve_connections" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "state" && l.GetValue() == state {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}

func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name && len(mf.GetMetric()) == 1 {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no counter %s", name)
	return 0
}
