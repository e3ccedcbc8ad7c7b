package xdp

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/internal/bpftest"
	"github.com/strata-dp/strata/internal/packet"
)

var (
	lbMAC     = net.HardwareAddr{0x02, 0x53, 0, 0, 0, 0x01}
	clientMAC = net.HardwareAddr{0x02, 0x53, 0, 0, 0, 0x02}
	testSrc4  = netip.MustParsePrefix("198.18.255.0/24")
	testSrc6  = netip.MustParsePrefix("fd00:5354:ffff::/112")
)

// harness is a loaded, unattached balancer plus the reference model, fed the
// same configurations.
type harness struct {
	t     testing.TB
	b     *Balancer
	model *model
	last  Stats
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	bpftest.RequireRoot(t)
	b, err := New(Options{
		ConntrackSize: 65536, EncapSource4: testSrc4, EncapSource6: testSrc6, NoPin: true,
	})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &harness{t: t, b: b, model: newModel(testSrc4, testSrc6)}
}

func (h *harness) apply(cfg lb.Config) {
	h.t.Helper()
	if err := h.b.Apply(context.Background(), cfg); err != nil {
		h.t.Fatalf("apply: %v", err)
	}
	h.model.apply(h.b.cur, h.b.gen)
	h.last = h.stats()
}

func (h *harness) stats() Stats {
	h.t.Helper()
	st, err := h.b.Stats()
	if err != nil {
		h.t.Fatalf("stats: %v", err)
	}
	return st
}

// run feeds one frame to the program on CPU 0 and to the model, fails on
// any disagreement, and returns the program's verdict and output.
func (h *harness) run(t testing.TB, frame []byte) (int, []byte) {
	t.Helper()
	out := make([]byte, len(frame)+256)
	var ret uint32
	var err error
	opts := &ebpf.RunOptions{Data: frame, DataOut: out}
	bpftest.OnCPU0(t, func() { ret, err = h.b.prog.Run(opts) })
	if err != nil {
		t.Fatalf("prog.Run: %v", err)
	}
	out = opts.DataOut
	wantRet, wantOut := h.model.process(frame)
	if int(ret) != wantRet {
		t.Errorf("verdict %d, model says %d", ret, wantRet)
	}
	if !bytes.Equal(out, wantOut) {
		t.Errorf("output differs from model:\n prog  %x\n model %x", out, wantOut)
	}
	return int(ret), out
}

// delta returns the counters that changed since the last call, flattened to
// names such as "ct_miss", "tx", "pass/no_service", "svc/<key>/packets".
func (h *harness) delta() map[string]uint64 {
	h.t.Helper()
	now := h.stats()
	d := map[string]uint64{}
	put := func(name string, a, b uint64) {
		if a != b {
			d[name] = a - b
		}
	}
	put("ct_hit", now.ConntrackHits, h.last.ConntrackHits)
	put("ct_miss", now.ConntrackMisses, h.last.ConntrackMisses)
	put("tx", now.TX, h.last.TX)
	put("redirect", now.Redirect, h.last.Redirect)
	for k, v := range now.Pass {
		put("pass/"+k, v, h.last.Pass[k])
	}
	for k, v := range now.Drop {
		put("drop/"+k, v, h.last.Drop[k])
	}
	for k, v := range now.Services {
		o := h.last.Services[k]
		put("svc/"+k+"/packets", v.Packets, o.Packets)
		put("svc/"+k+"/new", v.NewFlows, o.NewFlows)
		put("svc/"+k+"/bytes", v.Bytes, o.Bytes)
	}
	for k, v := range now.Backends {
		o := h.last.Backends[k]
		put("be/"+k+"/packets", v.Packets, o.Packets)
		put("be/"+k+"/new", v.NewFlows, o.NewFlows)
	}
	h.last = now
	return d
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func mac(last byte) net.HardwareAddr { return net.HardwareAddr{0x02, 0x53, 0xbe, 0, 0, last} }

func backend(addr string, weight uint32, last byte) lb.Backend {
	return lb.Backend{Addr: ap(addr), Weight: weight, MAC: mac(last)}
}

// tcp is a mid-connection segment (ACK): the first one of a 5-tuple the
// program has not seen is scheduled, later ones hit the connection table.
func tcp(src, dst string) packet.Spec {
	return packet.Spec{SrcMAC: clientMAC, DstMAC: lbMAC, Src: ap(src), Dst: ap(dst), Proto: packet.ProtoTCP,
		TCPFlags: tcpACK, Payload: []byte("GET / HTTP/1.1\r\n\r\n")}
}

// syn is a connection's first segment.
func syn(src, dst string) packet.Spec {
	s := tcp(src, dst)
	s.TCPFlags = tcpSYN
	return s
}

const (
	tcpSYN = 0x02
	tcpACK = 0x10
)

func udp(src, dst string) packet.Spec {
	s := tcp(src, dst)
	s.Proto = packet.ProtoUDP
	return s
}

func (h *harness) backendOf(frame []byte) string {
	h.t.Helper()
	d, err := packet.Decode(frame)
	if err != nil {
		h.t.Fatalf("decode output: %v", err)
	}
	if len(d.IP) > 1 {
		return d.IP[0].Dst.String()
	}
	return fmt.Sprint(d.DstMAC)
}

func runOpts(in, out []byte) *ebpf.RunOptions { return &ebpf.RunOptions{Data: in, DataOut: out} }

func removeBackend(bs []lb.Backend, id string) []lb.Backend {
	var out []lb.Backend
	for _, b := range bs {
		if b.ID() != id {
			out = append(out, b)
		}
	}
	return out
}
