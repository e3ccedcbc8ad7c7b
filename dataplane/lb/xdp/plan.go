package xdp

import (
	"cmp"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/maglev"
	"github.com/strata-dp/strata/dataplane/lb/wrr"
)

// Scheduler and forwarding codes, mirroring enum lb_sched and enum lb_fwd.
const (
	schedMaglev = 0
	schedWRR    = 1
	fwdL2       = 0
	fwdIPIP     = 1
	familyV4    = 4
	familyV6    = 6
)

// plan is one generation compiled from an lb.Config: what Apply writes into
// the inactive half of the maps, and what the Go model reads.
type plan struct {
	services []plannedService // sorted by key
	backends int              // total, the generation's backend array length
}

type plannedService struct {
	svc    lb.Service
	family uint8
	addr   [16]byte
	port   uint16
	proto  uint8
	id     uint32 // stable counter id
	epoch  uint32 // changes when id is given to this service anew
	table  uint32 // index within the generation, 0..len(services)-1
	sched  uint8
	fwd    uint8
	// slots hold generation-wide backend indices (base + local index);
	// empty when no backend has weight.
	slots    []uint32
	base     uint32
	backends []plannedBackend // in table order (sorted by ID)
	stats    maglev.Stats
	maglev   *maglev.Table // nil for WRR or no capacity
}

type plannedBackend struct {
	b      lb.Backend
	family uint8
	addr   [16]byte
	mac    [6]byte
	id     uint32 // stable counter id
}

func addr16(a netip.Addr) (uint8, [16]byte) {
	a = a.Unmap()
	var out [16]byte
	if a.Is4() {
		v := a.As4()
		copy(out[:], v[:])
		return familyV4, out
	}
	return familyV6, a.As16()
}

// makePlan validates cfg against the program's limits and builds every
// table. prev (may be nil) is the previous plan, for churn statistics. ids
// assigns stable counter ids. Nothing is written anywhere.
func makePlan(cfg lb.Config, tableSize uint32, prev *plan, ids *idAllocator) (*plan, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if len(cfg.Services) > MaxServices {
		return nil, fmt.Errorf("%w: %d services (max %d)", ErrTooMany, len(cfg.Services), MaxServices)
	}
	prevTables := map[string]*maglev.Table{}
	if prev != nil {
		for _, s := range prev.services {
			if s.maglev != nil {
				prevTables[s.svc.Key()] = s.maglev
			}
		}
	}
	services := slices.Clone(cfg.Services)
	slices.SortFunc(services, func(a, b lb.Service) int { return cmp.Compare(a.Key(), b.Key()) })
	p := &plan{}
	for i, s := range services {
		ps, err := planService(s, tableSize, prevTables[s.Key()])
		if err != nil {
			return nil, fmt.Errorf("service %s: %w", s.Key(), err)
		}
		ps.table = uint32(i)
		ps.base = uint32(p.backends)
		for j := range ps.slots {
			ps.slots[j] += ps.base
		}
		p.backends += len(ps.backends)
		if p.backends > MaxBackends {
			return nil, fmt.Errorf("%w: more than %d backends in all", ErrTooMany, MaxBackends)
		}
		p.services = append(p.services, ps)
	}
	if err := ids.assign(p); err != nil {
		return nil, err
	}
	return p, nil
}

func planService(s lb.Service, tableSize uint32, prev *maglev.Table) (plannedService, error) {
	ps := plannedService{svc: s, port: s.VIP.Port(), proto: uint8(s.Proto)}
	ps.family, ps.addr = addr16(s.VIP.Addr())
	if s.Scheduler == lb.RoundRobin {
		ps.sched = schedWRR
	}
	if s.Forwarding == lb.IPIP {
		ps.fwd = fwdIPIP
	}
	mb := make([]lb.Weighted, len(s.Backends))
	byID := map[string]lb.Backend{}
	for i, b := range s.Backends {
		mb[i] = b.Weighted()
		byID[b.ID()] = b
	}
	var order []lb.Weighted
	switch ps.sched {
	case schedWRR:
		r, err := wrr.Build(mb, tableSize)
		switch {
		case errors.Is(err, wrr.ErrNoCapacity):
			order = sortedBackends(mb)
		case err != nil:
			return ps, err
		default:
			ps.slots, order = slices.Clone(r.Slots()), r.Backends()
		}
	default:
		t, st, err := maglev.Rebuild(prev, mb, tableSize)
		switch {
		case errors.Is(err, maglev.ErrNoCapacity):
			order = sortedBackends(mb)
		case err != nil:
			return ps, err
		default:
			ps.slots, order, ps.stats, ps.maglev = slices.Clone(t.Slots()), t.Backends(), st, t
		}
	}
	for _, m := range order {
		b := byID[m.ID]
		pb := plannedBackend{b: b}
		pb.family, pb.addr = addr16(b.Addr.Addr())
		if ps.fwd == fwdIPIP && pb.family != ps.family {
			return ps, fmt.Errorf("%w: backend %v", ErrFamily, b.Addr)
		}
		if len(b.MAC) != 6 {
			return ps, fmt.Errorf("%w: %v", ErrNoMAC, b.Addr)
		}
		copy(pb.mac[:], b.MAC)
		ps.backends = append(ps.backends, pb)
	}
	return ps, nil
}

func sortedBackends(mb []lb.Weighted) []lb.Weighted {
	out := slices.Clone(mb)
	slices.SortFunc(out, func(a, b lb.Weighted) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// withMACs returns cfg with every backend's MAC filled by resolve where it
// is empty.
func withMACs(cfg lb.Config, resolve func(lb.Service, lb.Backend) (net.HardwareAddr, error)) (lb.Config, error) {
	out := lb.Config{Services: make([]lb.Service, len(cfg.Services))}
	for i, s := range cfg.Services {
		s.Backends = slices.Clone(s.Backends)
		for j, b := range s.Backends {
			if len(b.MAC) != 0 {
				continue
			}
			mac, err := resolve(s, b)
			if err != nil {
				return lb.Config{}, fmt.Errorf("%w: %v: %w", ErrNoMAC, b.Addr, err)
			}
			s.Backends[j].MAC = mac
		}
		out.Services[i] = s
	}
	return out, nil
}
