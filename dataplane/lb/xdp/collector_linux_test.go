package xdp

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/internal/packet"
)

// TestCollector: the Prometheus view matches the traffic, and the registry's
// pedantic checks accept the collector.
func TestCollector(t *testing.T) {
	h := newHarness(t)
	h.apply(tableConfig())
	frame := tcp("198.18.60.1:1000", "198.18.0.10:80").Bytes()
	h.run(t, frame)
	h.run(t, frame)
	h.run(t, tcp("198.18.60.1:1000", "198.18.0.99:80").Bytes())
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(h.b); err != nil {
		t.Fatal(err)
	}
	got := gather(t, reg)
	tests := []struct {
		series string
		want   float64
	}{
		{`strata_lb_xdp_service_packets_total{service="tcp/198.18.0.10:80"}`, 2},
		{`strata_lb_xdp_service_new_flows_total{service="tcp/198.18.0.10:80"}`, 1},
		{`strata_lb_xdp_service_packets_total{service="udp/198.18.0.10:53"}`, 0},
		{`strata_lb_xdp_conntrack_lookups_total{result="hit"}`, 1},
		{`strata_lb_xdp_conntrack_lookups_total{result="miss"}`, 1},
		{`strata_lb_xdp_passed_total{reason="no_service"}`, 1},
		{`strata_lb_xdp_dropped_total{reason="fragment"}`, 0},
		{`strata_lb_xdp_forwarded_total{action="tx"}`, 2},
		{`strata_lb_xdp_generation`, 1},
	}
	for _, tt := range tests {
		t.Run(tt.series, func(t *testing.T) {
			v, ok := got[tt.series]
			if !ok || v != tt.want {
				keys := make([]string, 0, len(got))
				for k := range got {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				t.Errorf("%s = %v (present %v), want %v; have:\n%s", tt.series, v, ok, tt.want, strings.Join(keys, "\n"))
			}
		})
	}
	var beSum float64
	for k, v := range got {
		if strings.HasPrefix(k, "strata_lb_xdp_backend_packets_total{") && strings.Contains(k, `service="tcp/198.18.0.10:80"`) {
			beSum += v
		}
	}
	if beSum != 2 {
		t.Errorf("backend packets of the service sum to %v, want 2", beSum)
	}
}

// TestCollectorBackendFamilies: the per-backend families common to both
// modes carry, per backend, exactly the flows, packets and bytes the
// program forwarded to it, told apart by the next-hop MAC of each output.
func TestCollectorBackendFamilies(t *testing.T) {
	h := newHarness(t)
	cfg := tableConfig()
	h.apply(cfg)
	byMAC := map[string]string{}
	for _, b := range cfg.Services[0].Backends {
		byMAC[b.MAC.String()] = b.ID()
	}
	const flows, perFlow = 60, 3
	type sent struct{ flows, packets, bytes float64 }
	want := map[string]*sent{}
	for _, b := range cfg.Services[0].Backends {
		want[b.ID()] = &sent{}
	}
	for i := range flows {
		frame := tcp(fmt.Sprintf("198.18.61.%d:%d", i%250+1, 2000+i), "198.18.0.10:80").Bytes()
		for j := range perFlow {
			_, out := h.run(t, frame)
			be, ok := byMAC[h.backendOf(out)]
			if !ok {
				t.Fatalf("flow %d went to unknown MAC %s", i, h.backendOf(out))
			}
			w := want[be]
			if j == 0 {
				w.flows++
			}
			w.packets++
			w.bytes += float64(len(frame))
		}
	}
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(h.b); err != nil {
		t.Fatal(err)
	}
	got := gather(t, reg)
	svc := cfg.Services[0].Key()
	used := 0
	for be, w := range want {
		if w.flows > 0 {
			used++
		}
		for series, v := range map[string]float64{
			`strata_lb_backend_connections_total{backend="` + be + `",service="` + svc + `"}`:                    w.flows,
			`strata_lb_backend_packets_total{backend="` + be + `",direction="to_backend",service="` + svc + `"}`: w.packets,
			`strata_lb_backend_bytes_total{backend="` + be + `",direction="to_backend",service="` + svc + `"}`:   w.bytes,
		} {
			if g, ok := got[series]; !ok || g != v {
				t.Errorf("%s = %v (present %v), want %v", series, g, ok, v)
			}
		}
		// The older xdp-only family carries the same numbers.
		if g := got[`strata_lb_xdp_backend_new_flows_total{backend="`+be+`",service="`+svc+`"}`]; g != w.flows {
			t.Errorf("strata_lb_xdp_backend_new_flows_total of %s = %v, want %v", be, g, w.flows)
		}
	}
	if used < 2 {
		t.Errorf("%d flows used %d backends; the test needs traffic on several", flows, used)
	}
	for k := range got {
		if strings.HasPrefix(k, "strata_lb_backend_bytes_total{") && !strings.Contains(k, `direction="to_backend"`) {
			t.Errorf("xdp exports a direction it cannot see: %s", k)
		}
	}
}

// gather flattens the registry into "name{label="value",...}" -> value.
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
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			key := mf.GetName()
			if len(labels) > 0 {
				key += "{" + strings.Join(labels, ",") + "}"
			}
			out[key] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return out
}

func TestDecapCollector(t *testing.T) {
	h := newDecapHarness(t)
	inner := tcp("198.18.9.1:1000", "198.18.0.11:80").L3()
	frame := append(packet.Ethernet(lbMAC, clientMAC, nil, packet.EtherTypeIPv4),
		packet.IPv4(netip.MustParseAddr("198.18.255.1"), netip.MustParseAddr("198.18.2.1"), packet.ProtoIPIP, 64, 0, 0, nil, inner)...)
	h.run(t, frame)
	reg := prometheus.NewPedanticRegistry()
	if err := reg.Register(h.d); err != nil {
		t.Fatal(err)
	}
	got := gather(t, reg)
	if v := got[`strata_lb_decap_packets_total{result="decap_v4"}`]; v != 1 {
		t.Errorf("decap_v4 = %v, want 1 (have %v)", v, got)
	}
}
