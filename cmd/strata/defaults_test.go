package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/strata-dp/strata/dataplane/edge"
	"github.com/strata-dp/strata/dataplane/state"
	"github.com/strata-dp/strata/dataplane/state/server"
	"github.com/strata-dp/strata/internal/config"
)

func parseNone(t *testing.T, bind func(*flag.FlagSet)) {
	t.Helper()
	fs := flag.NewFlagSet("defaults", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bind(fs)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
}

// The state node's flags default to what dataplane/state and its server
// export, so the two cannot drift apart.
func TestStateFlagDefaults(t *testing.T) {
	var f stateFlags
	parseNone(t, f.bind)
	ec, sc, err := f.config()
	if err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	if ec.MemoryBytes != server.DefaultMemoryBytes || ec.Policy != state.PolicyNoEviction || ec.Epoch != state.DefaultEpoch {
		t.Errorf("--memory, --maxmemory-policy, --epoch: %d %v %d, want the exported defaults", ec.MemoryBytes, ec.Policy, ec.Epoch)
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"max-conns", int64(sc.MaxConns), server.DefaultMaxConns},
		{"max-frame", int64(sc.MaxFrame), server.DefaultMaxFrame},
		{"max-reply", int64(sc.MaxReply), server.DefaultMaxReply},
		{"max outbound", int64(sc.MaxOutbound), server.DefaultMaxOutbound},
		{"max-buffered", sc.MaxBuffered, server.MaxBufferedFor(server.DefaultMemoryBytes)},
		{"slow-timeout", int64(sc.SlowTimeout), int64(server.DefaultSlowTimeout)},
		{"idle-timeout", int64(sc.IdleTimeout), 0},
		{"event-loops", int64(sc.EventLoops), 0},
		{"busy-poll", int64(sc.BusyPoll), 0},
	} {
		if c.got != c.want {
			t.Errorf("--%s defaults to %d, want %d", c.name, c.got, c.want)
		}
	}
	if sc.Listen != "127.0.0.1:7001" || sc.RESP != "" || sc.NodeID != "state-7001" || sc.Secret != nil {
		t.Errorf("addresses, node id or secret: %+v", sc)
	}
}

func TestEdgeFlagDefaults(t *testing.T) {
	var f edgeFlags
	parseNone(t, f.bind)
	f.origin = "http://127.0.0.1:8000" // the one required flag
	cfg, err := f.config()
	if err != nil {
		t.Fatalf("the defaults do not validate: %v", err)
	}
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"memory", cfg.MemoryBytes, edge.DefaultMemoryBytes},
		{"max-object", cfg.MaxObjectBytes, edge.DefaultMaxObjectBytes},
		{"keep", int64(cfg.Keep), int64(edge.DefaultKeep)},
		{"origin-timeout", int64(cfg.OriginTimeout), int64(edge.DefaultOriginTimeout)},
		{"origin-max-conns", int64(cfg.OriginMaxConns), edge.DefaultOriginMaxConns},
		{"max-conns", int64(cfg.MaxConns), edge.DefaultMaxConns},
		{"max-conns-per-ip", int64(cfg.MaxConnsPerIP), edge.DefaultMaxConnsPerIP},
		{"idle-timeout", int64(cfg.IdleTimeout), int64(edge.DefaultIdleTimeout)},
		{"header-timeout", int64(cfg.HeaderTimeout), int64(edge.DefaultHeaderTimeout)},
		{"body-timeout", int64(cfg.BodyTimeout), int64(edge.DefaultBodyTimeout)},
		{"max-body-buffer", cfg.MaxBodyBuffer, edge.DefaultMaxBodyBuffer},
	} {
		if c.got != c.want {
			t.Errorf("--%s defaults to %d, want %d", c.name, c.got, c.want)
		}
	}
	if cfg.OriginRetryRatio != edge.DefaultOriginRetryRatio {
		t.Errorf("--origin-retry-budget defaults to %v, want %v", cfg.OriginRetryRatio, edge.DefaultOriginRetryRatio)
	}
}

// Values out of range reach the configurations' Validate and come back as
// usage errors (exit 2), one line each.
func TestStateFlagRangeErrors(t *testing.T) {
	for _, args := range [][]string{
		{"--memory", "0"},
		{"--max-frame", "2GiB"},
		{"--max-reply", "0"},
		{"--max-buffered", "1KiB"},
		{"--slow-timeout", "0s"},
		{"--busy-poll", "2s"},
		{"--epoch", "0"},
		{"--epoch", "4294967296"},
		{"--listen", ""},
	} {
		var f stateFlags
		fs := flag.NewFlagSet("state", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		f.bind(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		_, _, err := f.config()
		var ue *usageError
		if !errors.As(err, &ue) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want a one-line usage error", args, err)
		}
	}
}

// strata lb's health flags and the stack file's lb.health have one source
// of defaults (dataplane/lb/health), and the stack accepts the LB's own
// defaults: they once were a 250 ms timeout on a 200 ms interval, which
// the stack's validation rejected.
func TestLBFlagDefaultsAgreeWithTheStack(t *testing.T) {
	var f lbFlags
	f.bind(flag.NewFlagSet("lb", flag.ContinueOnError))
	s, err := config.Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := s.LB.Health
	if f.healthInterval != h.Interval || f.healthTimeout != h.Timeout || f.rise != h.Rise || f.fall != h.Fall ||
		f.maxEjected != h.MaxEjected || f.slowStart != *h.SlowStart {
		t.Fatalf("strata lb defaults %v/%v rise %d fall %d max-ejected %v slow-start %v; stack %v/%v rise %d fall %d max_ejected %v slow_start %v",
			f.healthInterval, f.healthTimeout, f.rise, f.fall, f.maxEjected, f.slowStart,
			h.Interval, h.Timeout, h.Rise, h.Fall, h.MaxEjected, *h.SlowStart)
	}
	if f.maxBuffered != s.LB.MaxBuffered || f.firstByteTimeout != *s.LB.FirstByteTimeout ||
		f.outliers != *s.LB.Outliers || f.outlierEjection != s.LB.OutlierEjection {
		t.Fatalf("strata lb's userspace defaults differ from the stack's lb section")
	}
	yaml := fmt.Sprintf("lb:\n  health:\n    interval: %v\n    timeout: %v\n", f.healthInterval, f.healthTimeout)
	if _, err := config.Parse([]byte(yaml)); err != nil {
		t.Fatalf("the stack rejects strata lb's own defaults: %v", err)
	}
}
