package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/strata-dp/strata/bench/result"
)

// Options shape every scenario's run.
type Options struct {
	// Quick is the smoke run: one short run per system, no warm-up.
	Quick bool
	// Runs per system after the warm-up (>= 5 for figures worth reading).
	Runs int
	// Label is recorded in the results file (e.g. "noisy: dev run").
	Label string
	// Log receives one line per notable event (a skipped system, a failed
	// run); Progress draws bars when stderr is a terminal.
	Log      io.Writer
	Progress *Progress
}

// DefaultRuns is the number of runs per system in a full run.
const DefaultRuns = 5

func (o Options) runs() int {
	switch {
	case o.Runs > 0:
		return o.Runs
	case o.Quick:
		return 1
	default:
		return DefaultRuns
	}
}

// RunDuration picks the length of one timed run: short in quick mode.
func (o Options) RunDuration(full time.Duration) time.Duration {
	if o.Quick {
		return time.Second
	}
	return full
}

// DefaultRun is the length of one timed HTTP run in a full suite run.
const DefaultRun = 3 * time.Second

// warmupRun is the length of a warm-up run: long enough to open
// connections, fill caches and let the Go runtime size its heap, and not
// counted, so no longer.
const warmupRun = time.Second

// runDuration is the length of the timed run about to start.
func (h *Harness) runDuration() time.Duration { return h.runDurationOf(DefaultRun) }

func (h *Harness) runDurationOf(full time.Duration) time.Duration {
	if h.warming {
		return min(warmupRun, full)
	}
	return h.Opts.RunDuration(full)
}

// Pick returns quick or full depending on the mode.
func Pick[T any](o Options, quick, full T) T {
	if o.Quick {
		return quick
	}
	return full
}

// Sample is one figure from one run.
type Sample struct {
	Name   string
	Metric string
	Value  float64
}

// Harness collects the samples of one scenario and owns what it started.
type Harness struct {
	Opts   Options
	Strata *Strata
	// Dir is a temporary directory for rendered configs and peer state,
	// removed when the scenario ends.
	Dir string

	scenario *Scenario
	file     *result.File
	samples  map[sampleKey][]float64
	// warming is set while a warm-up run is in progress.
	warming  bool
	systems  []string
	cleanups []func()
}

type sampleKey struct{ name, system, metric string }

func newHarness(scenario string, opts Options, strata *Strata) (*Harness, error) {
	dir, err := os.MkdirTemp("", "strata-bench-"+scenario+"-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	// Peers that drop privileges (varnish, nginx workers) must reach it.
	_ = os.Chmod(dir, 0o755)
	h := &Harness{
		Opts:    opts,
		Strata:  strata,
		Dir:     dir,
		samples: map[sampleKey][]float64{},
		file: &result.File{
			Scenario:   scenario,
			Started:    time.Now().UTC().Format(time.RFC3339),
			Machine:    CurrentMachine(),
			Conditions: map[string]string{},
			Label:      opts.Label,
			Quick:      opts.Quick,
		},
	}
	return h, nil
}

// Logf writes one informational line.
func (h *Harness) Logf(format string, args ...any) {
	if h.Opts.Log != nil {
		h.Opts.Progress.clear()
		fmt.Fprintf(h.Opts.Log, "bench %s: "+format+"\n", append([]any{h.file.Scenario}, args...)...)
	}
}

// Cleanup registers fn to run when the scenario ends, last first.
func (h *Harness) Cleanup(fn func()) { h.cleanups = append(h.cleanups, fn) }

// Track stops p when the scenario ends.
func (h *Harness) Track(p *Process) *Process {
	h.Cleanup(func() { p.Stop(5 * time.Second) })
	return p
}

// Condition records how the figures were taken.
func (h *Harness) Condition(key, value string) { h.file.Conditions[key] = value }

// Version records the version of a tool used by the scenario.
func (h *Harness) Version(ctx context.Context, tool string) {
	h.file.Machine.Versions[tool] = ToolVersion(ctx, tool)
}

// Skip records that system (for measurement name, or entirely if name is
// empty) did not run, and why.
func (h *Harness) Skip(system, name string, err error) {
	missing := errors.Is(err, ErrMissing) || errors.Is(err, ErrPortsBusy)
	h.file.Skipped = append(h.file.Skipped, result.Skip{System: system, Name: name, Reason: err.Error(), Missing: missing})
	what := system
	if name != "" {
		what += " " + name
	}
	h.Logf("skipped %s: %v", what, err)
}

// SkipAll records that none of the scenario's systems could run.
func (h *Harness) SkipAll(err error) {
	if h.scenario == nil {
		return
	}
	for _, s := range h.scenario.Systems {
		h.Skip(s, "", err)
	}
}

// Record adds one sample outside an alternating schedule (e.g. a single
// memory measurement).
func (h *Harness) Record(system string, s Sample) {
	h.noteSystem(system)
	k := sampleKey{s.Name, system, s.Metric}
	h.samples[k] = append(h.samples[k], s.Value)
}

func (h *Harness) noteSystem(system string) {
	for _, s := range h.systems {
		if s == system {
			return
		}
	}
	h.systems = append(h.systems, system)
}

// Trial runs one timed measurement of one system and returns its figures.
type Trial func(ctx context.Context, system string) ([]Sample, error)

// maxFailedRuns is how many failed runs drop a system from the rest of a
// measurement: one failure may be a hiccup of a shared machine, two are not.
const maxFailedRuns = 2

// Alternate runs trial over systems on the alternating schedule and keeps
// the samples of every non-warm-up run. A failed run is recorded as skipped
// (its system keeps fewer runs, which its result's "runs" shows); a system
// that fails maxFailedRuns times is dropped from the rest of this
// measurement. It returns an error only when ctx is cancelled.
func (h *Harness) Alternate(ctx context.Context, name string, systems []string, trial Trial) error {
	return h.AlternateRuns(ctx, name, systems, h.Opts.runs(), trial)
}

// AlternateRuns is Alternate with a number of runs per system of the
// scenario's choosing, for a measurement noisier than the others.
func (h *Harness) AlternateRuns(ctx context.Context, name string, systems []string, runs int, trial Trial) error {
	steps := Schedule(systems, runs, !h.Opts.Quick)
	failed := map[string]int{}
	for i, st := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		h.Opts.Progress.show(h.file.Scenario, name, st, i, len(steps))
		if failed[st.System] >= maxFailedRuns {
			continue
		}
		h.warming = st.Warmup
		samples, err := trial(ctx, st.System)
		h.warming = false
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			failed[st.System]++
			what := fmt.Sprintf("run %d", st.Run)
			if st.Warmup {
				what = "warm-up"
			}
			if failed[st.System] >= maxFailedRuns {
				what += " (no more runs of it)"
			}
			h.Skip(st.System, name, fmt.Errorf("%s failed: %w", what, err))
			continue
		}
		if st.Warmup {
			continue
		}
		for _, s := range samples {
			h.Record(st.System, s)
		}
	}
	h.Opts.Progress.clear()
	return nil
}

