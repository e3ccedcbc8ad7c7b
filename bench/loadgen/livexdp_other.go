//go:build !linux

package loadgen

import (
	"context"
	"errors"
	"net"
	"time"
)

// errNoLiveXDP: BPF_PROG_RUN live frames exist only on Linux.
var errNoLiveXDP = errors.New("live xdp: BPF_PROG_RUN live frames need Linux")

// MaxLiveFrames bounds one LiveXDP run.
const MaxLiveFrames = 1 << 26

// LiveXDP injects frames with BPF_PROG_RUN live frames (Linux only).
type LiveXDP struct {
	NS, Iface string
	Attached  bool
	Frames    [][]byte
	Repeat    int
	Rounds    int
}

// LiveResult is what one LiveXDP run injected, and how long it took.
type LiveResult struct {
	Injected uint64
	Elapsed  time.Duration
}

// PerSec is the injection rate.
func (r LiveResult) PerSec() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Injected) / r.Elapsed.Seconds()
}

// Run fails: there is no live-frames test run on this platform.
func (l LiveXDP) Run(context.Context) (LiveResult, error) { return LiveResult{}, errNoLiveXDP }

// IfaceAddr fails: network namespaces are Linux only.
func IfaceAddr(ns, iface string) (net.HardwareAddr, net.IP, error) { return nil, nil, errNoLiveXDP }
