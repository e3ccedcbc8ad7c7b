package facade

import (
	"sync"
	"time"
)

// RetryBudget bounds retries to a share of first attempts (after Finagle's
// retry budget and the SRE book's per-client retry ratio): every request
// deposits Ratio of a token, every retry withdraws one, and MinPerSecond
// tokens per second are granted regardless so low-traffic nodes can retry at
// all. Without a budget, retries during an outage multiply the load on a
// backend that is already failing.
type RetryBudget struct {
	ratio  float64
	minPS  float64
	max    float64
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

// NewRetryBudget returns a budget allowing ratio retries per request plus
// minPerSecond retries per second; unused tokens are capped at
// max(10, 10*minPerSecond).
func NewRetryBudget(ratio, minPerSecond float64) *RetryBudget {
	return &RetryBudget{ratio: ratio, minPS: minPerSecond, max: max(10, 10*minPerSecond), tokens: minPerSecond, last: time.Now()}
}

// Deposit records a first attempt.
func (b *RetryBudget) Deposit() {
	b.mu.Lock()
	b.tokens = min(b.max, b.tokens+b.ratio)
	b.mu.Unlock()
}

// Withdraw takes one retry from the budget; false means do not retry.
func (b *RetryBudget) Withdraw() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := time.Now()
	b.tokens = min(b.max, b.tokens+b.minPS*now.Sub(b.last).Seconds())
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
