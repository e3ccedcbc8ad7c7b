package xdp

import (
	"bytes"
	"encoding/binary"
	"maps"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/strata-dp/strata/internal/bpftest"
	"github.com/strata-dp/strata/internal/packet"
)

const (
	tcActOK   = 0
	tcActShot = 2
)

// decapModel is the Go reference model of bpf/lib/decap.h.
func decapModel(f []byte) (int, []byte, string) {
	if len(f) < 14 {
		return tcActOK, f, "pass"
	}
	l3 := f[14:]
	var outer int
	what := "decap_v4"
	switch binary.BigEndian.Uint16(f[12:]) {
	case packet.EtherTypeIPv4:
		if len(l3) < 20 || l3[0]>>4 != 4 || l3[0]&0xf < 5 || l3[9] != packet.ProtoIPIP ||
			binary.BigEndian.Uint16(l3[6:])&0x3fff != 0 {
			return tcActOK, f, "pass"
		}
		outer = int(l3[0]&0xf) * 4
		if len(l3) < outer+20 || l3[outer]>>4 != 4 {
			return tcActShot, f, "malformed"
		}
	case packet.EtherTypeIPv6:
		if len(l3) < 40 || l3[0]>>4 != 6 || l3[6] != packet.ProtoIPv6 {
			return tcActOK, f, "pass"
		}
		outer = 40
		if len(l3) < outer+40 || l3[outer]>>4 != 6 {
			return tcActShot, f, "malformed"
		}
		what = "decap_v6"
	default:
		return tcActOK, f, "pass"
	}
	return tcActOK, append(append([]byte(nil), f[:14]...), l3[outer:]...), what
}

type decapHarness struct {
	d    *Decap
	last map[string]uint64
}

func newDecapHarness(t testing.TB) *decapHarness {
	t.Helper()
	bpftest.RequireRoot(t)
	d, err := AttachDecap("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return &decapHarness{d: d, last: map[string]uint64{}}
}

func (h *decapHarness) run(t testing.TB, in []byte) (int, []byte, map[string]uint64) {
	t.Helper()
	out := make([]byte, len(in)+64)
	opts := &ebpf.RunOptions{Data: in, DataOut: out}
	ret, err := h.d.objs.TcDecap.Run(opts)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	wantRet, wantOut, _ := decapModel(in)
	if int(ret) != wantRet {
		t.Errorf("verdict %d, model says %d", ret, wantRet)
	}
	if !bytes.Equal(opts.DataOut, wantOut) {
		t.Errorf("output differs from model:\n prog  %x\n model %x", opts.DataOut, wantOut)
	}
	now, err := h.d.Stats()
	if err != nil {
		t.Fatal(err)
	}
	delta := map[string]uint64{}
	for k, v := range now {
		if v != h.last[k] {
			delta[k] = v - h.last[k]
		}
	}
	h.last = now
	return int(ret), opts.DataOut, delta
}

func TestDecapTable(t *testing.T) {
	h := newDecapHarness(t)
	inner4 := tcp("198.18.9.1:1000", "198.18.0.11:80").L3()
	inner6 := tcp("[fd00:5354:9::1]:1000", "[fd00:5354::11]:80").L3()
	eth4 := packet.Ethernet(lbMAC, clientMAC, nil, packet.EtherTypeIPv4)
	eth6 := packet.Ethernet(lbMAC, clientMAC, nil, packet.EtherTypeIPv6)
	o4 := netip.MustParseAddr("198.18.255.7")
	b4 := netip.MustParseAddr("198.18.2.1")
	o6 := netip.MustParseAddr("fd00:5354:ffff::7")
	b6 := netip.MustParseAddr("fd00:5354:2::1")
	cat := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	tests := []struct {
		name      string
		frame     []byte
		wantRet   int
		wantInner []byte // nil: output must equal input
		wantStat  string
	}{
		{"IPv4 in IPv4", cat(eth4, packet.IPv4(o4, b4, packet.ProtoIPIP, 64, 0, 0, nil, inner4)), tcActOK, inner4, "decap_v4"},
		{"IPv6 in IPv6", cat(eth6, packet.IPv6(o6, b6, packet.ProtoIPv6, 64, 0, 0, inner6)), tcActOK, inner6, "decap_v6"},
		{"outer IPv4 options", cat(eth4, packet.IPv4(o4, b4, packet.ProtoIPIP, 64, 0, 0, []byte{1, 1, 1, 0}, inner4)), tcActOK, inner4, "decap_v4"},
		{"plain TCP IPv4 passes", cat(eth4, inner4), tcActOK, nil, "pass"},
		{"plain TCP IPv6 passes", cat(eth6, inner6), tcActOK, nil, "pass"},
		{"ARP passes", cat(packet.Ethernet(lbMAC, clientMAC, nil, packet.EtherTypeARP), make([]byte, 28)), tcActOK, nil, "pass"},
		{"6in4 passes", cat(eth4, packet.IPv4(o4, b4, packet.ProtoIPv6, 64, 0, 0, nil, inner6)), tcActOK, nil, "pass"},
		{"outer fragment passes", cat(eth4, packet.IPv4(o4, b4, packet.ProtoIPIP, 64, 0, 0x2000, nil, inner4)), tcActOK, nil, "pass"},
		{"VLAN-tagged passes", cat(packet.Ethernet(lbMAC, clientMAC, []uint16{5}, packet.EtherTypeIPv4), packet.IPv4(o4, b4, packet.ProtoIPIP, 64, 0, 0, nil, inner4)), tcActOK, nil, "pass"},
		{"outer IHL beyond frame drops", cat(eth4, mutateIHL(packet.IPv4(o4, b4, packet.ProtoIPIP, 64, 0, 0, nil, nil), 15)), tcActShot, nil, "malformed"},
		{"truncated inner drops", cat(eth4, packet.IPv4(o4, b4, packet.ProtoIPIP, 64, 0, 0, nil, inner4[:12])), tcActShot, nil, "malformed"},
		{"IPv6 inside IPv4 IPIP drops", cat(eth4, packet.IPv4(o4, b4, packet.ProtoIPIP, 64, 0, 0, nil, inner6)), tcActShot, nil, "malformed"},
		{"IPv4 inside IPv6 tunnel drops", cat(eth6, packet.IPv6(o6, b6, packet.ProtoIPv6, 64, 0, 0, append(inner4, make([]byte, 40)...))), tcActShot, nil, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ret, out, delta := h.run(t, tt.frame)
			if ret != tt.wantRet {
				t.Fatalf("verdict %d, want %d", ret, tt.wantRet)
			}
			want := tt.frame
			if tt.wantInner != nil {
				want = cat(tt.frame[:14], tt.wantInner)
			}
			if !bytes.Equal(out, want) {
				t.Errorf("output\n got %x\nwant %x", out, want)
			}
			if !maps.Equal(delta, map[string]uint64{tt.wantStat: 1}) {
				t.Errorf("stats changed %v, want %s+1", delta, tt.wantStat)
			}
		})
	}
}

