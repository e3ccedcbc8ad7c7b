package facade

import (
	"sync"
	"testing"
	"time"
)

func fixedAdmission(limit, queueLen int, maxWait time.Duration) *admission {
	return newAdmission(AdmissionConfig{MaxInflight: limit, FixedLimit: true, QueueLen: queueLen, MaxQueueTime: maxWait})
}

// waitQueued blocks until n requests wait in a's queues.
func waitQueued(t *testing.T, a *admission, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		_, _, q := a.snapshot()
		if q[0]+q[1]+q[2] == n {
			return
		}
	}
	t.Fatalf("never saw %d queued", n)
}

func TestAdmissionVerdicts(t *testing.T) {
	far := time.Now().Add(time.Hour)
	tests := []struct {
		name     string
		limit    int
		queueLen int
		maxWait  time.Duration
		held     int       // requests admitted and not released first
		queued   int       // requests parked in the normal queue first
		deadline time.Time // of the request under test
		want     verdict
	}{
		{"room under the limit", 2, 4, time.Second, 1, 0, far, admitted},
		{"queue full", 1, 1, time.Second, 1, 1, far, rejectQueueFull},
		{"queued too long", 1, 4, 20 * time.Millisecond, 1, 0, far, rejectQueueTime},
		{"no time left", 1, 4, time.Second, 1, 0, time.Now().Add(-time.Millisecond), rejectDeadline},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := fixedAdmission(tc.limit, tc.queueLen, tc.maxWait)
			for i := 0; i < tc.held; i++ {
				if v, _ := a.acquire(PriorityNormal, time.Now(), far); v != admitted {
					t.Fatalf("held request %d: %v", i, v)
				}
			}
			var wg sync.WaitGroup
			for i := 0; i < tc.queued; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if v, _ := a.acquire(PriorityNormal, time.Now(), far); v == admitted {
						a.release(time.Now(), 0, false)
					}
				}()
			}
			waitQueued(t, a, tc.queued)
			if v, _ := a.acquire(PriorityNormal, time.Now(), tc.deadline); v != tc.want {
				t.Fatalf("verdict %v, want %v", v, tc.want)
			}
			for i := 0; i < tc.held; i++ {
				a.release(time.Now(), 0, false)
			}
			wg.Wait()
			if n, _, q := a.snapshot(); n != 0 && tc.want != admitted || q != [numPriorities]int{} {
				t.Fatalf("left inflight %d queued %v", n, q)
			}
		})
	}
}

// TestAdmissionStrictPriority: with one slot busy, waiters are admitted high
// first, then normal, then low, whatever order they arrived in.
func TestAdmissionStrictPriority(t *testing.T) {
	a := fixedAdmission(1, 8, 5*time.Second)
	far := time.Now().Add(time.Hour)
	if v, _ := a.acquire(PriorityNormal, time.Now(), far); v != admitted {
		t.Fatal(v)
	}
	order := make(chan Priority, 3)
	var wg sync.WaitGroup
	for i, p := range []Priority{PriorityLow, PriorityNormal, PriorityHigh} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if v, _ := a.acquire(p, time.Now(), far); v != admitted {
				t.Errorf("%v: %v", p, v)
				return
			}
			order <- p
			a.release(time.Now(), 0, false)
		}()
		waitQueued(t, a, i+1)
	}
	a.release(time.Now(), 0, false)
	wg.Wait()
	close(order)
	var got []Priority
	for p := range order {
		got = append(got, p)
	}
	if len(got) != 3 || got[0] != PriorityHigh || got[1] != PriorityNormal || got[2] != PriorityLow {
		t.Fatalf("admission order %v, want high normal low", got)
	}
}

// TestAdmissionMinShare: while high-priority waiters never run out, normal
// and low still get their guaranteed shares of the slots.
func TestAdmissionMinShare(t *testing.T) {
	tests := []struct {
		name                string
		waiting             []Priority
		wantNormal, wantLow int // picks out of 1000
	}{
		{"high and low", []Priority{PriorityHigh, PriorityLow}, 0, 50},
		{"high and normal", []Priority{PriorityHigh, PriorityNormal}, 100, 0},
		{"all three", []Priority{PriorityHigh, PriorityNormal, PriorityLow}, 100, 50},
		{"low alone", []Priority{PriorityLow}, 0, 1000},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAdmission(AdmissionConfig{})
			now := time.Now()
			var picks [numPriorities]int
			for i := 0; i < 1000; i++ {
				for _, p := range tc.waiting {
					if a.queues[p].n == 0 {
						a.queues[p].push(&waiter{class: p})
					}
				}
				picks[a.next(now).class]++
			}
			if tol := 2; abs(picks[PriorityNormal]-tc.wantNormal) > tol || abs(picks[PriorityLow]-tc.wantLow) > tol {
				t.Fatalf("picks %v, want normal %d low %d", picks, tc.wantNormal, tc.wantLow)
			}
		})
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func TestGradientLimit(t *testing.T) {
	tests := []struct {
		name    string
		rtt     time.Duration
		dropped bool
		busy    bool // windows at the limit (not application-limited)
		want    string
	}{
		{"steady latency grows the limit", 10 * time.Millisecond, false, true, "up"},
		{"rising latency shrinks it", 40 * time.Millisecond, false, true, "down"},
		{"deadline misses shrink it", 10 * time.Millisecond, true, true, "down"},
		{"idle windows keep it", 10 * time.Millisecond, false, false, "same"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := newGradientLimit(40, 4, 200, false)
			now := time.Now()
			// Settle the baseline at 10ms with a busy window.
			for i := 0; i < limitMaxSamples; i++ {
				g.sample(now, 10*time.Millisecond, 40, false)
			}
			before := g.limit
			inflight := int(g.limit)
			if !tc.busy {
				inflight = 1
			}
			for w := 1; w <= 5; w++ {
				at := now.Add(time.Duration(w) * time.Second) // a new second per window
				for i := 0; i < limitMaxSamples; i++ {
					g.sample(at, tc.rtt, inflight, tc.dropped)
				}
			}
			got := "same"
			if g.limit > before {
				got = "up"
			} else if g.limit < before {
				got = "down"
			}
			if got != tc.want || g.limit < g.min || g.limit > g.max {
				t.Fatalf("limit %.1f -> %.1f (%s), want %s within [%v, %v]", before, g.limit, got, tc.want, g.min, g.max)
			}
		})
	}
}
