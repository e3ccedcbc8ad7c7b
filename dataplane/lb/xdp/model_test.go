package xdp

import (
	"encoding/binary"
	"net/netip"

	"github.com/strata-dp/strata/dataplane/lb/flowhash"
	"github.com/strata-dp/strata/internal/packet"
)

// XDP verdicts.
const (
	xdpAborted  = 0
	xdpDrop     = 1
	xdpPass     = 2
	xdpTX       = 3
	xdpRedirect = 4
)

// model is the Go reference model of bpf/lib/lb.h: the same parse rules, the
// same decision and the same output bytes, on one CPU. The packet tests and
// the fuzz test run every frame through both and compare.
type model struct {
	p       *plan
	gen     uint32
	ct      map[modelKey]modelFlow
	cursor  map[uint32]uint32
	src4    netip.Prefix
	src6    netip.Prefix
	counter Stats
}

type modelKey struct {
	family       uint8
	proto        uint8
	src, dst     [16]byte
	sport, dport uint16
}

type modelFlow struct {
	be    plannedBackend
	svcID uint32
	fwd   uint8
}

func newModel(src4, src6 netip.Prefix) *model {
	return &model{
		ct: map[modelKey]modelFlow{}, cursor: map[uint32]uint32{}, src4: src4, src6: src6,
		counter: Stats{Pass: map[string]uint64{}, Drop: map[string]uint64{},
			Services: map[string]Counters{}, Backends: map[string]Counters{}},
	}
}

func (m *model) apply(p *plan, gen uint32) { m.p, m.gen = p, gen }

type parsed struct {
	key    modelKey
	syn    bool
	l2Len  int
	ipLen  int
	tos    uint8
	result int
}

const (
	parseOK = iota
	parseNotIP
	parseMalformed
	parseOther
	parseFragment
)

func modelParse(f []byte) parsed {
	var p parsed
	if len(f) < 14 {
		p.result = parseMalformed
		return p
	}
	off := 14
	et := binary.BigEndian.Uint16(f[12:])
	for range maxVLANs {
		if et != packet.EtherTypeVLAN && et != packet.EtherTypeQinQ {
			break
		}
		if len(f) < off+4 {
			p.result = parseMalformed
			return p
		}
		et = binary.BigEndian.Uint16(f[off+2:])
		off += 4
	}
	p.l2Len = off
	ip := f[off:]
	switch et {
	case packet.EtherTypeIPv4:
		if len(ip) < 20 || ip[0]>>4 != 4 || ip[0]&0xf < 5 {
			p.result = parseMalformed
			return p
		}
		hl := int(ip[0]&0xf) * 4
		tot := int(binary.BigEndian.Uint16(ip[2:]))
		if len(ip) < hl || tot < hl || tot > len(ip) {
			p.result = parseMalformed
			return p
		}
		p.ipLen, p.tos = tot, ip[1]
		p.key.family, p.key.proto = familyV4, ip[9]
		copy(p.key.src[:], ip[12:16])
		copy(p.key.dst[:], ip[16:20])
		if binary.BigEndian.Uint16(ip[6:])&0x3fff != 0 {
			p.result = parseFragment
			return p
		}
		p.result = modelL4(ip[hl:], &p)
	case packet.EtherTypeIPv6:
		if len(ip) < 40 || ip[0]>>4 != 6 {
			p.result = parseMalformed
			return p
		}
		plen := int(binary.BigEndian.Uint16(ip[4:]))
		if 40+plen > len(ip) {
			p.result = parseMalformed
			return p
		}
		p.ipLen = plen
		p.tos = uint8(binary.BigEndian.Uint32(ip) >> 20)
		p.key.family, p.key.proto = familyV6, ip[6]
		copy(p.key.src[:], ip[8:24])
		copy(p.key.dst[:], ip[24:40])
		if ip[6] == packet.ProtoFragment {
			p.result = parseFragment
			return p
		}
		p.result = modelL4(ip[40:], &p)
	default:
		p.result = parseNotIP
	}
	return p
}

func modelL4(l4 []byte, p *parsed) int {
	switch p.key.proto {
	case packet.ProtoTCP:
		if len(l4) < 20 {
			return parseMalformed
		}
		p.syn = l4[13]&0x12 == 0x02
	case packet.ProtoUDP:
		if len(l4) < 8 {
			return parseMalformed
		}
	default:
		return parseOther
	}
	p.key.sport = binary.BigEndian.Uint16(l4[0:])
	p.key.dport = binary.BigEndian.Uint16(l4[2:])
	return parseOK
}

func (k modelKey) hash() uint32 {
	ports := uint32(k.sport)<<16 | uint32(k.dport)
	if k.family == familyV4 {
		return flowhash.Hash4(binary.BigEndian.Uint32(k.src[:]), binary.BigEndian.Uint32(k.dst[:]), ports, k.proto)
	}
	return flowhash.Hash6(&k.src, &k.dst, ports, k.proto)
}

