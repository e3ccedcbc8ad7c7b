// Package mode decides which load-balancer mode a host allows: native XDP,
// generic XDP or the userspace proxy. Detection is real: it reads the
// process's effective capabilities and, given an interface, attaches a
// trivial XDP_PASS program in each mode and detaches it again.
//
// What is dangerous here: the probe attaches to a live interface for a
// moment. It only ever attaches a program that passes every packet, and it
// does not touch an interface that already carries an XDP program.
package mode

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Mode is a load-balancer mode.
type Mode string

const (
	Auto       Mode = "auto"
	XDPNative  Mode = "xdp-native"
	XDPGeneric Mode = "xdp-generic"
	Userspace  Mode = "userspace"
)

// Parse accepts the --mode flag values.
func Parse(s string) (Mode, error) {
	switch s {
	case "auto", "":
		return Auto, nil
	case "xdp":
		return XDPNative, nil
	case "xdp-native", "xdp-generic", "userspace":
		return Mode(s), nil
	}
	return "", fmt.Errorf("--mode: %q is not one of xdp, xdp-native, xdp-generic, userspace, auto", s)
}

// IsXDP reports whether m runs the XDP data path.
func (m Mode) IsXDP() bool { return m == XDPNative || m == XDPGeneric }

// Capability bits (linux/capability.h).
const (
	capNetAdmin = 12
	capSysAdmin = 21
	capBPF      = 39
)

// Caps are the capabilities that matter to the XDP mode.
type Caps struct {
	BPF      bool // CAP_BPF, or CAP_SYS_ADMIN on kernels before 5.8
	NetAdmin bool
}

// EffectiveCaps reads the effective capability set of this process.
func EffectiveCaps() (Caps, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return Caps{}, fmt.Errorf("mode: read capabilities: %w", err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "CapEff:")
		if !ok {
			continue
		}
		bits, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err != nil {
			return Caps{}, fmt.Errorf("mode: parse CapEff %q: %w", v, err)
		}
		has := func(b uint) bool { return bits&(1<<b) != 0 }
		return Caps{BPF: has(capBPF) || has(capSysAdmin), NetAdmin: has(capNetAdmin)}, nil
	}
	return Caps{}, fmt.Errorf("mode: no CapEff line in /proc/self/status")
}

// Resolve turns a requested mode into the one that runs, with the reason:
// Auto takes what Detect finds for iface; an XDP mode must be possible on
// iface (which it needs).
func Resolve(want Mode, iface string) (Mode, string, error) {
	if want == Userspace {
		return Userspace, "requested", nil
	}
	r := Detect(iface)
	if want == Auto {
		return r.Choice, r.Reason, nil
	}
	if iface == "" {
		return "", "", fmt.Errorf("mode: %s needs an interface", want)
	}
	if (want == XDPNative && !r.Native) || (want == XDPGeneric && !r.Generic) {
		return "", "", fmt.Errorf("lb: --mode %s not possible here: %s", want, r.Reason)
	}
	return want, "requested", nil
}
