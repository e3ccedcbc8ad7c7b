package xdp

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/lb"
)

var _ prometheus.Collector = (*Balancer)(nil)

// Describe implements prometheus.Collector.
func (b *Balancer) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it reads the per-CPU counters on
// every scrape (a few map lookups per service and backend).
func (b *Balancer) Collect(ch chan<- prometheus.Metric) {
	st, err := b.Stats()
	if err != nil {
		for _, d := range allDescs {
			ch <- prometheus.NewInvalidMetric(d, err)
		}
		return
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	for svc, c := range st.Services {
		counter(descSvcPackets, c.Packets, svc)
		counter(descSvcBytes, c.Bytes, svc)
		counter(descSvcFlows, c.NewFlows, svc)
	}
	for key, c := range st.Backends {
		svc, be, _ := strings.Cut(key, "|")
		counter(descBePackets, c.Packets, svc, be)
		counter(descBeBytes, c.Bytes, svc, be)
		counter(descBeFlows, c.NewFlows, svc, be)
		// The families common to both modes. The program sees only the
		// packets it forwards: replies go from the backend to the client
		// directly (DSR), so there is no to_client direction here.
		counter(lb.DescBackendConnections, c.NewFlows, svc, be)
		counter(lb.DescBackendBytes, c.Bytes, svc, be, lb.DirectionToBackend)
		counter(lb.DescBackendPackets, c.Packets, svc, be, lb.DirectionToBackend)
	}
	counter(descConntrack, st.ConntrackHits, "hit")
	counter(descConntrack, st.ConntrackMisses, "miss")
	counter(descVerdicts, st.TX, "tx")
	counter(descVerdicts, st.Redirect, "redirect")
	for r, v := range st.Pass {
		counter(descPasses, v, r)
	}
	for r, v := range st.Drop {
		counter(descDrops, v, r)
	}
	ch <- prometheus.MustNewConstMetric(descGeneration, prometheus.GaugeValue, float64(st.Generation))
	if b.mode != "" {
		ch <- prometheus.MustNewConstMetric(descAttached, prometheus.GaugeValue, 1, b.mode)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.cur == nil {
		return
	}
	for _, s := range b.cur.services {
		if s.maglev == nil {
			continue
		}
		ch <- prometheus.MustNewConstMetric(descImbalance, prometheus.GaugeValue, s.stats.Imbalance, s.svc.Key())
		ch <- prometheus.MustNewConstMetric(descChurn, prometheus.GaugeValue, s.stats.Churn, s.svc.Key())
	}
}
