package result

import (
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSummarize(t *testing.T) {
	tests := []struct {
		name                string
		samples             []float64
		wantMedian, wantMin float64
		wantMax             float64
	}{
		{"one", []float64{7}, 7, 7, 7},
		{"odd unsorted", []float64{5, 1, 3}, 3, 1, 5},
		{"even takes mean of middle", []float64{4, 1, 3, 2}, 2.5, 1, 4},
		{"five runs", []float64{10, 50, 30, 20, 40}, 30, 10, 50},
		{"duplicates", []float64{2, 2, 9, 2, 2}, 2, 2, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := append([]float64(nil), tt.samples...)
			r := Summarize("n", "s", "m", tt.samples)
			if r.Median != tt.wantMedian || r.Min != tt.wantMin || r.Max != tt.wantMax || r.Runs != len(tt.samples) {
				t.Errorf("Summarize(%v) = %+v, want median %v min %v max %v runs %d", tt.samples, r, tt.wantMedian, tt.wantMin, tt.wantMax, len(tt.samples))
			}
			if !reflect.DeepEqual(before, tt.samples) {
				t.Errorf("Summarize reordered its input: %v", tt.samples)
			}
		})
	}
	if !math.IsNaN(Median(nil)) {
		t.Error("Median(nil) should be NaN")
	}
}

func TestRatios(t *testing.T) {
	res := []Result{
		{Name: "get", System: "strata", Metric: "ops_per_sec", Median: 150},
		{Name: "get", System: "redis", Metric: "ops_per_sec", Median: 100},
		{Name: "get", System: "strata", Metric: "p99_ms", Median: 1},
		{Name: "get", System: "redis", Metric: "p99_ms", Median: 4},
		{Name: "set", System: "strata", Metric: "ops_per_sec", Median: 10},
		{Name: "set", System: "redis", Metric: "ops_per_sec", Median: 0},       // zero: no ratio
		{Name: "only-peer", System: "redis", Metric: "ops_per_sec", Median: 5}, // no strata: no ratio
		{Name: "get", System: "varnish", Metric: "ops_per_sec", Median: 300},
	}
	tests := []struct {
		name   string
		others []string
		want   []Ratio
	}{
		{"one peer", []string{"strata", "redis"}, []Ratio{
			{Name: "get", A: "strata", B: "redis", Metric: "ops_per_sec", MedianRatio: 1.5},
			{Name: "get", A: "strata", B: "redis", Metric: "p99_ms", MedianRatio: 0.25},
		}},
		{"two peers", []string{"redis", "varnish"}, []Ratio{
			{Name: "get", A: "strata", B: "redis", Metric: "ops_per_sec", MedianRatio: 1.5},
			{Name: "get", A: "strata", B: "redis", Metric: "p99_ms", MedianRatio: 0.25},
			{Name: "get", A: "strata", B: "varnish", Metric: "ops_per_sec", MedianRatio: 0.5},
		}},
		{"no peers", []string{"strata"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Ratios(res, "strata", tt.others)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Ratios = %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func validFile() *File {
	return &File{
		Scenario: "state",
		Started:  "2026-11-26T15:00:00Z",
		Machine:  Machine{CPUs: 2, Kernel: "6.1"},
		Results:  []Result{{Name: "get-p16", System: "strata", Metric: "ops_per_sec", Median: 2, Min: 1, Max: 3, Runs: 5}},
		Ratios:   []Ratio{{Name: "get-p16", A: "strata", B: "redis", Metric: "ops_per_sec", MedianRatio: 1.2}},
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(f *File)
		ok     bool
	}{
		{"valid", func(*File) {}, true},
		{"no scenario", func(f *File) { f.Scenario = "" }, false},
		{"bad time", func(f *File) { f.Started = "yesterday" }, false},
		{"no cpus", func(f *File) { f.Machine.CPUs = 0 }, false},
		{"no kernel", func(f *File) { f.Machine.Kernel = "" }, false},
		{"no system", func(f *File) { f.Results[0].System = "" }, false},
		{"zero runs", func(f *File) { f.Results[0].Runs = 0 }, false},
		{"median above max", func(f *File) { f.Results[0].Median = 9 }, false},
		{"incomplete ratio", func(f *File) { f.Ratios[0].B = "" }, false},
		{"empty results allowed", func(f *File) { f.Results, f.Ratios = nil, nil }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := validFile()
			tt.mutate(f)
			err := f.Validate()
			if (err == nil) != tt.ok {
				t.Fatalf("Validate() = %v, want ok=%v", err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
		})
	}
}

// TestJSONShape pins the field names of docs/INTERFACES.md, "Benchmark results".
func TestJSONShape(t *testing.T) {
	f := validFile()
	path := filepath.Join(t.TempDir(), "state.json")
	if err := f.Write(path); err != nil {
		t.Fatal(err)
	}
	back, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, f) {
		t.Errorf("round trip changed the file:\n%+v\n%+v", back, f)
	}
	b, _ := json.Marshal(f)
	var generic map[string]any
	if err := json.Unmarshal(b, &generic); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		obj  map[string]any
		keys []string
	}{
		{"top", generic, []string{"scenario", "started", "machine", "results", "ratios"}},
		{"machine", generic["machine"].(map[string]any), []string{"cpus", "kernel"}},
		{"result", generic["results"].([]any)[0].(map[string]any), []string{"name", "system", "metric", "median", "min", "max", "runs"}},
		{"ratio", generic["ratios"].([]any)[0].(map[string]any), []string{"name", "a", "b", "metric", "median_ratio"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range tt.keys {
				if _, ok := tt.obj[k]; !ok {
					t.Errorf("key %q missing in %s", k, strings.TrimSpace(string(b)))
				}
			}
		})
	}
}

func TestMetricLess(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"p99_ms", "p999_ms", true},
		{"p999_ms", "p99_ms", false},
		{"requests_per_sec", "p50_ms", true},
		{"hit_ratio", "rss_mib", true},
		{"p50_ms", "hit_ratio", true},
	}
	for _, tt := range tests {
		t.Run(tt.a+"<"+tt.b, func(t *testing.T) {
			if got := MetricLess(tt.a, tt.b); got != tt.want {
				t.Errorf("MetricLess(%q, %q) = %v, want %v", tt.a, tt.b, got, tt.want)
			}
		})
	}
}

func TestRound(t *testing.T) {
	tests := []struct{ in, want float64 }{
		{123456, 123500},
		{1.23456, 1.235},
		{0.0012344, 0.001234},
		{0, 0},
		{-98765, -98770},
	}
	for _, tt := range tests {
		t.Run("", func(t *testing.T) {
			if got := Round(tt.in); math.Abs(got-tt.want) > 1e-9*math.Abs(tt.want) {
				t.Errorf("Round(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
