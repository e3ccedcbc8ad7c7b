package xdp

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"github.com/strata-dp/strata/internal/bpftest"
)

// testNetns creates a namespace with a veth pair (lbx-a, lbx-b), removed on
// cleanup, and returns a function that runs fn inside it.
func testNetns(t *testing.T) func(fn func()) {
	t.Helper()
	bpftest.RequireRoot(t)
	if testing.Short() {
		t.Skip("creates a network namespace; skipped in -short mode")
	}
	name := fmt.Sprintf("lbx-t%d", os.Getpid())
	ip := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	ip("netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	ip("-n", name, "link", "add", "lbx-a", "type", "veth", "peer", "name", "lbx-b")
	ip("-n", name, "link", "set", "lbx-a", "up")
	ip("-n", name, "link", "set", "lbx-b", "up")
	return func(fn func()) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		orig, err := netns.Get()
		if err != nil {
			t.Fatal(err)
		}
		defer orig.Close()
		ns, err := netns.GetFromName(name)
		if err != nil {
			t.Fatal(err)
		}
		defer ns.Close()
		if err := netns.Set(ns); err != nil {
			t.Fatal(err)
		}
		defer func() {
			if err := netns.Set(orig); err != nil {
				t.Fatalf("restore netns: %v", err)
			}
		}()
		fn()
	}
}

func xdpAttached(t *testing.T, in func(func()), iface string) (attached bool, mode uint32) {
	t.Helper()
	in(func() {
		l, err := netlink.LinkByName(iface)
		if err != nil {
			t.Fatal(err)
		}
		if x := l.Attrs().Xdp; x != nil {
			attached, mode = x.Attached, x.AttachMode
		}
	})
	return attached, mode
}

// TestAttachModes attaches to a veth (which has native XDP) in each mode,
// and checks that Close detaches and, with UnpinOnClose, leaves no pins.
func TestAttachModes(t *testing.T) {
	in := testNetns(t)
	var native, generic bool
	var perr error
	in(func() { native, generic, perr = Probe("lbx-a") })
	if perr != nil || !native || !generic {
		t.Fatalf("Probe(veth) = %v, %v, %v; want native and generic", native, generic, perr)
	}
	for _, mode := range []string{ModeAuto, ModeGeneric, ModeNative} {
		t.Run(mode, func(t *testing.T) {
			pins := bpftest.PinDir(t)
			var b *Balancer
			var err error
			in(func() {
				b, err = New(Options{Iface: "lbx-a", Mode: mode, PinDir: pins, UnpinOnClose: true, ConntrackSize: 1024})
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{ModeAuto: ModeNative, ModeGeneric: ModeGeneric, ModeNative: ModeNative}[mode]
			if b.Mode() != want {
				t.Errorf("Mode() = %q, want %q", b.Mode(), want)
			}
			if on, _ := xdpAttached(t, in, "lbx-a"); !on {
				t.Error("no XDP program on lbx-a after New")
			}
			if err := b.Apply(context.Background(), tableConfig()); err != nil {
				t.Fatal(err)
			}
			if err := b.Close(); err != nil {
				t.Fatal(err)
			}
			if on, _ := xdpAttached(t, in, "lbx-a"); on {
				t.Error("XDP program still attached after Close")
			}
			if left, _ := filepath.Glob(filepath.Join(pins, "*")); len(left) != 0 {
				t.Errorf("pins left after Close: %v", left)
			}
		})
	}
}

// TestRestartKeepsFlows: a second manager on the same pin directory serves
// the first one's configuration and flows before and after its own Apply.
func TestRestartKeepsFlows(t *testing.T) {
	bpftest.RequireRoot(t)
	pins := bpftest.PinDir(t)
	opts := Options{PinDir: pins, ConntrackSize: 4096, EncapSource4: testSrc4, EncapSource6: testSrc6}
	first, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, b: first, model: newModel(testSrc4, testSrc6)}
	cfg := tableConfig()
	h.apply(cfg)
	frame := tcp("198.18.50.1:1234", "198.18.0.10:80").Bytes()
	_, out := h.run(t, frame)
	be := macOwner(out)
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	opts.UnpinOnClose = true
	second, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { second.Close() })
	run := func() (uint32, []byte) {
		t.Helper()
		buf := make([]byte, len(frame)+64)
		var ret uint32
		bpftest.OnCPU0(t, func() {
			ret, err = second.prog.Run(runOpts(frame, buf))
		})
		if err != nil {
			t.Fatal(err)
		}
		return ret, buf[:len(frame)]
	}
	if ret, out := run(); ret != xdpTX || macOwner(out) != be {
		t.Fatalf("before Apply: verdict %d backend %s, want TX to %s", ret, macOwner(out), be)
	}
	// Remove the flow's backend: the pinned connection table keeps it.
	cfg.Services[0].Backends = removeBackend(cfg.Services[0].Backends, be)
	if err := second.Apply(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	if ret, out := run(); ret != xdpTX || macOwner(out) != be {
		t.Fatalf("after Apply: verdict %d backend %s, want TX to %s", ret, macOwner(out), be)
	}
}
