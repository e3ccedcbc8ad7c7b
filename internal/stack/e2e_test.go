package stack_test

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/strata-dp/strata/internal/syncbuf"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/strata-dp/strata/dataplane/state/client"
	"github.com/strata-dp/strata/internal/config"
	"github.com/strata-dp/strata/internal/stack"
)

// strataBin returns the binary under test: $STRATA_BIN (make test sets it)
// or a fresh build.
func strataBin(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("STRATA_BIN"); p != "" {
		return p
	}
	out := filepath.Join(t.TempDir(), "strata")
	cmd := exec.Command("go", "build", "-o", out, "github.com/strata-dp/strata/cmd/strata")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build strata: %v", err)
	}
	return out
}

// upStack runs `strata up` on its own loopback host so that it never meets
// another stack's ports, and returns once the endpoints table is printed.
type upStack struct {
	cmd    *exec.Cmd
	cfg    *config.Stack
	runDir string
	exited chan error
	stderr *syncbuf.Buffer
	// stdout is what strata up printed (the endpoints table).
	stdout *syncbuf.Buffer
}

func startUp(t *testing.T, host string) *upStack {
	t.Helper()
	return startUpArgs(t, host)
}

// startUpArgs is startUp with more `strata up` flags (e.g. --mode xdp).
func startUpArgs(t *testing.T, host string, extra ...string) *upStack {
	t.Helper()
	bin := strataBin(t)
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "stack.yaml")
	yaml := fmt.Sprintf("host: %s\nrestart:\n  initial_backoff: 100ms\n", host)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(dir, "run")
	cmd := exec.Command(bin, append([]string{"up", "--config", cfgPath, "--run-dir", runDir, "--ready-timeout", "90s"}, extra...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncbuf.Buffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	u := &upStack{cmd: cmd, cfg: cfg, runDir: runDir, exited: make(chan error, 1), stderr: stderr, stdout: &syncbuf.Buffer{}}
	upLine := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		signalled := false
		for sc.Scan() {
			_, _ = u.stdout.Write(append(sc.Bytes(), '\n'))
			if !signalled && strings.HasPrefix(sc.Text(), "Strata is up") {
				close(upLine)
				signalled = true
			}
		}
	}()
	go func() { u.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// Whatever the test did, leave no process behind.
		if cmd.ProcessState == nil {
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-u.exited:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
			}
		}
		for _, p := range u.processes(t) {
			_ = syscall.Kill(p.Pid, syscall.SIGKILL)
		}
		if t.Failed() {
			t.Logf("strata up stderr:\n%s", stderr.String())
			logs, _ := filepath.Glob(filepath.Join(runDir, "logs", "*.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("== %s\n%s", filepath.Base(l), tail(b, 2000))
			}
		}
	})
	select {
	case <-upLine:
	case err := <-u.exited:
		t.Fatalf("strata up exited before the stack was up: %v\n%s", err, stderr.String())
	case <-time.After(120 * time.Second):
		t.Fatalf("strata up did not print its endpoints table within 120 s\n%s", stderr.String())
	}
	return u
}

func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

func (u *upStack) processes(t *testing.T) []stack.Process {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(u.runDir, "stack.json"))
	if err != nil {
		return nil
	}
	var st stack.State
	if err := json.Unmarshal(data, &st); err != nil {
		t.Fatalf("stack.json: %v", err)
	}
	return st.Processes
}

func (u *upStack) pid(t *testing.T, name string) int {
	t.Helper()
	for _, p := range u.processes(t) {
		if p.Name == name {
			return p.Pid
		}
	}
	t.Fatalf("no process %q in stack.json", name)
	return 0
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

func request(t *testing.T, method, url, body string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestStrataUpEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole stack as processes; skipped in -short mode")
	}
	u := startUp(t, "127.0.0.61")
	edge := "http://" + u.cfg.Edge.Listen

	t.Run("a request passes every tier", func(t *testing.T) {
		resp, body := request(t, "GET", edge+"/api/products/1", "", nil)
		if resp.StatusCode != 200 || !strings.Contains(body, `"id"`) {
			t.Fatalf("GET /api/products/1: %s %q", resp.Status, body)
		}
	})

	t.Run("state nodes refuse clients without the run's secret", func(t *testing.T) {
		checkStateAuth(t, u.runDir, u.cfg.State.Nodes[0])
	})

	t.Run("the same request again is served by the edge alone", func(t *testing.T) {
		request(t, "GET", edge+"/api/products/2", "", nil)
		before := originHits(t, u.cfg.Origin.Metrics)
		facadesBefore := facadeRequests(t, u.cfg)
		resp, _ := request(t, "GET", edge+"/api/products/2", "", nil)
		if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(resp.Header.Get("Cache-Status")), "hit") {
			t.Fatalf("second GET: %s, Cache-Status %q", resp.Status, resp.Header.Get("Cache-Status"))
		}
		if after := originHits(t, u.cfg.Origin.Metrics); after != before {
			t.Fatalf("origin hits went from %v to %v on a cached request", before, after)
		}
		if after := facadeRequests(t, u.cfg); after != facadesBefore {
			t.Fatalf("facade requests went from %v to %v on a cached request", facadesBefore, after)
		}
	})

	t.Run("a cart survives the facade that wrote it", func(t *testing.T) {
		facade1 := "http://" + u.cfg.Facades.Nodes[0].Listen
		resp, body := request(t, "POST", facade1+"/api/cart", `{"product_id": "7", "quantity": 3}`,
			map[string]string{"Content-Type": "application/json"})
		if resp.StatusCode/100 != 2 {
			t.Fatalf("POST /api/cart: %s %q", resp.Status, body)
		}
		var cookie string
		for _, c := range resp.Cookies() {
			cookie = c.Name + "=" + c.Value
		}
		if cookie == "" {
			t.Fatal("POST /api/cart set no session cookie")
		}
		killed := u.pid(t, u.cfg.Facades.Nodes[0].ID)
		if err := syscall.Kill(killed, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		// Through the edge and the LB, to whichever facade is left.
		for i := 0; i < 5; i++ {
			resp, body = request(t, "GET", edge+"/api/cart", "", map[string]string{"Cookie": cookie})
			if resp.StatusCode != 200 || !strings.Contains(body, `"product_id":"7"`) && !strings.Contains(body, `"product_id": "7"`) {
				t.Fatalf("GET /api/cart after killing facade-1: %s %q", resp.Status, body)
			}
			if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
				t.Fatalf("cart Cache-Control %q", cc)
			}
		}
		// The supervisor restarts the killed node and says so.
		deadline := time.Now().Add(10 * time.Second)
		for {
			pid := u.pid(t, u.cfg.Facades.Nodes[0].ID)
			if pid != killed && syscall.Kill(pid, 0) == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s was not restarted (pid still %d)", u.cfg.Facades.Nodes[0].ID, pid)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if !strings.Contains(u.stderr.String(), "restarting") {
			t.Fatalf("the restart was not logged:\n%s", u.stderr.String())
		}
	})

	t.Run("shutdown leaves nothing running", func(t *testing.T) {
		u.stopAndCheck(t)
		for _, addr := range []string{u.cfg.Edge.Listen, u.cfg.LB.Services[0].VIP, u.cfg.Facades.Nodes[1].Listen,
			u.cfg.State.Nodes[0].Listen, u.cfg.Control.Listen, u.cfg.Origin.Listen} {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				t.Errorf("%s still bound after shutdown: %v", addr, err)
				continue
			}
			ln.Close()
		}
	})
}

