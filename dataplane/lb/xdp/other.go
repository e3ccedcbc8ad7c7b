//go:build !linux

package xdp

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/strata-dp/strata/dataplane/lb"
)

// Balancer is the XDP load balancer; on this platform it cannot be created.
type Balancer struct{}

var _ lb.Applier = (*Balancer)(nil)

// New returns ErrUnsupported: XDP needs Linux.
func New(Options) (*Balancer, error) { return nil, ErrUnsupported }

// Apply returns ErrUnsupported.
func (*Balancer) Apply(context.Context, lb.Config) error { return ErrUnsupported }

// Close does nothing.
func (*Balancer) Close() error { return nil }

// Mode is empty: nothing is attached.
func (*Balancer) Mode() string { return "" }

// Stats returns ErrUnsupported.
func (*Balancer) Stats() (Stats, error) { return Stats{}, ErrUnsupported }

// Describe implements prometheus.Collector.
func (*Balancer) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range allDescs {
		ch <- d
	}
}

// Collect implements prometheus.Collector; there is nothing to collect.
func (*Balancer) Collect(chan<- prometheus.Metric) {}

// Probe returns ErrUnsupported.
func Probe(string) (native, generic bool, err error) { return false, false, ErrUnsupported }

// Decap is the tc IPIP decapsulation program; unavailable here.
type Decap struct{}

// AttachDecap returns ErrUnsupported.
func AttachDecap(string) (*Decap, error) { return nil, ErrUnsupported }

// Stats returns ErrUnsupported.
func (*Decap) Stats() (map[string]uint64, error) { return nil, ErrUnsupported }

// Close does nothing.
func (*Decap) Close() error { return nil }

// Describe implements prometheus.Collector.
func (*Decap) Describe(ch chan<- *prometheus.Desc) { ch <- descDecap }

// Collect implements prometheus.Collector; there is nothing to collect.
func (*Decap) Collect(chan<- prometheus.Metric) {}
