package facade

import (
	"sync"
	"time"
)

// AdmissionConfig shapes admission control. Zero values take the defaults
// noted on each field.
type AdmissionConfig struct {
	// MaxInflight caps how many requests run at once (default 256); the
	// adaptive limit moves between MinInflight and MaxInflight.
	MaxInflight int
	// MinInflight is the floor of the adaptive limit (default 4).
	MinInflight int
	// InitialInflight is where the adaptive limit starts (default 32, at most
	// MaxInflight).
	InitialInflight int
	// FixedLimit turns the adaptive limit off: MaxInflight is the limit.
	FixedLimit bool
	// QueueLen bounds each class's queue (default 128); a request that finds
	// its queue full is rejected at once with 429.
	QueueLen int
	// MaxQueueTime caps how long a request may wait (default 100ms), and the
	// request's deadline caps it further.
	MaxQueueTime time.Duration
	// MaxQueueTimeHigh is the cap for the high class (default 4×MaxQueueTime):
	// strict priority puts high requests next in line, so a longer wait
	// still ends in an answer, and shedding them is the last resort.
	MaxQueueTimeHigh time.Duration
	// QueueTarget and QueueInterval make the queues of normal and low
	// CoDel-like: when such a queue has not been empty for QueueInterval
	// (default 100ms), it is a standing queue, and newcomers wait at most
	// QueueTarget (default 5ms). The high class is exempt: under strict
	// priority its queue only stands while the backend recovers from a burst,
	// or when high traffic alone exceeds capacity, which MaxQueueTime and
	// QueueLen still bound.
	QueueTarget   time.Duration
	QueueInterval time.Duration
	// MinShare is the share of dispatches guaranteed to normal and low
	// requests while they wait (defaults 0.10 and 0.05), so strict priority
	// never starves them completely. MinShare[PriorityHigh] is ignored.
	MinShare [numPriorities]float64
	// RetryAfter is what rejections advise (default 1s, whole seconds).
	RetryAfter time.Duration
}

func (c *AdmissionConfig) setDefaults() {
	if c.MaxInflight <= 0 {
		c.MaxInflight = 256
	}
	if c.MinInflight <= 0 {
		c.MinInflight = 4
	}
	c.MinInflight = min(c.MinInflight, c.MaxInflight)
	if c.InitialInflight <= 0 {
		c.InitialInflight = 32
	}
	c.InitialInflight = max(c.MinInflight, min(c.InitialInflight, c.MaxInflight))
	if c.QueueLen <= 0 {
		c.QueueLen = 128
	}
	if c.MaxQueueTime <= 0 {
		c.MaxQueueTime = 100 * time.Millisecond
	}
	if c.MaxQueueTimeHigh <= 0 {
		c.MaxQueueTimeHigh = 4 * c.MaxQueueTime
	}
	if c.QueueTarget <= 0 {
		c.QueueTarget = 5 * time.Millisecond
	}
	if c.QueueInterval <= 0 {
		c.QueueInterval = 100 * time.Millisecond
	}
	if c.MinShare == [numPriorities]float64{} {
		c.MinShare = [numPriorities]float64{0, 0.10, 0.05}
	}
	c.MinShare[PriorityHigh] = 0
	if c.RetryAfter < time.Second {
		c.RetryAfter = time.Second
	}
}

// verdict is admission's answer for one request.
type verdict uint8

const (
	admitted verdict = iota
	rejectQueueFull
	rejectQueueTime
	rejectDeadline
)

// admission decides which requests run: at most limit at once, the rest
// wait in per-class queues, served in strict priority order except for the
// guaranteed shares. One mutex guards it; the fast path (room under the
// limit) is a lock, an increment and an unlock.
type admission struct {
	cfg AdmissionConfig

	mu        sync.Mutex
	inflight  int
	limit     *gradientLimit
	queues    [numPriorities]waitList
	credit    [numPriorities]float64
	lastEmpty [numPriorities]time.Time

	waiters sync.Pool
}

func newAdmission(cfg AdmissionConfig) *admission {
	cfg.setDefaults()
	a := &admission{
		cfg:   cfg,
		limit: newGradientLimit(cfg.InitialInflight, cfg.MinInflight, cfg.MaxInflight, cfg.FixedLimit),
	}
	if cfg.FixedLimit {
		a.limit.limit = float64(cfg.MaxInflight)
	}
	a.waiters.New = func() any {
		t := time.NewTimer(time.Hour)
		t.Stop()
		return &waiter{ch: make(chan struct{}, 1), timer: t}
	}
	return a
}

