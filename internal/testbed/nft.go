package testbed

import (
	"fmt"
	"os"
	"os/exec"
	"strings"

	"github.com/strata-dp/strata/internal/netns"
)

// NftAlgos are the kube-proxy-style nftables DNAT balancers the bed can
// set up in place of Strata's LB, for side-by-side measurement.
var NftAlgos = []string{"numgen", "jhash"}

// nftRules is the ruleset for the LB namespace: DNAT the VIP's port to a
// backend chosen by numgen (random per new flow) or jhash (of the source
// address and port), conntrack keeping each flow on its choice, and
// masquerade so replies come back through the LB to be un-NATed.
func (b *Bed) nftRules(algo string) (string, error) {
	var pick string
	switch algo {
	case "numgen":
		pick = fmt.Sprintf("numgen random mod %d", len(b.Backends))
	case "jhash":
		pick = fmt.Sprintf("jhash ip saddr . th sport mod %d", len(b.Backends))
	default:
		return "", fmt.Errorf("%w: nft algorithm %q (allowed: %s)", ErrBadOpts, algo, strings.Join(NftAlgos, ", "))
	}
	var elems, addrs []string
	for i, be := range b.Backends {
		elems = append(elems, fmt.Sprintf("%d : %s", i, be.Addr()))
		addrs = append(addrs, be.Addr().String())
	}
	return fmt.Sprintf(`table ip strata_lb_dnat {
	chain pre {
		type nat hook prerouting priority dstnat; policy accept;
		ip daddr %s meta l4proto { tcp, udp } th dport %d dnat to %s map { %s }
	}
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		ip daddr { %s } ct status dnat masquerade
	}
}
`, VIP.Addr(), VIP.Port(), pick, strings.Join(elems, ", "), strings.Join(addrs, ", ")), nil
}

// nftNetwork turns the LB namespace into an nftables DNAT router.
func (b *Bed) nftNetwork() error {
	rules, err := b.nftRules(b.Opts.NftAlgo)
	if err != nil {
		return err
	}
	for _, kv := range []string{"net.ipv4.ip_forward=1", "net.ipv4.conf.all.send_redirects=0", "net.ipv4.conf.eth0.send_redirects=0"} {
		if err := netns.Exec(b.LBNS, "sysctl", "-qw", kv); err != nil {
			return fmt.Errorf("testbed: %w", err)
		}
	}
	cmd := exec.Command("ip", "netns", "exec", b.LBNS, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("testbed: nft: %w: %s", err, out)
	}
	return os.WriteFile(b.Opts.StateDir+"/nft.rules", []byte(rules), 0o644)
}
