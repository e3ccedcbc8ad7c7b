package userspace

import (
	"net/netip"
	"testing"

	"github.com/strata-dp/strata/dataplane/lb"
)

// TestPickAvoidsFailedBackends checks that a retry always finds a live
// backend when one exists, for every flow, in pools of every small size,
// and never picks a drained one.
func TestPickAvoidsFailedBackends(t *testing.T) {
	for _, n := range []int{2, 3, 4} {
		t.Run(string(rune('0'+n)), func(t *testing.T) {
			svc := lb.Service{VIP: netip.MustParseAddrPort("127.0.0.1:80"), Proto: lb.TCP}
			for i := 0; i < n; i++ {
				svc.Backends = append(svc.Backends, lb.Backend{Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i + 1)}), 80), Weight: 1})
			}
			drained := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, 99}), 80)
			svc.Backends = append(svc.Backends, lb.Backend{Addr: drained, Weight: 0})
			tb, err := newTable(svc)
			if err != nil {
				t.Fatal(err)
			}
			for h := uint32(0); h < 5000; h++ {
				var avoid [maxAttempts]netip.AddrPort
				for attempt := 0; attempt < min(n, maxAttempts); attempt++ {
					b, ok := tb.pick(h, attempt, &avoid)
					if !ok {
						t.Fatalf("hash %d attempt %d: no backend though %d are left", h, attempt, n-attempt)
					}
					if b == drained || avoided(&avoid, b) {
						t.Fatalf("hash %d attempt %d picked %v (drained or already failed)", h, attempt, b)
					}
					avoid[attempt] = b
				}
			}
		})
	}
}
