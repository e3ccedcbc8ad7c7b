package control

import (
	"context"
	"io"
	"log/slog"
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
	// Restarts, LastExit ("signal: killed", "exit status 1") and
	// LastRestart are the supervisor's (strata up's stack.json): zero,
	// "" and null when nothing supervises the process or it never
	// restarted.
	Restarts    int        `json:"restarts"`
	LastExit    string     `json:"last_exit"`
	LastRestart *time.Time `json:"last_restart"`
}

// Inventory polls the readiness of every target.
type Inventory struct {
	targets []Target
	client  *http.Client
	// stackState is strata up's stack.json; empty: no supervisor to ask.
	stackState string
	log        *slog.Logger

	mu     sync.RWMutex
	status map[string]*Status
	// procs is stack.json as last read.
	procs []supervisedProcess
	// stateErr is the last error reading it, logged once per change.
	stateErr string
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

// WatchSupervisor makes the inventory read each process's restarts from
// strata up's stack.json at path on every poll.
func (inv *Inventory) WatchSupervisor(path string, log *slog.Logger) {
	inv.stackState, inv.log = path, log
}

func (inv *Inventory) pollOnce(ctx context.Context) {
	byName := inv.readSupervisor()
	var wg sync.WaitGroup
	for _, t := range inv.targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ready, errText := inv.check(ctx, t.Probe)
			now := time.Now()
			inv.mu.Lock()
			s := inv.status[t.Name]
			// A restart is a ready -> not ready -> ready transition even
			// when the new process is back before the next poll.
			p, supervised := byName[t.Name]
			restarted := supervised && p.Restarts != s.Restarts
			if s.Ready != ready || s.Since.IsZero() || restarted {
				s.Since = now
			}
			s.Ready, s.LastCheck, s.Error = ready, now, errText
			if supervised {
				s.Restarts, s.LastExit, s.LastRestart = p.Restarts, p.LastExit, p.LastRestart
			}
			inv.mu.Unlock()
		}()
	}
	wg.Wait()
}

// readSupervisor reads stack.json, if watched, and keeps it for the
// metrics.
func (inv *Inventory) readSupervisor() map[string]supervisedProcess {
	if inv.stackState == "" {
		return nil
	}
	procs, err := readSupervisorState(inv.stackState)
	errText := ""
	if err != nil {
		errText = err.Error()
	}
	inv.mu.Lock()
	logIt := errText != inv.stateErr
	inv.stateErr = errText
	if err == nil {
		inv.procs = procs
	}
	procs = inv.procs
	inv.mu.Unlock()
	if logIt && err != nil {
		inv.log.Warn("cannot read the supervisor's state; restarts not updated", "err", err)
	}
	byName := make(map[string]supervisedProcess, len(procs))
	for _, p := range procs {
		byName[p.Name] = p
	}
	return byName
}

// supervised is stack.json's processes as last read.
func (inv *Inventory) supervised() []supervisedProcess {
	inv.mu.RLock()
	defer inv.mu.RUnlock()
	return inv.procs
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
