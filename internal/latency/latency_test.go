package latency

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestHistogramBuckets(t *testing.T) {
	b := NewBounds(1e-6, 1e-3, 1)
	var h1, h2 Histogram
	for _, d := range []time.Duration{500 * time.Nanosecond, time.Microsecond, 2 * time.Microsecond} {
		h1.Observe(b, d)
	}
	h2.Observe(b, 2*time.Second)
	h2.Observe(b, time.Millisecond)
	var s Snapshot
	s.Add(&h1)
	s.Add(&h2)
	if s.Count() != 5 {
		t.Fatalf("count %d, want 5", s.Count())
	}
	desc := prometheus.NewDesc("x_seconds", "x", []string{"l"}, nil)
	var m dto.Metric
	if err := s.Metric(desc, b, "v").Write(&m); err != nil {
		t.Fatal(err)
	}
	want := []uint64{2, 4, 4} // le=1µs: 500ns and 1µs; le=1ms adds 2µs and 1ms
	for i, bk := range m.GetHistogram().GetBucket() {
		if bk.GetCumulativeCount() != want[i] {
			t.Errorf("bucket le=%v: %d, want %d", bk.GetUpperBound(), bk.GetCumulativeCount(), want[i])
		}
	}
	if got, want := m.GetHistogram().GetSampleSum(), 2.0010035; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("sum %v, want %v", got, want)
	}
}

func TestObserveDoesNotAllocate(t *testing.T) {
	b := NewBounds(1e-6, 1e-3)
	var h Histogram
	if n := testing.AllocsPerRun(100, func() { h.Observe(b, time.Microsecond) }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
