package lb

import "github.com/prometheus/client_golang/prometheus"

// The per-backend metric families both modes export under the same names,
// so that one dashboard and one alert serve either mode. Each mode fills in
// what it can see (docs/LB-XDP.md, docs/LB-USERSPACE.md); the labels are
// the service's Key and the backend's ID, resolved when a configuration is
// applied.
var (
	DescBackendConnections = prometheus.NewDesc("strata_lb_backend_connections_total",
		"Connections scheduled to a backend: proxied sessions connected to it (userspace), new flows (xdp).",
		[]string{"service", "backend"}, nil)
	DescBackendBytes = prometheus.NewDesc("strata_lb_backend_bytes_total",
		"Bytes carried for a backend, by direction: to_backend and to_client payload (userspace); to_backend frame lengths at ingress only (xdp: replies return directly and are not seen).",
		[]string{"service", "backend", "direction"}, nil)
	DescBackendPackets = prometheus.NewDesc("strata_lb_backend_packets_total",
		"Packets forwarded to a backend (xdp only; direction is always to_backend).",
		[]string{"service", "backend", "direction"}, nil)
	DescBackendActive = prometheus.NewDesc("strata_lb_backend_active_connections",
		"Sessions currently connected to a backend (userspace only).",
		[]string{"service", "backend"}, nil)
	DescBackendConnectFailures = prometheus.NewDesc("strata_lb_backend_connect_failures_total",
		"Failed connects to a backend, refused or timed out (userspace only).",
		[]string{"service", "backend"}, nil)
	DescBackendFirstByte = prometheus.NewDesc("strata_lb_backend_first_byte_seconds",
		"Time from a client's first bytes written to the backend to the backend's first byte back (userspace only; sessions where the backend speaks first are not observed).",
		[]string{"service", "backend"}, nil)
)

// Direction label values of DescBackendBytes and DescBackendPackets.
const (
	DirectionToBackend = "to_backend"
	DirectionToClient  = "to_client"
)
