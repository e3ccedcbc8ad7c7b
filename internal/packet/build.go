package packet

import (
	"encoding/binary"
	"net"
	"net/netip"
)

// IP protocol numbers used by the builders.
const (
	ProtoICMP     = 1
	ProtoIPIP     = 4
	ProtoTCP      = 6
	ProtoUDP      = 17
	ProtoIPv6     = 41
	ProtoFragment = 44
	ProtoICMPv6   = 58
	ProtoHopByHop = 0
)

// EtherTypes.
const (
	EtherTypeIPv4  = 0x0800
	EtherTypeIPv6  = 0x86dd
	EtherTypeARP   = 0x0806
	EtherTypeVLAN  = 0x8100
	EtherTypeQinQ  = 0x88a8
	ethHeaderLen   = 14
	ipv4HeaderLen  = 20
	ipv6HeaderLen  = 40
	tcpHeaderLen   = 20
	udpHeaderLen   = 8
	vlanHeaderLen  = 4
	fragHeaderLen  = 8
	defaultTTL     = 64
	tcpFlagSYN     = 0x02
	defaultTCPFlag = tcpFlagSYN
)

// Spec describes one frame. Zero values give a sensible SYN or datagram:
// TTL 64, TCP flags SYN.
type Spec struct {
	SrcMAC, DstMAC net.HardwareAddr
	// VLANs are tag control values, outermost first; the outermost uses
	// 802.1ad when there are two.
	VLANs []uint16
	// EtherType overrides the type after the tags (e.g. ARP); the IP
	// family otherwise picks it.
	EtherType uint16
	Src, Dst  netip.AddrPort
	Proto     uint8 // ProtoTCP, ProtoUDP, ProtoICMP, ProtoICMPv6, ...
	TTL       uint8
	TOS       uint8
	TCPFlags  uint8
	Payload   []byte
	// IPOptions are IPv4 options, padded to a multiple of 4 bytes.
	IPOptions []byte
	// FragOffset (in 8-byte units) and MoreFragments make an IPv4
	// fragment, or add an IPv6 fragment header.
	FragOffset    uint16
	MoreFragments bool
	// BadChecksum corrupts the L4 checksum.
	BadChecksum bool
}

// Bytes builds the frame.
func (s Spec) Bytes() []byte {
	l3 := s.L3()
	etype := uint16(EtherTypeIPv4)
	if s.Dst.Addr().Is6() && !s.Dst.Addr().Is4In6() {
		etype = EtherTypeIPv6
	}
	if s.EtherType != 0 {
		etype = s.EtherType
	}
	return append(Ethernet(s.DstMAC, s.SrcMAC, s.VLANs, etype), l3...)
}

