package facade

import (
	"encoding/json"
	"net/http"
	"sync/atomic"
	"time"
)

// LoadReport is what a facade publishes for the control plane's weights and
// autoscaler (GET /load on the metrics listener). Rates and latencies cover
// the last LoadWindow.
type LoadReport struct {
	Node             string  `json:"node"`
	Ready            bool    `json:"ready"`
	Inflight         int     `json:"inflight"`
	Limit            int     `json:"limit"`
	MaxInflight      int     `json:"max_inflight"`
	QueueDepth       int     `json:"queue_depth"`
	QueueByClass     [3]int  `json:"queue_by_class"` // high, normal, low
	RequestsPerSec   float64 `json:"requests_per_sec"`
	ErrorRate        float64 `json:"error_rate"`  // 5xx answers / answers
	RejectRate       float64 `json:"reject_rate"` // rejections / arrivals
	LatencyP50Millis float64 `json:"latency_p50_ms"`
	LatencyP99Millis float64 `json:"latency_p99_ms"`
	WindowSeconds    float64 `json:"window_seconds"`
}

// LoadWindow is the span of the rates and percentiles in a LoadReport.
const LoadWindow = 10 * time.Second

const (
	loadSlots      = 11 // one per second of the window, plus the one filling
	latencyBuckets = 24 // 50µs doubling: up to about 7 minutes
)

// loadTracker keeps per-second slots of counts and a latency histogram with
// atomics only, so recording is allocation- and lock-free. A slot is reused
// when its second comes round again; a racing reset can lose a count, which
// a load report tolerates.
type loadTracker struct {
	slots [loadSlots]loadSlot
}

type loadSlot struct {
	sec      atomic.Int64
	answered atomic.Uint64
	errors   atomic.Uint64
	rejected atomic.Uint64
	latency  [latencyBuckets]atomic.Uint64
}

func (t *loadTracker) slot(now time.Time) *loadSlot {
	sec := now.Unix()
	s := &t.slots[sec%loadSlots]
	if old := s.sec.Load(); old != sec && s.sec.CompareAndSwap(old, sec) {
		s.answered.Store(0)
		s.errors.Store(0)
		s.rejected.Store(0)
		for i := range s.latency {
			s.latency[i].Store(0)
		}
	}
	return s
}

func latencyBucket(d time.Duration) int {
	b, limit := 0, 50*time.Microsecond
	for d > limit && b < latencyBuckets-1 {
		b++
		limit *= 2
	}
	return b
}

func bucketUpper(b int) time.Duration { return (50 * time.Microsecond) << b }

func (t *loadTracker) answered(now time.Time, latency time.Duration, failed bool) {
	s := t.slot(now)
	s.answered.Add(1)
	if failed {
		s.errors.Add(1)
	}
	s.latency[latencyBucket(latency)].Add(1)
}

func (t *loadTracker) rejected(now time.Time) { t.slot(now).rejected.Add(1) }

// fill adds the window's rates and percentiles to r.
func (t *loadTracker) fill(now time.Time, r *LoadReport) {
	cur := now.Unix()
	var answered, errs, rejected uint64
	var hist [latencyBuckets]uint64
	for i := range t.slots {
		s := &t.slots[i]
		if sec := s.sec.Load(); sec <= cur-int64(LoadWindow/time.Second) || sec > cur {
			continue
		}
		answered += s.answered.Load()
		errs += s.errors.Load()
		rejected += s.rejected.Load()
		for b := range hist {
			hist[b] += s.latency[b].Load()
		}
	}
	r.WindowSeconds = LoadWindow.Seconds()
	r.RequestsPerSec = float64(answered+rejected) / LoadWindow.Seconds()
	if answered > 0 {
		r.ErrorRate = float64(errs) / float64(answered)
	}
	if answered+rejected > 0 {
		r.RejectRate = float64(rejected) / float64(answered+rejected)
	}
	r.LatencyP50Millis = percentile(&hist, answered, 0.50)
	r.LatencyP99Millis = percentile(&hist, answered, 0.99)
}

// percentile is the upper bound of the bucket holding quantile q, in ms.
func percentile(hist *[latencyBuckets]uint64, total uint64, q float64) float64 {
	if total == 0 {
		return 0
	}
	want := uint64(q*float64(total) + 0.5)
	var seen uint64
	for b, n := range hist {
		if seen += n; seen >= want && n > 0 {
			return float64(bucketUpper(b)) / float64(time.Millisecond)
		}
	}
	return float64(bucketUpper(latencyBuckets-1)) / float64(time.Millisecond)
}

// Load returns the node's load report now.
func (a *App) Load() LoadReport {
	inflight, limit, queued := a.adm.snapshot()
	r := LoadReport{
		Node:        a.nodeID,
		Ready:       !a.draining.Load() && a.serving.Load(),
		Inflight:    inflight,
		Limit:       limit,
		MaxInflight: a.adm.cfg.MaxInflight,
	}
	for p, n := range queued {
		r.QueueByClass[p] = n
		r.QueueDepth += n
	}
	a.load.fill(time.Now(), &r)
	return r
}

// LoadHandler serves Load as JSON, for the metrics listener's GET /load.
func (a *App) LoadHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_ = json.NewEncoder(w).Encode(a.Load())
	})
}
