package mode

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/strata-dp/strata/internal/netns"
)

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Mode
		fail bool
	}{
		{"auto", Auto, false}, {"", Auto, false}, {"xdp", XDPNative, false},
		{"xdp-generic", XDPGeneric, false}, {"userspace", Userspace, false}, {"ebpf", "", true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := Parse(tc.in)
			if got != tc.want || (err != nil) != tc.fail {
				t.Fatalf("Parse(%q) = %q, %v", tc.in, got, err)
			}
		})
	}
}

func TestDetectFollowsCapabilities(t *testing.T) {
	caps, err := EffectiveCaps()
	if err != nil {
		t.Fatal(err)
	}
	var r Report
	if os.Geteuid() == 0 {
		// Probe a loopback of our own: attaching to the host's lo could
		// collide with other tests' XDP programs.
		ns := fmt.Sprintf("lbu-mode-%d", os.Getpid())
		if err := netns.Add(ns); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { netns.Delete(ns) })
		if err := netns.Do(ns, func() error { r = Detect("lo"); return nil }); err != nil {
			t.Fatal(err)
		}
	} else {
		r = Detect("lo")
	}
	if !caps.BPF || !caps.NetAdmin {
		if r.Choice != Userspace {
			t.Fatalf("without CAP_BPF/CAP_NET_ADMIN auto chose %s", r.Choice)
		}
		return
	}
	// With privileges, loopback has no native XDP driver hook but generic
	// XDP always attaches.
	for _, e := range r.ProbeErrs {
		if strings.Contains(e, ErrBusy.Error()) {
			t.Skip("lo already carries an XDP program (another test is using it)")
		}
	}
	if !r.Generic {
		t.Fatalf("generic XDP did not attach to lo: %v", r.ProbeErrs)
	}
	if r.Choice == Userspace {
		t.Fatalf("privileged detection on lo chose userspace: %s", r.Reason)
	}
	if os.Geteuid() == 0 && !caps.BPF {
		t.Fatal("root without CAP_BPF")
	}
}
