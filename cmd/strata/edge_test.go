package main

import (
	"context"
	"github.com/strata-dp/strata/internal/syncbuf"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func edgeFreeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestEdgeFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"origin required", []string{}, "--origin is required"},
		{"bad memory", []string{"--origin", "http://127.0.0.1:1", "--memory", "lots"}, "-memory"},
		{"memory too small", []string{"--origin", "http://127.0.0.1:1", "--memory", "1KiB"}, "--memory"},
		{"bad origin", []string{"--origin", "ftp://x"}, "origin"},
		{"bad purge-from", []string{"--origin", "http://127.0.0.1:1", "--purge-from", "nope"}, "--purge-from"},
		{"bad per-ip exemption", []string{"--origin", "http://127.0.0.1:1", "--max-conns-per-ip-exempt", "loopback"}, "--max-conns-per-ip-exempt"},
		{"negative per-ip limit", []string{"--origin", "http://127.0.0.1:1", "--max-conns-per-ip", "-1"}, "--max-conns-per-ip"},
		{"zero header timeout", []string{"--origin", "http://127.0.0.1:1", "--header-timeout", "0"}, "--header-timeout"},
		{"zero body timeout", []string{"--origin", "http://127.0.0.1:1", "--body-timeout", "0"}, "--body-timeout"},
		{"body buffer below the body limit", []string{"--origin", "http://127.0.0.1:1", "--max-body-buffer", "1MiB"}, "--max-body-buffer"},
		{"zero max conns", []string{"--origin", "http://127.0.0.1:1", "--max-conns", "0"}, "--max-conns"},
		{"bad log level", []string{"--origin", "http://127.0.0.1:1", "--log-level", "loud"}, "--log-level"},
		{"retry budget above 1", []string{"--origin", "http://127.0.0.1:1", "--origin-retry-budget", "1.5"}, "--origin-retry-budget"},
		{"missing purge token file", []string{"--origin", "http://127.0.0.1:1", "--purge-token-file", "/nonexistent/token"}, "--purge-token-file"},
		{"access log sample above 1", []string{"--origin", "http://127.0.0.1:1", "--access-log", "-", "--access-log-sample", "1.5"}, "--access-log-sample"},
		{"unwritable access log", []string{"--origin", "http://127.0.0.1:1", "--access-log", "/nonexistent/dir/access.log"}, "--access-log"},
		{"short purge token", []string{"--origin", "http://127.0.0.1:1", "--purge-token-file", writeTemp(t, "short\n")}, "shorter than 16"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr syncbuf.Buffer
			code := runMain(context.Background(), append([]string{"edge"}, tt.args...), &environment{stdout: io.Discard, stderr: &stderr})
			if code != 2 || !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", code, stderr.String(), tt.want)
			}
		})
	}
}

