package main

import (
	"context"
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/health"
	"github.com/strata-dp/strata/dataplane/lb/mode"
	"github.com/strata-dp/strata/dataplane/lb/xdp"
)

// xdpBuilt reports whether this binary carries the XDP data path.
const xdpBuilt = true

// startXDP loads and attaches the XDP balancer. Passive signals come from
// the active checks only: the program's per-backend counters are exported
// as metrics, not fed back.
func startXDP(m mode.Mode, f lbFlags, log *slog.Logger, reg *prometheus.Registry) (lb.Applier, func(context.Context) error, func(*health.Checker), error) {
	attach := xdp.ModeNative
	if m == mode.XDPGeneric {
		attach = xdp.ModeGeneric
	}
	b, err := xdp.New(xdp.Options{Iface: f.iface, Mode: attach, PinDir: f.pinDir, UnpinOnClose: f.unpin, Logger: log})
	if err != nil {
		return nil, nil, nil, err
	}
	reg.MustRegister(xdpCollector{b})
	shutdown := func(context.Context) error { return b.Close() }
	return b, shutdown, func(*health.Checker) {}, nil
}

var (
	descXDPBackend = prometheus.NewDesc("strata_lb_xdp_backend_packets_total",
		"Packets the XDP program sent to each backend.", []string{"backend"}, nil)
	descXDPDrop = prometheus.NewDesc("strata_lb_xdp_drops_total",
		"Packets the XDP program dropped, by reason.", []string{"reason"}, nil)
	descXDPTX = prometheus.NewDesc("strata_lb_xdp_tx_total",
		"Packets the XDP program transmitted (XDP_TX).", nil, nil)
)

// xdpCollector exports the program's per-CPU counters at scrape time.
type xdpCollector struct{ b *xdp.Balancer }

func (c xdpCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descXDPBackend
	ch <- descXDPDrop
	ch <- descXDPTX
}

func (c xdpCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.b.Stats()
	if err != nil {
		if !errors.Is(err, xdp.ErrClosed) {
			ch <- prometheus.NewInvalidMetric(descXDPTX, err)
		}
		return
	}
	ch <- prometheus.MustNewConstMetric(descXDPTX, prometheus.CounterValue, float64(st.TX))
	for k, v := range st.Backends {
		ch <- prometheus.MustNewConstMetric(descXDPBackend, prometheus.CounterValue, float64(v.Packets), k)
	}
	for k, v := range st.Drop {
		ch <- prometheus.MustNewConstMetric(descXDPDrop, prometheus.CounterValue, float64(v), k)
	}
}
