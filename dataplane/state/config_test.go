package state

import (
	"errors"
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     Config
		mention string // in the error; "" means valid
	}{
		{"smallest", Config{MemoryBytes: MinMemoryBytes, Epoch: DefaultEpoch}, ""},
		{"explicit", Config{MemoryBytes: 64 << 20, Policy: PolicyLRU, Shards: 8, Stripes: 64, Epoch: 7}, ""},
		{"memory zero", Config{Epoch: 1}, "memory"},
		{"memory small", Config{MemoryBytes: MinMemoryBytes - 1, Epoch: 1}, "memory"},
		{"memory negative", Config{MemoryBytes: -1, Epoch: 1}, "memory"},
		{"policy", Config{MemoryBytes: MinMemoryBytes, Policy: PolicyLRU + 1, Epoch: 1}, "memory policy"},
		{"shards", Config{MemoryBytes: MinMemoryBytes, Shards: 3, Epoch: 1}, "shards"},
		{"shards negative", Config{MemoryBytes: MinMemoryBytes, Shards: -2, Epoch: 1}, "shards"},
		{"stripes", Config{MemoryBytes: MinMemoryBytes, Stripes: 6, Epoch: 1}, "stripes"},
		{"epoch", Config{MemoryBytes: MinMemoryBytes}, "epoch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
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
	if err := (&Config{MemoryBytes: MinMemoryBytes, Policy: PolicyLRU + 1, Epoch: 1}).Validate(); !errors.Is(err, ErrPolicy) {
		t.Fatalf("an unknown policy is %v, want ErrPolicy too", err)
	}
}

// New fills MemoryBytes and Epoch before judging: the zero Config works.
func TestNewFillsDefaults(t *testing.T) {
	e, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if got := e.Stats().MemoryBytes; got != DefaultMemoryBytes {
		t.Fatalf("memory %d, want DefaultMemoryBytes", got)
	}
	if e.Epoch() != DefaultEpoch {
		t.Fatalf("epoch %d, want DefaultEpoch", e.Epoch())
	}
	if _, err := New(Config{MemoryBytes: MinMemoryBytes - 1}); !errors.Is(err, ErrConfig) {
		t.Fatalf("New below the floor = %v, want ErrConfig", err)
	}
}
