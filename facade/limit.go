package facade

import (
	"math"
	"time"
)

// gradientLimit is an adaptive concurrency limit after Netflix's
// concurrency-limits Gradient2 and TCP Vegas: it compares the recent service
// time (a short window's average) with the best recent one (the smallest
// per-second average over the last baselineSpan). While latency stays within
// limitTolerance of that baseline the limit grows by a small queue
// allowance; when requests slow down because the backend is saturated, the
// ratio falls below one and the limit shrinks toward what the backend serves
// without much queueing. Requests that miss their deadline cut the limit
// multiplicatively (AIMD's decrease).
//
// Under sustained saturation every window is slow, so the baseline would
// age out and drift up to the congested latency; every probeInterval of busy
// windows the limit is therefore halved for a moment, so the backend drains
// and the baseline is measured again. Not safe for concurrent use: the
// admission lock guards it.
type gradientLimit struct {
	limit    float64
	min, max float64
	fixed    bool

	winStart    time.Time
	winSum      time.Duration
	winN        int
	winInflight int
	winDropped  bool

	mins      [baselineSpan]bucketMin // per-second averages of window averages
	lastProbe time.Time
}

type bucketMin struct {
	sec   int64
	sum   float64 // nanoseconds
	count float64
}

const (
	limitWindow     = 50 * time.Millisecond
	limitMinSamples = 5
	limitMaxSamples = 500
	limitSmoothing  = 0.5
	limitBackoff    = 0.9
	// limitTolerance is how much slower than the baseline a window may be
	// before the limit shrinks. 1.0 keeps the backend's queue (and so the
	// latency of admitted requests) near its minimum; noise (GC, scheduling
	// on a busy host) is absorbed by the per-second baseline and the
	// half-way steps rather than by tolerating slower windows. Raising it
	// trades latency under overload for throughput on noisy hosts (1.2 gave
	// high-priority p99 about 3x unloaded in the overload scenario, 1.0
	// about 2x, at the same goodput).
	limitTolerance = 1.0
	baselineSpan   = 10 // seconds
	probeInterval  = 8 * time.Second
)

func newGradientLimit(initial, min, max int, fixed bool) *gradientLimit {
	return &gradientLimit{limit: float64(initial), min: float64(min), max: float64(max), fixed: fixed}
}

// current is the number of requests that may run at once.
func (g *gradientLimit) current() int { return int(g.limit) }

// sample records one finished request: its service time, how many ran at
// once, and whether it failed for lack of time (an overload sign).
func (g *gradientLimit) sample(now time.Time, rtt time.Duration, inflight int, dropped bool) {
	if g.fixed {
		return
	}
	if g.winN == 0 {
		g.winStart = now
	}
	g.winSum += rtt
	g.winN++
	g.winInflight = max(g.winInflight, inflight)
	g.winDropped = g.winDropped || dropped
	if g.winN < limitMaxSamples && (g.winN < limitMinSamples || now.Sub(g.winStart) < limitWindow) {
		return
	}
	short := float64(g.winSum) / float64(g.winN)
	inflightSeen, dropped := g.winInflight, g.winDropped
	g.winSum, g.winN, g.winInflight, g.winDropped = 0, 0, 0, false
	long := g.observe(now, short)

	if dropped {
		g.limit = math.Max(g.min, g.limit*limitBackoff)
		return
	}
	// An application-limited window (far below the limit) says nothing about
	// what the backend could take: keep the limit.
	if float64(inflightSeen) < g.limit/2 {
		g.lastProbe = now
		return
	}
	if g.lastProbe.IsZero() {
		g.lastProbe = now
	}
	if now.Sub(g.lastProbe) > probeInterval {
		g.lastProbe = now
		g.limit = math.Max(g.min, g.limit/2)
		return
	}
	gradient := math.Max(0.5, math.Min(1, limitTolerance*long/short))
	allowance := math.Max(1, math.Sqrt(g.limit)/2)
	target := g.limit*gradient + allowance
	// Move halfway to the target each window: fast enough to stop a backlog
	// within a few windows, not all the way on one window that may be noise.
	next := (1-limitSmoothing)*g.limit + limitSmoothing*target
	g.limit = math.Max(g.min, math.Min(g.max, next))
}

// observe records a window average and returns the baseline: the smallest
// per-second average of the last baselineSpan seconds. Averaging over a
// second first keeps one lucky window from setting the bar.
func (g *gradientLimit) observe(now time.Time, short float64) float64 {
	sec := now.Unix()
	b := &g.mins[sec%baselineSpan]
	if b.sec != sec {
		*b = bucketMin{sec: sec}
	}
	b.sum += short
	b.count++
	long := math.Inf(1)
	for _, m := range g.mins {
		if m.sec > sec-baselineSpan && m.count > 0 {
			long = math.Min(long, m.sum/m.count)
		}
	}
	return long
}
