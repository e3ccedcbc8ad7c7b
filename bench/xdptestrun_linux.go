package bench

import (
	"context"

	"github.com/strata-dp/strata/dataplane/lb/xdp"
)

func init() { XDPTestRun = measureXDP }

// measureXDP takes one sample of each path of the XDP program with
// BPF_PROG_TEST_RUN; the harness alternates and repeats the calls.
func measureXDP(ctx context.Context, repeat int) (map[string]float64, error) {
	r, err := xdp.MeasureTestRun(ctx, xdp.TestRunOptions{Repeat: repeat, Samples: 1})
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, m := range []xdp.Measurement{r.FlowHit, r.NewFlow, r.Pass, r.Baseline} {
		if len(m.Samples) > 0 {
			out[m.Name] = m.Median()
		}
	}
	return out, nil
}
