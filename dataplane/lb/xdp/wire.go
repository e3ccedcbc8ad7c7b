package xdp

import (
	"encoding/binary"
	"net/netip"
)

// The BPF structs hold network-order (__be16, __be32) fields in Go integer
// types; these helpers produce the integer whose native-endian bytes are the
// big-endian encoding.

func be16(v uint16) uint16 {
	var b [2]byte
	binary.BigEndian.PutUint16(b[:], v)
	return binary.NativeEndian.Uint16(b[:])
}

func be32(v uint32) uint32 {
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], v)
	return binary.NativeEndian.Uint32(b[:])
}

// prefix4 returns the outer-source prefix and host mask, network order.
func prefix4(p netip.Prefix) (addr, mask uint32) {
	a := p.Masked().Addr().As4()
	host := uint32(0)
	if bits := 32 - p.Bits(); bits > 0 {
		host = uint32(1)<<bits - 1
	}
	return be32(binary.BigEndian.Uint32(a[:])), be32(host)
}

// prefix6 returns the outer-source prefix and the host mask within its last
// 32 bits, network order. Host bits above the last word stay as the prefix.
func prefix6(p netip.Prefix) (addr [16]byte, mask uint32) {
	addr = p.Masked().Addr().As16()
	host := uint32(0xffffffff)
	if bits := 128 - p.Bits(); bits < 32 {
		host = uint32(1)<<bits - 1
	}
	return addr, be32(host)
}

func addrFromIP(ip []byte) netip.Addr {
	a, _ := netip.AddrFromSlice(ip)
	return a.Unmap()
}

// vipFilterBit is vip_bit in bpf/lib/lb.h: the prefilter bit of an address.
func vipFilterBit(family uint8, addr [16]byte) uint32 {
	w := binary.BigEndian.Uint32(addr[0:4])
	if family == familyV6 {
		w ^= binary.BigEndian.Uint32(addr[4:8]) ^ binary.BigEndian.Uint32(addr[8:12]) ^ binary.BigEndian.Uint32(addr[12:16])
	}
	return (w * 0x9e3779b1) >> 16 & (vipFilterBits - 1)
}
