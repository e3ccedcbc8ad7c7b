package loadgen

import (
	"math/rand"
	"sort"
	"testing"
	"time"
)

func TestBucketBounds(t *testing.T) {
	tests := []uint64{0, 1, 255, 256, 257, 511, 512, 1000, 123_456, 1 << 40, 1<<63 + 12345, ^uint64(0)}
	for _, v := range tests {
		t.Run("", func(t *testing.T) {
			i := bucketOf(v)
			if i < 0 || i >= bucketCount {
				t.Fatalf("bucketOf(%d) = %d out of range", v, i)
			}
			lo, hi := lowerBound(i), upperBound(i)
			if v < lo || v > hi {
				t.Errorf("value %d in bucket %d with bounds [%d, %d]", v, i, lo, hi)
			}
			// Relative error bound of the log-linear layout.
			if v >= subCount && float64(hi-lo) > float64(v)/float64(halfCount) {
				t.Errorf("bucket [%d, %d] wider than 1/%d of %d", lo, hi, halfCount, v)
			}
		})
	}
	// Buckets tile the value space with no gap or overlap.
	for i := 1; i < bucketCount-1; i++ {
		if upperBound(i-1)+1 != lowerBound(i) {
			t.Fatalf("gap between bucket %d (hi %d) and %d (lo %d)", i-1, upperBound(i-1), i, lowerBound(i))
		}
	}
}

func TestQuantile(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
	}{
		{"single", []time.Duration{100}, 0.99, 100},
		{"exact small values median", []time.Duration{1, 2, 3, 4, 5}, 0.5, 3},
		{"p100 is max", []time.Duration{1, 2, 3, 4, 5 * time.Millisecond}, 1, 5 * time.Millisecond},
		{"p0 is min", []time.Duration{7, 9, 11}, 0, 7},
		{"empty", nil, 0.5, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			for _, v := range tt.values {
				h.Record(v)
			}
			if got := h.Quantile(tt.q); got != tt.want {
				t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

// TestQuantileAccuracy compares with exact percentiles of random data.
func TestQuantileAccuracy(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	var h Histogram
	vals := make([]float64, 100_000)
	for i := range vals {
		v := time.Duration(r.ExpFloat64() * float64(time.Millisecond))
		vals[i] = float64(v)
		h.Record(v)
	}
	sort.Float64s(vals)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		exact := vals[int(q*float64(len(vals)))-1]
		got := float64(h.Quantile(q))
		if got < exact || got > exact*(1+2.0/halfCount) {
			t.Errorf("q%v = %v, exact %v: outside [exact, exact+%.1f%%]", q, got, exact, 200.0/halfCount)
		}
	}
}

func TestRecordCorrected(t *testing.T) {
	tests := []struct {
		name      string
		d, period time.Duration
		wantCount uint64
		wantMax   time.Duration
	}{
		{"no stall", 5 * time.Millisecond, 10 * time.Millisecond, 1, 5 * time.Millisecond},
		{"stall of ten periods", 100 * time.Millisecond, 10 * time.Millisecond, 10, 100 * time.Millisecond},
		{"no interval known", 100 * time.Millisecond, 0, 1, 100 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h Histogram
			h.RecordCorrected(tt.d, tt.period)
			if h.Count() != tt.wantCount || h.Max() != tt.wantMax {
				t.Errorf("count %d max %v, want %d and %v", h.Count(), h.Max(), tt.wantCount, tt.wantMax)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	var a, b Histogram
	a.Record(10)
	b.Record(5)
	b.Record(20_000)
	a.Merge(&b)
	if a.Count() != 3 || a.Quantile(0) != 5 || a.Max() != 20_000 {
		t.Errorf("merged count %d min %v max %v", a.Count(), a.Quantile(0), a.Max())
	}
}

func TestRecordAllocatesNothing(t *testing.T) {
	var h Histogram
	if n := testing.AllocsPerRun(1000, func() { h.Record(1234 * time.Microsecond) }); n != 0 {
		t.Errorf("Record allocates %v times", n)
	}
}

func TestCountAtLeast(t *testing.T) {
	var h Histogram
	for _, v := range []time.Duration{1, 10, 100, time.Millisecond, time.Second} {
		h.Record(v)
	}
	tests := []struct {
		d    time.Duration
		want uint64
	}{{0, 5}, {10, 4}, {101, 2}, {time.Millisecond, 2}, {2 * time.Second, 0}}
	for _, tt := range tests {
		if got := h.CountAtLeast(tt.d); got != tt.want {
			t.Errorf("CountAtLeast(%v) = %d, want %d", tt.d, got, tt.want)
		}
	}
}
