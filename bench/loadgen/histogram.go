package loadgen

import (
	"math"
	"math/bits"
	"time"
)

// Log-linear layout: values below subCount are exact; above, each power of
// two is split into halfCount linear sub-buckets, so any recorded value is
// off by at most 1/halfCount (0.8%) of itself.
const (
	subBits   = 8
	subCount  = 1 << subBits
	halfCount = subCount / 2
	// 64-bit values need (64-subBits) powers of two above the exact range.
	bucketCount = subCount + (64-subBits)*halfCount
)

// Histogram counts durations in nanoseconds. The zero value is ready to use.
// It is not safe for concurrent use; merge per-worker histograms instead.
type Histogram struct {
	counts [bucketCount]uint64
	total  uint64
	max    uint64
	min    uint64
}

func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	shift := bits.Len64(v) - subBits // >= 1
	mantissa := v >> uint(shift)     // in [halfCount, subCount)
	return subCount + (shift-1)*halfCount + int(mantissa-halfCount)
}

// lowerBound is the smallest value that falls in bucket i.
func lowerBound(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	i -= subCount
	shift := i/halfCount + 1
	mantissa := uint64(i%halfCount + halfCount)
	return mantissa << uint(shift)
}

// upperBound is the largest value that falls in bucket i.
func upperBound(i int) uint64 {
	if i < subCount {
		return uint64(i)
	}
	shift := (i-subCount)/halfCount + 1
	return lowerBound(i) + (uint64(1) << uint(shift)) - 1
}

// Record counts one duration; negative durations count as zero.
func (h *Histogram) Record(d time.Duration) {
	v := uint64(0)
	if d > 0 {
		v = uint64(d)
	}
	h.counts[bucketOf(v)]++
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.total++
}

// RecordCorrected counts d and, when d exceeds the expected interval between
// requests of a closed-loop generator, the requests that would have been
// sent during the stall (d-interval, d-2*interval, ...), as HdrHistogram's
// recordValueWithExpectedInterval does. The open-loop generator needs no
// correction because it measures from intended send times.
func (h *Histogram) RecordCorrected(d, interval time.Duration) {
	h.Record(d)
	if interval <= 0 {
		return
	}
	for missing := d - interval; missing >= interval; missing -= interval {
		h.Record(missing)
	}
}

// Merge adds the counts of o into h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.total += o.total
}

// Count is the number of recorded values.
func (h *Histogram) Count() uint64 { return h.total }

// Max is the largest recorded value, exactly.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Quantile returns the value at quantile q in [0, 1]: the upper bound of the
// bucket holding the ceil(q*count)-th value, clamped to the recorded maximum,
// so a reported percentile is never below the true one.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	q = math.Max(0, math.Min(1, q))
	rank := uint64(math.Ceil(q * float64(h.total)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := upperBound(i)
			if v > h.max {
				v = h.max
			}
			if v < h.min {
				v = h.min
			}
			return time.Duration(v)
		}
	}
	return time.Duration(h.max)
}

// CountAtLeast is the number of recorded values in buckets at or above the
// bucket of d (so within the histogram's precision of d).
func (h *Histogram) CountAtLeast(d time.Duration) uint64 {
	if d < 0 {
		d = 0
	}
	var n uint64
	for i := bucketOf(uint64(d)); i < bucketCount; i++ {
		n += h.counts[i]
	}
	return n
}
