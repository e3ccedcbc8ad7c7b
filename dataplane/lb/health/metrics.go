package health

import "github.com/prometheus/client_golang/prometheus"

var descEjections = prometheus.NewDesc("strata_lb_health_ejections_total",
	"Backends taken out of rotation: by failed checks or passive connect failures (check), or as outliers that left sessions unanswered (no_response).",
	[]string{"reason"}, nil)

// Collector exports the checker's counters to Prometheus.
func (c *Checker) Collector() prometheus.Collector { return collector{c} }

type collector struct{ c *Checker }

func (m collector) Describe(ch chan<- *prometheus.Desc) { ch <- descEjections }

func (m collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(descEjections, prometheus.CounterValue, float64(m.c.checkEjections.Load()), "check")
	ch <- prometheus.MustNewConstMetric(descEjections, prometheus.CounterValue, float64(m.c.outlierEjections.Load()), "no_response")
}
