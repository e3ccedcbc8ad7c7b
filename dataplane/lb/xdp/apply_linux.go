package xdp

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/cilium/ebpf"

	"github.com/strata-dp/strata/dataplane/lb"
)

// Apply writes cfg as a new generation into the inactive half of the maps and
// then flips lb_config.gen with one map update, so new flows see either the
// whole old configuration or the whole new one. Established flows keep their
// backends (the connection table holds the forwarding decision). A failed
// Apply leaves the active generation untouched.
func (b *Balancer) Apply(ctx context.Context, cfg lb.Config) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return ErrClosed
	}
	start := time.Now()
	cfg, err := withMACs(cfg, b.resolveMAC)
	if err != nil {
		return err
	}
	p, err := makePlan(cfg, b.opts.TableSize, b.cur, b.ids)
	if err != nil {
		return err
	}
	next := b.gen ^ 1
	if err := b.clearGeneration(next); err != nil {
		return fmt.Errorf("xdp: clear generation %d: %w", next, err)
	}
	if err := b.writeGeneration(ctx, next, p); err != nil {
		return fmt.Errorf("xdp: write generation %d: %w", next, err)
	}
	var c lbConfig
	if err := b.maps.LbConfig.Lookup(uint32(0), &c); err != nil {
		return fmt.Errorf("xdp: read config: %w", err)
	}
	c.Gen = next
	if err := b.maps.LbConfig.Put(uint32(0), &c); err != nil {
		return fmt.Errorf("xdp: flip generation: %w", err)
	}
	b.cur, b.gen = p, next
	for _, s := range p.services {
		b.opts.Logger.Info("xdp service applied", "service", s.svc.Key(), "backends", len(s.backends),
			"slots", len(s.slots), "imbalance", s.stats.Imbalance, "churn", s.stats.Churn)
	}
	b.opts.Logger.Info("xdp generation applied", "generation", next, "services", len(p.services),
		"backends", p.backends, "took", time.Since(start))
	return nil
}

// clearGeneration removes gen's services, VIPs and slot tables. It runs
// before writing gen, never on the active generation, so in-flight packets
// only ever read complete generations.
func (b *Balancer) clearGeneration(gen uint32) error {
	if err := deleteWhere(b.maps.LbServices4, func(k *lbSvcKey4) bool { return uint32(k.Gen) == gen }); err != nil {
		return err
	}
	if err := deleteWhere(b.maps.LbServices6, func(k *lbSvcKey6) bool { return uint32(k.Gen) == gen }); err != nil {
		return err
	}
	if err := deleteWhere(b.maps.LbVips, func(k *lbVipKey) bool { return uint32(k.Gen) == gen }); err != nil {
		return err
	}
	keys := make([]uint32, MaxServices)
	for i := range keys {
		keys[i] = gen*MaxServices + uint32(i)
		err := b.maps.LbTables.Delete(keys[i])
		if err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return err
		}
	}
	if _, err := b.maps.LbSvcEpochs.BatchUpdate(keys, make([]uint32, MaxServices), nil); err != nil {
		return fmt.Errorf("clear epochs: %w", err)
	}
	return nil
}

// writeVIPFilter sets the prefilter bits of every VIP of p in gen, and
// clears all others. It runs before the flip, like everything of gen.
func (b *Balancer) writeVIPFilter(gen uint32, p *plan) error {
	const words = vipFilterBits / 64
	bits := make([]uint64, words)
	for _, s := range p.services {
		bit := vipFilterBit(s.family, s.addr)
		bits[bit/64] |= 1 << (bit % 64)
	}
	keys := make([]uint32, words)
	for i := range keys {
		keys[i] = gen*words + uint32(i)
	}
	if _, err := b.maps.LbVipFilter.BatchUpdate(keys, bits, nil); err != nil {
		return fmt.Errorf("vip filter: %w", err)
	}
	return nil
}

// deleteWhere deletes the keys of m for which match is true. Values are
// skipped (read into a scratch buffer sized by the map).
func deleteWhere[K any](m *ebpf.Map, match func(*K) bool) error {
	var k K
	var stale []K
	val := make([]byte, m.ValueSize())
	it := m.Iterate()
	for it.Next(&k, &val) {
		if match(&k) {
			stale = append(stale, k)
		}
	}
	if err := it.Err(); err != nil {
		return err
	}
	for _, k := range stale {
		if err := m.Delete(&k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
			return err
		}
	}
	return nil
}

func (b *Balancer) writeGeneration(ctx context.Context, gen uint32, p *plan) error {
	if err := b.writeVIPFilter(gen, p); err != nil {
		return err
	}
	for _, s := range p.services {
		if err := ctx.Err(); err != nil {
			return err
		}
		for j, be := range s.backends {
			v := lbBackend{Addr: be.addr, Mac: be.mac, Family: be.family, Id: be.id}
			if err := b.maps.LbBackends.Put(gen*MaxBackends+s.base+uint32(j), &v); err != nil {
				return fmt.Errorf("backend %v: %w", be.b.Addr, err)
			}
		}
		table := gen*MaxServices + s.table
		if len(s.slots) > 0 {
			if err := b.writeTable(table, s.slots); err != nil {
				return fmt.Errorf("service %s: %w", s.svc.Key(), err)
			}
		}
		val := lbSvcValue{Id: s.id, Table: table, Size: uint32(len(s.slots)), Sched: s.sched, Fwd: s.fwd, Epoch: s.epoch}
		var err error
		if s.family == familyV4 {
			key := lbSvcKey4{Addr: binary.NativeEndian.Uint32(s.addr[:4]), Port: be16(s.port), Proto: s.proto, Gen: uint8(gen)}
			err = b.maps.LbServices4.Put(&key, &val)
		} else {
			key := lbSvcKey6{Addr: s.addr, Port: be16(s.port), Proto: s.proto, Gen: uint8(gen)}
			err = b.maps.LbServices6.Put(&key, &val)
		}
		if err != nil {
			return fmt.Errorf("service %s: %w", s.svc.Key(), err)
		}
		if err := b.maps.LbSvcEpochs.Put(gen*MaxServices+s.id, s.epoch); err != nil {
			return fmt.Errorf("service %s epoch: %w", s.svc.Key(), err)
		}
		vk := lbVipKey{Gen: uint8(gen), Family: s.family, Addr: s.addr}
		if err := b.maps.LbVips.Put(&vk, uint32(1)); err != nil {
			return fmt.Errorf("vip %s: %w", s.svc.Key(), err)
		}
	}
	return nil
}

// writeTable fills a new inner slot map and installs it at index table of
// lb_tables. The outer map keeps the inner map alive after we close our fd.
func (b *Balancer) writeTable(table uint32, slots []uint32) error {
	inner, err := ebpf.NewMap(b.innerSpec)
	if err != nil {
		return fmt.Errorf("create slot table: %w", err)
	}
	defer func() { _ = inner.Close() }()
	keys := make([]uint32, len(slots))
	for i := range keys {
		keys[i] = uint32(i)
	}
	if _, err := inner.BatchUpdate(keys, slots, nil); err != nil {
		return fmt.Errorf("fill slot table: %w", err)
	}
	if err := b.maps.LbTables.Put(table, inner); err != nil {
		return fmt.Errorf("install slot table: %w", err)
	}
	return nil
}