// stopAndCheck sends SIGTERM to strata up and checks that it exits 0
// within 12 s and that none of its children is left running.
func (u *upStack) stopAndCheck(t *testing.T) {
	t.Helper()
	procs := u.processes(t)
	start := time.Now()
	if err := u.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-u.exited:
		if err != nil {
			t.Fatalf("strata up exited with %v", err)
		}
	case <-time.After(12 * time.Second):
		t.Fatal("strata up did not exit within 12 s of SIGTERM")
	}
	t.Logf("stopped in %v", time.Since(start).Round(time.Millisecond))
	for _, p := range procs {
		if syscall.Kill(p.Pid, 0) == nil {
			t.Errorf("%s (pid %d) still running", p.Name, p.Pid)
		}
	}
}

// metricSum adds every sample of the named metric family on a /metrics page.
func metricSum(t *testing.T, metricsAddr, family string) float64 {
	t.Helper()
	resp, body := request(t, "GET", "http://"+metricsAddr+"/metrics", "", nil)
	if resp.StatusCode != 200 {
		t.Fatalf("%s/metrics: %s", metricsAddr, resp.Status)
	}
	var sum float64
	found := false
	for _, line := range strings.Split(body, "\n") {
		if !strings.HasPrefix(line, family) {
			continue
		}
		rest := line[len(family):]
		if rest != "" && rest[0] != '{' && rest[0] != ' ' {
			continue
		}
		var v float64
		if _, err := fmt.Sscan(line[strings.LastIndexByte(line, ' ')+1:], &v); err == nil {
			sum += v
			found = true
		}
	}
	if !found {
		t.Fatalf("%s/metrics has no %s", metricsAddr, family)
	}
	return sum
}

func originHits(t *testing.T, metricsAddr string) float64 {
	return metricSum(t, metricsAddr, "strata_origin_requests_total")
}

func facadeRequests(t *testing.T, cfg *config.Stack) float64 {
	var sum float64
	for _, n := range cfg.Facades.Nodes {
		sum += metricSum(t, n.Metrics, "strata_facade_requests_total")
	}
	return sum
}

// checkStateAuth checks that a state node started by strata up answers a
// client without the secret -NOAUTH (RESP) and an auth error (binary
// protocol), and serves one that sends the secret in the run directory.
func checkStateAuth(t *testing.T, runDir string, n config.StateNode) {
	t.Helper()
	nc, err := net.DialTimeout("tcp", n.RESP, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(nc)
	resp := func(send, want string) {
		t.Helper()
		io.WriteString(nc, send)
		line, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(line, want) {
			t.Fatalf("RESP %s answered %q (%v), want %s", strings.Fields(send)[0], line, err, want)
		}
	}
	resp("SET products:1 forged\r\n", "-NOAUTH")
	resp("GET products:1\r\n", "-NOAUTH")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	anon, err := client.Dial(ctx, []string{n.Listen}, client.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer anon.Close()
	if _, err := anon.Get(ctx, []byte("k")); !errors.Is(err, client.ErrAuth) {
		t.Fatalf("binary GET without the secret: %v, want client.ErrAuth", err)
	}

	path := filepath.Join(runDir, "state.secret")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimSpace(string(b))
	if raw, err := hex.DecodeString(secret); err != nil || len(raw) != 32 {
		t.Fatalf("%s holds %d characters, want 32 random bytes in hex", path, len(secret))
	}
	resp("AUTH "+secret+"\r\n", "+OK")
	resp("PING\r\n", "+PONG")
	authed, err := client.Dial(ctx, []string{n.Listen}, client.Options{Secret: []byte(secret)})
	if err != nil {
		t.Fatalf("binary protocol with the secret: %v", err)
	}
	defer authed.Close()
	if _, err := authed.Get(ctx, []byte("k")); err != nil && !errors.Is(err, client.ErrNotFound) {
		t.Fatalf("binary GET with the secret: %v", err)
	}
}
