package health

import (
	"context"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-dp/strata/dataplane/lb"
)

// backendState is the verdict on one backend address, shared by every
// service that lists it.
type backendState struct {
	up         bool
	succ, fail int
	upSince    time.Time // start of the slow-start ramp
	downSince  time.Time
	stop       context.CancelFunc
	// Outlier detection: silent counts consecutive sessions the backend
	// left unanswered (lb.SignalNoResponse); ejections is the
	// multiplier of the ejection time, and until a backend ejected that way
	// is kept out even if its checks pass (outlier.go).
	silent     int
	ejections  int
	ejectedFor time.Duration
	until      time.Time
	lastAnswer time.Time // the backend's last first byte of a session
}

// Checker runs the checks and drives an Applier with effective weights.
type Checker struct {
	opts    Options
	applier lb.Applier

	mu      sync.Mutex
	cfg     lb.Config
	states  map[netip.AddrPort]*backendState
	applied lb.Config
	runCtx  context.Context
	kick    chan struct{}

	checkEjections, outlierEjections atomic.Uint64
}

var _ lb.Observer = (*Checker)(nil)

// New returns a checker that will apply cfg's services with health-adjusted
// weights to applier. Backends start healthy, so traffic flows at once; a
// dead one is ejected after Fall checks.
func New(applier lb.Applier, opts Options) *Checker {
	return &Checker{
		opts:    opts.withDefaults(),
		applier: applier,
		states:  map[netip.AddrPort]*backendState{},
		kick:    make(chan struct{}, 1),
	}
}

// SetConfig replaces the desired configuration (configured weights) and
// applies it at once with the current health verdicts.
func (c *Checker) SetConfig(ctx context.Context, cfg lb.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	c.mu.Lock()
	c.cfg = cfg
	c.syncProbersLocked()
	eff := c.effectiveLocked(time.Now())
	c.mu.Unlock()
	return c.apply(ctx, eff)
}

// Run checks backends until ctx is done, re-applying whenever a verdict
// changes and while slow starts ramp.
func (c *Checker) Run(ctx context.Context) error {
	c.mu.Lock()
	c.runCtx = ctx
	c.syncProbersLocked()
	c.mu.Unlock()
	step := max(c.opts.SlowStart/10, 100*time.Millisecond)
	tick := time.NewTicker(step)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			c.mu.Lock()
			c.runCtx = nil
			c.mu.Unlock()
			return nil
		case <-c.kick:
		case <-tick.C:
		}
		c.mu.Lock()
		eff := c.effectiveLocked(time.Now())
		same := equalWeights(eff, c.applied)
		c.mu.Unlock()
		if !same {
			if err := c.apply(ctx, eff); err != nil && ctx.Err() == nil {
				c.opts.Logger.Error("health: apply failed", "err", err)
			}
		}
	}
}

func (c *Checker) apply(ctx context.Context, eff lb.Config) error {
	if c.applier == nil {
		return nil
	}
	if err := c.applier.Apply(ctx, eff); err != nil {
		return err
	}
	c.mu.Lock()
	c.applied = eff
	c.mu.Unlock()
	return nil
}

// syncProbersLocked starts a prober per new backend and stops removed ones.
func (c *Checker) syncProbersLocked() {
	want := map[netip.AddrPort]bool{}
	for _, s := range c.cfg.Services {
		for _, b := range s.Backends {
			want[b.Addr] = true
		}
	}
	for addr, st := range c.states {
		if !want[addr] {
			if st.stop != nil {
				st.stop()
			}
			delete(c.states, addr)
		}
	}
	for addr := range want {
		st, ok := c.states[addr]
		if !ok {
			st = &backendState{up: true}
			c.states[addr] = st
		}
		if st.stop == nil && c.runCtx != nil && c.opts.Kind != Off {
			pctx, cancel := context.WithCancel(c.runCtx)
			st.stop = cancel
			go c.probeLoop(pctx, addr)
		}
	}
}

