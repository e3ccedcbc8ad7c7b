// Package result holds the shape of a benchmark results file (docs/INTERFACES.md,
// "Benchmark results") and the statistics computed over repeated runs:
// median, minimum, maximum and the ratio of medians per pair of systems.
//
// A results file is the only place a performance figure of Strata lives; the
// README and the report are rendered from these files, never typed by hand.
package result

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"time"
)

// File is one scenario's results file.
type File struct {
	Scenario string   `json:"scenario"`
	Started  string   `json:"started"`
	Machine  Machine  `json:"machine"`
	Results  []Result `json:"results"`
	Ratios   []Ratio  `json:"ratios"`
	// Skipped says which systems or measurements could not run and why, so a
	// missing row is never silent.
	Skipped []Skip `json:"skipped,omitempty"`
	// Conditions describes how the figures were taken (durations, connections,
	// rates), so they can be reproduced.
	Conditions map[string]string `json:"conditions,omitempty"`
	// Label marks a run made under known noise (e.g. "dev run while compiling").
	Label string `json:"label,omitempty"`
	// Quick is true for the short smoke run, whose figures mean little.
	Quick bool `json:"quick,omitempty"`
}

// Machine records what the figures were measured on.
type Machine struct {
	CPUs     int               `json:"cpus"`
	Kernel   string            `json:"kernel"`
	CPUModel string            `json:"cpu_model,omitempty"`
	Go       string            `json:"go,omitempty"`
	LoadAvg  string            `json:"loadavg,omitempty"`
	Versions map[string]string `json:"versions,omitempty"`
}

// Result is the summary of one measurement of one system over its runs.
type Result struct {
	Name   string  `json:"name"`
	System string  `json:"system"`
	Metric string  `json:"metric"`
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Runs   int     `json:"runs"`
}

// Ratio compares two systems on one measurement: median(a) / median(b).
type Ratio struct {
	Name        string  `json:"name"`
	A           string  `json:"a"`
	B           string  `json:"b"`
	Metric      string  `json:"metric"`
	MedianRatio float64 `json:"median_ratio"`
}

// Skip names a system (and optionally one measurement) that did not run.
type Skip struct {
	System string `json:"system"`
	Name   string `json:"name,omitempty"`
	Reason string `json:"reason"`
	// Missing is true when the system is absent here (a peer not installed,
	// a Strata subcommand not built, no root); false when it was present
	// but failed, which is worth a look.
	Missing bool `json:"missing,omitempty"`
}

// ErrMalformed is returned by Validate for a file that breaks the shape.
var ErrMalformed = errors.New("malformed results file")

// Validate checks the invariants every consumer relies on.
func (f *File) Validate() error {
	if f.Scenario == "" {
		return fmt.Errorf("%w: empty scenario", ErrMalformed)
	}
	if _, err := time.Parse(time.RFC3339, f.Started); err != nil {
		return fmt.Errorf("%w: started %q is not RFC 3339", ErrMalformed, f.Started)
	}
	if f.Machine.CPUs <= 0 || f.Machine.Kernel == "" {
		return fmt.Errorf("%w: machine cpus/kernel missing", ErrMalformed)
	}
	for i, r := range f.Results {
		switch {
		case r.Name == "" || r.System == "" || r.Metric == "":
			return fmt.Errorf("%w: result %d lacks name, system or metric", ErrMalformed, i)
		case r.Runs <= 0:
			return fmt.Errorf("%w: result %s/%s/%s has %d runs", ErrMalformed, r.Name, r.System, r.Metric, r.Runs)
		case !(r.Min <= r.Median && r.Median <= r.Max):
			return fmt.Errorf("%w: result %s/%s/%s: min %v <= median %v <= max %v does not hold",
				ErrMalformed, r.Name, r.System, r.Metric, r.Min, r.Median, r.Max)
		}
	}
	for i, r := range f.Ratios {
		if r.Name == "" || r.A == "" || r.B == "" || r.Metric == "" {
			return fmt.Errorf("%w: ratio %d incomplete", ErrMalformed, i)
		}
	}
	return nil
}

// Systems lists the distinct systems that have results, in first-seen order.
func (f *File) Systems() []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range f.Results {
		if !seen[r.System] {
			seen[r.System] = true
			out = append(out, r.System)
		}
	}
	return out
}

// Write stores f as indented JSON at path.
func (f *File) Write(path string) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode results: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write results: %w", err)
	}
	return nil
}

// Read loads and validates a results file.
func Read(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read results: %w", err)
	}
	var f File
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformed, path, err)
	}
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &f, nil
}

// Find returns the result for (name, system, metric), if present.
func (f *File) Find(name, system, metric string) (Result, bool) {
	for _, r := range f.Results {
		if r.Name == name && r.System == system && r.Metric == metric {
			return r, true
		}
	}
	return Result{}, false
}

// SortResults orders results by name, then metric, keeping the systems in the
// order they were measured, so files diff cleanly between runs.
func (f *File) SortResults(systemOrder []string) {
	rank := map[string]int{}
	for i, s := range systemOrder {
		rank[s] = i
	}
	sort.SliceStable(f.Results, func(i, j int) bool {
		a, b := f.Results[i], f.Results[j]
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		if a.Metric != b.Metric {
			return MetricLess(a.Metric, b.Metric)
		}
		return rank[a.System] < rank[b.System]
	})
}

// metricOrder puts throughput first and percentiles in ascending order
// (p50, p99, p999 rather than the alphabetical p50, p999, p99).
var metricOrder = []string{"requests_per_sec", "ops_per_sec", "p50_ms", "p90_ms", "p99_ms", "p999_ms"}

// MetricLess orders metric names for tables and charts.
func MetricLess(a, b string) bool {
	ra, rb := len(metricOrder), len(metricOrder)
	for i, m := range metricOrder {
		if m == a {
			ra = i
		}
		if m == b {
			rb = i
		}
	}
	if ra != rb {
		return ra < rb
	}
	return a < b
}
