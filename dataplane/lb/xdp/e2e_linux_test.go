package xdp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"github.com/vishvananda/netns"

	"github.com/strata-dp/strata/dataplane/lb"
	"github.com/strata-dp/strata/internal/bpftest"
)

// bed is a switch namespace with a bridge and one veth per host namespace.
type bed struct {
	t      *testing.T
	prefix string
}

func (b *bed) ns(name string) string { return b.prefix + name }

func (b *bed) ip(args ...string) {
	b.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		b.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func (b *bed) exec(ns string, args ...string) {
	b.t.Helper()
	full := append([]string{"netns", "exec", b.ns(ns)}, args...)
	if out, err := exec.Command("ip", full...).CombinedOutput(); err != nil {
		b.t.Fatalf("%s: %v: %s", strings.Join(full, " "), err, out)
	}
}

// in runs fn with the calling thread in namespace ns.
func (b *bed) in(ns string, fn func()) {
	b.t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		b.t.Fatal(err)
	}
	defer orig.Close()
	h, err := netns.GetFromName(b.ns(ns))
	if err != nil {
		b.t.Fatal(err)
	}
	defer h.Close()
	if err := netns.Set(h); err != nil {
		b.t.Fatal(err)
	}
	defer func() {
		if err := netns.Set(orig); err != nil {
			b.t.Fatalf("restore netns: %v", err)
		}
	}()
	fn()
}

// newBed builds: namespaces sw (bridge br0), cl (client 198.18.0.1),
// lb (198.18.0.2) and be (backend 198.18.0.3, VIP 198.18.0.100 on lo), each
// host with veth "eth0" whose peer "p-<host>" is on the bridge.
func newBed(t *testing.T) *bed {
	t.Helper()
	bpftest.RequireRoot(t)
	if testing.Short() {
		t.Skip("builds network namespaces; skipped in -short mode")
	}
	b := &bed{t: t, prefix: fmt.Sprintf("lbx%d-", os.Getpid()%100000)}
	hosts := []struct{ name, addr string }{{"cl", "198.18.0.1/24"}, {"lb", "198.18.0.2/24"}, {"be", "198.18.0.3/24"}}
	for _, n := range []string{"sw", "cl", "lb", "be"} {
		b.ip("netns", "add", b.ns(n))
		name := b.ns(n)
		t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	}
	b.exec("sw", "ip", "link", "add", "br0", "type", "bridge")
	b.exec("sw", "ip", "link", "set", "br0", "up")
	for _, h := range hosts {
		peer := "p-" + h.name
		// Created directly inside the namespaces: no name in the root one.
		b.ip("link", "add", "eth0", "netns", b.ns(h.name), "type", "veth", "peer", "name", peer, "netns", b.ns("sw"))
		b.exec(h.name, "ip", "addr", "add", h.addr, "dev", "eth0")
		b.exec(h.name, "ip", "link", "set", "eth0", "up")
		b.exec(h.name, "ip", "link", "set", "lo", "up")
		// XDP does not complete partial checksums: make senders fill them.
		b.exec(h.name, "ethtool", "-K", "eth0", "tx", "off", "rx", "off")
		b.exec("sw", "ip", "link", "set", peer, "master", "br0")
		b.exec("sw", "ip", "link", "set", peer, "up")
	}
	b.exec("be", "ip", "addr", "add", "198.18.0.100/32", "dev", "lo")
	b.exec("be", "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1", "net.ipv4.conf.all.arp_announce=2",
		"net.ipv4.conf.all.rp_filter=0", "net.ipv4.conf.eth0.rp_filter=0", "net.ipv4.conf.lo.rp_filter=0")
	b.exec("cl", "ip", "route", "add", "198.18.0.100/32", "via", "198.18.0.2")
	return b
}

// passOnPeer attaches an XDP_PASS program to the bridge side of the LB's
// veth: a veth only delivers XDP_TX frames when its peer runs XDP.
func (b *bed) passOnPeer() {
	b.t.Helper()
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: ebpf.XDP, License: "Dual BSD/GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, xdpPassAction), asm.Return()}})
	if err != nil {
		b.t.Fatal(err)
	}
	b.t.Cleanup(func() { prog.Close() })
	b.in("sw", func() {
		ifc, err := net.InterfaceByName("p-lb")
		if err != nil {
			b.t.Fatal(err)
		}
		l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifc.Index})
		if err != nil {
			b.t.Fatal(err)
		}
		b.t.Cleanup(func() { l.Close() })
	})
}

