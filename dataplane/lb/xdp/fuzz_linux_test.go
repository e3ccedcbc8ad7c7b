package xdp

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/strata-dp/strata/internal/packet"
)

// frameFromFuzz turns fuzz bytes into a frame that is usually close to
// something the program balances (so the fuzzer explores the interesting
// paths rather than "not IP"), then truncates and corrupts it as told.
func frameFromFuzz(data []byte) []byte {
	r := fuzzReader{b: data}
	mode := r.byte()
	if mode%8 == 0 {
		// Raw bytes, but at least an Ethernet header (test_run's minimum).
		raw := r.rest()
		if len(raw) < 14 {
			raw = append(raw, make([]byte, 14-len(raw))...)
		}
		return raw
	}
	vips := []string{"198.18.0.10", "198.18.0.11", "198.18.0.12", "198.18.0.13", "198.18.0.99",
		"fd00:5354::10", "fd00:5354::11", "fd00:5354::99"}
	ports := []uint16{80, 53, 443, 81}
	protos := []uint8{packet.ProtoTCP, packet.ProtoUDP, packet.ProtoICMP, packet.ProtoICMPv6, 0, 99}
	dst := netip.MustParseAddr(vips[int(r.byte())%len(vips)])
	var src netip.Addr
	if dst.Is4() {
		src = netip.AddrFrom4([4]byte{198, 18, 40, r.byte()})
	} else {
		src = netip.AddrFrom16([16]byte{0xfd, 0, 0x53, 0x54, 0, 9, 14: r.byte(), 15: r.byte()})
	}
	s := packet.Spec{
		SrcMAC: clientMAC, DstMAC: lbMAC,
		Src:   netip.AddrPortFrom(src, r.u16()),
		Dst:   netip.AddrPortFrom(dst, ports[int(r.byte())%len(ports)]),
		Proto: protos[int(r.byte())%len(protos)],
		TTL:   r.byte(), TOS: r.byte(),
	}
	if s.Proto == packet.ProtoTCP && flagsHint(data) {
		s.TCPFlags = tcpACK
	}
	flags := r.byte()
	for i := 0; i < int(flags%3); i++ {
		s.VLANs = append(s.VLANs, r.u16()&0xfff)
	}
	if flags&0x08 != 0 {
		s.MoreFragments = true
	}
	if flags&0x10 != 0 {
		s.FragOffset = r.u16() & 0x1fff
	}
	if flags&0x20 != 0 && dst.Is4() {
		s.IPOptions = make([]byte, 4*int(r.byte()%11))
	}
	s.Payload = make([]byte, int(r.byte()))
	frame := s.Bytes()
	if flags&0x40 != 0 {
		if n := int(r.u16()) % (len(frame) + 1); n >= 14 {
			frame = frame[:n]
		}
	}
	for flags&0x80 != 0 && r.left() >= 2 {
		at := int(r.byte()) % len(frame)
		frame[at] = r.byte()
	}
	return frame
}

type fuzzReader struct{ b []byte }

func (r *fuzzReader) left() int { return len(r.b) }

func (r *fuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

func (r *fuzzReader) u16() uint16 { return binary.BigEndian.Uint16([]byte{r.byte(), r.byte()}) }

func (r *fuzzReader) rest() []byte { v := r.b; r.b = nil; return v }

// FuzzProgramVsModel feeds the same frames to the BPF program and to the Go
// reference model and fails on any difference in verdict or output bytes.
func FuzzProgramVsModel(f *testing.F) {
	f.Add([]byte{1, 0, 1, 2, 0x30, 0x39, 0, 0, 64, 0, 0, 10})
	f.Add([]byte{2, 5, 7, 0x01, 0xbb, 2, 0, 64, 0, 1, 0, 100, 20})
	f.Add([]byte{3, 1, 9, 0x10, 0x00, 0, 0, 64, 0xb8, 2, 0, 1, 0, 2, 30})
	f.Add([]byte{4, 6, 3, 4, 0x20, 0, 0, 1, 0, 0, 0x48, 0, 0, 0x10, 5})
	f.Add([]byte{5, 0, 1, 2, 0, 80, 1, 1, 64, 0, 0x40, 0, 30, 0, 40})
	f.Add([]byte{6, 2, 3, 4, 0, 80, 0, 0, 64, 0, 0x80, 20, 0x55, 14, 0x44, 8})
	f.Add([]byte{0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00, 0x45})
	h := newHarness(f)
	h.apply(tableConfig())
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(h.model.ct) > 8192 {
			// Keep the connection table far from LRU eviction, which the
			// model does not imitate.
			h.resetConntrack(t)
		}
		h.run(t, frameFromFuzz(data))
	})
}

func (h *harness) resetConntrack(t testing.TB) {
	t.Helper()
	if err := deleteWhere(h.b.maps.LbConntrack4, func(*lbCtKey4) bool { return true }); err != nil {
		t.Fatalf("reset conntrack: %v", err)
	}
	if err := deleteWhere(h.b.maps.LbConntrack6, func(*lbCtKey6) bool { return true }); err != nil {
		t.Fatalf("reset conntrack: %v", err)
	}
	clear(h.model.ct)
}

// flagsHint picks SYN or ACK segments for TCP from the input's parity.
func flagsHint(data []byte) bool { return len(data)%2 == 0 }
