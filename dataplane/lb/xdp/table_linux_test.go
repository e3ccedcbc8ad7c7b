package xdp

import (
	"bytes"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"testing"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/dataplane/lb/flowhash"
	"github.com/strata-dp/strata/dataplane/lb/maglev"
	"github.com/strata-dp/strata/dataplane/lb/wrr"
	"github.com/strata-dp/strata/internal/packet"
)

const (
	web4  = "tcp/198.18.0.10:80"
	dns4  = "udp/198.18.0.10:53"
	web6  = "tcp/[fd00:5354::10]:443"
	tun4  = "tcp/198.18.0.11:80"
	tun6  = "tcp/[fd00:5354::11]:80"
	rr4   = "tcp/198.18.0.12:80"
	drain = "tcp/198.18.0.13:80"
)

func tableConfig() lb.Config {
	return lb.Config{Services: []lb.Service{
		{Name: "web4", VIP: ap("198.18.0.10:80"), Proto: lb.TCP, Backends: []lb.Backend{
			backend("198.18.1.1:80", 1, 1), backend("198.18.1.2:80", 1, 2), backend("198.18.1.3:80", 2, 3)}},
		{Name: "dns4", VIP: ap("198.18.0.10:53"), Proto: lb.UDP, Backends: []lb.Backend{
			backend("198.18.1.1:53", 1, 1), backend("198.18.1.2:53", 1, 2)}},
		{Name: "web6", VIP: ap("[fd00:5354::10]:443"), Proto: lb.TCP, Backends: []lb.Backend{
			backend("[fd00:5354:1::1]:443", 1, 4), backend("[fd00:5354:1::2]:443", 1, 5)}},
		{Name: "tun4", VIP: ap("198.18.0.11:80"), Proto: lb.TCP, Forwarding: lb.IPIP, Backends: []lb.Backend{
			backend("198.18.2.1:80", 1, 6), backend("198.18.2.2:80", 1, 7)}},
		{Name: "tun6", VIP: ap("[fd00:5354::11]:80"), Proto: lb.TCP, Forwarding: lb.IPIP, Backends: []lb.Backend{
			backend("[fd00:5354:2::1]:80", 1, 8), backend("[fd00:5354:2::2]:80", 1, 9)}},
		{Name: "rr4", VIP: ap("198.18.0.12:80"), Proto: lb.TCP, Scheduler: lb.RoundRobin, Backends: []lb.Backend{
			backend("198.18.3.1:80", 3, 10), backend("198.18.3.2:80", 1, 11)}},
		{Name: "drain", VIP: ap("198.18.0.13:80"), Proto: lb.TCP, Backends: []lb.Backend{
			backend("198.18.4.1:80", 0, 12)}},
	}}
}

// verdict expectations of one packet case.
type want struct {
	action int
	reason string // pass or drop reason
	svc    string // balanced service
	newFlw bool
}

type pktCase struct {
	name  string
	frame []byte
	want  want
	// sameAs names an earlier case whose backend this one must reuse.
	sameAs string
	check  func(t *testing.T, in, out []byte)
}

