package xdpmeasure

import (
	"slices"
	"time"
)

// Options configure Run.
type Options struct {
	// Repeat is the number of program runs per sample (default 50000). The
	// samples that create flows run at most 20000 times (NewFlowRepeat):
	// each run takes its own source port, and every created flow must fit
	// the connection table without eviction.
	Repeat int
	// Samples is the number of samples per path (default 5).
	Samples int
	// ConntrackSize sizes the connection table (default: room for every
	// flow every sample creates in the measuring CPU's share of the LRU, so
	// no run pays for an eviction; see setDefaults).
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

// Result holds every measured path.
type Result struct {
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
	CTInsert Measurement
	// CTUpdate rewrites one flow that is already in the table (its bucket
	// in cache) on every run: the floor of any connection-table write.
	CTUpdate Measurement
	// CTMiss looks up a new flow (a bucket not touched before) and misses:
	// what NewFlowNoSYN pays on top of NewFlow.
	CTMiss Measurement
	// CTHit looks up the flow-hit flow (cached) and drops: the floor of
	// FlowHit.
	CTHit         Measurement
	Repeat        int
	NewFlowRepeat int
	Elapsed       time.Duration
}

func (o *Options) setDefaults() {
	if o.Repeat <= 0 {
		o.Repeat = 50000
	}
	if o.Samples <= 0 {
		o.Samples = 5
	}
	if o.ConntrackSize == 0 {
		// Three samples per round insert a new flow per run (new-flow,
		// new-flow-nosyn, ct-insert). The LRU (BPF_F_NO_COMMON_LRU) splits
		// its elements evenly between the possible CPUs, and the measuring
		// thread stays on one CPU, so that CPU's share must hold them all.
		o.ConntrackSize = uint32(possibleCPUs() * (3*o.newFlowRepeat()*o.Samples + 1024))
	}
}

// maxNewFlowRepeat bounds the runs of a flow-creating sample: source ports
// give at most 65535 distinct flows, and the table must hold every flow of
// every sample (above). 20000 runs amortise the per-call cost (a syscall
// and a buffer copy, a few microseconds) to well under 1 ns per run.
const maxNewFlowRepeat = 20000

func (o *Options) newFlowRepeat() int { return min(o.Repeat, maxNewFlowRepeat) }
