package bench

import (
	"context"

	"github.com/strata-dp/strata/bench/xdpmeasure"
)

// Links the XDP program's BPF_PROG_RUN measurement into the lb-xdp
// scenario: one sample of every path per call (the harness alternates and
// repeats). "xdp-drop" is the bare XDP_DROP floor of test runs on this
// machine, "pass" a packet to no service, "ct-insert" a program that only
// inserts a flow into the connection table (the floor of "new-flow").
func init() {
	XDPTestRun = func(ctx context.Context, repeat int) (map[string]float64, error) {
		res, err := xdpmeasure.Run(ctx, xdpmeasure.Options{Repeat: repeat, Samples: 1})
		if err != nil {
			return nil, err
		}
		return map[string]float64{
			"flow-hit": res.FlowHit.Median(),
			"new-flow": res.NewFlow.Median(),
			// The first packet of a flow that is not a TCP SYN (UDP, or TCP
			// picked up mid-connection) also pays a missing lookup.
			"new-flow-nosyn": res.NewFlowNoSYN.Median(),
			"xdp-drop":       res.Baseline.Median(),
			"pass":           res.Pass.Median(),
			// The kernel's floors: one connection-table insert, an update of
			// a cached entry, a lookup that misses and one that hits.
			"ct-insert": res.CTInsert.Median(),
			"ct-update": res.CTUpdate.Median(),
			"ct-miss":   res.CTMiss.Median(),
			"ct-hit":    res.CTHit.Median(),
		}, nil
	}
}
