// Package flowhash is the 5-tuple hash that picks a backend for a new flow.
//
// The same function is implemented in C in bpf/lib/jhash.h, bit for bit, so
// the XDP mode and the userspace mode send a given flow to the same backend,
// and every LB node (same Seed, no per-boot randomness) makes the same choice:
// a flow that moves between LB nodes after an ECMP change keeps its backend.
//
// What is dangerous about it: the seed is fixed and public, so a client that
// knows the backend set can aim many flows at one table slot. That is the
// price of determinism across nodes; weights and connection tracking, not the
// hash, are what protect a backend from overload.
package flowhash

import "net/netip"

// Seed is mixed into every hash. It is a constant so that independent LB
// nodes, and the BPF and Go implementations, agree.
const Seed uint32 = 0x53545241 // "STRA"

// jhashInit is Linux's JHASH_INITVAL.
const jhashInit uint32 = 0xdeadbeef

func rol32(w uint32, s uint) uint32 { return w<<s | w>>(32-s) }

// mix is Linux's __jhash_mix.
func mix(a, b, c uint32) (uint32, uint32, uint32) {
	a -= c
	a ^= rol32(c, 4)
	c += b
	b -= a
	b ^= rol32(a, 6)
	a += c
	c -= b
	c ^= rol32(b, 8)
	b += a
	a -= c
	a ^= rol32(c, 16)
	c += b
	b -= a
	b ^= rol32(a, 19)
	a += c
	c -= b
	c ^= rol32(b, 4)
	b += a
	return a, b, c
}

// final is Linux's __jhash_final; it returns c.
func final(a, b, c uint32) uint32 {
	c ^= b
	c -= rol32(b, 14)
	a ^= c
	a -= rol32(c, 11)
	b ^= a
	b -= rol32(a, 25)
	c ^= b
	c -= rol32(b, 16)
	a ^= c
	a -= rol32(c, 4)
	b ^= a
	b -= rol32(a, 14)
	c ^= b
	c -= rol32(b, 24)
	return c
}

func be32(b []byte) uint32 {
	_ = b[3]
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// Hash returns the flow hash of a 5-tuple. It is Linux's jhash2 over the
// words (src, dst, sport<<16|dport) for IPv4, or (src[0..3], dst[0..3],
// sport<<16|dport) for IPv6, each address word read big-endian, with the
// initial value Seed^proto. IPv4-mapped IPv6 addresses hash as IPv4, so a
// dual-stack socket sees the same hash as the wire. src and dst must be of
// the same family after unmapping; otherwise both are hashed as IPv6.
func Hash(src, dst netip.Addr, sport, dport uint16, proto uint8) uint32 {
	src, dst = src.Unmap(), dst.Unmap()
	ports := uint32(sport)<<16 | uint32(dport)
	if src.Is4() && dst.Is4() {
		s, d := src.As4(), dst.As4()
		return Hash4(be32(s[:]), be32(d[:]), ports, proto)
	}
	s, d := src.As16(), dst.As16()
	return Hash6(&s, &d, ports, proto)
}

// Hash4 is Hash for IPv4 with the addresses as big-endian words and ports
// already packed as sport<<16|dport.
func Hash4(src, dst, ports uint32, proto uint8) uint32 {
	a := jhashInit + 3<<2 + (Seed ^ uint32(proto))
	b, c := a, a
	c += ports
	b += dst
	a += src
	return final(a, b, c)
}

// Hash6 is Hash for IPv6 with ports packed as sport<<16|dport.
func Hash6(src, dst *[16]byte, ports uint32, proto uint8) uint32 {
	a := jhashInit + 9<<2 + (Seed ^ uint32(proto))
	b, c := a, a
	a += be32(src[0:])
	b += be32(src[4:])
	c += be32(src[8:])
	a, b, c = mix(a, b, c)
	a += be32(src[12:])
	b += be32(dst[0:])
	c += be32(dst[4:])
	a, b, c = mix(a, b, c)
	a += be32(dst[8:])
	b += be32(dst[12:])
	c += ports
	return final(a, b, c)
}
