package userspace

import (
	"net/netip"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/flowhash"
	"github.com/strata-dp/strata/dataplane/lb/maglev"
	"github.com/strata-dp/strata/dataplane/lb/wrr"
)

// ringLookup walks a weighted round-robin ring with a per-service counter
// passed in place of the flow hash.
type ringLookup struct{ r *wrr.Ring }

func (l ringLookup) Lookup(n uint32) int { return l.r.Next(uint64(n)) }

// buildLookup builds the shared scheduling structure of the XDP mode, so a
// flow gets the same backend in both modes. Backends come back in the
// table's own order (by ID), which lookups index.
func buildLookup(svc lb.Service) (lookuper, []netip.AddrPort, error) {
	in := make([]lb.Weighted, len(svc.Backends))
	byID := make(map[string]netip.AddrPort, len(svc.Backends))
	for i, b := range svc.Backends {
		in[i] = b.Weighted()
		byID[b.ID()] = b.Addr
	}
	var (
		l     lookuper
		order []lb.Weighted
	)
	if svc.Scheduler == lb.RoundRobin {
		r, err := wrr.Build(in, 0)
		if err != nil {
			return nil, nil, err
		}
		l, order = ringLookup{r}, r.Backends()
	} else {
		t, _, err := maglev.Build(in, 0)
		if err != nil {
			return nil, nil, err
		}
		l, order = t, t.Backends()
	}
	addrs := make([]netip.AddrPort, len(order))
	for i, b := range order {
		addrs[i] = byID[b.ID]
	}
	return l, addrs, nil
}

// flowHash is the hash XDP mode computes in BPF for the same 5-tuple.
func flowHash(src, dst netip.Addr, sport, dport uint16, proto lb.Proto) uint32 {
	return flowhash.Hash(src, dst, sport, dport, uint8(proto))
}
