package loadgen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"

	"github.com/strata-dp/strata/internal/netns"
	"github.com/strata-dp/strata/internal/packet"
)

// TestLiveXDP injects UDP frames into a namespace of its own with
// BPF_PROG_RUN live frames, straight into the stack and through an attached
// XDP program, and checks that a socket in the namespace receives every
// frame, each flow as often as the generator says.
func TestLiveXDP(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("needs root and iproute2: %v", err)
	}
	if testing.Short() {
		t.Skip("builds a network namespace")
	}
	tests := []struct {
		name     string
		attached bool
	}{
		{"stack", false},
		{"attached", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ns := liveTestNS(t)
			if tt.attached {
				attachPass(t, ns, "va")
			}
			dst := netip.MustParseAddrPort("198.18.200.1:9999")
			var conn *net.UDPConn
			if err := netns.Do(ns, func() (err error) {
				conn, err = net.ListenUDP("udp4", net.UDPAddrFromAddrPort(dst))
				return err
			}); err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			mac, _, err := IfaceAddr(ns, "va")
			if err != nil {
				t.Fatal(err)
			}
			// Few: a live frame's skb holds a whole page, and the socket's
			// default buffer (about 200 KiB) must take them all.
			const flows, repeat, rounds = 4, 4, 2
			var frames [][]byte
			for i := 0; i < flows; i++ {
				frames = append(frames, packet.Spec{
					DstMAC: mac, SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 3},
					Src: netip.AddrPortFrom(netip.MustParseAddr("198.18.200.3"), uint16(30000+i)),
					Dst: dst, Proto: packet.ProtoUDP, Payload: []byte("strata"),
				}.Bytes())
			}
			res, err := LiveXDP{NS: ns, Iface: "va", Attached: tt.attached, Frames: frames, Repeat: repeat, Rounds: rounds}.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if want := uint64(flows * repeat * rounds); res.Injected != want {
				t.Fatalf("injected %d, want %d", res.Injected, want)
			}
			seen := map[uint16]int{}
			buf := make([]byte, 64)
			for n := 0; n < flows*repeat*rounds; n++ {
				_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
				_, from, err := conn.ReadFromUDPAddrPort(buf)
				if err != nil {
					t.Fatalf("after %d datagrams: %v", n, err)
				}
				seen[from.Port()]++
			}
			for i := 0; i < flows; i++ {
				if got := seen[uint16(30000+i)]; got != repeat*rounds {
					t.Errorf("flow %d: %d datagrams, want %d (all: %v)", i, got, repeat*rounds, seen)
				}
			}
		})
	}
}

// TestLiveXDPBadLoad checks the limits before anything is loaded.
func TestLiveXDPBadLoad(t *testing.T) {
	frame := make([]byte, 60)
	tests := []struct {
		name string
		l    LiveXDP
	}{
		{"no frames", LiveXDP{NS: "x", Iface: "eth0", Repeat: 1, Rounds: 1}},
		{"no repeat", LiveXDP{NS: "x", Iface: "eth0", Frames: [][]byte{frame}, Rounds: 1}},
		{"too many", LiveXDP{NS: "x", Iface: "eth0", Frames: [][]byte{frame}, Repeat: MaxLiveFrames, Rounds: 2}},
		{"no namespace", LiveXDP{Iface: "eth0", Frames: [][]byte{frame}, Repeat: 1, Rounds: 1}},
		{"mixed sizes", LiveXDP{NS: "x", Iface: "eth0", Frames: [][]byte{frame, frame[:50]}, Repeat: 1, Rounds: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.l.Run(context.Background()); err == nil {
				t.Fatal("want an error")
			}
		})
	}
}

// liveTestNS makes a namespace with a veth pair va (198.18.200.1/24) and
// vb, removed when the test ends.
func liveTestNS(t *testing.T) string {
	t.Helper()
	ns := fmt.Sprintf("lpps-t%04x", rand.IntN(1<<16))
	if err := netns.Add(ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = netns.Delete(ns) })
	for _, s := range [][]string{
		{"-n", ns, "link", "add", "va", "type", "veth", "peer", "name", "vb"},
		{"-n", ns, "addr", "add", "198.18.200.1/24", "dev", "va"},
		{"-n", ns, "link", "set", "va", "up"},
		{"-n", ns, "link", "set", "vb", "up"},
	} {
		if err := netns.Run("ip", s...); err != nil {
			t.Fatal(err)
		}
	}
	return ns
}

// attachPass attaches an XDP_PASS program to iface in ns (generic mode)
// for the test's lifetime.
func attachPass(t *testing.T, ns, iface string) {
	t.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type: ebpf.XDP, AttachType: ebpf.AttachXDP, License: "Dual BSD/GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prog.Close() })
	err = netns.Do(ns, func() error {
		ifc, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifc.Index, Flags: link.XDPGenericMode})
		if err != nil {
			return err
		}
		t.Cleanup(func() { l.Close() })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
