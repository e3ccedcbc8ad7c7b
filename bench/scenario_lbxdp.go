package bench

import (
	"context"
	"fmt"
	"os"
)

func init() {
	register(&Scenario{
		Name:    "lb-xdp",
		Systems: []string{"strata", "nftables"},
		Summary: "XDP load balancer: ns/packet by BPF test-run; pps and HTTP rps through the test bed vs nftables DNAT",
		Run:     runLBXDPScenario,
	})
}

// XDPTestRun measures the XDP program with BPF_PROG_RUN and returns
// nanoseconds per packet by path ("flow-hit", "new-flow"). It is set by the
// file that links the XDP package into the suite; nil means this build has
// no XDP program to measure.
var XDPTestRun func(ctx context.Context, repeat int) (map[string]float64, error)

// TestbedLoad runs HTTP load through the namespace test bed with the given
// forwarding ("strata" for Strata's XDP LB, "nftables" for DNAT) and returns
// its samples. Like XDPTestRun it is linked in with the test bed package.
var TestbedLoad func(ctx context.Context, h *Harness, forwarding string) ([]Sample, error)

func runLBXDPScenario(ctx context.Context, h *Harness) error {
	h.Version(ctx, "nft")
	if os.Geteuid() != 0 {
		err := fmt.Errorf("%w: needs root (CAP_BPF, CAP_NET_ADMIN, network namespaces)", ErrMissing)
		h.Skip("strata", "", err)
		h.Skip("nftables", "", err)
		return nil
	}
	if XDPTestRun == nil {
		h.Skip("strata", "flow-hit/new-flow", fmt.Errorf("%w: the XDP program's test-run measurement (dataplane/lb/xdp) is not in this build", ErrMissing))
	} else {
		repeat := Pick(h.Opts, 100_000, 1_000_000)
		h.Condition("test_run", fmt.Sprintf("BPF_PROG_RUN with repeat=%d per run; flow-hit and new-flow measured separately", repeat))
		err := h.Alternate(ctx, "xdp test-run", []string{"strata"}, func(ctx context.Context, _ string) ([]Sample, error) {
			ns, err := XDPTestRun(ctx, repeat)
			if err != nil {
				return nil, err
			}
			var out []Sample
			for _, path := range []string{"flow-hit", "new-flow"} {
				if v, ok := ns[path]; ok {
					out = append(out, Sample{path, MetricNsPerPkt, v})
				}
			}
			return out, nil
		})
		if err != nil {
			return err
		}
	}
	if TestbedLoad == nil {
		err := fmt.Errorf("%w: the namespace test bed (internal/testbed) is not in this build", ErrMissing)
		h.Skip("strata", "testbed-http", err)
		h.Skip("nftables", "testbed-http", err)
		return nil
	}
	return h.Alternate(ctx, "testbed-http", []string{"strata", "nftables"}, func(ctx context.Context, sys string) ([]Sample, error) {
		return TestbedLoad(ctx, h, sys)
	})
}