// acquire admits a request of class p now, after a wait, or not at all. On
// admitted the caller must call release once the request ends.
func (a *admission) acquire(p Priority, now, deadline time.Time) (v verdict, queued bool) {
	a.mu.Lock()
	if a.inflight < a.limit.current() {
		a.inflight++
		a.mu.Unlock()
		return admitted, false
	}
	q := &a.queues[p]
	if q.n >= a.cfg.QueueLen {
		a.mu.Unlock()
		return rejectQueueFull, false
	}
	if q.n == 0 {
		a.lastEmpty[p] = now
	}
	wait := a.cfg.MaxQueueTime
	switch {
	case p == PriorityHigh:
		wait = a.cfg.MaxQueueTimeHigh
	case now.Sub(a.lastEmpty[p]) > a.cfg.QueueInterval:
		wait = a.cfg.QueueTarget // a standing queue: keep it short
	}
	if rem := deadline.Sub(now); rem < wait {
		wait = rem
	}
	if wait <= 0 {
		a.mu.Unlock()
		return rejectDeadline, false
	}
	w := a.waiters.Get().(*waiter)
	w.enqueued, w.wait, w.class, w.outcome = now, wait, p, waiting
	q.push(w)
	a.mu.Unlock()

	w.timer.Reset(wait)
	select {
	case <-w.ch:
		w.timer.Stop()
		v = w.verdict()
	case <-w.timer.C:
		a.mu.Lock()
		if w.outcome == waiting {
			a.unqueue(w, time.Now())
			w.outcome = timedOut
			a.mu.Unlock()
		} else {
			a.mu.Unlock()
			<-w.ch // dispatched at the same moment; take its signal
		}
		v = w.verdict()
	}
	a.waiters.Put(w)
	return v, true
}

// release ends an admitted request. rtt is its service time (without queue
// time), dropped whether it ran out of time.
func (a *admission) release(now time.Time, rtt time.Duration, dropped bool) {
	a.mu.Lock()
	a.limit.sample(now, rtt, a.inflight, dropped)
	a.inflight--
	a.dispatch(now)
	a.mu.Unlock()
}

// dispatch hands free slots to waiters. Called with mu held.
func (a *admission) dispatch(now time.Time) {
	for a.inflight < a.limit.current() {
		w := a.next(now)
		if w == nil {
			return
		}
		if now.Sub(w.enqueued) > w.wait {
			w.outcome = timedOut // its timer is firing; do not give it a slot
		} else {
			w.outcome = granted
			a.inflight++
		}
		w.ch <- struct{}{}
	}
}

// next picks the waiter to serve: a lower class whose guaranteed share is
// due, else the highest class waiting. Called with mu held.
func (a *admission) next(now time.Time) *waiter {
	pick := numPriorities
	for p := numPriorities - 1; p > PriorityHigh; p-- {
		if a.queues[p].n == 0 {
			continue
		}
		a.credit[p] = min(a.credit[p]+a.cfg.MinShare[p], 1+a.cfg.MinShare[p])
		if a.credit[p] >= 1-1e-9 && pick == numPriorities { // tolerate float sums like 10 x 0.1
			pick = p
		}
	}
	if pick != numPriorities {
		a.credit[pick]--
	} else {
		for p := PriorityHigh; p < numPriorities; p++ {
			if a.queues[p].n > 0 {
				pick = p
				break
			}
		}
		if pick == numPriorities {
			return nil
		}
	}
	w := a.queues[pick].head
	a.unqueue(w, now)
	return w
}

func (a *admission) unqueue(w *waiter, now time.Time) {
	q := &a.queues[w.class]
	q.remove(w)
	if q.n == 0 {
		a.lastEmpty[w.class] = now
		a.credit[w.class] = 0
	}
}

// snapshot reads the counters for load reports and gauges.
func (a *admission) snapshot() (inflight, limit int, queued [numPriorities]int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for p := range queued {
		queued[p] = a.queues[p].n
	}
	return a.inflight, a.limit.current(), queued
}
