package xdp

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/prometheus/client_golang/prometheus"
)

// Decap is the tc ingress IPIP decapsulation program (bpf/decap.bpf.c)
// attached to a backend's interface: it strips the outer header that the
// LB's IPIP forwarding added, for hosts without the ipip module. The
// backend still needs the VIP on a local interface (e.g. lo) to accept the
// inner packet, as with L2 direct server return.
type Decap struct {
	objs decapObjects
	link link.Link
}

// AttachDecap loads the decap program and attaches it to iface's tc
// ingress (tcx). Close detaches it. With iface empty it only loads (tests).
func AttachDecap(iface string) (*Decap, error) {
	if os.Geteuid() != 0 {
		return nil, ErrNotPrivileged
	}
	d := &Decap{}
	if err := loadDecapObjects(&d.objs, nil); err != nil {
		return nil, fmt.Errorf("xdp: load decap: %w", err)
	}
	if iface == "" {
		return d, nil
	}
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		_ = d.objs.Close()
		return nil, fmt.Errorf("%w: %w", ErrAttach, err)
	}
	l, err := link.AttachTCX(link.TCXOptions{Interface: ifc.Index, Program: d.objs.TcDecap, Attach: ebpf.AttachTCXIngress})
	if err != nil {
		_ = d.objs.Close()
		return nil, fmt.Errorf("%w: decap to %s tc ingress: %w", ErrAttach, iface, err)
	}
	d.link = l
	return d, nil
}

// Stats returns the decap outcomes, summed over CPUs: decap_v4, decap_v6,
// pass, malformed, error.
func (d *Decap) Stats() (map[string]uint64, error) {
	out := map[string]uint64{}
	for i, name := range decapStatNames {
		var per []uint64
		if err := d.objs.DecapStats.Lookup(uint32(i), &per); err != nil {
			return nil, fmt.Errorf("xdp: decap stats: %w", err)
		}
		for _, v := range per {
			out[name] += v
		}
	}
	return out, nil
}

// Describe implements prometheus.Collector.
func (d *Decap) Describe(ch chan<- *prometheus.Desc) { ch <- descDecap }

// Collect implements prometheus.Collector.
func (d *Decap) Collect(ch chan<- prometheus.Metric) {
	st, err := d.Stats()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(descDecap, err)
		return
	}
	for r, v := range st {
		ch <- prometheus.MustNewConstMetric(descDecap, prometheus.CounterValue, float64(v), r)
	}
}

// Close detaches and unloads the program.
func (d *Decap) Close() error {
	var errs []error
	if d.link != nil {
		errs = append(errs, d.link.Close())
	}
	errs = append(errs, d.objs.Close())
	return errors.Join(errs...)
}
