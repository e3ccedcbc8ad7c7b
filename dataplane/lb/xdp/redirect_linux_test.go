package xdp

import (
	"bytes"
	"net"
	"testing"

	"github.com/cilium/ebpf"

	"github.com/strata-dp/strata/internal/bpftest"
)

// TestRedirectEgress: with EgressIface the program redirects instead of
// XDP_TX, with the egress interface's MAC as source.
func TestRedirectEgress(t *testing.T) {
	bpftest.RequireRoot(t)
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{EgressIface: "lo", ConntrackSize: 1024, NoPin: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	h := &harness{t: t, b: b, model: newModel(DefaultEncapSource4, DefaultEncapSource6)}
	h.apply(tableConfig())
	in := tcp("198.18.9.1:1000", "198.18.0.10:80").Bytes()
	out := make([]byte, len(in)+64)
	opts := &ebpf.RunOptions{Data: in, DataOut: out}
	ret, err := b.prog.Run(opts)
	if err != nil {
		t.Fatal(err)
	}
	if ret != xdpRedirect {
		t.Fatalf("verdict %d, want XDP_REDIRECT", ret)
	}
	src := make(net.HardwareAddr, 6)
	copy(src, lo.HardwareAddr)
	if !bytes.Equal(opts.DataOut[6:12], src) {
		t.Errorf("source MAC %x, want lo's %x", opts.DataOut[6:12], src)
	}
	if d := h.delta(); d["redirect"] != 1 || d["tx"] != 0 {
		t.Errorf("counters %v, want one redirect", d)
	}
}

func TestBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"mode", Options{Mode: "turbo"}},
		{"table not prime", Options{TableSize: 65536}},
		{"conntrack too large", Options{ConntrackSize: MaxConntrack + 1}},
		{"encap families", Options{EncapSource4: DefaultEncapSource6}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.opts.setDefaults(); err == nil {
				t.Error("accepted")
			}
		})
	}
}
