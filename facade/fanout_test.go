package facade

import (
	"errors"
	"testing"
	"time"

	"github.com/strata-dp/strata/internal/origin"
	"github.com/strata-dp/strata/internal/origin/origintest"
)

func mustDist(t *testing.T, s string) origin.Dist {
	t.Helper()
	d, err := origin.ParseDist(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestFanOut(t *testing.T) {
	tests := []struct {
		name         string
		routes       map[string]string  // route -> latency
		errors       map[string]float64 // route -> error rate
		calls        []Call
		wantErr      bool
		wantMissing  []string
		wantAttempts map[string]int
		wantHits     map[string]uint64
		budget       *RetryBudget // default: plenty
	}{
		{
			name: "all parts answer",
			calls: []Call{
				{Name: "pricing", URL: "/svc/pricing", Required: true},
				{Name: "reviews", URL: "/svc/reviews"},
			},
			wantMissing: nil,
		},
		{
			name:   "a hung optional part is named missing after its timeout",
			routes: map[string]string{"/svc/reviews": "hang"},
			calls: []Call{
				{Name: "pricing", URL: "/svc/pricing", Required: true, Timeout: 2 * time.Second},
				{Name: "reviews", URL: "/svc/reviews", Timeout: 100 * time.Millisecond},
			},
			wantMissing: []string{"reviews"},
		},
		{
			name:   "a failed required part fails the fan-out",
			errors: map[string]float64{"/svc/pricing": 1},
			calls: []Call{
				{Name: "pricing", URL: "/svc/pricing", Required: true},
				{Name: "reviews", URL: "/svc/reviews"},
			},
			wantErr: true,
		},
		{
			name:   "idempotent calls retry within their limit",
			errors: map[string]float64{"/svc/inventory": 1},
			calls: []Call{
				{Name: "inventory", URL: "/svc/inventory", Idempotent: true, Retries: 2},
			},
			wantMissing:  []string{"inventory"},
			wantAttempts: map[string]int{"inventory": 3},
			wantHits:     map[string]uint64{"/svc/inventory": 3},
		},
		{
			name:   "an empty retry budget stops retries",
			errors: map[string]float64{"/svc/inventory": 1},
			calls: []Call{
				{Name: "inventory", URL: "/svc/inventory", Idempotent: true, Retries: 2},
			},
			budget:       NewRetryBudget(0, 0),
			wantMissing:  []string{"inventory"},
			wantAttempts: map[string]int{"inventory": 1},
			wantHits:     map[string]uint64{"/svc/inventory": 1},
		},
		{
			name:   "non-idempotent calls never retry",
			errors: map[string]float64{"/svc/inventory": 1},
			calls: []Call{
				{Name: "inventory", URL: "/svc/inventory", Retries: 2},
			},
			wantMissing:  []string{"inventory"},
			wantAttempts: map[string]int{"inventory": 1},
			wantHits:     map[string]uint64{"/svc/inventory": 1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := origin.Config{Routes: map[string]origin.Shape{}}
			for r, l := range tc.routes {
				cfg.Routes[r] = origin.Shape{Latency: mustDist(t, l)}
			}
			for r, e := range tc.errors {
				sh := cfg.Routes[r]
				sh.ErrorRate = e
				cfg.Routes[r] = sh
			}
			srv, base := origintest.Start(t, cfg)
			budget := tc.budget
			if budget == nil {
				budget = NewRetryBudget(0.1, 100)
			}
			f, err := NewFanOut(FanOutConfig{Budget: budget})
			if err != nil {
				t.Fatal(err)
			}
			calls := append([]Call(nil), tc.calls...)
			for i := range calls {
				calls[i].URL = base + calls[i].URL
			}
			// The overall deadline is far beyond any part's timeout: a hung
			// part must end by its own timeout, not by this.
			res, err := f.Do(time.Now().Add(30*time.Second), []byte("rid-1"), calls)
			if (err != nil) != tc.wantErr || err != nil && !errors.Is(err, ErrRequiredPartFailed) {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if len(res.Missing) != len(tc.wantMissing) {
				t.Fatalf("missing %v, want %v", res.Missing, tc.wantMissing)
			}
			for i, m := range tc.wantMissing {
				if res.Missing[i] != m {
					t.Fatalf("missing %v, want %v", res.Missing, tc.wantMissing)
				}
				p := res.Part(m)
				if tc.routes["/svc/"+m] == "hang" && !errors.Is(p.Err, ErrDeadline) {
					t.Fatalf("hung part error %v", p.Err)
				}
			}
			for name, n := range tc.wantAttempts {
				if got := res.Part(name).Attempts; got != n {
					t.Fatalf("%s: %d attempts, want %d", name, got, n)
				}
			}
			for route, n := range tc.wantHits {
				if got := srv.Hits(route); got != n {
					t.Fatalf("origin hits on %s: %d, want %d", route, got, n)
				}
			}
			for i := range res.Parts {
				if p := &res.Parts[i]; p.OK() && len(p.Body) == 0 {
					t.Fatalf("%s ok without a body", p.Name)
				}
			}
		})
	}
}

func TestFanOutHungPartEndsAtTimeout(t *testing.T) {
	_, base := origintest.Start(t, origin.Config{Routes: map[string]origin.Shape{"/svc/reviews": {Latency: mustDist(t, "hang")}}})
	f, err := NewFanOut(FanOutConfig{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.Do(time.Now().Add(time.Minute), nil, []Call{{Name: "reviews", URL: base + "/svc/reviews", Timeout: 50 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Part("reviews")
	// Not a timing threshold: the hang lasts a minute, so returning at all
	// within this test's run proves the timeout ended the call.
	if p.OK() || p.Err == nil || len(res.Missing) != 1 {
		t.Fatalf("hung part: ok=%v err=%v missing=%v", p.OK(), p.Err, res.Missing)
	}
	t.Logf("hung optional part cost %v with a 50ms timeout", p.Elapsed)
}

func TestRetryBudget(t *testing.T) {
	b := NewRetryBudget(0.5, 0)
	if b.Withdraw() {
		t.Fatal("withdrew from an empty budget")
	}
	for i := 0; i < 4; i++ {
		b.Deposit()
	}
	got := 0
	for b.Withdraw() {
		got++
	}
	if got != 2 {
		t.Fatalf("4 requests at ratio 0.5 allowed %d retries, want 2", got)
	}
}
