package xdp

import (
	"fmt"
	"net"

	"github.com/vishvananda/netlink"

	"github.com/strata-dp/strata/dataplane/lb"
)

// resolveMAC finds the next-hop MAC of a backend that was configured without
// one: the backend itself for L2 forwarding, its route's gateway for IPIP,
// looked up in the kernel's neighbour table of the attached interface. It
// does not send ARP or ND itself: an unknown neighbour is an error that says
// what to do.
func (b *Balancer) resolveMAC(s lb.Service, be lb.Backend) (net.HardwareAddr, error) {
	if b.opts.Iface == "" {
		return nil, fmt.Errorf("no interface to resolve on; give the MAC")
	}
	ifname := b.opts.Iface
	if b.opts.EgressIface != "" {
		ifname = b.opts.EgressIface
	}
	ln, err := netlink.LinkByName(ifname)
	if err != nil {
		return nil, err
	}
	hop := be.Addr.Addr().Unmap()
	if s.Forwarding == lb.IPIP {
		routes, err := netlink.RouteGet(hop.AsSlice())
		if err == nil && len(routes) > 0 && routes[0].Gw != nil {
			hop = addrFromIP(routes[0].Gw)
		}
	}
	family := netlink.FAMILY_V4
	if hop.Is6() {
		family = netlink.FAMILY_V6
	}
	neighs, err := netlink.NeighList(ln.Attrs().Index, family)
	if err != nil {
		return nil, err
	}
	for _, n := range neighs {
		if addrFromIP(n.IP) == hop && len(n.HardwareAddr) == 6 &&
			n.State&(netlink.NUD_REACHABLE|netlink.NUD_STALE|netlink.NUD_PERMANENT|netlink.NUD_DELAY|netlink.NUD_PROBE) != 0 {
			return n.HardwareAddr, nil
		}
	}
	return nil, fmt.Errorf("%v has no neighbour entry on %s (reach it once, e.g. ping, or give the MAC)", hop, ifname)
}
