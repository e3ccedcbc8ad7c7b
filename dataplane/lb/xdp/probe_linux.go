package xdp

import (
	"fmt"
	"net"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
)

// Probe reports whether an XDP program can be attached to iface in native
// (driver) and in generic mode, by briefly attaching a program that passes
// every packet. err is set when neither works or the probe itself cannot
// run (no privileges, no such interface, BPF unavailable); it wraps
// ErrNotPrivileged when the process lacks root.
func Probe(iface string) (native, generic bool, err error) {
	if os.Geteuid() != 0 {
		return false, false, ErrNotPrivileged
	}
	ifc, err := net.InterfaceByName(iface)
	if err != nil {
		return false, false, fmt.Errorf("xdp: probe: %w", err)
	}
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:    "strata_probe",
		Type:    ebpf.XDP,
		License: "Dual BSD/GPL",
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, xdpPassAction),
			asm.Return(),
		},
	})
	if err != nil {
		return false, false, fmt.Errorf("xdp: probe: load: %w", err)
	}
	defer func() { _ = prog.Close() }()
	try := func(flags link.XDPAttachFlags) error {
		l, err := link.AttachXDP(link.XDPOptions{Program: prog, Interface: ifc.Index, Flags: flags})
		if err != nil {
			return err
		}
		return l.Close()
	}
	nerr := try(link.XDPDriverMode)
	gerr := try(link.XDPGenericMode)
	native, generic = nerr == nil, gerr == nil
	if !native && !generic {
		return false, false, fmt.Errorf("%w to %s: native: %w; generic: %w", ErrAttach, iface, nerr, gerr)
	}
	return native, generic, nil
}

// xdpPassAction is XDP_PASS.
const xdpPassAction = 2