// Ethernet returns an Ethernet header with VLAN tags ending in etype.
func Ethernet(dst, src net.HardwareAddr, vlans []uint16, etype uint16) []byte {
	b := make([]byte, 12, ethHeaderLen+vlanHeaderLen*len(vlans))
	copy(b[0:6], dst)
	copy(b[6:12], src)
	for i, v := range vlans {
		tpid := uint16(EtherTypeVLAN)
		if i == 0 && len(vlans) > 1 {
			tpid = EtherTypeQinQ
		}
		b = binary.BigEndian.AppendUint16(b, tpid)
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return binary.BigEndian.AppendUint16(b, etype)
}

// L3 builds the IP packet (without Ethernet).
func (s Spec) L3() []byte {
	ttl := s.TTL
	if ttl == 0 {
		ttl = defaultTTL
	}
	src, dst := s.Src.Addr(), s.Dst.Addr()
	l4 := s.l4(src, dst)
	if dst.Is4() {
		fo := s.FragOffset & 0x1fff
		if s.MoreFragments {
			fo |= 0x2000
		}
		return IPv4(src, dst, s.Proto, ttl, s.TOS, fo, s.IPOptions, l4)
	}
	if s.FragOffset != 0 || s.MoreFragments {
		frag := make([]byte, fragHeaderLen)
		frag[0] = s.Proto
		off := s.FragOffset << 3
		if s.MoreFragments {
			off |= 1
		}
		binary.BigEndian.PutUint16(frag[2:], off)
		binary.BigEndian.PutUint32(frag[4:], 0x5354)
		return IPv6(src, dst, ProtoFragment, ttl, s.TOS, 0, append(frag, l4...))
	}
	return IPv6(src, dst, s.Proto, ttl, s.TOS, 0, l4)
}

func (s Spec) l4(src, dst netip.Addr) []byte {
	var b []byte
	switch s.Proto {
	case ProtoTCP:
		flags := s.TCPFlags
		if flags == 0 {
			flags = defaultTCPFlag
		}
		b = make([]byte, tcpHeaderLen, tcpHeaderLen+len(s.Payload))
		binary.BigEndian.PutUint16(b[0:], s.Src.Port())
		binary.BigEndian.PutUint16(b[2:], s.Dst.Port())
		binary.BigEndian.PutUint32(b[4:], 0x53545241)
		b[12] = 5 << 4
		b[13] = flags
		binary.BigEndian.PutUint16(b[14:], 65535)
		b = append(b, s.Payload...)
		binary.BigEndian.PutUint16(b[16:], L4Checksum(src, dst, ProtoTCP, b))
		if s.BadChecksum {
			b[16] ^= 0xff
		}
	case ProtoUDP:
		b = make([]byte, udpHeaderLen, udpHeaderLen+len(s.Payload))
		binary.BigEndian.PutUint16(b[0:], s.Src.Port())
		binary.BigEndian.PutUint16(b[2:], s.Dst.Port())
		binary.BigEndian.PutUint16(b[4:], uint16(udpHeaderLen+len(s.Payload)))
		b = append(b, s.Payload...)
		binary.BigEndian.PutUint16(b[6:], L4Checksum(src, dst, ProtoUDP, b))
		if s.BadChecksum {
			b[6] ^= 0xff
		}
	case ProtoICMP, ProtoICMPv6:
		// Echo request.
		b = []byte{8, 0, 0, 0, 0, 1, 0, 1}
		if s.Proto == ProtoICMPv6 {
			b[0] = 128
		}
		b = append(b, s.Payload...)
		var sum uint16
		if s.Proto == ProtoICMPv6 {
			sum = L4Checksum(src, dst, ProtoICMPv6, b)
		} else {
			sum = Checksum(b, 0)
		}
		binary.BigEndian.PutUint16(b[2:], sum)
	default:
		b = append(b, s.Payload...)
	}
	return b
}

// IPv4 builds an IPv4 packet around payload, with a correct header checksum.
// fragOff is the raw flags+offset field.
func IPv4(src, dst netip.Addr, proto, ttl, tos uint8, fragOff uint16, options, payload []byte) []byte {
	opts := len(options)
	if opts%4 != 0 {
		opts += 4 - opts%4
	}
	hl := ipv4HeaderLen + opts
	b := make([]byte, hl, hl+len(payload))
	b[0] = 4<<4 | uint8(hl/4)
	b[1] = tos
	binary.BigEndian.PutUint16(b[2:], uint16(hl+len(payload)))
	binary.BigEndian.PutUint16(b[4:], 0x1234)
	binary.BigEndian.PutUint16(b[6:], fragOff)
	b[8] = ttl
	b[9] = proto
	s4, d4 := src.As4(), dst.As4()
	copy(b[12:16], s4[:])
	copy(b[16:20], d4[:])
	copy(b[20:], options)
	binary.BigEndian.PutUint16(b[10:], Checksum(b, 0))
	return append(b, payload...)
}

// IPv6 builds an IPv6 packet around payload.
func IPv6(src, dst netip.Addr, next, hop, tclass uint8, flow uint32, payload []byte) []byte {
	b := make([]byte, ipv6HeaderLen, ipv6HeaderLen+len(payload))
	binary.BigEndian.PutUint32(b[0:], 6<<28|uint32(tclass)<<20|flow&0xfffff)
	binary.BigEndian.PutUint16(b[4:], uint16(len(payload)))
	b[6] = next
	b[7] = hop
	s16, d16 := src.As16(), dst.As16()
	copy(b[8:24], s16[:])
	copy(b[24:40], d16[:])
	return append(b, payload...)
}

// Checksum is the Internet checksum (RFC 1071) of b, starting from initial.
func Checksum(b []byte, initial uint32) uint16 {
	sum := initial
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// L4Checksum is the TCP/UDP/ICMPv6 checksum of segment (with its checksum
// field zero, or verified when it is not: a correct segment sums to 0).
func L4Checksum(src, dst netip.Addr, proto uint8, segment []byte) uint16 {
	var sum uint32
	add := func(b []byte) {
		for i := 0; i+1 < len(b); i += 2 {
			sum += uint32(b[i])<<8 | uint32(b[i+1])
		}
	}
	if src.Is4() {
		s, d := src.As4(), dst.As4()
		add(s[:])
		add(d[:])
	} else {
		s, d := src.As16(), dst.As16()
		add(s[:])
		add(d[:])
	}
	sum += uint32(proto) + uint32(len(segment))
	return Checksum(segment, sum)
}