// TestPacketTable runs the program case by case through BPF_PROG_TEST_RUN,
// checking verdict, output bytes (against the reference model), and every
// counter after each case. Cases run in order: later ones rely on flows the
// earlier ones established.
func TestPacketTable(t *testing.T) {
	h := newHarness(t)
	cfg := tableConfig()
	h.apply(cfg)

	vlan := func(s packet.Spec, tags ...uint16) []byte { s.VLANs = tags; return s.Bytes() }
	frag := func(s packet.Spec, off uint16, more bool) []byte {
		s.FragOffset, s.MoreFragments = off, more
		return s.Bytes()
	}
	withTTL := func(s packet.Spec, ttl uint8) []byte { s.TTL = ttl; return s.Bytes() }
	icmp := tcp("198.18.9.1:0", "198.18.0.10:0")
	icmp.Proto = packet.ProtoICMP
	icmp6 := tcp("[fd00:5354:9::1]:0", "[fd00:5354::10]:0")
	icmp6.Proto = packet.ProtoICMPv6
	arp := tcp("198.18.9.1:1", "198.18.0.10:80")
	arp.EtherType = packet.EtherTypeARP
	hopByHop := func() []byte {
		inner := tcp("[fd00:5354:9::1]:1000", "[fd00:5354::10]:443").L3()[40:]
		ext := append([]byte{packet.ProtoTCP, 0, 1, 4, 0, 0, 0, 0}, inner...)
		l3 := packet.IPv6(netip.MustParseAddr("fd00:5354:9::1"), netip.MustParseAddr("fd00:5354::10"), packet.ProtoHopByHop, 64, 0, 0, ext)
		return append(packet.Ethernet(lbMAC, clientMAC, nil, packet.EtherTypeIPv6), l3...)
	}
	mutate := func(b []byte, at int, v byte) []byte { b = slices.Clone(b); b[at] = v; return b }
	truncTCP := func() []byte {
		// A consistent IPv4 header whose TCP header is cut after 10 bytes.
		l4 := tcp("198.18.9.1:1000", "198.18.0.10:80").L3()[20:30]
		l3 := packet.IPv4(netip.MustParseAddr("198.18.9.1"), netip.MustParseAddr("198.18.0.10"), packet.ProtoTCP, 64, 0, 0, nil, l4)
		return append(packet.Ethernet(lbMAC, clientMAC, nil, packet.EtherTypeIPv4), l3...)
	}
	small := udp("198.18.9.1:7", "198.18.0.10:53")
	small.Payload = nil
	padded := append(small.Bytes(), make([]byte, 60-len(small.Bytes()))...)
	smallTun := tcp("198.18.9.1:7", "198.18.0.11:80")
	smallTun.Payload = nil
	paddedTun := append(smallTun.Bytes(), make([]byte, 6)...)
	opts := tcp("198.18.9.1:2000", "198.18.0.10:80")
	opts.IPOptions = []byte{0x01, 0x01, 0x01, 0x00} // NOPs and end of list
	badSum := tcp("198.18.9.1:2001", "198.18.0.10:80")
	badSum.BadChecksum = true
	tos := tcp("198.18.9.1:2002", "198.18.0.11:80")
	tos.TOS = 0xb8

	l2Check := func(t *testing.T, in, out []byte) {
		t.Helper()
		if !bytes.Equal(out[6:12], lbMAC) {
			t.Errorf("source MAC %x, want the LB's %x", out[6:12], lbMAC)
		}
		if !bytes.Equal(out[12:], in[12:]) {
			t.Error("L2 forwarding changed bytes after the MAC addresses")
		}
		checkValid(t, out)
	}
	ipipCheck := func(t *testing.T, in, out []byte) {
		t.Helper()
		d := checkValid(t, out)
		if len(d.IP) != 2 {
			t.Fatalf("want IPIP, got %d IP headers", len(d.IP))
		}
		o, i := d.IP[0], d.IP[1]
		if o.TTL != encapTTL {
			t.Errorf("outer TTL %d, want %d", o.TTL, encapTTL)
		}
		want := testSrc4
		if o.Src.Is6() {
			want = testSrc6
		}
		if !want.Contains(o.Src) {
			t.Errorf("outer source %v not in %v", o.Src, want)
		}
		inD, _ := packet.Decode(in)
		if i.TTL != inD.Inner().TTL || i.TOS != inD.Inner().TOS || o.TOS != i.TOS {
			t.Errorf("TTL/TOS: outer %d/%#x inner %d/%#x, sent %d/%#x", o.TTL, o.TOS, i.TTL, i.TOS, inD.Inner().TTL, inD.Inner().TOS)
		}
		if !slices.Equal(d.VLANs, inD.VLANs) {
			t.Errorf("VLANs %v, sent %v", d.VLANs, inD.VLANs)
		}
	}
	unchanged := func(t *testing.T, in, out []byte) {
		t.Helper()
		if !bytes.Equal(in, out) {
			t.Error("packet modified")
		}
	}

	tx := func(svc string, newFlow bool) want { return want{action: xdpTX, svc: svc, newFlw: newFlow} }
	pass := func(r string) want { return want{action: xdpPass, reason: r} }
	drop := func(r string) want { return want{action: xdpDrop, reason: r} }

	cases := []pktCase{
		{name: "tcp4 new flow", frame: tcp("198.18.9.1:1000", "198.18.0.10:80").Bytes(), want: tx(web4, true), check: l2Check},
		{name: "tcp4 established", frame: tcp("198.18.9.1:1000", "198.18.0.10:80").Bytes(), want: tx(web4, false), sameAs: "tcp4 new flow", check: l2Check},
		{name: "tcp4 SYN on a tracked tuple is scheduled afresh", frame: syn("198.18.9.1:1000", "198.18.0.10:80").Bytes(), want: tx(web4, true), sameAs: "tcp4 new flow", check: l2Check},
		{name: "tcp4 SYN new flow", frame: syn("198.18.9.9:1000", "198.18.0.10:80").Bytes(), want: tx(web4, true), check: l2Check},
		{name: "tcp4 SYN flow established", frame: tcp("198.18.9.9:1000", "198.18.0.10:80").Bytes(), want: tx(web4, false), sameAs: "tcp4 SYN new flow", check: l2Check},
		{name: "tcp4 second flow", frame: tcp("198.18.9.2:1000", "198.18.0.10:80").Bytes(), want: tx(web4, true), check: l2Check},
		{name: "udp4 new flow", frame: udp("198.18.9.1:5000", "198.18.0.10:53").Bytes(), want: tx(dns4, true), check: l2Check},
		{name: "udp4 established", frame: udp("198.18.9.1:5000", "198.18.0.10:53").Bytes(), want: tx(dns4, false), sameAs: "udp4 new flow", check: l2Check},
		{name: "udp4 padded minimum frame", frame: padded, want: tx(dns4, true), check: l2Check},
		{name: "tcp6 new flow", frame: tcp("[fd00:5354:9::1]:1000", "[fd00:5354::10]:443").Bytes(), want: tx(web6, true), check: l2Check},
		{name: "tcp6 established", frame: tcp("[fd00:5354:9::1]:1000", "[fd00:5354::10]:443").Bytes(), want: tx(web6, false), sameAs: "tcp6 new flow", check: l2Check},
		{name: "tcp4 802.1Q", frame: vlan(tcp("198.18.9.3:1000", "198.18.0.10:80"), 100), want: tx(web4, true), check: l2Check},
		{name: "tcp4 802.1ad+802.1Q", frame: vlan(tcp("198.18.9.4:1000", "198.18.0.10:80"), 100, 200), want: tx(web4, true), check: l2Check},
		{name: "tcp6 SYN new flow", frame: syn("[fd00:5354:9::7]:1000", "[fd00:5354::10]:443").Bytes(), want: tx(web6, true), check: l2Check},
		{name: "tcp6 802.1Q", frame: vlan(tcp("[fd00:5354:9::2]:1000", "[fd00:5354::10]:443"), 7), want: tx(web6, true), check: l2Check},
		{name: "tcp4 IP options", frame: opts.Bytes(), want: tx(web4, true), check: l2Check},
		{name: "tcp4 TTL 1 forwarded unchanged", frame: withTTL(tcp("198.18.9.5:1000", "198.18.0.10:80"), 1), want: tx(web4, true), check: l2Check},
		{name: "tcp4 bad checksum forwarded as is", frame: badSum.Bytes(), want: tx(web4, true)},
		{name: "ipip4 new flow", frame: tcp("198.18.9.1:3000", "198.18.0.11:80").Bytes(), want: tx(tun4, true), check: ipipCheck},
		{name: "ipip4 established", frame: tcp("198.18.9.1:3000", "198.18.0.11:80").Bytes(), want: tx(tun4, false), sameAs: "ipip4 new flow", check: ipipCheck},
		{name: "ipip4 TOS copied", frame: tos.Bytes(), want: tx(tun4, true), check: ipipCheck},
		{name: "ipip4 802.1Q", frame: vlan(tcp("198.18.9.2:3000", "198.18.0.11:80"), 42), want: tx(tun4, true), check: ipipCheck},
		{name: "ipip4 padded frame", frame: paddedTun, want: tx(tun4, true), check: ipipCheck},
		{name: "ipip6 new flow", frame: tcp("[fd00:5354:9::1]:3000", "[fd00:5354::11]:80").Bytes(), want: tx(tun6, true), check: ipipCheck},
		{name: "ipip6 802.1ad+802.1Q", frame: vlan(tcp("[fd00:5354:9::3]:3000", "[fd00:5354::11]:80"), 1, 2), want: tx(tun6, true), check: ipipCheck},
		{name: "drained service drops new flow", frame: tcp("198.18.9.1:4000", "198.18.0.13:80").Bytes(), want: drop("no_backend"), check: unchanged},
		{name: "no VIP passes", frame: tcp("198.18.9.1:1000", "198.18.0.99:80").Bytes(), want: pass("no_service"), check: unchanged},
		{name: "VIP other port passes", frame: tcp("198.18.9.1:1000", "198.18.0.10:81").Bytes(), want: pass("no_service"), check: unchanged},
		{name: "VIP other protocol passes", frame: udp("198.18.9.1:1000", "198.18.0.10:80").Bytes(), want: pass("no_service"), check: unchanged},
		{name: "IPv6 no VIP passes", frame: tcp("[fd00:5354:9::1]:1000", "[fd00:5354::99]:443").Bytes(), want: pass("no_service"), check: unchanged},
		{name: "ARP passes", frame: arp.Bytes(), want: pass("not_ip"), check: unchanged},
		{name: "three VLAN tags pass", frame: append(packet.Ethernet(lbMAC, clientMAC, []uint16{1, 2}, packet.EtherTypeVLAN), make([]byte, 50)...), want: pass("not_ip"), check: unchanged},
		{name: "ICMP to VIP passes", frame: icmp.Bytes(), want: pass("other_proto"), check: unchanged},
		{name: "ICMPv6 to VIP passes", frame: icmp6.Bytes(), want: pass("other_proto"), check: unchanged},
		{name: "IPv6 extension header passes", frame: hopByHop(), want: pass("other_proto"), check: unchanged},
		{name: "IPv4 first fragment to VIP drops", frame: frag(tcp("198.18.9.1:1000", "198.18.0.10:80"), 0, true), want: drop("fragment"), check: unchanged},
		{name: "IPv4 later fragment to VIP drops", frame: frag(tcp("198.18.9.1:1000", "198.18.0.10:80"), 100, false), want: drop("fragment"), check: unchanged},
		{name: "IPv6 fragment to VIP drops", frame: frag(tcp("[fd00:5354:9::1]:1000", "[fd00:5354::10]:443"), 0, true), want: drop("fragment"), check: unchanged},
		{name: "fragment to no VIP passes", frame: frag(tcp("198.18.9.1:1000", "198.18.0.99:80"), 0, true), want: pass("no_service"), check: unchanged},
		{name: "truncated IPv4 header passes", frame: tcp("198.18.9.1:1000", "198.18.0.10:80").Bytes()[:14+12], want: pass("malformed"), check: unchanged},
		{name: "truncated TCP header passes", frame: truncTCP(), want: pass("malformed"), check: unchanged},
		{name: "truncated IPv6 header passes", frame: tcp("[fd00:5354:9::1]:1000", "[fd00:5354::10]:443").Bytes()[:14+30], want: pass("malformed"), check: unchanged},
		{name: "IPv4 total length beyond frame passes", frame: tcp("198.18.9.1:1000", "198.18.0.10:80").Bytes()[:60], want: pass("malformed"), check: unchanged},
		{name: "IPv4 IHL below 5 passes", frame: mutate(tcp("198.18.9.1:1000", "198.18.0.10:80").Bytes(), 14, 0x44), want: pass("malformed"), check: unchanged},
		{name: "IPv4 ethertype with version 6 passes", frame: mutate(tcp("198.18.9.1:1000", "198.18.0.10:80").Bytes(), 14, 0x65), want: pass("malformed"), check: unchanged},
		{name: "IPv6 payload length beyond frame passes", frame: tcp("[fd00:5354:9::1]:1000", "[fd00:5354::10]:443").Bytes()[:80], want: pass("malformed"), check: unchanged},
		{name: "truncated VLAN tag passes", frame: packet.Ethernet(lbMAC, clientMAC, nil, packet.EtherTypeVLAN), want: pass("malformed"), check: unchanged},
	}
	if len(cases) < 30 {
		t.Fatalf("only %d cases", len(cases))
	}
	backends := map[string]string{}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, out := h.run(t, c.frame)
			if got != c.want.action {
				t.Fatalf("verdict %d, want %d", got, c.want.action)
			}
			if c.check != nil {
				c.check(t, c.frame, out)
			}
			wantDelta := map[string]uint64{}
			switch c.want.action {
			case xdpPass:
				wantDelta["pass/"+c.want.reason] = 1
			case xdpDrop:
				wantDelta["drop/"+c.want.reason] = 1
				if c.want.reason == "no_backend" {
					wantDelta["ct_miss"] = 1
				}
			case xdpTX:
				be := h.backendOf(out)
				backends[c.name] = be
				if c.sameAs != "" && backends[c.sameAs] != be {
					t.Errorf("backend %s, but the flow went to %s before", be, backends[c.sameAs])
				}
				addTX(wantDelta, c.want.svc, h.backendID(c.want.svc, out), len(c.frame), c.want.newFlw)
			}
			if got := h.delta(); !maps.Equal(got, wantDelta) {
				t.Errorf("counter changes:\n got %v\nwant %v", got, wantDelta)
			}
		})
	}
}