// TestEndToEnd sends UDP from a client namespace to the VIP; the LB,
// attached in native mode to its veth, forwards by direct server return to
// the backend (L2, or IPIP undone by the decap program on the backend),
// which answers the client directly from the VIP.
func TestEndToEnd(t *testing.T) {
	for _, fwd := range []lb.Forwarding{lb.L2, lb.IPIP} {
		t.Run(string(fwd), func(t *testing.T) { endToEnd(t, fwd) })
	}
}

func endToEnd(t *testing.T, fwd lb.Forwarding) {
	b := newBed(t)
	b.passOnPeer()
	var beMAC net.HardwareAddr
	b.in("be", func() {
		ifc, err := net.InterfaceByName("eth0")
		if err != nil {
			t.Fatal(err)
		}
		beMAC = ifc.HardwareAddr
	})
	// The backend echoes, prefixed, from the VIP.
	var srv net.PacketConn
	b.in("be", func() {
		var err error
		srv, err = net.ListenPacket("udp4", "198.18.0.100:5353")
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { srv.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := srv.ReadFrom(buf)
			if err != nil {
				return
			}
			_, _ = srv.WriteTo(append([]byte("backend:"), buf[:n]...), from)
		}
	}()

	var bal *Balancer
	b.in("lb", func() {
		var err error
		bal, err = New(Options{Iface: "eth0", Mode: ModeNative, PinDir: bpftest.PinDir(t), UnpinOnClose: true,
			ConntrackSize: 1024, EncapSource4: netip.MustParsePrefix("198.18.1.0/24")})
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { bal.Close() })
	var decap *Decap
	if fwd == lb.IPIP {
		b.in("be", func() {
			var err error
			if decap, err = AttachDecap("eth0"); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { decap.Close() })
		})
	}
	// L2 gives the MAC; IPIP leaves it to Apply, which finds it in the
	// LB's neighbour table once the LB has talked to the backend.
	backendMAC := beMAC
	if fwd == lb.IPIP {
		backendMAC = nil
	}
	cfg := lb.Config{Services: []lb.Service{{Name: "dns", VIP: netip.MustParseAddrPort("198.18.0.100:5353"), Proto: lb.UDP, Forwarding: fwd,
		Backends: []lb.Backend{{Addr: netip.MustParseAddrPort("198.18.0.3:5353"), Weight: 1, MAC: backendMAC}}}}}
	b.in("lb", func() {
		err := bal.Apply(context.Background(), cfg)
		if backendMAC == nil {
			if !errors.Is(err, ErrNoMAC) {
				t.Fatalf("Apply before the LB knows the backend: %v, want ErrNoMAC", err)
			}
			// Any datagram makes the LB's kernel resolve the backend by ARP.
			c, derr := net.Dial("udp4", "198.18.0.3:9")
			if derr != nil {
				t.Fatal(derr)
			}
			defer c.Close()
			for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
				_, _ = c.Write([]byte("arp"))
				if err = bal.Apply(context.Background(), cfg); err == nil {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	})

	var conn net.Conn
	b.in("cl", func() {
		var err error
		conn, err = net.Dial("udp4", "198.18.0.100:5353")
		if err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { conn.Close() })
	buf := make([]byte, 1500)
	got := ""
	for i := 0; i < 20 && got == ""; i++ {
		if _, err := fmt.Fprintf(conn, "ping %d", i); err != nil {
			t.Fatal(err)
		}
		conn.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
		if n, err := conn.Read(buf); err == nil {
			got = string(buf[:n])
		}
	}
	st, _ := bal.Stats()
	if !strings.HasPrefix(got, "backend:ping") {
		t.Fatalf("no answer through the VIP (got %q); LB stats %+v", got, st)
	}
	if st.TX == 0 || st.Services["udp/198.18.0.100:5353"].Packets == 0 {
		t.Errorf("answer arrived but the LB counted no forwarded packet: %+v", st)
	}
	if decap != nil {
		if ds, err := decap.Stats(); err != nil || ds["decap_v4"] == 0 {
			t.Errorf("decap stats %v, %v: want IPv4 decapsulations", ds, err)
		}
	}
}
