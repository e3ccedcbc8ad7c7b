package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/strata-dp/strata/internal/config"
)

// TestUpChecksFacadesOverHTTP pins the health policy `strata up` hands the
// LB: its facade pool is HTTP, so the check is an HTTP GET of the facades'
// /readyz (served on their serving port), which a facade that accepts and
// hangs fails; a standalone `strata lb` keeps the TCP check unless told.
func TestUpChecksFacadesOverHTTP(t *testing.T) {
	stack, err := config.Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := stack.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "stack.yaml")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f := lbFlags{config: path, health: "tcp", set: map[string]bool{}}
	cfg, err := f.lbConfig()
	if err != nil {
		t.Fatal(err)
	}
	if f.health != "http:/readyz" {
		t.Errorf("strata up's LB checks %q, want http:/readyz", f.health)
	}
	if len(cfg.Services) == 0 || len(cfg.Services[0].Backends) != len(stack.Facades.Nodes) {
		t.Fatalf("first service does not front the %d facades: %+v", len(stack.Facades.Nodes), cfg.Services)
	}

	explicit := lbFlags{config: path, health: "tcp", set: map[string]bool{"health": true}}
	if _, err := explicit.lbConfig(); err != nil {
		t.Fatal(err)
	}
	if explicit.health != "tcp" {
		t.Errorf("--health tcp on the command line became %q", explicit.health)
	}
}
