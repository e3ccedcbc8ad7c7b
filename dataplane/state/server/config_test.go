package server

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/state"
)

// validConfig is a node's configuration at its defaults, as the command
// line builds it (every field explicit, no Engine).
func validConfig() Config {
	return Config{
		Listen: "127.0.0.1:0", MaxConns: DefaultMaxConns, MaxFrame: DefaultMaxFrame, MaxOutbound: DefaultMaxOutbound,
		MaxReply: DefaultMaxReply, MaxBuffered: MaxBufferedFor(DefaultMemoryBytes), SlowTimeout: DefaultSlowTimeout,
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*Config)
		mention string // in the error; "" means valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"resp only", func(c *Config) { c.Listen, c.RESP = "", "127.0.0.1:0" }, ""},
		{"no listener", func(c *Config) { c.Listen = "" }, "no listen address"},
		{"max conns zero", func(c *Config) { c.MaxConns = 0 }, "max conns"},
		{"max frame small", func(c *Config) { c.MaxFrame = MinMaxFrame - 1 }, "max frame"},
		{"max frame smallest", func(c *Config) { c.MaxFrame = MinMaxFrame }, ""},
		{"max frame large", func(c *Config) { c.MaxFrame = MaxSizeLimit + 1 }, "max frame"},
		{"max reply small", func(c *Config) { c.MaxReply = MinMaxReply - 1 }, "max reply"},
		{"max reply large", func(c *Config) { c.MaxReply = MaxSizeLimit + 1 }, "max reply"},
		{"max reply largest", func(c *Config) { c.MaxReply = MaxSizeLimit }, ""},
		{"max outbound zero", func(c *Config) { c.MaxOutbound = 0 }, "max outbound"},
		{"max buffered small", func(c *Config) { c.MaxBuffered = MinMaxBuffered - 1 }, "max buffered"},
		{"idle timeout negative", func(c *Config) { c.IdleTimeout = -time.Second }, "idle timeout"},
		{"idle timeout never", func(c *Config) { c.IdleTimeout = 0 }, ""},
		{"slow timeout zero", func(c *Config) { c.SlowTimeout = 0 }, "slow timeout"},
		{"event loops negative", func(c *Config) { c.EventLoops = -1 }, "event loops"},
		{"event loops default", func(c *Config) { c.EventLoops = 0 }, ""},
		{"busy poll negative", func(c *Config) { c.BusyPoll = -time.Microsecond }, "busy poll"},
		{"busy poll long", func(c *Config) { c.BusyPoll = MaxBusyPoll + 1 }, "busy poll"},
		{"busy poll longest", func(c *Config) { c.BusyPoll = MaxBusyPoll }, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := validConfig()
			tt.change(&c)
			err := c.Validate()
			if tt.mention == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tt.mention) {
				t.Fatalf("Validate = %v, want ErrConfig naming %s", err, tt.mention)
			}
		})
	}
}

// New fills the defaults of zero fields before judging, and judges what it
// fills.
func TestNewFillsThenValidates(t *testing.T) {
	eng, err := state.New(state.Config{MemoryBytes: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	c := Config{Engine: eng, Listen: "127.0.0.1:0"}
	if err := c.fill(); err != nil {
		t.Fatalf("zero config: %v", err)
	}
	if c.MaxConns != DefaultMaxConns || c.MaxFrame != DefaultMaxFrame || c.MaxReply != DefaultMaxReply ||
		c.MaxOutbound != DefaultMaxOutbound || c.MaxBuffered != DefaultMaxBuffered || c.SlowTimeout != DefaultSlowTimeout {
		t.Fatalf("defaults not filled: %+v", c)
	}
	for name, c := range map[string]Config{
		"no engine":  {Listen: "127.0.0.1:0"},
		"max frame":  {Engine: eng, Listen: "127.0.0.1:0", MaxFrame: 10},
		"busy poll":  {Engine: eng, Listen: "127.0.0.1:0", BusyPoll: 2 * time.Second},
		"no address": {Engine: eng},
	} {
		if _, err := New(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: New = %v, want ErrConfig", name, err)
		}
	}
}

func TestMaxBufferedFor(t *testing.T) {
	for _, tt := range []struct{ memory, want int64 }{
		{1 << 20, 64 << 20}, {256 << 20, 64 << 20}, {1 << 30, 256 << 20}, {16 << 30, 1 << 30},
	} {
		if got := MaxBufferedFor(tt.memory); got != tt.want {
			t.Errorf("MaxBufferedFor(%d) = %d, want %d", tt.memory, got, tt.want)
		}
	}
}
