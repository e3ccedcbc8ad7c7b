// Package latency is an allocation-free duration histogram for data paths:
// fixed buckets of atomic counters, one Histogram per event loop or per
// backend, summed into a Prometheus constant histogram at scrape time.
//
// Observe is a bucket search over at most MaxBuckets bounds and two atomic
// adds; it never touches Prometheus. Reading the clock is the caller's cost,
// and on some virtual machines it is the larger one: callers sample.
package latency

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// MaxBuckets is the largest number of finite bucket bounds.
const MaxBuckets = 16

// Bounds are the upper bounds of a histogram's buckets, shared by every
// Histogram of one family.
type Bounds struct {
	secs  []float64
	nanos []int64
}

// NewBounds takes ascending upper bounds in seconds; it panics on more than
// MaxBuckets or unsorted bounds (a programming error, caught at init).
func NewBounds(secs ...float64) *Bounds {
	if len(secs) > MaxBuckets {
		panic("latency: too many buckets")
	}
	b := &Bounds{secs: secs, nanos: make([]int64, len(secs))}
	for i, s := range secs {
		if i > 0 && s <= secs[i-1] {
			panic("latency: bounds not ascending")
		}
		b.nanos[i] = int64(s * 1e9)
	}
	return b
}

// Histogram counts observations per bucket; the zero value is empty. It is
// safe for concurrent use, and uncontended when one goroutine writes it.
type Histogram struct {
	counts [MaxBuckets + 1]atomic.Uint64 // the last is +Inf
	sum    atomic.Int64                  // nanoseconds
}

// Observe records d in b's buckets.
func (h *Histogram) Observe(b *Bounds, d time.Duration) {
	ns := int64(d)
	i := 0
	for i < len(b.nanos) && ns > b.nanos[i] {
		i++
	}
	if i == len(b.nanos) {
		i = MaxBuckets
	}
	h.counts[i].Add(1)
	h.sum.Add(ns)
}

// Snapshot is a sum of histograms, read at scrape time.
type Snapshot struct {
	counts [MaxBuckets + 1]uint64
	sum    int64
}

// Add adds h's counts to s.
func (s *Snapshot) Add(h *Histogram) {
	for i := range h.counts {
		s.counts[i] += h.counts[i].Load()
	}
	s.sum += h.sum.Load()
}

// Count is the number of observations.
func (s *Snapshot) Count() uint64 {
	var n uint64
	for _, c := range s.counts {
		n += c
	}
	return n
}

// Metric is s as a Prometheus histogram of d, whose buckets are b.
func (s *Snapshot) Metric(d *prometheus.Desc, b *Bounds, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(b.secs))
	var cum uint64
	for i, le := range b.secs {
		cum += s.counts[i]
		buckets[le] = cum
	}
	return prometheus.MustNewConstHistogram(d, s.Count(), float64(s.sum)/1e9, buckets, labels...)
}
