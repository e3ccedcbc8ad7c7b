package xdp

import (
	"errors"
	"fmt"

	"github.com/cilium/ebpf"
)

// Stats reads every counter, summed over CPUs, labelled by the current
// configuration.
func (b *Balancer) Stats() (Stats, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return Stats{}, ErrClosed
	}
	st := Stats{
		Generation: b.gen,
		Pass:       map[string]uint64{},
		Drop:       map[string]uint64{},
		Services:   map[string]Counters{},
		Backends:   map[string]Counters{},
	}
	var g []lbGlobalStats
	if err := b.maps.LbStats.Lookup(uint32(0), &g); err != nil {
		return Stats{}, fmt.Errorf("xdp: read stats: %w", err)
	}
	for _, c := range g {
		st.ConntrackHits += c.CtHit
		st.ConntrackMisses += c.CtMiss
		st.TX += c.Tx
		st.Redirect += c.Redirect
		for i, n := range passReasonNames {
			st.Pass[n] += c.Pass[i]
		}
		for i, n := range dropReasonNames {
			st.Drop[n] += c.Drop[i]
		}
	}
	if b.cur == nil {
		return st, nil
	}
	for _, s := range b.cur.services {
		c, err := sumCounters(b.maps.LbSvcStats, s.id)
		if err != nil {
			return Stats{}, err
		}
		st.Services[s.svc.Key()] = c
		for _, be := range s.backends {
			c, err := sumCounters(b.maps.LbBackendStats, be.id)
			if err != nil {
				return Stats{}, err
			}
			st.Backends[backendKey(s.svc.Key(), be.b.ID())] = c
		}
	}
	return st, nil
}

func sumCounters(m *ebpf.Map, id uint32) (Counters, error) {
	var per []lbCounters
	if err := m.Lookup(id, &per); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
		return Counters{}, fmt.Errorf("xdp: read counters %d: %w", id, err)
	}
	var c Counters
	for _, p := range per {
		c.Packets += p.Packets
		c.Bytes += p.Bytes
		c.NewFlows += p.NewFlows
	}
	return c, nil
}