func (m *model) pass(reason string) int { m.counter.Pass[reason]++; return xdpPass }

// process returns the verdict and the output frame (the input when the
// program leaves it alone).
func (m *model) process(in []byte) (int, []byte) {
	p := modelParse(in)
	switch p.result {
	case parseNotIP:
		return m.pass("not_ip"), in
	case parseOther:
		return m.pass("other_proto"), in
	case parseMalformed:
		return m.pass("malformed"), in
	case parseFragment:
		if m.isVIP(p.key.family, p.key.dst) {
			m.counter.Drop["fragment"]++
			return xdpDrop, in
		}
		return m.pass("no_service"), in
	}
	svc := m.service(p.key)
	if svc == nil {
		return m.pass("no_service"), in
	}
	flow, hit := m.ct[p.key]
	hit = hit && !p.syn // a SYN is always scheduled afresh
	newFlow := uint64(0)
	if hit {
		m.counter.ConntrackHits++
	} else {
		m.counter.ConntrackMisses++
		if len(svc.slots) == 0 {
			m.counter.Drop["no_backend"]++
			return xdpDrop, in
		}
		var slot uint32
		if svc.sched == schedWRR {
			slot = m.cursor[svc.id] % uint32(len(svc.slots))
			m.cursor[svc.id]++
		} else {
			slot = p.key.hash() % uint32(len(svc.slots))
		}
		flow = modelFlow{be: svc.backends[svc.slots[slot]-svc.base], svcID: svc.id, fwd: svc.fwd}
		m.ct[p.key] = flow
		newFlow = 1
	}
	out := append([]byte(nil), in...)
	if flow.fwd == fwdIPIP {
		if flow.be.family != p.key.family {
			m.counter.Drop["family"]++
			return xdpDrop, in
		}
		out = m.encap(in, p, flow.be)
	} else {
		copy(out[6:12], in[0:6])
		copy(out[0:6], flow.be.mac[:])
	}
	add := func(c Counters) Counters {
		return Counters{c.Packets + 1, c.Bytes + uint64(len(in)), c.NewFlows + newFlow}
	}
	m.counter.Services[svc.svc.Key()] = add(m.counter.Services[svc.svc.Key()])
	bk := m.backendKey(flow.be.id)
	m.counter.Backends[bk] = add(m.counter.Backends[bk])
	m.counter.TX++
	return xdpTX, out
}

func (m *model) backendKey(id uint32) string {
	for _, s := range m.p.services {
		for _, b := range s.backends {
			if b.id == id {
				return backendKey(s.svc.Key(), b.b.ID())
			}
		}
	}
	return "removed"
}

func (m *model) isVIP(family uint8, dst [16]byte) bool {
	for _, s := range m.p.services {
		if s.family == family && s.addr == dst {
			return true
		}
	}
	return false
}

func (m *model) service(k modelKey) *plannedService {
	for i, s := range m.p.services {
		if s.family == k.family && s.addr == k.dst && s.port == k.dport && s.proto == k.proto {
			return &m.p.services[i]
		}
	}
	return nil
}

func (m *model) encap(in []byte, p parsed, be plannedBackend) []byte {
	hash := p.key.hash()
	var outer []byte
	if p.key.family == familyV4 {
		src, mask := prefix4(m.src4)
		var s [4]byte
		binary.NativeEndian.PutUint32(s[:], (src&^mask)|(be32(hash)&mask))
		outer = packet.IPv4(netip.AddrFrom4(s), netip.AddrFrom4([4]byte(be.addr[:4])), packet.ProtoIPIP,
			encapTTL, p.tos, 0, nil, nil)
		binary.BigEndian.PutUint16(outer[2:], uint16(p.ipLen+20))
		binary.BigEndian.PutUint16(outer[4:], 0) // id
		outer[10], outer[11] = 0, 0
		binary.BigEndian.PutUint16(outer[10:], packet.Checksum(outer, 0))
	} else {
		src, mask := prefix6(m.src6)
		last := binary.NativeEndian.Uint32(src[12:])
		binary.NativeEndian.PutUint32(src[12:], (last&^mask)|(be32(hash)&mask))
		outer = packet.IPv6(netip.AddrFrom16(src), netip.AddrFrom16(be.addr), packet.ProtoIPv6,
			encapTTL, p.tos, hash&0xfffff, nil)
		binary.BigEndian.PutUint16(outer[4:], uint16(p.ipLen+40))
	}
	out := make([]byte, 0, len(in)+len(outer))
	out = append(out, in[:p.l2Len]...)
	copy(out[6:12], in[0:6])
	copy(out[0:6], be.mac[:])
	out = append(out, outer...)
	return append(out, in[p.l2Len:]...)
}
