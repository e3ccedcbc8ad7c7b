//go:build !linux

package loadgen

import (
	"context"
	"errors"
	"net"
)

// errNoLiveXDP: BPF_PROG_RUN live frames exist only on Linux.
var errNoLiveXDP = errors.New("live xdp: BPF_PROG_RUN live frames need Linux")

// Run fails: there is no live-frames test run on this platform.
func (l LiveXDP) Run(context.Context) (LiveResult, error) { return LiveResult{}, errNoLiveXDP }

// IfaceAddr fails: network namespaces are Linux only.
func IfaceAddr(ns, iface string) (net.HardwareAddr, net.IP, error) { return nil, nil, errNoLiveXDP }