func (c *Checker) probeLoop(ctx context.Context, addr netip.AddrPort) {
	t := time.NewTimer(jitter(addr, c.opts.Interval))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		err := probe(ctx, c.opts, addr)
		if ctx.Err() != nil {
			return
		}
		c.record(addr, err == nil)
		t.Reset(c.opts.Interval)
	}
}

// ObservePassive counts the data path's failures as failed checks; a
// successful connect clears a failure streak of a backend that is up.
// Unanswered sessions are counted apart, as outliers (outlier.go).
func (c *Checker) ObservePassive(addr netip.AddrPort, s lb.Signal) {
	switch s {
	case lb.SignalNoResponse:
		c.unanswered(addr)
	case lb.SignalResponded:
		c.answered(addr)
	default:
		c.record(addr, s == lb.SignalConnectOK)
	}
}

func (c *Checker) record(addr netip.AddrPort, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, found := c.states[addr]
	if !found {
		return
	}
	changed := false
	now := time.Now()
	if ok {
		st.fail = 0
		if !st.up && now.Before(st.until) {
			// An outlier sits out its ejection time whatever its checks say.
			st.succ = 0
			return
		}
		st.succ++
		if !st.up && st.succ >= c.opts.Rise {
			st.up, st.upSince, changed = true, now, true
			c.opts.Logger.Info("health: backend up", "backend", addr)
		}
	} else {
		st.succ = 0
		st.fail++
		if st.up && st.fail >= c.opts.Fall {
			st.up, st.downSince, changed = false, now, true
			c.checkEjections.Add(1)
			c.opts.Logger.Warn("health: backend down", "backend", addr)
		}
	}
	if changed {
		c.kickLocked()
	}
}

func (c *Checker) kickLocked() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

// effectiveLocked rewrites configured weights by health: ejected backends
// get 0 (within the MaxEjectedShare budget, earliest failures first) and
// ramping ones a share of their weight.
func (c *Checker) effectiveLocked(now time.Time) lb.Config {
	out := lb.Config{Services: make([]lb.Service, len(c.cfg.Services))}
	for i, s := range c.cfg.Services {
		s.Backends = slices.Clone(s.Backends)
		budget := max(1, int(c.opts.MaxEjectedShare*float64(len(s.Backends))))
		down := make([]int, 0)
		for j, b := range s.Backends {
			if st := c.states[b.Addr]; st != nil && !st.up {
				down = append(down, j)
			}
		}
		slices.SortFunc(down, func(a, b int) int {
			return c.states[s.Backends[a].Addr].downSince.Compare(c.states[s.Backends[b].Addr].downSince)
		})
		for k, j := range down {
			if k < budget {
				s.Backends[j].Weight = 0
			}
		}
		for j, b := range s.Backends {
			st := c.states[b.Addr]
			if st == nil || !st.up || st.upSince.IsZero() || c.opts.SlowStart < 0 || b.Weight == 0 {
				continue
			}
			if el := now.Sub(st.upSince); el < c.opts.SlowStart {
				w := uint64(b.Weight) * uint64(el) / uint64(c.opts.SlowStart)
				s.Backends[j].Weight = uint32(max(1, w))
			}
		}
		out.Services[i] = s
	}
	return out
}

func equalWeights(a, b lb.Config) bool {
	if len(a.Services) != len(b.Services) {
		return false
	}
	for i := range a.Services {
		x, y := a.Services[i].Backends, b.Services[i].Backends
		if a.Services[i].Key() != b.Services[i].Key() || len(x) != len(y) {
			return false
		}
		for j := range x {
			if x[j].Addr != y[j].Addr || x[j].Weight != y[j].Weight {
				return false
			}
		}
	}
	return true
}

// Status is the verdict on one backend.
type Status struct {
	Addr netip.AddrPort
	Up   bool
}

// Statuses lists every checked backend.
func (c *Checker) Statuses() []Status {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Status, 0, len(c.states))
	for a, st := range c.states {
		out = append(out, Status{Addr: a, Up: st.up})
	}
	slices.SortFunc(out, func(x, y Status) int { return x.Addr.Compare(y.Addr) })
	return out
}

// Applied is the last configuration pushed to the applier.
func (c *Checker) Applied() lb.Config {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.applied
}
