package stack

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/internal/config"
)

// A pool member that is no facade and that nothing listens on stops
// start-up at once, naming the field and the address, before any process
// starts (it used to take the whole --ready-timeout and end in a 502).
func TestStartRefusesAPoolThatPointsAtNothing(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg, err := config.Parse([]byte("host: 127.0.0.61\nlb:\n  services:\n    - vip: 127.0.0.61:8000\n      backends:\n" +
		"        - {addr: 127.0.0.61:8101}\n        - {addr: " + dead + "}\n"))
	if err != nil {
		t.Fatal(err)
	}
	begin := time.Now()
	_, err = Start(t.Context(), Options{Config: cfg, Bin: "/nonexistent/strata", RunDir: t.TempDir(),
		ReadyTimeout: time.Minute, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Stdout: io.Discard})
	if !errors.Is(err, ErrPreflight) {
		t.Fatalf("Start: %v, want ErrPreflight", err)
	}
	for _, want := range []string{"lb.services[0].backends[1].addr", dead, "nothing listens"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if d := time.Since(begin); d > 3*time.Second {
		t.Errorf("took %v to refuse", d)
	}
}

// A configured state secret replaces the generated one for the nodes and
// the facades alike; one that cannot be read stops start-up.
func TestConfiguredStateSecretOverridesTheGenerated(t *testing.T) {
	cfg, err := config.Parse([]byte("state:\n  auth_secret_file: /etc/strata/state.secret\n"))
	if err != nil {
		t.Fatal(err)
	}
	st := &Stack{opts: Options{Config: cfg}, runDir: "/run/x"}
	for _, c := range children(cfg, st.runFiles()) {
		flag := map[tier]string{tierState: "--auth-secret-file", tierFacade: "--state-secret-file"}[c.tier]
		if flag == "" {
			continue
		}
		if v, _ := flagValue(c.args, flag); v != "/etc/strata/state.secret" {
			t.Errorf("%s: %s %q", c.name, flag, v)
		}
	}
	cfg.State.AuthSecretFile = filepath.Join(t.TempDir(), "missing")
	if err := preflight(cfg); !errors.Is(err, ErrPreflight) || !strings.Contains(err.Error(), "state.auth_secret_file") {
		t.Fatalf("preflight with a missing secret file: %v", err)
	}
}
