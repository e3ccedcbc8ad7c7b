package userspace

import (
	"net/netip"
	"sort"

	"github.com/strata-dp/strata/dataplane/lb"
)

// slots is a weighted slot ring used until the shared Maglev package lands.
type slots []int

func (s slots) Lookup(hash uint32) int { return s[hash%uint32(len(s))] }

func buildLookup(backends []lb.Backend) (lookuper, []netip.AddrPort, error) {
	sorted := append([]lb.Backend(nil), backends...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID() < sorted[j].ID() })
	order := make([]netip.AddrPort, len(sorted))
	var s slots
	for i, b := range sorted {
		order[i] = b.Addr
		for w := uint32(0); w < b.Weight; w++ {
			s = append(s, i)
		}
	}
	return s, order, nil
}

func flowHash(src, dst netip.Addr, sport, dport uint16, proto uint8) uint32 {
	h := uint32(2166136261)
	for _, b := range src.As16() {
		h = (h ^ uint32(b)) * 16777619
	}
	for _, b := range dst.As16() {
		h = (h ^ uint32(b)) * 16777619
	}
	h = (h ^ uint32(sport)) * 16777619
	h = (h ^ uint32(dport)) * 16777619
	return rehash(h ^ uint32(proto))
}
