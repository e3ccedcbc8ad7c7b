package testbed

import (
	"encoding/json"
	"fmt"
	"net"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"

	"github.com/strata-dp/strata/dataplane/lb/mode"
	"github.com/strata-dp/strata/internal/netns"
)

// attachPass attaches an XDP_PASS program in native mode to iface inside
// ns. XDP_TX out of a veth only delivers when the peer runs XDP
// (DESIGN.md, Pitfalls). The legacy netlink attach outlives this process
// and goes away with the link.
func attachPass(ns, iface string) error {
	prog, err := mode.PassProgram()
	if err != nil {
		return err
	}
	defer func() { _ = prog.Close() }()
	return netns.Do(ns, func() error {
		l, err := netlink.LinkByName(iface)
		if err != nil {
			return fmt.Errorf("testbed: %s in %s: %w", iface, ns, err)
		}
		if err := netlink.LinkSetXdpFdWithFlags(l, prog.FD(), nl.XDP_FLAGS_DRV_MODE); err != nil {
			return fmt.Errorf("testbed: attach XDP_PASS to %s in %s: %w", iface, ns, err)
		}
		return nil
	})
}

// macOf reads the MAC of iface inside ns.
func macOf(ns, iface string) (net.HardwareAddr, error) {
	out, err := netns.Output("ip", "-j", "-n", ns, "link", "show", iface)
	if err != nil {
		return nil, err
	}
	var links []struct {
		Address string `json:"address"`
	}
	if err := json.Unmarshal([]byte(out), &links); err != nil || len(links) != 1 {
		return nil, fmt.Errorf("testbed: parse link of %s in %s: %v", iface, ns, err)
	}
	return net.ParseMAC(links[0].Address)
}

// xdpNetwork prepares the bed for L2 direct server return: the VIP on each
// backend's loopback (without answering ARP for it), permanent neighbour
// entries on the LB for every backend, and XDP_PASS on the LB's veth peer.
func (b *Bed) xdpNetwork() error {
	for i := range b.Backends {
		ns := b.Opts.ns(fmt.Sprintf("b%d", i+1))
		var steps [][]string
		for _, v := range b.Opts.VIPs {
			steps = append(steps, []string{"ip", "-n", ns, "addr", "add", v.String() + "/32", "dev", "lo"})
		}
		steps = append(steps, [][]string{
			{"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1"},
			{"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.all.arp_announce=2"},
			{"ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.all.rp_filter=0"},
		}...)
		for _, s := range steps {
			if err := netns.Run(s[0], s[1:]...); err != nil {
				return fmt.Errorf("testbed: %w", err)
			}
		}
		mac, err := macOf(ns, "eth0")
		if err != nil {
			return err
		}
		if err := netns.Run("ip", "-n", b.LBNS, "neigh", "replace", b.Backends[i].Addr().String(),
			"lladdr", mac.String(), "dev", "eth0", "nud", "permanent"); err != nil {
			return fmt.Errorf("testbed: %w", err)
		}
	}
	return attachPass(b.Opts.ns("br"), "v-lb")
}

// PinDir is the bpffs directory of the bed's XDP balancer.
func (o Options) PinDir() string { return "/sys/fs/bpf/strata-" + o.Prefix }
