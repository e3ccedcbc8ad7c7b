package testbed

import (
	"fmt"
	"net/netip"

	"github.com/strata-dp/strata/internal/netns"
)

// Addresses a caller that runs its own processes in the bed needs.
var (
	// HostIP is the root namespace's address on the bed (Options.HostLink).
	HostIP = netip.MustParseAddr("198.18.0.1")
	// LBIP is the LB namespace's address; the VIP range is routed via it.
	LBIP = lbAddr
	// StateIP is the state namespace's address.
	StateIP = stateIP
	// VIPRange is where the bed's VIPs live.
	VIPRange = netip.MustParsePrefix("198.18.1.0/24")
)

// BackendIP is the address of backend namespace PREFIX-b<i> (i from 1).
func BackendIP(i int) netip.Addr { return backendIP(i) }

// HostLinkName is the root namespace's end of the host link.
func (o Options) HostLinkName() string { return o.Prefix + "-host" }

func hostLinkExists(prefix string) bool {
	return netns.Run("ip", "link", "show", Options{Prefix: prefix}.HostLinkName()) == nil
}

// hostLink joins the root namespace to the bridge with one more veth pair:
// PREFIX-host (HostIP/24) here, v-host on br0, and a route to the VIP range
// via the LB, exactly like the client namespace has. Only 198.18.0.0/24 is
// on the link and only the VIP range is routed, so nothing else of the
// host's traffic enters the bed. The pair goes away with the bridge's
// namespace (deleting either end deletes both).
func (b *Bed) hostLink() error {
	host, br := b.Opts.HostLinkName(), b.Opts.ns("br")
	steps := [][]string{
		{"ip", "link", "add", host, "type", "veth", "peer", "name", "v-host", "netns", br},
		{"ip", "-n", br, "link", "set", "v-host", "master", "br0", "up"},
		{"ip", "addr", "add", HostIP.String() + "/24", "dev", host},
		{"ip", "link", "set", host, "up"},
		// Partial checksums again (DESIGN.md, Pitfalls): the host's TCP
		// segments cross the LB's XDP program.
		{"ethtool", "-K", host, "tx", "off", "rx", "off"},
		{"ip", "netns", "exec", br, "ethtool", "-K", "v-host", "tx", "off", "rx", "off"},
		{"ip", "route", "add", VIPRange.String(), "via", lbAddr.String(), "dev", host},
	}
	for _, s := range steps {
		if err := netns.Run(s[0], s[1:]...); err != nil {
			return fmt.Errorf("testbed: %w", err)
		}
	}
	return nil
}

// removeHostLink deletes the root namespace's end if it is still there
// (normally it went with the bridge's namespace).
func removeHostLink(prefix string) error {
	if !hostLinkExists(prefix) {
		return nil
	}
	if err := netns.Run("ip", "link", "del", Options{Prefix: prefix}.HostLinkName()); err != nil {
		return fmt.Errorf("testbed: %w", err)
	}
	return nil
}
