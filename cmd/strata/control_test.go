package main

import (
	"bytes"
	"context"
	"github.com/strata-dp/strata/internal/syncbuf"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The control plane refuses to listen beyond loopback without a token, in
// one line naming the flag. On code without the check it serves until the
// context ends and exits 0, which fails the test instead of hanging it.
func TestControlRefusesToListenBeyondLoopbackWithoutToken(t *testing.T) {
	short := filepath.Join(t.TempDir(), "short")
	if err := os.WriteFile(short, []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := writeFile(t, "host: 127.0.0.71\n")
	tests := []struct {
		name    string
		args    []string
		mention string
	}{
		{"unspecified address", []string{"--listen", "0.0.0.0:0"}, "0.0.0.0:0"},
		{"empty host", []string{"--listen", ":0"}, "--token-file"},
		{"unspecified IPv6", []string{"--listen", "[::]:0"}, "[::]:0"},
		{"a token too short", []string{"--listen", "127.0.0.1:0", "--token-file", short}, "at least 16"},
		{"a missing token file", []string{"--listen", "127.0.0.1:0", "--token-file", "/nonexistent/token"}, "--token-file"},
		{"a negative per-address limit", []string{"--listen", "127.0.0.1:0", "--max-conns-per-ip", "-1"}, "--max-conns-per-ip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			code := runMain(ctx, append([]string{"control", "--config", cfg}, tt.args...), &environment{stdout: &out, stderr: &errb})
			stderr := errb.String()
			if code == 0 || strings.Count(strings.TrimRight(stderr, "\n"), "\n") != 0 || !strings.Contains(stderr, tt.mention) {
				t.Fatalf("exit %d, stderr %q; want a refusal in one line naming %s", code, stderr, tt.mention)
			}
		})
	}
}

// startControl runs strata control in-process on a free loopback port
// until the test ends.
func startControl(t *testing.T, args ...string) string {
	t.Helper()
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var errb syncbuf.Buffer
	go func() {
		done <- runMain(ctx, append([]string{"control", "--listen", addr, "--config", writeFile(t, "host: 127.0.0.71\n")}, args...),
			&environment{stdout: &bytes.Buffer{}, stderr: &errb})
	}()
	for {
		select {
		case code := <-done:
			cancel()
			t.Fatalf("strata control %v exited %d: %s", args, code, errb.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("strata control exited %d: %s", code, errb.String())
		}
	})
	return addr
}

func controlStatus(t *testing.T, addr, path, host, auth string) int {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// A DNS-rebinding page sends its own name as Host: the control plane
// answers 403 to it, on every route, and serves its own names.
func TestControlRefusesForeignHosts(t *testing.T) {
	check := func(t *testing.T, addr, host string, want int) {
		t.Helper()
		for _, path := range []string{"/api/v1/components", "/api/v1/services", "/", "/metrics"} {
			if got := controlStatus(t, addr, path, host, ""); got != want {
				t.Errorf("GET %s with Host %q: %d, want %d", path, host, got, want)
			}
		}
	}
	addr := startControl(t)
	_, port, _ := net.SplitHostPort(addr)
	tests := []struct {
		host string
		want int
	}{
		{"", 200}, // the client sends the address it dialled
		{"localhost:9090", 200},
		{"127.0.0.1", 200},
		{"[::1]:9090", 200},
		{"evil.example", 403},
		{"evil.example:" + port, 403},
		{"control.example", 403},
		{"192.0.2.1", 403},
	}
	for _, tt := range tests {
		t.Run("Host "+tt.host, func(t *testing.T) { check(t, addr, tt.host, tt.want) })
	}
	t.Run("--allowed-host", func(t *testing.T) {
		addr := startControl(t, "--allowed-host", "control.example")
		check(t, addr, "control.example", 200)
		check(t, addr, "evil.example", 403)
	})
}

func TestControlTokenAndCtl(t *testing.T) {
	const token = "7f3c2a9e5b1d4f60a8c7e2b9d1f3a5c7"
	tokenFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := startControl(t, "--token-file", tokenFile)
	tests := []struct {
		name, path, auth string
		want             int
	}{
		{"missing", "/api/v1/components", "", 401},
		{"wrong", "/api/v1/components", "Bearer 7f3c2a9e5b1d4f60a8c7e2b9d1f3a5c8", 401},
		{"right", "/api/v1/components", "Bearer " + token, 200},
		{"metrics missing", "/metrics", "", 401},
		{"metrics right", "/metrics", "Bearer " + token, 200},
		{"probe", "/readyz", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := controlStatus(t, addr, tt.path, "", tt.auth); got != tt.want {
				t.Fatalf("GET %s with Authorization %q: %d, want %d", tt.path, tt.auth, got, tt.want)
			}
		})
	}

	url := "http://" + addr
	t.Run("ctl without a token", func(t *testing.T) {
		t.Setenv("STRATA_TOKEN", "")
		code, _, stderr := runCLI(t, "ctl", "--control", url, "components")
		if code != 1 || !strings.Contains(stderr, "401") || !strings.Contains(stderr, "STRATA_TOKEN") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("ctl with a wrong token", func(t *testing.T) {
		t.Setenv("STRATA_TOKEN", "nope-nope-nope-nope")
		code, _, stderr := runCLI(t, "ctl", "--control", url, "components")
		if code != 1 || !strings.Contains(stderr, "refused the token") {
			t.Fatalf("exit %d, stderr %q", code, stderr)
		}
	})
	t.Run("ctl --token-file", func(t *testing.T) {
		t.Setenv("STRATA_TOKEN", "")
		code, stdout, stderr := runCLI(t, "ctl", "--control", url, "--token-file", tokenFile, "components")
		if code != 0 || !strings.Contains(stdout, "NAME") {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
	t.Run("ctl with STRATA_TOKEN", func(t *testing.T) {
		t.Setenv("STRATA_TOKEN", token)
		code, stdout, stderr := runCLI(t, "ctl", "--control", url, "--json", "services")
		if code != 0 || !strings.Contains(stdout, `"services"`) {
			t.Fatalf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
		}
	})
}
