package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/strata-dp/strata/bench/loadgen"
	"github.com/strata-dp/strata/internal/netns"
	"github.com/strata-dp/strata/internal/testbed"
)

func init() {
	register(&Scenario{
		Name:    "lb-xdp",
		Systems: []string{"strata", "nftables"},
		Summary: "XDP load balancer: ns/packet by BPF test-run; packets/s and HTTP rps through the namespace test bed vs nftables DNAT",
		Run:     runLBXDPScenario,
	})
}

// XDPTestRun measures the XDP program with BPF_PROG_RUN and returns
// nanoseconds per packet by path ("flow-hit", "new-flow"). It is set by the
// file that links the XDP package's measurement into the suite; nil means
// this build has none.
var XDPTestRun func(ctx context.Context, repeat int) (map[string]float64, error)

// Namespace prefixes of the two test beds (at most 8 of [a-z0-9]); each
// run adds two random characters so that concurrent runs (make test while
// make bench runs) never take down each other's beds.
const (
	bedXDP = "benchx"
	bedNFT = "benchn"
)

func bedPrefix(base string) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	n := rand.IntN(len(alphabet) * len(alphabet))
	return base + string(alphabet[n/len(alphabet)]) + string(alphabet[n%len(alphabet)])
}

func runLBXDPScenario(ctx context.Context, h *Harness) error {
	h.Version(ctx, "nft")
	h.Version(ctx, "wrk")
	if err := netns.Available(); err != nil {
		h.SkipAll(fmt.Errorf("%w: %v", ErrMissing, err))
		return nil
	}
	if err := h.xdpTestRun(ctx); err != nil {
		return err
	}
	return h.testbedHTTP(ctx)
}

func (h *Harness) xdpTestRun(ctx context.Context) error {
	if XDPTestRun == nil {
		h.Skip("strata", "flow-hit/new-flow", fmt.Errorf("%w: the XDP program's test-run measurement (dataplane/lb/xdp) is not in this build", ErrMissing))
		return nil
	}
	// The new-flow path gives each run its own source port: at most 65535.
	repeat := Pick(h.Opts, 10_000, 50_000)
	h.Condition("test_run", fmt.Sprintf("BPF_PROG_TEST_RUN, repeat=%d per sample, one sample per run; flow-hit (established flow, L2 XDP_TX), new-flow (Maglev lookup and conntrack insert every run), pass (no service, XDP_PASS) and xdp-drop (a bare XDP_DROP program: the floor of test-run here) measured separately", repeat))
	return h.Alternate(ctx, "xdp test-run", []string{"strata"}, func(ctx context.Context, _ string) ([]Sample, error) {
		ns, err := XDPTestRun(ctx, repeat)
		if err != nil {
			return nil, err
		}
		var out []Sample
		for _, path := range []string{"flow-hit", "new-flow", "pass", "xdp-drop"} {
			if v, ok := ns[path]; ok {
				out = append(out, Sample{path, MetricNsPerPkt, v})
			}
		}
		return out, nil
	})
}

// testbedHTTP loads two namespace test beds from their client namespaces:
// one with Strata's XDP LB (L2 direct server return), one whose LB
// namespace balances with nftables DNAT (numgen round robin, the
// kube-proxy style), over the same four stand-in backends.
func (h *Harness) testbedHTTP(ctx context.Context) error {
	if _, err := LookTool("wrk"); err != nil {
		h.SkipAll(err)
		return nil
	}
	beds := map[string]*testbed.Bed{}
	var systems []string
	for _, sys := range []string{"strata", "nftables"} {
		bed, err := h.startBed(ctx, sys)
		if err != nil {
			h.Skip(sys, "testbed-http", err)
			continue
		}
		beds[sys] = bed
		systems = append(systems, sys)
	}
	if err := h.testbedPPS(ctx, beds, systems); err != nil {
		return err
	}
	if err := h.testbedPPSLive(ctx, beds, systems); err != nil {
		return err
	}
	dur := h.Opts.RunDuration(DefaultRun)
	h.Condition("testbed_http", fmt.Sprintf("wrk -t2 -c%d keep-alive from the client namespace to %s/whoami, %v per run, 4 backends; strata: XDP L2 DSR; nftables: the bed's nft mode (DNAT, numgen round robin)", wrkConns, testbed.VIP, dur))
	return h.Alternate(ctx, "testbed-http", systems, func(ctx context.Context, sys string) ([]Sample, error) {
		w := loadgen.Wrk{
			URL: "http://" + testbed.VIP.String() + "/whoami", Conns: wrkConns, Threads: 2, Duration: h.runDuration(),
			Prefix: []string{"ip", "netns", "exec", beds[sys].ClientNS},
		}
		r, err := w.Run(ctx)
		if err != nil {
			return nil, err
		}
		return wrkSamples("testbed-http", r)
	})
}

