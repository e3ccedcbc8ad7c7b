package report

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/strata-dp/strata/bench/result"
)

func sampleFile() *result.File {
	return &result.File{
		Scenario: "state",
		Started:  "2026-11-26T15:00:00Z",
		Machine:  result.Machine{CPUs: 2, Kernel: "6.18"},
		Results: []result.Result{
			{Name: "get-p16", System: "strata", Metric: "ops_per_sec", Median: 1_500_000, Min: 1_400_000, Max: 1_600_000, Runs: 5},
			{Name: "get-p16", System: "redis", Metric: "ops_per_sec", Median: 1_000_000, Min: 900_000, Max: 1_100_000, Runs: 5},
			{Name: "get-p16", System: "strata", Metric: "p99_ms", Median: 0.5, Min: 0.4, Max: 0.7, Runs: 5},
			{Name: "get-p16", System: "redis", Metric: "p99_ms", Median: 1, Min: 0.9, Max: 1.2, Runs: 5},
			{Name: "rss-1000k-values", System: "strata", Metric: "rss_mib", Median: 120, Min: 120, Max: 120, Runs: 1},
		},
		Ratios: []result.Ratio{
			{Name: "get-p16", A: "strata", B: "redis", Metric: "ops_per_sec", MedianRatio: 1.5},
			{Name: "get-p16", A: "strata", B: "redis", Metric: "p99_ms", MedianRatio: 0.5},
		},
		Skipped: []result.Skip{{System: "redis", Name: "rss-1000k-values", Reason: "redis-server is not installed"}},
	}
}

func TestReplaceSection(t *testing.T) {
	tests := []struct {
		name, doc, body, want string
		wantErr               error
	}{
		{"replaces between markers", "# T\n<!-- bench:start -->\nold\n<!-- bench:end -->\nrest\n", "new table\n",
			"# T\n<!-- bench:start -->\nnew table\n<!-- bench:end -->\nrest\n", nil},
		{"empty section", "<!-- bench:start --><!-- bench:end -->", "x", "<!-- bench:start -->\nx\n<!-- bench:end -->", nil},
		{"idempotent", "a\n<!-- bench:start -->\nnew table\n<!-- bench:end -->\n", "new table", "a\n<!-- bench:start -->\nnew table\n<!-- bench:end -->\n", nil},
		{"no markers", "# T\n", "x", "", ErrNoMarkers},
		{"end before start", "<!-- bench:end --> <!-- bench:start -->", "x", "", ErrNoMarkers},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReplaceSection(tt.doc, tt.body)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestNum(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{{1_234_567, "1,234,567"}, {999.4, "999"}, {12.345, "12.3"}, {1.2345, "1.23"}, {0.01234, "0.0123"}, {0, "0"}, {-4321, "-4,321"}}
	for _, tt := range tests {
		if got := Num(tt.in); got != tt.want {
			t.Errorf("Num(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLowerIsBetter(t *testing.T) {
	tests := map[string]bool{"p99_ms": true, "rss_mib": true, "ns_per_packet": true, "origin_fetches_per_burst": true,
		"requests_per_sec": false, "ops_per_sec": false, "hit_ratio": false, "error_ratio": true,
		"server_cpu_us_per_op": true, "loadgen_cpu": false}
	for m, want := range tests {
		if got := LowerIsBetter(m); got != want {
			t.Errorf("LowerIsBetter(%q) = %v, want %v", m, got, want)
		}
	}
}

// TestChartIsWellFormedSVG parses the chart as XML and checks that every
// system's figure is drawn.
func TestChartIsWellFormedSVG(t *testing.T) {
	tests := []struct {
		name string
		f    *result.File
	}{
		{"two systems", sampleFile()},
		{"no results", &result.File{Scenario: "lb-xdp", Started: "2026-11-26T15:00:00Z", Machine: result.Machine{CPUs: 2, Kernel: "6.18"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := WriteChart(&b, tt.f); err != nil {
				t.Fatal(err)
			}
			dec := xml.NewDecoder(bytes.NewReader(b.Bytes()))
			rects := 0
			for {
				tok, err := dec.Token()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("not well-formed XML: %v\n%s", err, b.String())
				}
				if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
					rects++
				}
			}
			// Background and legend rects, plus one bar per result.
			if min := 1 + len(tt.f.Systems()) + len(tt.f.Results); rects < min {
				t.Errorf("%d rects, want at least %d", rects, min)
			}
		})
	}
}

func TestReadmeTracesToResults(t *testing.T) {
	dir := t.TempDir()
	res := filepath.Join(dir, "bench", "results")
	if err := os.MkdirAll(res, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := sampleFile().Write(filepath.Join(res, "state.json")); err != nil {
		t.Fatal(err)
	}
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("# Strata\n\n<!-- bench:start -->\nstale\n<!-- bench:end -->\n\nLimits.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := UpdateReadme(readme, res); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(readme)
	doc := string(b)
	for _, want := range []string{
		"**state** · [bench/results/state.json](bench/results/state.json) · 2026-11-26T15:00:00Z · 2 CPUs",
		"| get-p16 | ops_per_sec | 1,500,000 | redis | 1,000,000 | 1.50× |",
		"| get-p16 | p99_ms | 0.5 | redis | 1.00 | 0.50× |",
		"| rss-1000k-values | rss_mib | 120 | — | — | — |",
		"redis-server is not installed",
		"Limits.",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("README lacks %q:\n%s", want, doc)
		}
	}
	if strings.Contains(doc, "stale") {
		t.Error("old section content kept")
	}
	if err := WriteReportFile(res); err != nil {
		t.Fatal(err)
	}
	rep, _ := os.ReadFile(filepath.Join(res, "REPORT.md"))
	if !strings.Contains(string(rep), "| get-p16 | ops_per_sec | 1,500,000 (1,400,000–1,600,000) | 1,000,000 (900,000–1,100,000) | 1.50× |") {
		t.Errorf("REPORT.md lacks the get-p16 row:\n%s", rep)
	}
}