func addTX(d map[string]uint64, svc, be string, size int, newFlow bool) {
	d["tx"]++
	key := "ct_hit"
	if newFlow {
		key = "ct_miss"
		d["svc/"+svc+"/new"]++
		d["be/"+backendKey(svc, be)+"/new"]++
	}
	d[key]++
	d["svc/"+svc+"/packets"]++
	d["svc/"+svc+"/bytes"] += uint64(size)
	d["be/"+backendKey(svc, be)+"/packets"]++
}

// backendID finds which backend of svc an output frame went to: by outer
// destination for IPIP, by destination MAC for L2.
func (h *harness) backendID(svc string, out []byte) string {
	h.t.Helper()
	d, err := packet.Decode(out)
	if err != nil {
		h.t.Fatalf("decode: %v", err)
	}
	for _, s := range h.b.cur.services {
		if s.svc.Key() != svc {
			continue
		}
		for _, b := range s.backends {
			if len(d.IP) > 1 && b.b.Addr.Addr() == d.IP[0].Dst || len(d.IP) == 1 && bytes.Equal(b.b.MAC, d.DstMAC) {
				return b.b.ID()
			}
		}
	}
	h.t.Fatalf("output goes to no backend of %s", svc)
	return ""
}

func checkValid(t *testing.T, frame []byte) *packet.Decoded {
	t.Helper()
	d, err := packet.Decode(frame)
	if err != nil {
		t.Fatalf("output does not decode: %v", err)
	}
	for i, ip := range d.IP {
		if !ip.ChecksumOK {
			t.Errorf("IP header %d checksum wrong", i)
		}
	}
	if !d.L4ChecksumOK {
		t.Error("transport checksum wrong")
	}
	return d
}

