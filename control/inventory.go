package control

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"
)

// Target is one process the control plane watches through its /readyz.
type Target struct {
	Name string
	Tier string
	// Probe is the readiness URL.
	Probe string
}

// Status is what the control plane last saw of a target.
type Status struct {
	Name      string    `json:"name"`
	Tier      string    `json:"tier"`
	Ready     bool      `json:"ready"`
	Since     time.Time `json:"since"`
	LastCheck time.Time `json:"last_check"`
	Error     string    `json:"error,omitempty"`
}

// Inventory polls the readiness of every target.
type Inventory struct {
	targets []Target
	client  *http.Client

	mu     sync.RWMutex
	status map[string]*Status
}

// NewInventory watches targets; call Run to start polling.
func NewInventory(targets []Target, timeout time.Duration) *Inventory {
	inv := &Inventory{targets: targets, client: &http.Client{Timeout: timeout}, status: map[string]*Status{}}
	for _, t := range targets {
		inv.status[t.Name] = &Status{Name: t.Name, Tier: t.Tier}
	}
	return inv
}

// Run polls every interval until ctx is done.
func (inv *Inventory) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		inv.pollOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (inv *Inventory) pollOnce(ctx context.Context) {
	var wg sync.WaitGroup
	for _, t := range inv.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ready, errText := inv.check(ctx, t.Probe)
			now := time.Now()
			inv.mu.Lock()
			s := inv.status[t.Name]
			if s.Ready != ready || s.Since.IsZero() {
				s.Since = now
			}
			s.Ready, s.LastCheck, s.Error = ready, now, errText
			inv.mu.Unlock()
		}()
	}
	wg.Wait()
}

func (inv *Inventory) check(ctx context.Context, url string) (bool, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, err.Error()
	}
	resp, err := inv.client.Do(req)
	if err != nil {
		return false, err.Error()
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return false, resp.Status
	}
	return true, ""
}

// Get returns a copy of a target's status.
func (inv *Inventory) Get(name string) (Status, bool) {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	s, ok := inv.status[name]
	if !ok {
		return Status{}, false
	}
	return *s, true
}

// All returns copies of every status in target order.
func (inv *Inventory) All() []Status {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	out := make([]Status, 0, len(inv.targets))
	for _, t := range inv.targets {
		out = append(out, *inv.status[t.Name])
	}
	return out
}
