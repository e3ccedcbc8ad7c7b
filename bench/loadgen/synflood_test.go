package loadgen

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

// TestSynPacketChecksums verifies both checksums the way a receiver does:
// summing a header with its checksum in place gives zero.
func TestSynPacketChecksums(t *testing.T) {
	tests := []struct {
		src   string
		dst   string
		sport uint16
	}{
		{"198.18.0.10", "198.18.1.1:80", 10000},
		{"198.18.0.10", "198.18.1.1:80", 65535},
		{"10.255.255.254", "192.0.2.1:443", 1},
	}
	for _, tt := range tests {
		t.Run(tt.dst, func(t *testing.T) {
			src, dst := netip.MustParseAddr(tt.src), netip.MustParseAddrPort(tt.dst)
			p := synPacket(src, dst, tt.sport)
			if len(p) != 40 || p[0] != 0x45 || p[9] != 6 || p[33] != 0x02 {
				t.Fatalf("not an IPv4 TCP SYN: % x", p)
			}
			if got := checksum(p[:20], 0); got != 0 {
				t.Errorf("IPv4 header checksum does not verify: %#x", got)
			}
			s4, d4 := src.As4(), dst.Addr().As4()
			var pseudo uint32
			for i := 0; i < 4; i += 2 {
				pseudo += uint32(binary.BigEndian.Uint16(s4[i:])) + uint32(binary.BigEndian.Uint16(d4[i:]))
			}
			pseudo += 6 + 20
			if got := checksum(p[20:], pseudo); got != 0 {
				t.Errorf("TCP checksum does not verify: %#x", got)
			}
			if sp, dp := binary.BigEndian.Uint16(p[20:]), binary.BigEndian.Uint16(p[22:]); sp != tt.sport || dp != dst.Port() {
				t.Errorf("ports %d -> %d, want %d -> %d", sp, dp, tt.sport, dst.Port())
			}
		})
	}
}