// TestSameBackendAsGo: the program picks, for every new flow, the backend
// that package maglev and package flowhash pick in Go, which is what the
// userspace mode does; so both modes agree flow by flow.
func TestSameBackendAsGo(t *testing.T) {
	h := newHarness(t)
	cfg := tableConfig()
	h.apply(cfg)
	var mb []lb.Weighted
	for _, b := range cfg.Services[0].Backends {
		mb = append(mb, b.Weighted())
	}
	tab, _, err := maglev.Build(mb, DefaultTableSize)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i := 0; i < 200; i++ {
		src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{198, 18, 10, byte(i)}), uint16(20000+i*7))
		frame := tcp(src.String(), "198.18.0.10:80").Bytes()
		_, out := h.run(t, frame)
		got := h.backendID(web4, out)
		want := tab.LookupID(flowhash.Hash(src.Addr(), netip.MustParseAddr("198.18.0.10"), src.Port(), 80, uint8(lb.TCP)))
		if got != want {
			t.Fatalf("flow %v: program chose %s, Go chose %s", src, got, want)
		}
		seen[got]++
	}
	if len(seen) != 3 {
		t.Errorf("200 flows reached %d of 3 backends: %v", len(seen), seen)
	}
}

// TestWRRSequence: new flows to a WRR service follow the smooth ring.
func TestWRRSequence(t *testing.T) {
	h := newHarness(t)
	cfg := tableConfig()
	h.apply(cfg)
	ring, err := wrr.Build([]lb.Weighted{{ID: "198.18.3.1:80", Weight: 3}, {ID: "198.18.3.2:80", Weight: 1}}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		_, out := h.run(t, tcp(fmt.Sprintf("198.18.9.1:%d", 7000+i), "198.18.0.12:80").Bytes())
		got := h.backendID(rr4, out)
		if want := ring.Backends()[ring.Next(uint64(i))].ID; got != want {
			t.Errorf("flow %d went to %s, ring says %s", i, got, want)
		}
	}
}

