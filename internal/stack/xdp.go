package stack

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"

	"github.com/strata-dp/strata/internal/config"
	"github.com/strata-dp/strata/internal/testbed"
)

// BedPrefix names every namespace and link of the xdp-mode stack: sup-br,
// sup-lb, sup-state, sup-b1.., and sup-host in the root namespace. It is
// fixed, so a second `strata up --mode xdp` finds the first one's network
// and refuses, and `strata testbed down --prefix sup` cleans up after a
// stack that was killed.
const BedPrefix = "sup"

// ErrBedExists is returned when the xdp-mode network is already up.
var ErrBedExists = errors.New("the xdp stack's network (namespaces " + BedPrefix + "-*) is already up: " +
	"stop that strata up first, or run `strata testbed down --prefix " + BedPrefix + "` if it died")

// ErrXDPUnfit is returned when the configuration cannot run in xdp mode.
var ErrXDPUnfit = errors.New("configuration cannot run in xdp mode")

// facadePort is where facades serve in the bed, and every VIP's port: with
// direct server return the packet keeps the VIP's port, so backends listen
// on it (0.0.0.0:80 holds the VIPs on lo and the node's own address, which
// the LB's health checks use).
const facadePort = 80

// maxBedServices bounds the VIPs (198.18.1.1..) of the xdp stack.
const maxBedServices = 16

// bedPlan is the xdp-mode stack: the configuration rewritten to the bed's
// addresses, and the namespace each process runs in.
type bedPlan struct {
	cfg  *config.Stack
	vips []netip.Addr
}

// planBed rewrites cfg for the bed: state nodes and the origin on the
// state namespace's address, facade i on backend namespace i (port 80),
// every service's VIP in 198.18.1.0/24 port 80 with its pool mapped to the
// facades, LB metrics on the LB namespace's address. Ports other than the
// facades' and VIPs' stay as configured. The edge and the control plane
// stay where cfg put them, in the root namespace.
func planBed(in *config.Stack) (*bedPlan, error) {
	data, err := in.Marshal()
	if err != nil {
		return nil, err
	}
	c, err := config.Parse(data) // a deep copy
	if err != nil {
		return nil, err
	}
	if len(c.Facades.Nodes) > testbed.MaxBackends {
		return nil, fmt.Errorf("%w: facades.nodes: %d (at most %d in xdp mode)", ErrXDPUnfit, len(c.Facades.Nodes), testbed.MaxBackends)
	}
	if len(c.LB.Services) > maxBedServices {
		return nil, fmt.Errorf("%w: lb.services: %d (at most %d in xdp mode)", ErrXDPUnfit, len(c.LB.Services), maxBedServices)
	}
	move := func(addr string, ip netip.Addr) string {
		_, port, _ := net.SplitHostPort(addr)
		return net.JoinHostPort(ip.String(), port)
	}
	for i := range c.State.Nodes {
		n := &c.State.Nodes[i]
		n.Listen, n.Metrics = move(n.Listen, testbed.StateIP), move(n.Metrics, testbed.StateIP)
		if n.RESP != "" {
			n.RESP = move(n.RESP, testbed.StateIP)
		}
	}
	c.Origin.Listen, c.Origin.Metrics = move(c.Origin.Listen, testbed.StateIP), move(c.Origin.Metrics, testbed.StateIP)
	facadeAt := map[string]string{}
	for i := range c.Facades.Nodes {
		n := &c.Facades.Nodes[i]
		ip := testbed.BackendIP(i + 1)
		bed := netip.AddrPortFrom(ip, facadePort).String()
		facadeAt[n.Listen] = bed
		n.Listen, n.Metrics = bed, move(n.Metrics, ip)
	}
	p := &bedPlan{cfg: c}
	for i := range c.LB.Services {
		svc := &c.LB.Services[i]
		field := fmt.Sprintf("lb.services[%d]", i)
		if svc.Proto != "tcp" || svc.Forwarding != "l2" {
			return nil, fmt.Errorf("%w: %s: proto %s, forwarding %s (xdp mode serves tcp with l2 forwarding to the facades)",
				ErrXDPUnfit, field, svc.Proto, svc.Forwarding)
		}
		for j := range svc.Backends {
			bed, ok := facadeAt[svc.Backends[j].Addr]
			if !ok {
				return nil, fmt.Errorf("%w: %s.backends[%d]: %s is not a facade node (in xdp mode every pool member is one)",
					ErrXDPUnfit, field, j, svc.Backends[j].Addr)
			}
			svc.Backends[j].Addr = bed
		}
		vip := netip.AddrFrom4([4]byte{198, 18, 1, byte(1 + i)})
		p.vips = append(p.vips, vip)
		svc.VIP = netip.AddrPortFrom(vip, facadePort).String()
	}
	c.Mode = "xdp"
	c.LB.Iface = "eth0"
	c.LB.Metrics = move(c.LB.Metrics, testbed.LBIP)
	if err := c.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrXDPUnfit, err)
	}
	return p, nil
}

func bedNS(host string) string { return BedPrefix + "-" + host }

// PinDir is where the xdp stack's LB pins its maps; it removes them on
// exit (--unpin) and teardown removes the directory if a killed LB left it.
func PinDir() string { return testbed.Options{Prefix: BedPrefix}.PinDir() }

// placeChildren puts each child of the bed's stack in its namespace: state
// nodes and the origin in sup-state, facade i in sup-b<i> serving on
// 0.0.0.0:80 and trusting priority headers from the edge's address, the LB
// in sup-lb on its eth0 with its own pin directory. The edge and the
// control plane stay in the root namespace. Only root
// namespace listeners are checked before start: the others live in
// namespaces that do not exist yet.
func placeChildren(cs []child, cfg *config.Stack) []child {
	facadeNS := map[string]string{}
	for i, n := range cfg.Facades.Nodes {
		facadeNS[n.ID] = bedNS("b" + strconv.Itoa(i+1))
	}
	for i := range cs {
		c := &cs[i]
		switch c.tier {
		case tierState, tierOrigin:
			c.ns = bedNS("state")
		case tierFacade:
			c.ns = facadeNS[c.name]
			c.args = replaceFlag(c.args, "--listen", fmt.Sprintf("0.0.0.0:%d", facadePort))
			// Direct server return keeps the client's address, and the
			// facades' client is the edge, in the root namespace on
			// HostIP: the one peer whose priority header counts (the
			// default, loopback, is only the facade itself here).
			c.args = replaceFlag(c.args, "--trust-priority-from", netip.PrefixFrom(testbed.HostIP, 32).String())
		case tierLB:
			c.ns = bedNS("lb")
			c.args = append(c.args, "--pin-dir", PinDir(), "--unpin")
		}
		if c.ns != "" {
			c.listens = nil
		}
	}
	return cs
}

func replaceFlag(args []string, flag, value string) []string {
	out := append([]string(nil), args...)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == flag {
			out[i+1] = value
		}
	}
	return out
}

// command is the program and arguments that run c: the strata binary, or
// `ip netns exec NS strata ...` for a child in a namespace (ip execs the
// binary, so the supervised pid is strata's and PDEATHSIG still applies).
func command(bin string, c child) (string, []string, error) {
	if c.ns == "" {
		return bin, c.args, nil
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		return "", nil, fmt.Errorf("xdp mode needs iproute2: %w", err)
	}
	return ip, append([]string{"netns", "exec", c.ns, bin}, c.args...), nil
}

// nsLabel is how the endpoints table names where a child runs.
func nsLabel(ns string) string {
	if ns == "" {
		return ""
	}
	return " [netns " + strings.TrimSpace(ns) + "]"
}
