package xdp

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/lb"
)

// Metric descriptions, shared by the Linux collector and its tests. The
// strata_lb_xdp_backend_* families predate the per-backend families common
// to both modes (lb.DescBackend*) and carry the same counters; they stay for
// existing dashboards.
var (
	descSvcPackets = prometheus.NewDesc("strata_lb_xdp_service_packets_total",
		"Packets balanced per virtual service.", []string{"service"}, nil)
	descSvcBytes = prometheus.NewDesc("strata_lb_xdp_service_bytes_total",
		"Bytes balanced per virtual service (frame length at ingress).", []string{"service"}, nil)
	descSvcFlows = prometheus.NewDesc("strata_lb_xdp_service_new_flows_total",
		"New flows scheduled per virtual service.", []string{"service"}, nil)
	descBePackets = prometheus.NewDesc("strata_lb_xdp_backend_packets_total",
		"Packets sent per backend.", []string{"service", "backend"}, nil)
	descBeBytes = prometheus.NewDesc("strata_lb_xdp_backend_bytes_total",
		"Bytes sent per backend.", []string{"service", "backend"}, nil)
	descBeFlows = prometheus.NewDesc("strata_lb_xdp_backend_new_flows_total",
		"New flows scheduled per backend.", []string{"service", "backend"}, nil)
	descConntrack = prometheus.NewDesc("strata_lb_xdp_conntrack_lookups_total",
		"Connection-table lookups of packets to a service, by result.", []string{"result"}, nil)
	descVerdicts = prometheus.NewDesc("strata_lb_xdp_forwarded_total",
		"Packets forwarded, by action (tx: XDP_TX, redirect: bpf_redirect).", []string{"action"}, nil)
	descPasses = prometheus.NewDesc("strata_lb_xdp_passed_total",
		"Packets passed to the kernel untouched, by reason.", []string{"reason"}, nil)
	descDrops = prometheus.NewDesc("strata_lb_xdp_dropped_total",
		"Packets dropped, by reason.", []string{"reason"}, nil)
	descGeneration = prometheus.NewDesc("strata_lb_xdp_generation",
		"Active configuration generation (0 or 1).", nil, nil)
	descAttached = prometheus.NewDesc("strata_lb_xdp_attached",
		"1 for the XDP attach mode in use (native or generic).", []string{"mode"}, nil)
	descImbalance = prometheus.NewDesc("strata_lb_xdp_maglev_imbalance_ratio",
		"Largest relative deviation of a backend's Maglev share from its weight share, last rebuild.", []string{"service"}, nil)
	descChurn = prometheus.NewDesc("strata_lb_xdp_maglev_churn_ratio",
		"Fraction of Maglev slots that changed backend in the last rebuild.", []string{"service"}, nil)
)

var descDecap = prometheus.NewDesc("strata_lb_decap_packets_total",
	"Packets seen by the tc IPIP decapsulation program, by result.", []string{"result"}, nil)

var allDescs = []*prometheus.Desc{descSvcPackets, descSvcBytes, descSvcFlows, descBePackets, descBeBytes,
	descBeFlows, descConntrack, descVerdicts, descPasses, descDrops, descGeneration, descAttached,
	descImbalance, descChurn, lb.DescBackendConnections, lb.DescBackendBytes, lb.DescBackendPackets}