// TestChangesKeepFlows: established flows keep their backend when it is
// removed, when weights change, and when it is drained (weight 0); new
// flows never reach a removed or drained backend.
func TestChangesKeepFlows(t *testing.T) {
	h := newHarness(t)
	cfg := tableConfig()
	h.apply(cfg)
	type flow struct {
		frame []byte
		be    string
	}
	var flows []flow
	for i := 0; i < 60; i++ {
		f := tcp(fmt.Sprintf("198.18.20.%d:%d", i, 30000+i), "198.18.0.10:80").Bytes()
		_, out := h.run(t, f)
		flows = append(flows, flow{f, h.backendID(web4, out)})
	}
	newFlowsAvoid := func(t *testing.T, step int, avoid string) {
		t.Helper()
		for i := 0; i < 60; i++ {
			// Fresh source addresses per step: these must be new flows.
			_, out := h.run(t, tcp(fmt.Sprintf("198.18.%d.%d:%d", 30+step, i, 40000+i), "198.18.0.10:80").Bytes())
			if be := macOwner(out); be == avoid {
				t.Fatalf("new flow reached %s", avoid)
			}
		}
	}
	keep := func(t *testing.T) {
		t.Helper()
		for _, f := range flows {
			got, out := h.run(t, f.frame)
			if got != xdpTX {
				t.Fatalf("verdict %d", got)
			}
			if be := macOwner(out); be != f.be {
				t.Fatalf("established flow moved from %s to %s", f.be, be)
			}
		}
	}
	steps := []struct {
		name   string
		change func(s *lb.Service)
		avoid  string
	}{
		{"weight change", func(s *lb.Service) { s.Backends[2].Weight = 7 }, ""},
		{"drain 198.18.1.2", func(s *lb.Service) { s.Backends[1].Weight = 0 }, "198.18.1.2:80"},
		{"remove 198.18.1.1", func(s *lb.Service) { s.Backends = s.Backends[1:] }, "198.18.1.1:80"},
	}
	for step, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			st.change(&cfg.Services[0])
			h.apply(cfg)
			keep(t)
			if st.avoid != "" {
				newFlowsAvoid(t, step, st.avoid)
			}
		})
	}
}

