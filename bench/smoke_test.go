package bench

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/strata-dp/strata/bench/report"
	"github.com/strata-dp/strata/bench/result"
)

// testWriter sends the harness's log lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// strataForTest returns the binary under test: $STRATA_BIN (make test sets
// it) or one built from this tree into a temp dir.
func strataForTest(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("STRATA_BIN"); p != "" {
		return p
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(out)))
	bin := filepath.Join(t.TempDir(), "strata")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/strata")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build strata: %v\n%s", err, out)
	}
	return bin
}

// TestScenariosQuick is the smoke version of the suite (make test): every
// scenario runs with --quick and must produce a well-formed results file in
// which each system either has results or is named as skipped because it is
// absent here (peer not installed, subcommand not built, no root). A system
// that was present but failed fails the test. No figure is judged.
func TestScenariosQuick(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Strata, peers and load generators")
	}
	t.Setenv("STRATA_BIN", strataForTest(t))
	dir := t.TempDir()
	for _, sc := range Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			f, err := RunScenario(ctx, sc, Options{Quick: true, Log: testWriter{t}, Label: "smoke test"})
			if err != nil {
				t.Fatalf("scenario %s: %v", sc.Name, err)
			}
			path := filepath.Join(dir, sc.Name+".json")
			if err := f.Write(path); err != nil {
				t.Fatal(err)
			}
			back, err := result.Read(path)
			if err != nil {
				t.Fatalf("results file not well-formed: %v", err)
			}
			if back.Scenario != sc.Name || !back.Quick {
				t.Errorf("file says scenario %q quick %v", back.Scenario, back.Quick)
			}
			for _, sys := range sc.Systems {
				if err := systemAccounted(back, sys); err != nil {
					t.Error(err)
				}
			}
			if err := report.WriteChartFile(filepath.Join(dir, sc.Name+".svg"), back); err != nil {
				t.Error(err)
			}
		})
	}
	if err := report.WriteReportFile(dir); err != nil {
		t.Errorf("report over the smoke results: %v", err)
	}
}

// systemAccounted checks that sys has results or was skipped only for being
// absent, and that every skip of it says why.
func systemAccounted(f *result.File, sys string) error {
	has := false
	for _, r := range f.Results {
		if r.System == sys {
			has = true
			break
		}
	}
	skippedWhole := false
	for _, s := range f.Skipped {
		if s.System != sys {
			continue
		}
		if s.Reason == "" {
			return fmt.Errorf("%s skipped without a reason", sys)
		}
		if !s.Missing {
			return fmt.Errorf("%s was present but failed (%s): %s", sys, orWhole(s.Name), s.Reason)
		}
		if s.Name == "" {
			skippedWhole = true
		}
	}
	if !has && !skippedWhole {
		// Every measurement skipped individually is also accounted for.
		for _, s := range f.Skipped {
			if s.System == sys {
				return nil
			}
		}
		return fmt.Errorf("%s has no results and no skip entry", sys)
	}
	return nil
}

func orWhole(name string) string {
	if name == "" {
		return "whole scenario"
	}
	return name
}
