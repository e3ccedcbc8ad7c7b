package bench

import (
	"context"
	"errors"
	"github.com/strata-dp/strata/internal/config"
	"net"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/bench/result"
)

// TestAlternate runs the harness with in-process trials: the order of runs,
// the discarded warm-up, a failing system and the summary and ratios.
func TestAlternate(t *testing.T) {
	tests := []struct {
		name        string
		opts        Options
		failAt      []int // the peer's call numbers that fail
		wantOrder   []string
		wantResults []result.Result
		wantRatios  []result.Ratio
		wantSkipped int
	}{
		{
			name:      "full: warm-up discarded, medians and ratio",
			opts:      Options{Runs: 3},
			wantOrder: []string{"strata", "peer", "strata", "peer", "strata", "peer", "strata", "peer"},
			// strata calls return 1 (warm-up), 2, 3, 4 x 10; peer 1, 2, 3, 4.
			wantResults: []result.Result{
				{Name: "m", System: "strata", Metric: "ops_per_sec", Median: 30, Min: 20, Max: 40, Runs: 3},
				{Name: "m", System: "peer", Metric: "ops_per_sec", Median: 3, Min: 2, Max: 4, Runs: 3},
			},
			wantRatios: []result.Ratio{{Name: "m", A: "strata", B: "peer", Metric: "ops_per_sec", MedianRatio: 10}},
		},
		{
			name:      "quick: one run, no warm-up",
			opts:      Options{Quick: true},
			wantOrder: []string{"strata", "peer"},
			wantResults: []result.Result{
				{Name: "m", System: "strata", Metric: "ops_per_sec", Median: 10, Min: 10, Max: 10, Runs: 1},
				{Name: "m", System: "peer", Metric: "ops_per_sec", Median: 1, Min: 1, Max: 1, Runs: 1},
			},
			wantRatios: []result.Ratio{{Name: "m", A: "strata", B: "peer", Metric: "ops_per_sec", MedianRatio: 10}},
		},
		{
			name:      "one failed run is named and left out, the peer goes on",
			opts:      Options{Runs: 2},
			failAt:    []int{2},
			wantOrder: []string{"strata", "peer", "strata", "peer", "strata", "peer"},
			wantResults: []result.Result{
				{Name: "m", System: "strata", Metric: "ops_per_sec", Median: 25, Min: 20, Max: 30, Runs: 2},
				{Name: "m", System: "peer", Metric: "ops_per_sec", Median: 3, Min: 3, Max: 3, Runs: 1},
			},
			wantRatios:  []result.Ratio{{Name: "m", A: "strata", B: "peer", Metric: "ops_per_sec", MedianRatio: 8.3333}},
			wantSkipped: 1,
		},
		{
			name:      "a peer failing twice is dropped, strata goes on",
			opts:      Options{Runs: 3},
			failAt:    []int{1, 2},
			wantOrder: []string{"strata", "peer", "strata", "peer", "strata", "strata"},
			wantResults: []result.Result{
				{Name: "m", System: "strata", Metric: "ops_per_sec", Median: 30, Min: 20, Max: 40, Runs: 3},
			},
			wantRatios:  []result.Ratio{},
			wantSkipped: 2,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := newHarness("unit", tt.opts, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(h.close)
			var order []string
			var durations []time.Duration
			calls := map[string]int{}
			trial := func(_ context.Context, sys string) ([]Sample, error) {
				order = append(order, sys)
				durations = append(durations, h.runDuration())
				calls[sys]++
				if sys == "peer" && slices.Contains(tt.failAt, calls[sys]) {
					return nil, errors.New("peer crashed")
				}
				v := float64(calls[sys])
				if sys == "strata" {
					v *= 10
				}
				return []Sample{{"m", MetricOps, v}}, nil
			}
			if err := h.Alternate(context.Background(), "m", []string{"strata", "peer"}, trial); err != nil {
				t.Fatal(err)
			}
			f := h.finish()
			if !reflect.DeepEqual(order, tt.wantOrder) {
				t.Errorf("order %v, want %v", order, tt.wantOrder)
			}
			// Warm-up runs are short; counted runs have the full length
			// (one second in quick mode).
			for i, d := range durations {
				want := DefaultRun
				switch {
				case tt.opts.Quick:
					want = time.Second
				case i < 2:
					want = warmupRun
				}
				if d != want {
					t.Errorf("run %d lasted %v, want %v", i, d, want)
				}
			}
			if !reflect.DeepEqual(f.Results, tt.wantResults) {
				t.Errorf("results %+v\nwant %+v", f.Results, tt.wantResults)
			}
			if !reflect.DeepEqual(f.Ratios, tt.wantRatios) {
				t.Errorf("ratios %+v\nwant %+v", f.Ratios, tt.wantRatios)
			}
			if len(f.Skipped) != tt.wantSkipped {
				t.Errorf("skipped %+v, want %d entries", f.Skipped, tt.wantSkipped)
			}
			if err := f.Validate(); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestAlternateStopsOnCancel(t *testing.T) {
	h, err := newHarness("unit", Options{Runs: 5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.close)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err = h.Alternate(ctx, "m", []string{"strata", "peer"}, func(context.Context, string) ([]Sample, error) {
		n++
		if n == 3 {
			cancel()
		}
		return nil, nil
	})
	if !errors.Is(err, context.Canceled) || n != 3 {
		t.Errorf("err %v after %d runs, want context.Canceled after 3", err, n)
	}
}

func TestMoveToFreePorts(t *testing.T) {
	tests := []struct {
		name      string
		config    string
		wantAddrs int
	}{
		{"every address moves, repeats stay equal",
			"edge:\n  listen: 127.0.0.1:8080\nfacades:\n  - listen: 127.0.0.1:8101\nlb:\n  backends:\n    - addr: 127.0.0.1:8101\n", 2},
		{"nothing to move", "host: 127.0.0.1\nmode: userspace\n", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, moved, err := MoveToFreePorts(tt.config)
			if err != nil {
				t.Fatal(err)
			}
			if len(moved) != tt.wantAddrs {
				t.Fatalf("moved %v, want %d addresses", moved, tt.wantAddrs)
			}
			seen := map[string]bool{}
			for old, nw := range moved {
				if strings.Contains(got, old+"\n") {
					t.Errorf("%s still in the config", old)
				}
				if seen[nw] {
					t.Errorf("%s handed out twice", nw)
				}
				seen[nw] = true
				if strings.Count(got, nw) != strings.Count(tt.config, old) {
					t.Errorf("%s -> %s: %d mentions, want %d", old, nw, strings.Count(got, nw), strings.Count(tt.config, old))
				}
				l, err := net.Listen("tcp", nw)
				if err != nil {
					t.Errorf("moved address %s not free: %v", nw, err)
					continue
				}
				l.Close()
			}
		})
	}
}

func TestRenderPeerConfigs(t *testing.T) {
	tests := []struct {
		file string
		data map[string]any
		want []string
	}{
		{"redis.conf", map[string]any{"Port": 6390, "Dir": "/tmp/x"}, []string{"port 6390", `save ""`, "appendonly no"}},
		{"default.vcl", map[string]any{"OriginHost": "127.0.0.1", "OriginPort": 8200}, []string{`.port = "8200"`}},
		{"haproxy.cfg", map[string]any{"Listen": "127.0.0.1:9", "Backends": []string{"127.0.0.1:1", "127.0.0.1:2"}},
			[]string{"bind 127.0.0.1:9", "server b0 127.0.0.1:1", "server b1 127.0.0.1:2", "mode tcp"}},
		{"nginx-proxy-cache.conf", map[string]any{"User": "", "Dir": "/d", "Listen": "127.0.0.1:9", "Origin": "127.0.0.1:1", "MaxSize": "16m"},
			[]string{"listen 127.0.0.1:9;", "server 127.0.0.1:1;", "max_size=16m", "proxy_cache_lock on;"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			path, err := RenderPeerConfig(t.TempDir(), tt.file, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(b), w) {
					t.Errorf("%s lacks %q:\n%s", tt.file, w, b)
				}
			}
		})
	}
	if _, err := RenderPeerConfig(t.TempDir(), "redis.conf", map[string]any{"Port": 1}); err == nil {
		t.Error("missing template key accepted")
	}
}

func TestSuite(t *testing.T) {
	var names []string
	for _, s := range Scenarios() {
		names = append(names, s.Name)
		if len(s.Systems) == 0 || s.Systems[0] != "strata" {
			t.Errorf("scenario %s: systems %v must start with strata", s.Name, s.Systems)
		}
		if s.Summary == "" || s.Run == nil {
			t.Errorf("scenario %s lacks a summary or a run function", s.Name)
		}
	}
	if !reflect.DeepEqual(names, suiteOrder) {
		t.Errorf("suite order %v, want %v", names, suiteOrder)
	}
	tests := []struct {
		name string
		ok   bool
	}{{"state", true}, {"lb-xdp", true}, {"redis", false}, {"", false}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Lookup(tt.name)
			if (err == nil) != tt.ok {
				t.Fatalf("Lookup(%q) = %v", tt.name, err)
			}
			if err != nil && !errors.Is(err, ErrUnknownScenario) {
				t.Errorf("error %v does not wrap ErrUnknownScenario", err)
			}
			if err == nil && s.Name != tt.name {
				t.Errorf("Lookup(%q) found %q", tt.name, s.Name)
			}
		})
	}
}

// The stack scenario moves every address of `strata up --print-config` to
// a free port; the printed file comments out derived addresses, so
// FixDerived must write every one of them out, and the result must load
// as the same stack.
func TestFixDerivedWritesOutEveryAddress(t *testing.T) {
	def, err := config.Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	printed, err := def.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	fixed := FixDerived(string(printed))
	if strings.Contains(fixed, "# from") {
		t.Fatalf("a derived setting is still commented out:\n%s", fixed)
	}
	got, err := config.Parse([]byte(fixed))
	if err != nil {
		t.Fatalf("the fixed configuration does not load: %v\n%s", err, fixed)
	}
	if got.Edge.Listen != def.Edge.Listen || len(got.LB.Services[0].Backends) != len(def.Facades.Nodes) {
		t.Fatalf("edge %s, %d backends; want %s and %d", got.Edge.Listen, len(got.LB.Services[0].Backends), def.Edge.Listen, len(def.Facades.Nodes))
	}
	for _, n := range def.Facades.Nodes {
		if !strings.Contains(fixed, "listen: "+n.Listen) {
			t.Errorf("facade %s's listen address is not written out", n.ID)
		}
	}
	moved, _, err := MoveToFreePorts(fixed)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(moved, stackEdgeDefault) {
		t.Fatalf("the edge's default address survived the move")
	}
}