// macOwner maps an L2 output's destination MAC back to the web4 backend.
func macOwner(out []byte) string {
	for i, id := range []string{"198.18.1.1:80", "198.18.1.2:80", "198.18.1.3:80"} {
		if bytes.Equal(out[0:6], mac(byte(i+1))) {
			return id
		}
	}
	return fmt.Sprintf("%x", out[0:6])
}

// TestServiceRemoval: a tracked flow of a removed service is no longer
// balanced, even when another service inherits the removed one's counter
// id; when its VIP comes back, the flow resumes on its old backend.
func TestServiceRemoval(t *testing.T) {
	h := newHarness(t)
	full := tableConfig()
	h.apply(full)
	flow := tcp("198.18.70.1:1000", "198.18.0.10:80").Bytes()
	_, out := h.run(t, flow)
	be := macOwner(out)
	without := lb.Config{Services: full.Services[1:]}
	// Three Applies without web4 let its id cool and be reused by "new".
	for i := 0; i < 3; i++ {
		cfg := without
		if i == 2 {
			cfg.Services = append(slices.Clone(without.Services), lb.Service{Name: "new",
				VIP: ap("198.18.0.20:80"), Proto: lb.TCP, Backends: []lb.Backend{backend("198.18.5.1:80", 1, 20)}})
		}
		h.apply(cfg)
		if got, _ := h.run(t, flow); got != xdpPass {
			t.Fatalf("apply %d without the service: verdict %d, want pass", i, got)
		}
	}
	h.apply(full)
	for i := 0; i < 2; i++ {
		got, out := h.run(t, flow)
		if got != xdpTX || macOwner(out) != be {
			t.Fatalf("service back: verdict %d to %s, want TX to %s", got, macOwner(out), be)
		}
	}
}
