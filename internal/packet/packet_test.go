package packet

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

var (
	macA = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xa}
	macB = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xb}
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
	}{
		{"tcp4", Spec{Src: netip.MustParseAddrPort("198.18.0.1:40000"), Dst: netip.MustParseAddrPort("198.18.1.1:80"), Proto: ProtoTCP, Payload: []byte("hello")}},
		{"udp4 odd payload", Spec{Src: netip.MustParseAddrPort("198.18.0.1:53"), Dst: netip.MustParseAddrPort("198.18.1.1:53"), Proto: ProtoUDP, Payload: []byte("abc")}},
		{"tcp6 vlan", Spec{VLANs: []uint16{7}, Src: netip.MustParseAddrPort("[fd00:5354::1]:1"), Dst: netip.MustParseAddrPort("[fd00:5354::2]:443"), Proto: ProtoTCP}},
		{"udp6 qinq", Spec{VLANs: []uint16{7, 8}, Src: netip.MustParseAddrPort("[fd00:5354::1]:1"), Dst: netip.MustParseAddrPort("[fd00:5354::2]:53"), Proto: ProtoUDP}},
		{"tcp4 options", Spec{Src: netip.MustParseAddrPort("198.18.0.1:1"), Dst: netip.MustParseAddrPort("198.18.1.1:80"), Proto: ProtoTCP, IPOptions: []byte{1, 1, 1, 0}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.spec.SrcMAC, tt.spec.DstMAC = macA, macB
			d, err := Decode(tt.spec.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			h := d.Inner()
			if h.Src != tt.spec.Src.Addr() || h.Dst != tt.spec.Dst.Addr() || d.SrcPort != tt.spec.Src.Port() || d.DstPort != tt.spec.Dst.Port() {
				t.Errorf("decoded %v:%d -> %v:%d", h.Src, d.SrcPort, h.Dst, d.DstPort)
			}
			if !h.ChecksumOK || !d.L4ChecksumOK {
				t.Errorf("checksums: ip %v l4 %v", h.ChecksumOK, d.L4ChecksumOK)
			}
			if !bytes.Equal(d.Payload, tt.spec.Payload) || len(d.VLANs) != len(tt.spec.VLANs) {
				t.Errorf("payload %q vlans %v", d.Payload, d.VLANs)
			}
		})
	}
}

func TestBadChecksum(t *testing.T) {
	s := Spec{Src: netip.MustParseAddrPort("198.18.0.1:1"), Dst: netip.MustParseAddrPort("198.18.1.1:80"), Proto: ProtoTCP, BadChecksum: true}
	d, err := Decode(s.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if d.L4ChecksumOK {
		t.Error("corrupted checksum verified")
	}
}

func TestDecodeErrors(t *testing.T) {
	good := Spec{Src: netip.MustParseAddrPort("198.18.0.1:1"), Dst: netip.MustParseAddrPort("198.18.1.1:80"), Proto: ProtoTCP}.Bytes()
	tests := []struct {
		name  string
		frame []byte
		want  error
	}{
		{"short ethernet", good[:10], ErrTruncated},
		{"short ip", good[:20], ErrTruncated},
		{"short tcp", good[:40], ErrTruncated},
		{"bad version", append(append([]byte{}, good[:14]...), append([]byte{0x55}, good[15:]...)...), ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Decode(tt.frame); !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestGolden pins the builder's output byte for byte against testdata, so a
// change to the builders is visible in review.
func TestGolden(t *testing.T) {
	frames := map[string][]byte{
		"tcp4-syn.bin":  Spec{SrcMAC: macA, DstMAC: macB, Src: netip.MustParseAddrPort("198.18.0.1:40000"), Dst: netip.MustParseAddrPort("198.18.1.1:80"), Proto: ProtoTCP}.Bytes(),
		"udp6-vlan.bin": Spec{SrcMAC: macA, DstMAC: macB, VLANs: []uint16{100}, Src: netip.MustParseAddrPort("[fd00:5354::1]:5353"), Dst: netip.MustParseAddrPort("[fd00:5354::100]:53"), Proto: ProtoUDP, Payload: []byte("q")}.Bytes(),
	}
	for name, got := range frames {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join("testdata", name)
			if os.Getenv("UPDATE_GOLDEN") != "" {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("frame differs from %s:\n got %x\nwant %x", path, got, want)
			}
		})
	}
}

// FuzzDecode: Decode never panics, and whatever it accepts as TCP/UDP has
// ports inside the frame.
func FuzzDecode(f *testing.F) {
	f.Add(Spec{Src: netip.MustParseAddrPort("198.18.0.1:1"), Dst: netip.MustParseAddrPort("198.18.1.1:80"), Proto: ProtoTCP}.Bytes())
	f.Add(Spec{VLANs: []uint16{1, 2}, Src: netip.MustParseAddrPort("[fd00:5354::1]:1"), Dst: netip.MustParseAddrPort("[fd00:5354::2]:53"), Proto: ProtoUDP, MoreFragments: true}.Bytes())
	inner := Spec{Src: netip.MustParseAddrPort("198.18.0.1:1"), Dst: netip.MustParseAddrPort("198.18.1.1:80"), Proto: ProtoUDP}.L3()
	f.Add(append(Ethernet(macB, macA, nil, EtherTypeIPv4), IPv4(netip.MustParseAddr("198.18.9.9"), netip.MustParseAddr("198.18.2.2"), ProtoIPIP, 64, 0, 0, nil, inner)...))
	f.Fuzz(func(t *testing.T, frame []byte) {
		d, err := Decode(frame)
		if err != nil {
			return
		}
		if len(d.IP) > maxNesting {
			t.Fatalf("%d IP headers", len(d.IP))
		}
	})
}
