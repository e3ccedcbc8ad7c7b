package testbed

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/strata-dp/strata/internal/netns"
)

// Down stops the bed's processes and removes its namespaces.
func (b *Bed) Down() error { return Down(b.Opts.Prefix, b.Opts.StateDir) }

// Down removes everything a bed with this prefix made: processes recorded
// in the state dir (SIGTERM, then SIGKILL after 3 s), every namespace named
// PREFIX-* (their veths and the bridge go with them), the root namespace's
// host link PREFIX-host if one is left, and the state dir.
func Down(prefix, stateDir string) error {
	if stateDir == "" {
		stateDir = StateDir(prefix)
	}
	var errs []error
	pids := readLines(filepath.Join(stateDir, "pids"))
	for _, p := range pids {
		if pid, err := strconv.Atoi(p); err == nil {
			_ = syscall.Kill(pid, syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, p := range pids {
		pid, err := strconv.Atoi(p)
		if err != nil {
			continue
		}
		for syscall.Kill(pid, 0) == nil && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if syscall.Kill(pid, 0) == nil {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	names := readLines(filepath.Join(stateDir, "netns"))
	more, _ := netns.List(prefix + "-")
	names = append(names, more...)
	seen := map[string]bool{}
	for _, ns := range names {
		if seen[ns] || !netns.Exists(ns) {
			continue
		}
		seen[ns] = true
		if err := netns.Delete(ns); err != nil {
			errs = append(errs, err)
		}
	}
	if err := removeHostLink(prefix); err != nil {
		errs = append(errs, err)
	}
	// The LB unpins on exit; a killed one leaves its maps behind.
	if err := os.RemoveAll(Options{Prefix: prefix}.PinDir()); err != nil {
		errs = append(errs, fmt.Errorf("testbed: %w", err))
	}
	if err := os.RemoveAll(stateDir); err != nil {
		errs = append(errs, fmt.Errorf("testbed: %w", err))
	}
	return errors.Join(errs...)
}

func readLines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}