func writeTemp(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestEdgePurgeNeedsAllowListOrToken is finding 11 through the command:
// the purge API on the metrics listener obeys --purge-from, and
// --purge-token-file is the alternative.
func TestEdgePurgeNeedsAllowListOrToken(t *testing.T) {
	if testing.Short() {
		t.Skip("starts listeners")
	}
	const token = "s3cret-purge-token-0123"
	listen, metrics := edgeFreeAddr(t), edgeFreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, []string{"edge", "--listen", listen, "--origin", "http://127.0.0.1:1", "--metrics", metrics,
			"--purge-from", "10.0.0.0/8", "--purge-token-file", writeTemp(t, token+"\n")},
			&environment{stdout: io.Discard, stderr: &stderr})
	}()
	t.Cleanup(func() { cancel(); <-done })
	purge := func(authz string) int {
		t.Helper()
		var resp *http.Response
		var err error
		for range 50 {
			req, _ := http.NewRequest(http.MethodPost, "http://"+metrics+"/purge?url=http://"+listen+"/a", nil)
			if authz != "" {
				req.Header.Set("Authorization", authz)
			}
			if resp, err = http.DefaultClient.Do(req); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("purge: %v\n%s", err, stderr.String())
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := purge(""); st != http.StatusForbidden {
		t.Fatalf("purge from 127.0.0.1 outside --purge-from: %d, want 403", st)
	}
	if st := purge("Bearer wrong-token-0123456789"); st != http.StatusForbidden {
		t.Fatalf("purge with a wrong token: %d, want 403", st)
	}
	if st := purge("Bearer " + token); st != http.StatusOK {
		t.Fatalf("purge with the token: %d, want 200", st)
	}
}

// TestEdgeServesAndDrains runs the subcommand in-process: a request is
// cached, the purge API works on the metrics listener, and cancelling the
// context (what SIGTERM does) lets an in-flight request finish and exits 0.
func TestEdgeServesAndDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("starts listeners and an origin")
	}
	slow := make(chan struct{})
	origin := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			close(slow)
			time.Sleep(300 * time.Millisecond)
		}
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "hello "+r.URL.Path)
	})}
	oln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go origin.Serve(oln)
	t.Cleanup(func() { origin.Close() })

	listen, metrics := edgeFreeAddr(t), edgeFreeAddr(t)
	accessLog := filepath.Join(t.TempDir(), "access.log")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, []string{"edge", "--listen", listen, "--origin", "http://" + oln.Addr().String(),
			"--metrics", metrics, "--memory", "8MiB", "--access-log", accessLog}, &environment{stdout: io.Discard, stderr: &stderr})
	}()
	get := func(url string) (*http.Response, string) {
		t.Helper()
		var resp *http.Response
		var err error
		for range 50 {
			if resp, err = http.Get(url); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("GET %s: %v\n%s", url, err, stderr.String())
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(b)
	}
	get("http://" + listen + "/a")
	if resp, body := get("http://" + listen + "/a"); body != "hello /a" || !strings.Contains(resp.Header.Get("Cache-Status"), "hit") {
		t.Fatalf("second GET: %q %q", body, resp.Header.Get("Cache-Status"))
	}
	resp, err := http.Post("http://"+metrics+"/purge?url=http://"+listen+"/a", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"purged":1`) {
		t.Fatalf("purge answered %q", b)
	}
	if _, body := get("http://" + metrics + "/metrics"); !strings.Contains(body, "strata_edge_hits_total 1") {
		t.Fatal("metrics lack strata_edge_hits_total 1")
	} else if !strings.Contains(body, `strata_edge_requests_total{outcome="hit",status="2xx"} 1`) {
		t.Fatal(`metrics lack strata_edge_requests_total{outcome="hit",status="2xx"} 1`)
	}

	inflight := make(chan string, 1)
	go func() {
		_, body := get("http://" + listen + "/slow")
		inflight <- body
	}()
	<-slow
	cancel()
	if body := <-inflight; body != "hello /slow" {
		t.Fatalf("in-flight request got %q", body)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("edge did not exit after cancel")
	}
	// The access log is complete once the edge has exited.
	b, err = os.ReadFile(accessLog)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], `"path":"/a"`) || !strings.Contains(lines[0], `"cache":"miss"`) ||
		!strings.Contains(lines[1], `"cache":"hit"`) || !strings.Contains(lines[2], `"path":"/slow"`) {
		t.Fatalf("access log:\n%s", b)
	}
}

// The purge API on its own --admin listener purges, holds unfinished
// request heads without locking operators out (internal/httpserve's
// limits), and stops with the edge.
func TestEdgeAdminListener(t *testing.T) {
	if testing.Short() {
		t.Skip("starts listeners and an origin")
	}
	origin := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "hello")
	})}
	oln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go origin.Serve(oln)
	t.Cleanup(func() { origin.Close() })
	listen, admin := edgeFreeAddr(t), edgeFreeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncbuf.Buffer
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, []string{"edge", "--listen", listen, "--origin", "http://" + oln.Addr().String(),
			"--admin", admin, "--memory", "8MiB"}, &environment{stdout: io.Discard, stderr: &stderr})
	}()
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + listen + "/a")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			break
		}
		if i == 50 {
			t.Fatalf("edge not serving: %v\n%s", err, stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	// 300 unfinished heads: more than the listener's 256 connections.
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	for range 300 {
		c, err := net.Dial("tcp", admin)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
		io.WriteString(c, "POST /purge HTTP/1.1\r\n")
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Post("http://"+admin+"/purge?url=http://"+listen+"/a", "", nil)
	if err != nil {
		t.Fatalf("purge on --admin behind 300 unfinished heads: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"purged":1`) {
		t.Fatalf("purge answered %d %q", resp.StatusCode, b)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("edge exited %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("edge did not stop within 10s")
	}
	if c, err := net.DialTimeout("tcp", admin, time.Second); err == nil {
		c.Close()
		t.Fatal("the admin listener still accepts after the edge stopped")
	}
}
