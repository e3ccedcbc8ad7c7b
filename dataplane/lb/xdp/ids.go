package xdp

import (
	"fmt"
	"time"
)

// idAllocator hands out stable counter ids for services and backends, so a
// service keeps its counters across generations. An id freed by an Apply is
// not reused by that Apply nor the next, because the generation still live
// during them (and flows tracked under it) may still count against it.
type idAllocator struct {
	services idSpace
	backends idSpace
}

type idSpace struct {
	// epochs change whenever an id is given to a key anew, so a tracked
	// flow can tell its service from a later one that reuses the id. They
	// start from the clock so that a restarted manager does not repeat the
	// epochs a previous one left in pinned flows.
	epochs    map[string]uint32
	nextEpoch uint32
	limit     uint32
	byKey     map[string]uint32
	cooling   map[uint32]bool // freed by the last assign
}

func newIDAllocator() *idAllocator {
	return &idAllocator{
		services: idSpace{limit: MaxServices, byKey: map[string]uint32{}, epochs: map[string]uint32{},
			nextEpoch: uint32(time.Now().Unix())},
		backends: idSpace{limit: MaxBackends, byKey: map[string]uint32{}, epochs: map[string]uint32{}},
	}
}

func backendKey(svcKey, backendID string) string { return svcKey + "|" + backendID }

// assign gives every service and backend of p an id, keeping existing ones.
func (a *idAllocator) assign(p *plan) error {
	var svcKeys, beKeys []string
	for _, s := range p.services {
		svcKeys = append(svcKeys, s.svc.Key())
		for _, b := range s.backends {
			beKeys = append(beKeys, backendKey(s.svc.Key(), b.b.ID()))
		}
	}
	svcIDs, err := a.services.assign(svcKeys)
	if err != nil {
		return fmt.Errorf("service ids: %w", err)
	}
	beIDs, err := a.backends.assign(beKeys)
	if err != nil {
		return fmt.Errorf("backend ids: %w", err)
	}
	k := 0
	for i := range p.services {
		p.services[i].id = svcIDs[i]
		p.services[i].epoch = a.services.epochs[svcKeys[i]]
		for j := range p.services[i].backends {
			p.services[i].backends[j].id = beIDs[k]
			k++
		}
	}
	return nil
}

func (s *idSpace) assign(keys []string) ([]uint32, error) {
	used := map[uint32]bool{}
	next := map[string]uint32{}
	for _, k := range keys {
		if id, ok := s.byKey[k]; ok {
			used[id] = true
			next[k] = id
		}
	}
	freedNow := map[uint32]bool{}
	for k, id := range s.byKey {
		if _, ok := next[k]; !ok {
			freedNow[id] = true
		}
	}
	free := uint32(0)
	out := make([]uint32, len(keys))
	for i, k := range keys {
		id, ok := next[k]
		if !ok {
			for free < s.limit && (used[free] || s.cooling[free] || freedNow[free]) {
				free++
			}
			if free >= s.limit {
				return nil, fmt.Errorf("%w: more than %d ids", ErrTooMany, s.limit)
			}
			id = free
			used[id] = true
			next[k] = id
			s.nextEpoch++
			if s.nextEpoch == 0 {
				s.nextEpoch = 1 // 0 means "no service" to the program
			}
			s.epochs[k] = s.nextEpoch
		}
		out[i] = id
	}
	for k := range s.epochs {
		if _, ok := next[k]; !ok {
			delete(s.epochs, k)
		}
	}
	s.byKey, s.cooling = next, freedNow
	return out, nil
}
