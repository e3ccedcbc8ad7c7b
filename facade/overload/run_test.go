package overload

import (
	"context"
	"testing"
	"time"
)

// TestOverloadShort is the short version of the overload proof: at three
// times capacity with 20% high-priority traffic, high-priority requests
// still succeed and the excess is shed with cheap rejections, not timeouts.
// It checks success ratios only; the timings (p99, goodput) are the bench
// suite's to judge, and are logged here.
func TestOverloadShort(t *testing.T) {
	if testing.Short() {
		t.Skip("overload run takes a few seconds; skipped in -short")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := Run(ctx, Scenario{Workers: 2, Service: 50 * time.Millisecond, Duration: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("capacity %.0f/s; unloaded %+v", r.Capacity, r.Unloaded.Classes)
	t.Logf("overloaded: offered %.0f/s goodput %.0f/s (%.2f of capacity) high p99 ratio %.2f",
		r.Overloaded.Offered, r.Overloaded.Goodput, r.GoodputRatio(), r.HighP99Ratio())
	t.Logf("overloaded classes %+v", r.Overloaded.Classes)
	t.Logf("facade load report at the end %+v", r.Overloaded.Load)
	high, low := r.Overloaded.Classes[0], r.Overloaded.Classes[2]
	tests := []struct {
		name string
		ok   bool
	}{
		{"the run was overloaded (something was shed)", r.Overloaded.Classes[1].Rejected+low.Rejected > 0},
		{"high priority succeeds (>= 99%)", high.SuccessRatio() >= 0.99},
		{"low priority is shed before high", low.SuccessRatio() < high.SuccessRatio()},
		{"excess is rejected, not timed out (< 1% failures)", failures(r.Overloaded) < 0.01},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !tc.ok {
				t.Fail()
			}
		})
	}
}

func failures(p Phase) float64 {
	sent, failed := 0, 0
	for _, c := range p.Classes {
		sent += c.Sent
		failed += c.Failed
	}
	if sent == 0 {
		return 0
	}
	return float64(failed) / float64(sent)
}
