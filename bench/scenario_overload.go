package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/strata-dp/strata/bench/overload"
)

func init() {
	register(&Scenario{
		Name:    "overload",
		Systems: []string{"strata"},
		Summary: "facade admission control at 3x capacity with 20% high-priority traffic (issue 7 proof)",
		Run:     runOverloadScenario,
	})
}

// runOverloadScenario runs bench/overload's proof: a facade in front of an
// origin of fixed capacity, calibrated, then driven open-loop at half and at
// three times that capacity with high, normal and low classes (20/40/40%).
// It has no peer: the figures are judged against the facade's own unloaded
// run (high-priority p99 at most 2x, success >= 99.9%, goodput >= 90%).
func runOverloadScenario(ctx context.Context, h *Harness) error {
	s := overload.Scenario{
		Duration: Pick(h.Opts, 2*time.Second, 5*time.Second),
		Warmup:   Pick(h.Opts, 500*time.Millisecond, time.Second),
	}
	h.Condition("overload", fmt.Sprintf("in one process: sample origin of 8 workers x 40ms (~200 req/s), facade with default admission control; calibration, then %v at 0.5x and %v at 3x capacity (after %v warm-up each), classes high/normal/low = 20/40/40%%", s.Duration/2, s.Duration, s.Warmup))
	const name = "overload-3x"
	return h.Alternate(ctx, name, []string{"strata"}, func(ctx context.Context, _ string) ([]Sample, error) {
		r, err := overload.Run(ctx, s)
		if err != nil {
			return nil, err
		}
		ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
		sent, failed := 0, 0
		for _, c := range r.Overloaded.Classes {
			sent, failed = sent+c.Sent, failed+c.Failed
		}
		failedRatio := 0.0
		if sent > 0 {
			failedRatio = float64(failed) / float64(sent)
		}
		high, normal, low := r.Overloaded.Classes[0], r.Overloaded.Classes[1], r.Overloaded.Classes[2]
		return []Sample{
			{name, "capacity_per_sec", r.Capacity},
			{name, "goodput_ratio", r.GoodputRatio()},
			{name, "high_success_ratio", high.SuccessRatio()},
			{name, "high_p99_ms", ms(high.P99)},
			{name, "unloaded_high_p99_ms", ms(r.Unloaded.Classes[0].P99)},
			{name, "high_p99_vs_unloaded", r.HighP99Ratio()},
			{name, "normal_success_ratio", normal.SuccessRatio()},
			{name, "low_success_ratio", low.SuccessRatio()},
			// Requests that failed outright (neither answered nor rejected
			// by admission control): admission control exists to prevent
			// them, but a starved host produces them regardless, so a high
			// figure says the run's other figures need care.
			{name, "failed_ratio", failedRatio},
		}, nil
	})
}
