package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runMain(context.Background(), args, &environment{stdout: &out, stderr: &errb})
	return code, out.String(), errb.String()
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "stack.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBadInvocationsExit2WithOneLine(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := ln.Addr().String()
	tests := []struct {
		name    string
		args    []string
		mention string
	}{
		{"unknown subcommand", []string{"launch"}, `unknown subcommand "launch"`},
		{"unknown flag", []string{"up", "--turbo"}, "-turbo"},
		{"stray argument", []string{"version", "extra"}, `"extra"`},
		{"bad mode", []string{"up", "--mode", "fast"}, "--mode"},
		{"malformed yaml", []string{"up", "--config", writeFile(t, "edge: [\n")}, "config"},
		{"unknown field", []string{"up", "--config", writeFile(t, "edge:\n  lisen: x\n")}, "lisen"},
		{"invalid value", []string{"up", "--config", writeFile(t, "lb:\n  health:\n    max_ejected: 3\n")}, "lb.health.max_ejected"},
		{"missing file", []string{"up", "--config", "/nonexistent/stack.yaml"}, "/nonexistent/stack.yaml"},
		// Its own loopback host, so that another stack on 127.0.0.1 cannot
		// be what the error names.
		{"port in use", []string{"up", "--config", writeFile(t, "host: 127.0.0.62\nedge:\n  listen: "+busy+"\n")}, busy},
		{"lb stack file with a bad field", []string{"lb", "--mode", "userspace", "--config", writeFile(t, "lb:\n  services:\n    - {vip: 127.0.0.1:8000, scheduler: random, backends: [{addr: 127.0.0.1:1}]}\n")}, "lb.services[0].scheduler"},
		{"ctl unknown view", []string{"ctl", "nodes"}, `unknown view "nodes"`},
		{"bad log level", []string{"control", "--log-level", "loud"}, "--log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != 2 {
				t.Fatalf("exit %d, want 2 (stderr %q)", code, stderr)
			}
			if strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 {
				t.Fatalf("want one line on stderr, got %q", stderr)
			}
			if !strings.Contains(stderr, tt.mention) {
				t.Fatalf("stderr %q does not mention %q", stderr, tt.mention)
			}
		})
	}
}

// TestHelpExitsZero: --help of every subcommand, and of the sub-actions that
// take flags of their own, prints the usage and exits 0 (docs/INTERFACES.md
// is generated from this output).
func TestHelpExitsZero(t *testing.T) {
	cases := [][]string{{"--help"}, {"version", "-h"},
		{"testbed", "up", "--help"}, {"testbed", "down", "--help"},
		{"bench", "all", "--help"}, {"bench", "report", "--help"}, {"bench", "flood", "--help"},
		{"bench", "serve", "--help"}, {"bench", "serve", "origin", "--help"}}
	for name := range commands {
		cases = append(cases, []string{name, "--help"})
	}
	for _, args := range cases {
		code, stdout, stderr := runCLI(t, args...)
		if code != 0 || !strings.Contains(stdout, "Usage") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
}

func TestPrintConfigNeedsNoFile(t *testing.T) {
	code, stdout, stderr := runCLI(t, "up", "--print-config")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"127.0.0.1:8080", "127.0.0.1:8000", "127.0.0.1:7001", "127.0.0.1:9090"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("--print-config lacks %s:\n%s", want, stdout)
		}
	}
}

func TestEverySubcommandOfTheContractExists(t *testing.T) {
	for _, name := range []string{"up", "edge", "lb", "facade", "state", "control", "ctl", "bench", "testbed", "version", "origin"} {
		if commands[name] == nil {
			t.Errorf("subcommand %q missing", name)
		}
	}
}
