package userspace

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
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
	} {
		if !got[name] {
			t.Errorf("%s not gathered", name)
		}
	}
}
