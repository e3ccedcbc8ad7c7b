package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startBackends starts n `strata testbed backend` processes.
func startBackends(t *testing.T, n int) ([]*proc, []string) {
	t.Helper()
	var procs []*proc
	var addrs []string
	for i := 1; i <= n; i++ {
		p := strataProc(t, nil, "testbed", "backend", "--listen", "127.0.0.1:0", "--id", fmt.Sprint(i))
		procs = append(procs, p)
		addrs = append(addrs, p.line(t, "LISTEN="))
	}
	return procs, addrs
}

// loadResult is what one run of HTTP load saw.
type loadResult struct {
	mu              sync.Mutex
	ok, failed      int
	hiddenRetries   int      // requests the transport retried on a new connection
	failedOnHealthy []string // failures on a connection last served by a live backend
	byID            map[string]int
}

// load runs workers, each with one keep-alive connection at a time, until
// stop closes; a failed request is charged to the backend that last
// answered on that same connection.
func load(vip string, workers int, killed func() string, stop <-chan struct{}) *loadResult {
	res := &loadResult{byID: map[string]int{}}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &http.Transport{MaxConnsPerHost: 1, MaxIdleConnsPerHost: 1}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			lastID := map[net.Conn]string{}
			for {
				select {
				case <-stop:
					return
				default:
				}
				// Go's transport silently retries a GET whose reused
				// connection died; every connection used is recorded so a
				// hidden retry still counts against its backend.
				var conns []net.Conn
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { conns = append(conns, i.Conn) }}
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", "http://"+vip+"/whoami", nil)
				resp, err := client.Do(req)
				var body []byte
				if err == nil {
					body, err = io.ReadAll(resp.Body)
					resp.Body.Close()
				}
				res.mu.Lock()
				failedConns := conns
				if err == nil && len(conns) > 0 {
					failedConns = conns[:len(conns)-1]
				}
				for _, c := range failedConns {
					res.hiddenRetries++
					if id, seen := lastID[c]; seen && id != killed() {
						res.failedOnHealthy = append(res.failedOnHealthy, fmt.Sprintf("backend %s: %v", id, err))
					}
				}
				if err != nil {
					res.failed++
				} else {
					res.ok++
					res.byID[string(body)]++
					lastID[conns[len(conns)-1]] = string(body)
				}
				res.mu.Unlock()
			}
		}()
	}
	go func() { <-stop; wg.Wait() }()
	return res
}

// TestLBFailoverUserspace is the failover proof on loopback: under HTTP
// load through `strata lb --mode userspace`, SIGKILL one of four backends.
// Connections to the others must see no error, and at least 99.9% of all
// requests must succeed.
func TestLBFailoverUserspace(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	backends, addrs := startBackends(t, 4)
	vip := freePort(t)
	args := []string{"lb", "--mode", "userspace", "--vip", vip, "--health", "http:/whoami", "--slow-start", "0"}
	for _, a := range addrs {
		args = append(args, "--backend", a)
	}
	lbProc := strataProc(t, nil, args...)
	waitServing(t, vip)

	var mu sync.Mutex
	killedID := ""
	stop := make(chan struct{})
	res := load(vip, 8, func() string { mu.Lock(); defer mu.Unlock(); return killedID }, stop)
	time.Sleep(1500 * time.Millisecond)
	mu.Lock()
	killedID = "2"
	mu.Unlock()
	if err := backends[1].cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond)
	close(stop)
	time.Sleep(200 * time.Millisecond)

	res.mu.Lock()
	defer res.mu.Unlock()
	total := res.ok + res.failed
	t.Logf("requests %d ok %d failed %d (transport retries %d) by backend %v", total, res.ok, res.failed, res.hiddenRetries, res.byID)
	if len(res.failedOnHealthy) > 0 {
		t.Errorf("connections to live backends failed: %v", res.failedOnHealthy)
	}
	if total < 1000 {
		t.Fatalf("only %d requests ran; the proof needs at least 1000", total)
	}
	if float64(res.ok) < 0.999*float64(total) {
		t.Errorf("success %.4f%%, want >= 99.9%%", 100*float64(res.ok)/float64(total))
	}
	for _, id := range []string{"1", "3", "4"} {
		if res.byID[id] == 0 {
			t.Errorf("backend %s served nothing", id)
		}
	}
	if !strings.Contains(lbProc.stderr.String(), "backend down") {
		t.Errorf("lb did not log the dead backend going down:\n%s", lbProc.stderr)
	}
}

// TestLBAutoFallsBackWithoutCapabilities runs `strata lb --mode auto` as a
// container would: without CAP_BPF and CAP_NET_ADMIN. It must pick
// userspace, say so, export it as a metric, and serve.
func TestLBAutoFallsBackWithoutCapabilities(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns processes")
	}
	var wrap []string
	if os.Geteuid() == 0 {
		capsh, err := exec.LookPath("capsh")
		if err != nil {
			t.Skip("root needs capsh (libcap2-bin) to drop capabilities")
		}
		// capsh runs bash -c; "$0" "$@" re-execs the helper unchanged.
		wrap = []string{capsh, "--drop=cap_bpf,cap_net_admin,cap_sys_admin", "--", "-c", `exec "$0" "$@"`}
	}
	_, addrs := startBackends(t, 2)
	vip, metrics := freePort(t), freePort(t)
	p := strataProc(t, wrap, "lb", "--mode", "auto", "--iface", "lo", "--vip", vip,
		"--backend", addrs[0], "--backend", addrs[1], "--metrics", metrics)
	waitServing(t, vip)
	seen := map[string]bool{}
	for i := 0; i < 40; i++ {
		resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}).Get("http://" + vip + "/whoami")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		seen[string(b)] = true
	}
	if !seen["1"] || !seen["2"] {
		t.Errorf("requests did not reach both backends: %v", seen)
	}
	logs := p.stderr.String()
	if !strings.Contains(logs, "mode=userspace") || !strings.Contains(logs, "missing CAP_BPF") {
		t.Errorf("lb log does not show the fallback and its reason:\n%s", logs)
	}
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `strata_lb_mode{mode="userspace"} 1`) {
		t.Errorf("metrics lack strata_lb_mode{mode=\"userspace\"} 1")
	}
}
