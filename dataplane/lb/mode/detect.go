package mode

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

// Report is what detection found, with the reason for the choice.
type Report struct {
	Caps      Caps
	Iface     string
	Veth      bool // the interface is a veth: XDP_TX needs a program on its peer
	Native    bool
	Generic   bool
	Choice    Mode
	Reason    string
	ProbeErrs []string
}

// Detect picks the best mode the host allows for iface (which may be empty:
// then only capabilities are checked and XDP needs an interface to run).
func Detect(iface string) Report {
	r := Report{Iface: iface}
	caps, err := EffectiveCaps()
	r.Caps = caps
	switch {
	case err != nil:
		r.Choice, r.Reason = Userspace, err.Error()
		return r
	case !caps.BPF || !caps.NetAdmin:
		r.Choice, r.Reason = Userspace, "missing "+missing(caps)
		return r
	case iface == "":
		r.Choice, r.Reason = Userspace, "capabilities allow XDP but no --iface was given"
		return r
	}
	r.Veth = isVeth(iface)
	r.Native, err = probe(iface, link.XDPDriverMode)
	if err != nil {
		r.ProbeErrs = append(r.ProbeErrs, "native: "+err.Error())
	}
	r.Generic, err = probe(iface, link.XDPGenericMode)
	if err != nil {
		r.ProbeErrs = append(r.ProbeErrs, "generic: "+err.Error())
	}
	switch {
	case r.Native:
		r.Choice, r.Reason = XDPNative, "driver supports native XDP on "+iface
		if r.Veth {
			r.Reason += " (veth: the peer must carry an XDP program for XDP_TX)"
		}
	case r.Generic:
		r.Choice, r.Reason = XDPGeneric, "no native XDP on "+iface+", generic XDP works"
	default:
		r.Choice, r.Reason = Userspace, "XDP attach failed on "+iface+": "+strings.Join(r.ProbeErrs, "; ")
	}
	return r
}

func missing(c Caps) string {
	var m []string
	if !c.BPF {
		m = append(m, "CAP_BPF")
	}
	if !c.NetAdmin {
		m = append(m, "CAP_NET_ADMIN")
	}
	return strings.Join(m, " and ")
}

func isVeth(iface string) bool {
	b, err := os.ReadFile("/sys/class/net/" + iface + "/uevent")
	if err == nil && strings.Contains(string(b), "DEVTYPE=veth") {
		return true
	}
	// veth has no DEVTYPE on some kernels; its driver link names it.
	target, err := os.Readlink("/sys/class/net/" + iface + "/device/driver")
	return err == nil && strings.HasSuffix(target, "/veth")
}

// ErrBusy means the interface already carries an XDP program.
var ErrBusy = errors.New("mode: interface already has an XDP program")

// probe attaches an XDP_PASS program in the given mode and detaches it.
func probe(iface string, flags link.XDPAttachFlags) (bool, error) {
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return false, fmt.Errorf("interface %s: %w", iface, err)
	}
	prog, err := PassProgram()
	if err != nil {
		return false, err
	}
	defer func() { _ = prog.Close() }()
	l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifc.Index, Flags: flags})
	if err != nil {
		if errors.Is(err, os.ErrExist) || strings.Contains(err.Error(), "busy") {
			return false, fmt.Errorf("%w: %w", ErrBusy, err)
		}
		return false, err
	}
	return true, l.Close()
}

// PassProgram loads an XDP program that returns XDP_PASS: the probe, and
// what the test bed attaches to veth peers so XDP_TX works.
func PassProgram() (*ebpf.Program, error) {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "strata_pass",
		Type:         ebpf.XDP,
		License:      "Apache-2.0",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 2), asm.Return()},
	})
	if err != nil {
		return nil, fmt.Errorf("mode: load XDP_PASS program: %w", err)
	}
	return prog, nil
}
