package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchCLI(t *testing.T) {
	dir := t.TempDir()
	readme := filepath.Join(dir, "README.md")
	if err := os.WriteFile(readme, []byte("# no markers\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "state.json"), []byte(`{"scenario":"state","started":"2026-11-26T15:00:00Z","machine":{"cpus":2,"kernel":"6.1"},"results":[{"name":"get-p1","system":"strata","metric":"ops_per_sec","median":2,"min":1,"max":3,"runs":5}],"ratios":[]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	marked := filepath.Join(dir, "MARKED.md")
	if err := os.WriteFile(marked, []byte("a\n<!-- bench:start -->\n<!-- bench:end -->\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"no scenario", []string{"bench"}, 2, "", "missing scenario name"},
		{"unknown scenario", []string{"bench", "nosuch"}, 2, "", `unknown scenario "nosuch"`},
		{"list", []string{"bench", "list"}, 0, "lb-userspace", ""},
		{"help", []string{"bench", "--help"}, 0, "--json-dir DIR", ""},
		{"bad runs", []string{"bench", "state", "--runs", "-1"}, 2, "", "--runs"},
		{"unknown flag", []string{"bench", "edge", "--nope"}, 2, "", "flag provided but not defined"},
		{"serve unknown kind", []string{"bench", "serve", "ftp", "--listen", "127.0.0.1:0"}, 2, "", "unknown kind"},
		{"report without markers", []string{"bench", "report", "--json-dir", dir, "--readme", readme}, 2, "", "bench:start"},
		{"report without results", []string{"bench", "report", "--json-dir", empty}, 2, "", "no results files"},
		{"report with markers", []string{"bench", "report", "--json-dir", dir, "--readme", marked}, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := runMain(context.Background(), tt.args, &environment{stdout: &stdout, stderr: &stderr})
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d (stderr %q)", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String(), tt.wantStdout) {
				t.Errorf("stdout %q lacks %q", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q lacks %q", stderr.String(), tt.wantStderr)
			}
		})
	}
	b, _ := os.ReadFile(marked)
	if !strings.Contains(string(b), "| get-p1 | ops_per_sec | 2.00 | — | — | — |") {
		t.Errorf("README section not rewritten:\n%s", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "REPORT.md")); err != nil {
		t.Errorf("REPORT.md not written: %v", err)
	}
}
