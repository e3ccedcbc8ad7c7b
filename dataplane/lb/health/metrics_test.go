package health

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestCollectorGathers(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(New(nil, Options{}).Collector())
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(fams) != 1 || fams[0].GetName() != "strata_lb_health_ejections_total" || len(fams[0].GetMetric()) != 2 {
		t.Fatalf("gathered %v", fams)
	}
}
