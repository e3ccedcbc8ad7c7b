package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Strata is the strata binary under test. Scenarios drive it only through
// its command-line contract (docs/INTERFACES.md), like an operator would.
type Strata struct {
	Bin string

	mu        sync.Mutex
	available map[string]error
}

// FindStrata locates the binary: $STRATA_BIN, else bin/strata in the working
// directory or one of its parents (tests run inside bench/).
func FindStrata() (*Strata, error) {
	if p := os.Getenv("STRATA_BIN"); p != "" {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("%w: STRATA_BIN=%s: %v", ErrMissing, p, err)
		}
		return &Strata{Bin: p}, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return nil, fmt.Errorf("locate strata: %w", err)
	}
	for {
		p := filepath.Join(dir, "bin", "strata")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return &Strata{Bin: p}, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, fmt.Errorf("%w: no bin/strata here or above and STRATA_BIN unset (run 'make build')", ErrMissing)
		}
		dir = parent
	}
}

// Has reports whether the binary has subcommand sub, by asking for its
// --help; the answer is cached. A subcommand that other work has not landed
// yet is reported clearly instead of failing later with an obscure error.
func (s *Strata) Has(ctx context.Context, sub string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err, ok := s.available[sub]; ok {
		return err
	}
	if s.available == nil {
		s.available = map[string]error{}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, s.Bin, sub, "--help").CombinedOutput()
	switch {
	case strings.Contains(string(out), "unknown subcommand"):
		err = fmt.Errorf("%w: strata subcommand %q is not built into %s", ErrMissing, sub, s.Bin)
	case err != nil:
		err = fmt.Errorf("%w: strata %s --help failed: %v: %s", ErrMissing, sub, err, strings.TrimSpace(string(out)))
	}
	s.available[sub] = err
	return err
}

// HasFlag reports whether `strata sub --help` documents flag (e.g. "--resp").
func (s *Strata) HasFlag(ctx context.Context, sub, flag string) error {
	if err := s.Has(ctx, sub); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, _ := exec.CommandContext(ctx, s.Bin, sub, "--help").CombinedOutput()
	name := strings.TrimLeft(flag, "-")
	if !strings.Contains(string(out), "-"+name+" ") && !strings.Contains(string(out), "-"+name+"\n") {
		return fmt.Errorf("%w: strata %s has no %s flag yet", ErrMissing, sub, flag)
	}
	return nil
}

// Version is the first line of `strata version`.
func (s *Strata) Version(ctx context.Context) string {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, s.Bin, "version").Output()
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(out), "\n")
	return strings.TrimSpace(line)
}

// Start runs `strata sub args...` as a process named name.
func (s *Strata) Start(name, sub string, args ...string) (*Process, error) {
	return Start(name, s.Bin, append([]string{sub}, args...)...)
}
