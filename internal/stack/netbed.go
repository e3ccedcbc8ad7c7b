package stack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/strata-dp/strata/dataplane/lb/mode"
	"github.com/strata-dp/strata/internal/netns"
	"github.com/strata-dp/strata/internal/testbed"
)

// bedNet is the xdp stack's network: the test bed's namespaces, bridge and
// veths (checksum offload off, XDP_PASS on the LB veth's peer, VIPs on the
// backends' loopback, ARP sysctls, permanent neighbours), plus the host
// link that joins the root namespace. No process of its own: the stack
// supervises them.
type bedNet struct {
	stateDir string
}

// xdpAllowed reports why this host cannot run the xdp stack, or nil.
func xdpAllowed() error {
	if err := netns.Available(); err != nil {
		return err
	}
	caps, err := mode.EffectiveCaps()
	if err != nil {
		return err
	}
	if !caps.BPF || !caps.NetAdmin {
		return errors.New("missing CAP_BPF or CAP_NET_ADMIN")
	}
	return nil
}

// bedExists reports whether a network with the stack's prefix is up.
func bedExists() bool {
	if ns, _ := netns.List(BedPrefix + "-"); len(ns) > 0 {
		return true
	}
	return netns.Run("ip", "link", "show", testbed.Options{Prefix: BedPrefix}.HostLinkName()) == nil
}

// upNet builds the network for plan and checks that the LB's interface
// takes native XDP; on any failure it removes what it made.
func upNet(ctx context.Context, plan *bedPlan, bin, runDir string) (*bedNet, error) {
	if bedExists() {
		return nil, ErrBedExists
	}
	n := &bedNet{stateDir: filepath.Join(runDir, "netbed")}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	_, err := testbed.Up(ctx, testbed.Options{Prefix: BedPrefix, Mode: "xdp", Backends: len(plan.cfg.Facades.Nodes),
		Bin: bin, StateDir: n.stateDir, NetworkOnly: true, HostLink: true, VIPs: plan.vips})
	if err != nil {
		if errors.Is(err, testbed.ErrExists) {
			return nil, ErrBedExists
		}
		return nil, err
	}
	var r mode.Report
	if err := netns.Do(bedNS("lb"), func() error { r = mode.Detect("eth0"); return nil }); err != nil {
		return nil, errors.Join(err, n.down())
	}
	if !r.Native {
		return nil, errors.Join(fmt.Errorf("no native XDP on the LB's veth: %s", r.Reason), n.down())
	}
	return n, nil
}

// down removes every namespace and link of the bed and the LB's pinned
// maps if a killed LB left them.
func (n *bedNet) down() error {
	err := testbed.Down(BedPrefix, n.stateDir)
	if rerr := os.RemoveAll(PinDir()); rerr != nil {
		err = errors.Join(err, rerr)
	}
	return err
}
