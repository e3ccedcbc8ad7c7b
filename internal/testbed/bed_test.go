package testbed

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/internal/netns"
)

// strataBin finds the binary the bed runs in its namespaces: STRATA_BIN
// (set by make test), else one built into the test's temp dir.
func strataBin(t *testing.T) string {
	t.Helper()
	if b := os.Getenv("STRATA_BIN"); b != "" {
		return b
	}
	out := filepath.Join(t.TempDir(), "strata")
	cmd := exec.Command("go", "build", "-o", out, "github.com/strata-dp/strata/cmd/strata")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build strata: %v\n%s", err, b)
	}
	return out
}

func TestBedUpSpreadsAndDownCleans(t *testing.T) {
	if err := netns.Available(); err != nil {
		t.Skipf("test bed: %v", err)
	}
	if testing.Short() {
		t.Skip("builds namespaces and starts processes")
	}
	prefix := fmt.Sprintf("lbu%d", os.Getpid()%100000)
	opts := Options{Prefix: prefix, Backends: 4, Bin: strataBin(t), StateDir: filepath.Join(t.TempDir(), "state")}
	t.Cleanup(func() { Down(prefix, opts.StateDir) })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bed, err := Up(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for i := 0; i < 60; i++ {
		out, err := bed.Curl("/whoami")
		if err != nil {
			t.Fatalf("curl %d from %s: %v", i, bed.ClientNS, err)
		}
		seen[strings.TrimSpace(out)]++
	}
	for i := 1; i <= 4; i++ {
		if seen[fmt.Sprint(i)] == 0 {
			t.Errorf("backend %d got none of 60 requests: %v", i, seen)
		}
	}
	// No route out: the client reaches nothing outside the bed.
	if err := netns.Exec(bed.ClientNS, "curl", "-s", "--max-time", "1", "http://192.0.2.1/"); err == nil {
		t.Error("client namespace reached an address outside the bed")
	}
	pids := readLines(filepath.Join(opts.StateDir, "pids"))
	if err := bed.Down(); err != nil {
		t.Fatal(err)
	}
	if left, _ := netns.List(prefix + "-"); len(left) > 0 {
		t.Errorf("namespaces left after Down: %v", left)
	}
	for _, p := range pids {
		if _, err := os.Stat("/proc/" + p); err == nil {
			if b, _ := os.ReadFile("/proc/" + p + "/stat"); !strings.Contains(string(b), ") Z ") {
				t.Errorf("process %s still running after Down", p)
			}
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	tests := []struct {
		name string
		o    Options
		ok   bool
	}{
		{"defaults", Options{Bin: "x"}, true},
		{"long prefix", Options{Prefix: "waytoolongprefix", Bin: "x"}, false},
		{"bad prefix", Options{Prefix: "a-b", Bin: "x"}, false},
		{"too many backends", Options{Backends: MaxBackends + 1, Bin: "x"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.defaults()
			if (err == nil) != tc.ok {
				t.Fatalf("defaults() = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}
