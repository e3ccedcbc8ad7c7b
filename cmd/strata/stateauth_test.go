package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// A state node that other hosts can reach refuses to start without a
// secret, in one line naming the flag (Redis's protected mode, strict).
// On code without the check the node serves until the context ends and
// exits 0, which fails the test instead of hanging it.
func TestStateRefusesToServeBeyondLoopbackWithoutSecret(t *testing.T) {
	secretPath := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretPath, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	procs := strconv.Itoa(runtime.GOMAXPROCS(0))
	tests := []struct {
		name    string
		args    []string
		mention string
	}{
		{"unspecified IPv4", []string{"--listen", "0.0.0.0:0"}, "0.0.0.0:0"},
		{"RESP on the unspecified address", []string{"--listen", "127.0.0.1:0", "--resp", "0.0.0.0:0"}, "0.0.0.0:0"},
		{"empty host", []string{"--listen", ":0"}, ":0"},
		{"unspecified IPv6", []string{"--listen", "[::]:0"}, "[::]:0"},
		{"test bed address", []string{"--listen", "198.18.0.20:7001"}, "198.18.0.20:7001"},
		{"secret and opt-out at once", []string{"--listen", "0.0.0.0:0", "--auth-secret-file", secretPath, "--insecure-no-auth"}, "--insecure-no-auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			args := append([]string{"state", "--memory", "8MiB", "--procs", procs}, tt.args...)
			code := runMain(ctx, args, &environment{stdout: &out, stderr: &errb})
			stderr := errb.String()
			if code == 0 {
				t.Fatalf("strata state %v exited 0; want a refusal", tt.args)
			}
			if strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 || !strings.Contains(stderr, tt.mention) ||
				!strings.Contains(stderr, "--auth-secret-file") {
				t.Fatalf("exit %d, stderr %q; want one line naming %s and --auth-secret-file", code, stderr, tt.mention)
			}
		})
	}
}

// A node with a secret answers an unauthenticated RESP client -NOAUTH and
// serves it after AUTH.
func TestStateWithSecretRequiresAuth(t *testing.T) {
	secretPath := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secretPath, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, []string{"state", "--listen", "127.0.0.1:0", "--resp", "127.0.0.1:0", "--memory", "8MiB",
			"--procs", strconv.Itoa(runtime.GOMAXPROCS(0)), "--auth-secret-file", secretPath},
			&environment{stdout: io.Discard, stderr: pw})
		pw.Close()
	}()
	respAddr := waitStateServing(t, pr)
	go io.Copy(io.Discard, pr)
	nc, err := net.DialTimeout("tcp", respAddr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	for _, step := range []struct{ send, want string }{
		{"GET k\r\n", "-NOAUTH"},
		{"AUTH wrong\r\n", "-WRONGPASS"},
		{"AUTH s3cret\r\n", "+OK"},
		{"GET k\r\n", "$-1"},
	} {
		io.WriteString(nc, step.send)
		line := make([]byte, 0, 128)
		b := make([]byte, 1)
		for len(line) < 512 {
			if _, err := nc.Read(b); err != nil {
				t.Fatalf("%q: %v after %q", step.send, err, line)
			}
			if b[0] == '\n' {
				break
			}
			line = append(line, b[0])
		}
		if !strings.HasPrefix(string(line), step.want) {
			t.Fatalf("%q answered %q, want %s...", step.send, line, step.want)
		}
	}
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("exit %d", code)
	}
}
