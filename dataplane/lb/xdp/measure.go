package xdp

import (
	"slices"
	"time"
)

// TestRunOptions configure MeasureTestRun.
type TestRunOptions struct {
	// Repeat is the number of program runs per sample (default 50000). The
	// new-flow sample runs at most 65535 times (NewFlowRepeat): it gives each
	// run its own source port.
	Repeat int
	// Samples is the number of samples per path (default 5).
	Samples int
	// ConntrackSize sizes the connection table (default: room for every
	// new flow of every sample, so no run pays for an LRU eviction).
	ConntrackSize uint32
}

// Measurement is one path's samples, in nanoseconds per packet as the
// kernel's BPF_PROG_TEST_RUN reports them (its timer over Repeat runs).
type Measurement struct {
	Name    string
	Samples []float64
}

// Median of the samples.
func (m Measurement) Median() float64 {
	if len(m.Samples) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(m.Samples))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Min of the samples.
func (m Measurement) Min() float64 {
	if len(m.Samples) == 0 {
		return 0
	}
	return slices.Min(m.Samples)
}

// Max of the samples.
func (m Measurement) Max() float64 {
	if len(m.Samples) == 0 {
		return 0
	}
	return slices.Max(m.Samples)
}

// TestRunResult holds every measured path.
type TestRunResult struct {
	// Baseline is a program that only returns XDP_DROP, on the same packet:
	// the floor of BPF_PROG_TEST_RUN on this machine.
	Baseline Measurement
	// FlowHit is a packet of an established flow (connection-table hit),
	// L2 forwarding, XDP_TX.
	FlowHit Measurement
	// NewFlow is a new TCP connection (SYN) on every run: Maglev lookup
	// and connection-table insert, L2 forwarding, XDP_TX. A SYN skips the
	// connection-table lookup.
	NewFlow Measurement
	// NewFlowNoSYN is the first packet of an unknown flow that is not a
	// SYN (any UDP flow, or TCP picked up mid-connection): it also pays a
	// connection-table lookup that misses.
	NewFlowNoSYN Measurement
	// Pass is a TCP packet to no service (XDP_PASS).
	Pass Measurement
	// CTInsert is a program that only inserts a new flow into the IPv4
	// connection table and drops: the kernel's floor for NewFlow.
	CTInsert      Measurement
	Repeat        int
	NewFlowRepeat int
	Elapsed       time.Duration
}

func (o *TestRunOptions) setDefaults() {
	if o.Repeat <= 0 {
		o.Repeat = 50000
	}
	if o.Samples <= 0 {
		o.Samples = 5
	}
	if o.ConntrackSize == 0 {
		o.ConntrackSize = uint32(2 * o.newFlowRepeat() * (o.Samples + 1))
	}
}

// maxNewFlowRepeat: source ports give at most this many distinct flows.
const maxNewFlowRepeat = 65535

func (o *TestRunOptions) newFlowRepeat() int { return min(o.Repeat, maxNewFlowRepeat) }
