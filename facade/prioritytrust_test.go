package facade

import (
	"net"
	"net/netip"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestTrustPriorityFrom(t *testing.T) {
	edge := netip.MustParsePrefix("198.18.0.1/32")
	tests := []struct {
		name  string
		trust []netip.Prefix
		peer  net.IP
		want  Priority
	}{
		{"configured peer", []netip.Prefix{edge}, net.IPv4(198, 18, 0, 1), PriorityHigh},
		{"configured peer, IPv4-mapped", []netip.Prefix{edge}, net.ParseIP("::ffff:198.18.0.1"), PriorityHigh},
		{"loopback no longer trusted", []netip.Prefix{edge}, net.IPv4(127, 0, 0, 1), PriorityNormal},
		{"other peer", []netip.Prefix{edge}, net.IPv4(198, 18, 0, 2), PriorityNormal},
		{"nobody trusted", []netip.Prefix{}, net.IPv4(127, 0, 0, 1), PriorityNormal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			a := newPriorityApp(t, Config{TrustPriorityFrom: tc.trust, Registry: reg})
			if got := classOf(t, a, tc.peer, "high"); got != tc.want {
				t.Fatalf("class %v, want %v", got, tc.want)
			}
			var m dto.Metric
			a.metrics.priorityUntrusted.(prometheus.Metric).Write(&m)
			if ignored := m.GetCounter().GetValue() == 1; ignored != (tc.want != PriorityHigh) {
				t.Fatalf("strata_facade_priority_untrusted_total = %v", m.GetCounter().GetValue())
			}
		})
	}
}
