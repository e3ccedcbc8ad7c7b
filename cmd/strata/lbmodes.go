package main

import (
	"fmt"

	"github.com/strata-dp/strata/dataplane/lb/mode"
)

// lbModeReport describes which load-balancer modes this host supports and
// what --mode auto picks, from real detection (capabilities, and an XDP
// attach probe when an interface is named by STRATA_LB_IFACE).
func lbModeReport() []string {
	r := mode.Detect(lbProbeIface())
	lines := []string{
		fmt.Sprintf("lb capabilities: CAP_BPF=%v CAP_NET_ADMIN=%v", r.Caps.BPF, r.Caps.NetAdmin),
	}
	if r.Iface != "" {
		lines = append(lines, fmt.Sprintf("lb xdp on %s: native=%v generic=%v veth=%v", r.Iface, r.Native, r.Generic, r.Veth))
	}
	lines = append(lines,
		"lb modes: userspace"+xdpModes(r),
		fmt.Sprintf("lb mode auto: %s (%s)", r.Choice, r.Reason))
	return lines
}

func xdpModes(r mode.Report) string {
	switch {
	case r.Native:
		return ", xdp-native, xdp-generic"
	case r.Generic:
		return ", xdp-generic"
	case r.Caps.BPF && r.Caps.NetAdmin && r.Iface == "":
		return ", xdp (capabilities present; name an interface to probe)"
	}
	return ""
}
