package userspace

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/lb"
)

// TestCollectorGathers: every exported family gathers without error (a
// label mismatch panics or fails the whole scrape).
func TestCollectorGathers(t *testing.T) {
	p, _ := startProxy(t, Options{}, whoamiBackend(t, "a"))
	reg := prometheus.NewRegistry()
	reg.MustRegister(p.Collector())
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, f := range fams {
		got[f.GetName()] = true
	}
	for _, name := range []string{
		"strata_lb_userspace_connections_total", "strata_lb_userspace_active_connections",
		"strata_lb_userspace_backend_connect_failures_total", "strata_lb_userspace_bytes_total",
		"strata_lb_userspace_backpressure_total", "strata_lb_userspace_backend_first_byte_timeouts_total",
		"strata_lb_backend_connections_total", "strata_lb_backend_bytes_total",
		"strata_lb_backend_active_connections", "strata_lb_backend_connect_failures_total",
		"strata_lb_backend_first_byte_seconds",
	} {
		if !got[name] {
			t.Errorf("%s not gathered", name)
		}
	}
}

// taggedEcho is a backend that answers each connection with its id, then
// echoes every byte, so a client knows which backend served it and how many
// bytes went each way.
func taggedEcho(t *testing.T, id string) netip.AddrPort {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4096)
				tagged := false
				for {
					n, err := c.Read(buf)
					if err != nil {
						return
					}
					out := buf[:n]
					if !tagged {
						out, tagged = append([]byte(id), out...), true
					}
					if _, err := c.Write(out); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

// gather flattens reg into "name{label=value,...}" -> value, labels in
// name order; a histogram's value is its sample count.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := mf.GetName() + "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetHistogram() != nil:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			default:
				out[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// TestBackendMetricsMatchTraffic proxies sessions of known sizes to two
// backends weighted 3:1 (round robin, so the split is exact) and checks
// that every per-backend family counts exactly that traffic.
func TestBackendMetricsMatchTraffic(t *testing.T) {
	a, b := taggedEcho(t, "A"), taggedEcho(t, "B")
	p := New(Options{})
	vip := freeAddr(t)
	svc := lb.Service{Name: "test", VIP: vip, Proto: lb.TCP, Scheduler: lb.RoundRobin,
		Backends: []lb.Backend{{Addr: a, Weight: 3}, {Addr: b, Weight: 1}}}
	if err := p.Apply(context.Background(), lb.Config{Services: []lb.Service{svc}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		p.Shutdown(ctx)
	})
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collector())

	type traffic struct{ conns, up, down float64 }
	want := map[string]*traffic{"A": {}, "B": {}}
	byTag := map[string]string{"A": a.String(), "B": b.String()}
	var open []net.Conn
	const sessions = 8 // two turns of the 4-slot ring
	for i := range sessions {
		c, err := net.Dial("tcp", vip.String())
		if err != nil {
			t.Fatal(err)
		}
		open = append(open, c)
		msg := bytes.Repeat([]byte{'x'}, 100+37*i)
		if _, err := c.Write(msg); err != nil {
			t.Fatal(err)
		}
		reply := make([]byte, 1+len(msg))
		if _, err := io.ReadFull(c, reply); err != nil {
			t.Fatal(err)
		}
		w := want[string(reply[:1])]
		w.conns++
		w.up += float64(len(msg))
		w.down += float64(len(reply))
	}
	if want["A"].conns != 6 || want["B"].conns != 2 {
		t.Fatalf("sessions split %v:%v, want 6:2 for weights 3:1", want["A"].conns, want["B"].conns)
	}
	key := vip.String()
	series := func(name, tag string, extra ...string) string {
		labels := append([]string{"backend=" + byTag[tag]}, extra...)
		labels = append(labels, "service=tcp/"+key)
		return name + "{" + strings.Join(labels, ",") + "}"
	}
	check := func(got map[string]float64, name, tag string, want float64, extra ...string) {
		t.Helper()
		s := series(name, tag, extra...)
		if v, ok := got[s]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", s, v, ok, want)
		}
	}
	got := gather(t, reg)
	for tag, w := range want {
		check(got, "strata_lb_backend_active_connections", tag, w.conns)
	}
	for _, c := range open {
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.Active() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got = gather(t, reg)
	for tag, w := range want {
		check(got, "strata_lb_backend_connections_total", tag, w.conns)
		check(got, "strata_lb_backend_active_connections", tag, 0)
		check(got, "strata_lb_backend_connect_failures_total", tag, 0)
		check(got, "strata_lb_backend_bytes_total", tag, w.up, "direction=to_backend")
		check(got, "strata_lb_backend_bytes_total", tag, w.down, "direction=to_client")
		check(got, "strata_lb_backend_first_byte_seconds", tag, w.conns)
	}
}

// TestBackendConnectFailures: a refused backend's connects are counted
// against it, and the retried sessions against the backend that took them.
func TestBackendConnectFailures(t *testing.T) {
	dead := freeAddr(t) // nothing listens: connects are refused
	live := taggedEcho(t, "L")
	p, vip := startProxy(t, Options{}, dead, live)
	const sessions = 6
	for range sessions {
		c, err := net.Dial("tcp", vip.String())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("hi")) //nolint:errcheck // the read below fails instead
		reply := make([]byte, 3)
		if _, err := io.ReadFull(c, reply); err != nil || string(reply) != "Lhi" {
			t.Fatalf("reply %q, %v", reply, err)
		}
		c.Close()
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collector())
	got := gather(t, reg)
	svc := "service=tcp/" + vip.String()
	failures := got["strata_lb_backend_connect_failures_total{backend="+dead.String()+","+svc+"}"]
	retried := got[`strata_lb_userspace_connections_total{outcome=retried,`+svc+"}"]
	if failures == 0 || failures != retried {
		t.Errorf("dead backend: %v connect failures, %v sessions retried; want equal and > 0", failures, retried)
	}
	if v := got["strata_lb_backend_connections_total{backend="+dead.String()+","+svc+"}"]; v != 0 {
		t.Errorf("dead backend has %v connections", v)
	}
	if v := got["strata_lb_backend_connections_total{backend="+live.String()+","+svc+"}"]; v != sessions {
		t.Errorf("live backend has %v connections, want %d", v, sessions)
	}
}

