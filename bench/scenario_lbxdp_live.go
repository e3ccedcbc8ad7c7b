package bench

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/strata-dp/strata/bench/loadgen"
	"github.com/strata-dp/strata/internal/netns"
	"github.com/strata-dp/strata/internal/packet"
	"github.com/strata-dp/strata/internal/testbed"
)

// The live generator cycles over liveFlows distinct flows, client source
// ports from liveFirstPort.
const (
	liveFlows     = 64
	liveFirstPort = 20000
)

// testbedPPSLive injects the same TCP frames into each bed's LB namespace
// at kernel speed with BPF_PROG_RUN live frames, as if the LB's eth0 had
// received them from the client. A small program restores each frame from
// its template (live mode reuses buffers without resetting them), then in
// the strata bed tail-calls the running balancer's own XDP program (XDP_TX
// to the backends), in the nftables bed returns XDP_PASS: the kernel stack,
// nftables DNAT and forwarding handle them. packets_per_sec counts what the
// backends' eth0 received per second of the run, injected_per_sec what the
// generator injected. The packets are ACKs of established-looking flows
// (no SYN: the XDP balancer schedules every SYN afresh, and nftables
// tracks them as retransmissions), so both take their flow-hit path after
// the first packet of each flow. The backends drop them in their raw
// prerouting hook, after eth0 counted them: a RST answer would make
// conntrack delete each flow (a reply that is only a RST ends an
// unestablished connection), so nftables would schedule every packet
// afresh and drop most as insert clashes, measuring the generator's
// artefact instead of DNAT.
func (h *Harness) testbedPPSLive(ctx context.Context, beds map[string]*testbed.Bed, systems []string) error {
	const rounds = 2
	repeat := Pick(h.Opts, 256, 2048)
	frames := map[string][][]byte{}
	var live []string
	for _, sys := range systems {
		f, err := liveFrames(beds[sys])
		if err != nil {
			h.Skip(sys, "testbed-pps-live", err)
			continue
		}
		frames[sys] = f
		live = append(live, sys)
	}
	h.Condition("testbed_pps_live", fmt.Sprintf("BPF_PROG_RUN with BPF_F_TEST_XDP_LIVE_FRAMES in the LB namespace, ingress = its eth0: %d TCP ACK frames (%d bytes, client %d source ports -> %s), in bursts of %d, %d rounds (%d frames per run, one test run); both through one BPF program that restores the frame from its template (live mode reuses buffers without resetting them) and counts it; strata: it tail-calls the balancer's attached XDP program (XDP_TX, L2 DSR); nftables: it returns XDP_PASS, then the stack's DNAT (numgen) and forwarding; backends drop the frames in raw prerouting after eth0 counts them; packets_per_sec counts what the 4 backends' eth0 received over the run's wall time, injected_per_sec what was injected",
		liveFlows, len(firstFrame(frames)), liveFlows, testbed.VIP, repeat, rounds, liveFlows*repeat*rounds))
	sunk := live[:0:0]
	var undos []func()
	defer func() {
		for _, undo := range undos {
			undo()
		}
	}()
	for _, sys := range live {
		undo, err := sinkLiveFlows(beds[sys])
		undos = append(undos, undo)
		if err != nil {
			h.Skip(sys, "testbed-pps-live", err)
			continue
		}
		sunk = append(sunk, sys)
	}
	live = sunk
	return h.Alternate(ctx, "testbed-pps-live", live, func(ctx context.Context, sys string) ([]Sample, error) {
		bed := beds[sys]
		before, err := backendRxPackets(bed)
		if err != nil {
			return nil, err
		}
		gen := loadgen.LiveXDP{NS: bed.LBNS, Iface: "eth0", Attached: sys == "strata",
			Frames: frames[sys], Repeat: repeat, Rounds: rounds}
		res, err := gen.Run(ctx)
		if err != nil {
			return nil, err
		}
		// Let the last packets drain through the bed before counting.
		time.Sleep(200 * time.Millisecond)
		after, err := backendRxPackets(bed)
		if err != nil {
			return nil, err
		}
		if after <= before {
			return nil, fmt.Errorf("no packet reached the backends (%d injected)", res.Injected)
		}
		return []Sample{
			{"testbed-pps-live", MetricPPS, float64(after-before) / res.Elapsed.Seconds()},
			{"testbed-pps-live", "injected_per_sec", res.PerSec()},
		}, nil
	})
}

// liveFrames builds the generator's frames for one bed: Ethernet to the LB
// namespace's eth0, IPv4 TCP ACKs from the client's address over liveFlows
// source ports to the VIP. Only the destination MAC differs between beds.
func liveFrames(bed *testbed.Bed) ([][]byte, error) {
	lbMAC, _, err := loadgen.IfaceAddr(bed.LBNS, "eth0")
	if err != nil {
		return nil, err
	}
	clientMAC, clientIP, err := loadgen.IfaceAddr(bed.ClientNS, "eth0")
	if err != nil {
		return nil, err
	}
	src, ok := netip.AddrFromSlice(clientIP)
	if !ok {
		return nil, fmt.Errorf("client address %v", clientIP)
	}
	out := make([][]byte, liveFlows)
	for i := range out {
		out[i] = packet.Spec{
			SrcMAC: clientMAC, DstMAC: lbMAC,
			Src: netip.AddrPortFrom(src, uint16(liveFirstPort+i)), Dst: testbed.VIP,
			Proto: packet.ProtoTCP, TCPFlags: 0x10, // ACK
		}.Bytes()
	}
	return out, nil
}

// sinkLiveFlows makes each backend drop the live flows before its stack
// answers them (see testbedPPSLive); undo removes the rule.
func sinkLiveFlows(bed *testbed.Bed) (undo func(), err error) {
	var done []string
	undo = func() {
		for _, ns := range done {
			_ = netns.Run("ip", "netns", "exec", ns, "nft", "delete", "table", "ip", "strata_bench_sink")
		}
	}
	for i := range bed.Backends {
		ns := fmt.Sprintf("%s-b%d", bed.Opts.Prefix, i+1)
		steps := [][]string{
			{"add", "table", "ip", "strata_bench_sink"},
			{"add", "chain", "ip", "strata_bench_sink", "pre", "{ type filter hook prerouting priority -300 ; }"},
			{"add", "rule", "ip", "strata_bench_sink", "pre", "tcp", "dport", "80", "tcp", "sport",
				fmt.Sprintf("%d-%d", liveFirstPort, liveFirstPort+liveFlows-1), "drop"},
		}
		done = append(done, ns)
		for _, st := range steps {
			if err := netns.Run("ip", append([]string{"netns", "exec", ns, "nft"}, st...)...); err != nil {
				return undo, fmt.Errorf("backend sink rule: %w", err)
			}
		}
	}
	return undo, nil
}

func firstFrame(frames map[string][][]byte) []byte {
	for _, f := range frames {
		return f[0]
	}
	return nil
}