// TestDecapUndoesEncap: what the LB's IPIP forwarding emits, the decap
// program turns back into the client's packet, valid checksums and all.
func TestDecapUndoesEncap(t *testing.T) {
	lbh := newHarness(t)
	lbh.apply(tableConfig())
	dh := newDecapHarness(t)
	for _, f := range [][]byte{
		tcp("198.18.9.1:3000", "198.18.0.11:80").Bytes(),
		tcp("[fd00:5354:9::1]:3000", "[fd00:5354::11]:80").Bytes(),
	} {
		ret, enc := lbh.run(t, f)
		if ret != xdpTX {
			t.Fatalf("LB verdict %d", ret)
		}
		_, dec, _ := dh.run(t, enc)
		if !bytes.Equal(dec[14:], f[14:]) {
			t.Errorf("decapsulated packet differs from the client's:\n got %x\nwant %x", dec[14:], f[14:])
		}
		checkValid(t, dec)
	}
}

// FuzzDecapVsModel compares the decap program with its model on frames
// derived from LB-style encapsulation, then truncated and corrupted.
func FuzzDecapVsModel(f *testing.F) {
	f.Add([]byte{4, 1, 0, 0, 0})
	f.Add([]byte{6, 2, 0, 0, 0})
	f.Add([]byte{4, 3, 0x40, 30, 0, 14, 0x46})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x86, 0xdd, 0x60})
	h := newDecapHarness(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		h.run(t, decapFrameFromFuzz(data))
	})
}

func decapFrameFromFuzz(data []byte) []byte {
	r := fuzzReader{b: data}
	kind := r.byte()
	inner := frameFromFuzz(r.rest())
	r = fuzzReader{b: data[min(len(data), 1):]}
	var frame []byte
	switch kind % 4 {
	case 0:
		frame = inner
	case 1:
		frame = append(packet.Ethernet(lbMAC, clientMAC, nil, packet.EtherTypeIPv4),
			packet.IPv4(netip.MustParseAddr("198.18.255.1"), netip.MustParseAddr("198.18.2.1"), packet.ProtoIPIP, 64, 0, 0, nil, inner[min(14, len(inner)):])...)
	case 2:
		frame = append(packet.Ethernet(lbMAC, clientMAC, nil, packet.EtherTypeIPv6),
			packet.IPv6(netip.MustParseAddr("fd00:5354:ffff::1"), netip.MustParseAddr("fd00:5354:2::1"), packet.ProtoIPv6, 64, 0, 0, inner[min(14, len(inner)):])...)
	default:
		frame = append([]byte(nil), data...)
	}
	if kind&0x40 != 0 && len(data) > 2 {
		if n := int(data[1]) % (len(frame) + 1); n >= 14 {
			frame = frame[:n]
		}
	}
	// The kernel's skb test run refuses frames whose ethertype promises an
	// IP header the frame does not hold (minimum 54 bytes covers both).
	if len(frame) < 54 {
		frame = append(frame, make([]byte, 54-len(frame))...)
	}
	if kind&0x80 != 0 && len(data) > 3 {
		frame[int(data[2])%len(frame)] = data[3]
	}
	return frame
}

func mutateIHL(ip []byte, ihl byte) []byte {
	ip[0] = ip[0]&0xf0 | ihl&0xf
	return ip
}