// finish summarizes the samples and computes strata's ratio to each peer.
func (h *Harness) finish() *result.File {
	keys := make([]sampleKey, 0, len(h.samples))
	for k := range h.samples {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.name != b.name {
			return a.name < b.name
		}
		if a.metric != b.metric {
			return result.MetricLess(a.metric, b.metric)
		}
		return a.system < b.system
	})
	f := h.file
	f.Results = f.Results[:0]
	for _, k := range keys {
		r := result.Summarize(k.name, k.system, k.metric, h.samples[k])
		r.Median, r.Min, r.Max = result.Round(r.Median), result.Round(r.Min), result.Round(r.Max)
		f.Results = append(f.Results, r)
	}
	f.SortResults(h.systems)
	f.Ratios = result.Ratios(f.Results, "strata", h.systems)
	if f.Ratios == nil {
		f.Ratios = []result.Ratio{}
	}
	if f.Results == nil {
		f.Results = []result.Result{}
	}
	return f
}

func (h *Harness) close() {
	for i := len(h.cleanups) - 1; i >= 0; i-- {
		h.cleanups[i]()
	}
	h.cleanups = nil
	_ = os.RemoveAll(h.Dir)
}

// Scenario is one named benchmark.
type Scenario struct {
	Name    string
	Summary string
	// Systems are what the scenario compares, Strata first.
	Systems []string
	Run     func(ctx context.Context, h *Harness) error
}

var scenarios []*Scenario

func register(s *Scenario) { scenarios = append(scenarios, s) }

// suiteOrder is the order of `strata bench all` and of the report.
var suiteOrder = []string{"state", "edge", "lb-userspace", "lb-xdp", "facade", "overload", "stack"}

// Scenarios lists the registered scenarios in suite order.
func Scenarios() []*Scenario {
	rank := func(name string) int {
		for i, n := range suiteOrder {
			if n == name {
				return i
			}
		}
		return len(suiteOrder)
	}
	out := append([]*Scenario(nil), scenarios...)
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i].Name) < rank(out[j].Name) })
	return out
}

// ErrUnknownScenario is returned by Lookup for a name not in the suite.
var ErrUnknownScenario = errors.New("unknown scenario")

// Lookup finds a scenario by name.
func Lookup(name string) (*Scenario, error) {
	for _, s := range scenarios {
		if s.Name == name {
			return s, nil
		}
	}
	names := make([]string, 0, len(scenarios))
	for _, s := range scenarios {
		names = append(names, s.Name)
	}
	return nil, fmt.Errorf("%w %q (one of %v)", ErrUnknownScenario, name, names)
}

// RunScenario runs s and returns its results file. Systems that could not
// run are listed in the file's skipped entries; an error means the scenario
// as a whole could not produce a file (or ctx was cancelled).
func RunScenario(ctx context.Context, s *Scenario, opts Options) (*result.File, error) {
	strata, err := FindStrata()
	if err != nil {
		return nil, err
	}
	h, err := newHarness(s.Name, opts, strata)
	if err != nil {
		return nil, err
	}
	h.scenario = s
	defer h.close()
	h.file.Machine.Versions["strata"] = strata.Version(ctx)
	h.Condition("runs_per_system", fmt.Sprint(opts.runs()))
	if err := s.Run(ctx, h); err != nil {
		return nil, fmt.Errorf("scenario %s: %w", s.Name, err)
	}
	return h.finish(), nil
}

// errAlreadySkipped tells StartEach that a system was skipped (and said
// so) before its start was tried.
var errAlreadySkipped = errors.New("bench: system already skipped")

// StartEach starts every system with start, skipping (and naming) those
// that fail, and returns the address of each started system and their
// names in order. An empty list means nothing could run.
func (h *Harness) StartEach(ctx context.Context, systems []string, start func(ctx context.Context, system string) (string, error)) (map[string]string, []string) {
	addrs := map[string]string{}
	var started []string
	for _, sys := range systems {
		a, err := start(ctx, sys)
		if err != nil {
			if !errors.Is(err, errAlreadySkipped) {
				h.Skip(sys, "", err)
			}
			continue
		}
		addrs[sys] = a
		started = append(started, sys)
	}
	return addrs, started
}