// testbedPPS offers TCP SYNs from the client namespace as fast as one raw
// socket can send them (the same generator for both beds) and counts the
// packets that reach the backends: forwarded packets per second. Each SYN
// is answered by a backend and reset by the client's kernel, and that RST
// crosses the LB too, as in a real SYN-heavy load.
func (h *Harness) testbedPPS(ctx context.Context, beds map[string]*testbed.Bed, systems []string) error {
	const flows = 1024
	h.Condition("testbed_pps", fmt.Sprintf("strata bench flood in the client namespace: TCP SYNs to %s over %d source ports, one raw socket, %v per run; packets_per_sec counts what the 4 backends' eth0 received, sent_per_sec what the generator sent", testbed.VIP, flows, h.Opts.RunDuration(DefaultRun)))
	return h.Alternate(ctx, "testbed-pps", systems, func(ctx context.Context, sys string) ([]Sample, error) {
		bed := beds[sys]
		before, err := backendRxPackets(bed)
		if err != nil {
			return nil, err
		}
		dur := h.runDuration()
		start := time.Now()
		out, err := netns.Output("ip", "netns", "exec", bed.ClientNS, h.Strata.Bin, "bench", "flood",
			"--target", testbed.VIP.String(), "--duration", dur.String(), "--flows", strconv.Itoa(flows))
		if err != nil {
			return nil, err
		}
		elapsed := time.Since(start).Seconds()
		// Let the last packets drain through the LB before counting.
		time.Sleep(200 * time.Millisecond)
		after, err := backendRxPackets(bed)
		if err != nil {
			return nil, err
		}
		var sent uint64
		if _, err := fmt.Sscanf(strings.TrimSpace(out), "sent %d", &sent); err != nil {
			return nil, fmt.Errorf("flood output %q: %w", out, err)
		}
		if after <= before {
			return nil, fmt.Errorf("no packet reached the backends (%d sent)", sent)
		}
		return []Sample{
			{"testbed-pps", MetricPPS, float64(after-before) / elapsed},
			{"testbed-pps", "sent_per_sec", float64(sent) / elapsed},
		}, nil
	})
}

// backendRxPackets sums the packets the bed's backends received on eth0.
func backendRxPackets(bed *testbed.Bed) (uint64, error) {
	names, err := netns.List(bed.Opts.Prefix + "-b")
	if err != nil {
		return 0, err
	}
	var total uint64
	n := 0
	for _, ns := range names {
		// PREFIX-b1, -b2, ...; PREFIX-br is the bridge.
		if _, err := strconv.Atoi(strings.TrimPrefix(ns, bed.Opts.Prefix+"-b")); err != nil {
			continue
		}
		out, err := netns.Output("ip", "netns", "exec", ns, "cat", "/sys/class/net/eth0/statistics/rx_packets")
		if err != nil {
			return 0, err
		}
		v, err := strconv.ParseUint(strings.TrimSpace(out), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("rx_packets of %s: %w", ns, err)
		}
		total += v
		n++
	}
	if n != len(bed.Backends) {
		return 0, fmt.Errorf("found %d backend namespaces for %d backends", n, len(bed.Backends))
	}
	return total, nil
}

// startBed builds the test bed of one system and registers its removal.
// Both beds have the same namespaces, addresses and stand-in backends; only
// what balances in the LB namespace differs.
func (h *Harness) startBed(ctx context.Context, sys string) (*testbed.Bed, error) {
	opts := testbed.Options{Backends: 4, Bin: h.Strata.Bin}
	switch sys {
	case "strata":
		opts.Prefix, opts.Mode = bedPrefix(bedXDP), "xdp"
	case "nftables":
		if _, err := LookTool("nft"); err != nil {
			return nil, err
		}
		opts.Prefix, opts.Mode, opts.NftAlgo = bedPrefix(bedNFT), "nft", "numgen"
	}
	opts.StateDir = filepath.Join(h.Dir, "bed-"+opts.Prefix)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	bed, err := testbed.Up(ctx, opts)
	if err != nil {
		if errors.Is(err, testbed.ErrBadOpts) {
			// This build's test bed lacks the mode: absent, not broken.
			err = fmt.Errorf("%w: %v", ErrMissing, err)
		}
		return nil, err
	}
	h.Cleanup(func() { _ = bed.Down() })
	return bed, nil
}