// TestRemovedBackendExportedUntilItsLastSession: a backend taken out of the
// configuration keeps its series while a session still uses it, and loses
// them once that session ends.
func TestRemovedBackendExportedUntilItsLastSession(t *testing.T) {
	addrs := map[string]netip.AddrPort{"A": taggedEcho(t, "A"), "B": taggedEcho(t, "B")}
	p, vip := startProxy(t, Options{}, addrs["A"], addrs["B"])
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(p.Collector())
	c, err := net.Dial("tcp", vip.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	reply := make([]byte, 2)
	if _, err := io.ReadFull(c, reply); err != nil {
		t.Fatal(err)
	}
	used, other := addrs[string(reply[:1])], addrs["A"]
	if string(reply[:1]) == "A" {
		other = addrs["B"]
	}
	if err := p.Apply(context.Background(), config(vip, other)); err != nil {
		t.Fatal(err)
	}
	active := "strata_lb_backend_active_connections{backend=" + used.String() + ",service=tcp/" + vip.String() + "}"
	if v, ok := gather(t, reg)[active]; !ok || v != 1 {
		t.Fatalf("%s = %v (present %v) after removal with a session open, want 1", active, v, ok)
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for p.Active() > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	gather(t, reg) // the scrape that sees the session gone forgets the backend
	if v, ok := gather(t, reg)[active]; ok {
		t.Errorf("%s = %v still exported after its last session", active, v)
	}
}
