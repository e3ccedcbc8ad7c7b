package facade

import (
	"math"
	"time"
)

// gradientLimit is an adaptive concurrency limit after Netflix's
// concurrency-limits Gradient: it compares the recent service time (a short
// window average) with a slowly moving long-term baseline. When requests slow
// down because the backend is saturated, the ratio falls below one and the
// limit shrinks; while latency stays at the baseline the limit grows by a
// small queue allowance. Requests that miss their deadline cut the limit
// multiplicatively, as AIMD does. Not safe for concurrent use: the admission
// lock guards it.
type gradientLimit struct {
	limit    float64
	min, max float64
	fixed    bool

	winStart    time.Time
	winSum      time.Duration
	winN        int
	winInflight int
	winDropped  bool

	long float64 // baseline service time in nanoseconds
}

const (
	limitWindow     = 50 * time.Millisecond
	limitMinSamples = 5
	limitMaxSamples = 500
	limitSmoothing  = 0.2
	limitBackoff    = 0.9
)

func newGradientLimit(initial, min, max int, fixed bool) *gradientLimit {
	return &gradientLimit{limit: float64(initial), min: float64(min), max: float64(max), fixed: fixed}
}

// current is the number of requests that may run at once.
func (g *gradientLimit) current() int { return int(g.limit) }

// sample records one finished request: its service time, how many ran at once
// when it started, and whether it failed for lack of time (an overload sign).
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

	switch {
	case g.long == 0:
		g.long = short
	case short < g.long:
		// The baseline follows improvements quickly...
		g.long = 0.5*g.long + 0.5*short
	default:
		// ...and degradations slowly, so a saturated backend shows as a
		// gradient below one for a while rather than becoming the norm.
		g.long = 0.98*g.long + 0.02*short
	}
	if dropped {
		g.limit = math.Max(g.min, g.limit*limitBackoff)
		return
	}
	// An application-limited window (far below the limit) says nothing about
	// what the backend could take: keep the limit.
	if float64(inflightSeen) < g.limit/2 {
		return
	}
	gradient := math.Max(0.5, math.Min(1, g.long/short))
	target := g.limit*gradient + math.Sqrt(g.limit)
	next := (1-limitSmoothing)*g.limit + limitSmoothing*target
	g.limit = math.Max(g.min, math.Min(g.max, next))
}
