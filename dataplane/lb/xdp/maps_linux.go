package xdp

import (
	"reflect"

	"github.com/cilium/ebpf"
)

// each calls fn with the BPF name of every loaded map of the generated
// lbMaps struct. Walking the struct rather than a list kept by hand means a
// map added to bpf/lib/maps.h is unpinned and shared like the others.
func (m *lbMaps) each(fn func(name string, m *ebpf.Map)) {
	v := reflect.ValueOf(m).Elem()
	for i := range v.NumField() {
		if mp, ok := v.Field(i).Interface().(*ebpf.Map); ok && mp != nil {
			fn(v.Type().Field(i).Tag.Get("ebpf"), mp)
		}
	}
}

// SharedMaps returns the balancer's maps by their BPF names, for
// ebpf.CollectionOptions.MapReplacements: a companion object built from the
// same bpf/lib/maps.h (the measurement programs of bench/xdpmeasure) then
// runs on this balancer's state. The maps stay the balancer's: the loader
// clones them, and Close releases these.
func (b *Balancer) SharedMaps() map[string]*ebpf.Map {
	out := map[string]*ebpf.Map{}
	b.maps.each(func(name string, m *ebpf.Map) { out[name] = m })
	return out
}

// Program is the balancer's XDP program, owned by the balancer, for
// BPF_PROG_TEST_RUN on an unattached instance.
func (b *Balancer) Program() *ebpf.Program { return b.prog }
